/* Test helpers: checks that report file:line, data-folder lookup with skip/fail semantics,
 * file helpers. */
#ifndef GK_TESTUTIL_H
#define GK_TESTUTIL_H

#include "ggufkit.h"

#include <stdio.h>
#include <stdlib.h>

#define GK_SKIP 77

extern int gk_test_failures;

#define CHECK(cond)                                                               \
    do {                                                                          \
        if (!(cond)) {                                                            \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
            gk_test_failures++;                                                   \
        }                                                                         \
    } while (0)

#define CHECKF(cond, ...)                                                         \
    do {                                                                          \
        if (!(cond)) {                                                            \
            fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                         \
            fputc('\n', stderr);                                                  \
            gk_test_failures++;                                                   \
        }                                                                         \
    } while (0)

/* Returns 0 if no CHECK failed, else 1; prints a summary line. */
int gk_test_result(const char *name);

/* The shared data folder (../shared/data, or $GGUFKIT_DATA). If absent: when CI=true prints why
 * and exits 1 (fail); otherwise prints "SKIP: ..." and exits 77 (ctest shows it skipped). */
const char *gk_test_data_dir(void);
/* "<data dir>/<rel>" in a static buffer rotation (4 slots). */
const char *gk_test_data(const char *rel);
/* 1 if running in CI (CI=true). */
int gk_test_in_ci(void);
/* Skip (exit 77) with a reason, or fail (exit 1) in CI. For missing external tools. */
void gk_test_skip_or_fail(const char *why);

/* Reads a whole file into malloc'd memory; NULL on error. */
unsigned char *gk_test_read_file(const char *path, size_t *size);
int gk_test_write_file(const char *path, const void *data, size_t size);
/* A fresh temporary directory (mkdtemp under $TMPDIR or /tmp); removed by the caller if wanted. */
const char *gk_test_tmpdir(void);

#endif
