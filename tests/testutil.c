#include "testutil.h"

#include <string.h>
#include <sys/stat.h>

int gk_test_failures = 0;

int gk_test_result(const char *name) {
    if (gk_test_failures) {
        fprintf(stderr, "%s: %d check(s) failed\n", name, gk_test_failures);
        return 1;
    }
    printf("%s: all checks passed\n", name);
    return 0;
}

int gk_test_in_ci(void) {
    const char *ci = getenv("CI");
    return ci && (strcmp(ci, "true") == 0 || strcmp(ci, "1") == 0);
}

void gk_test_skip_or_fail(const char *why) {
    if (gk_test_in_ci()) {
        fprintf(stderr, "FAIL (CI=true): %s\n", why);
        exit(1);
    }
    printf("SKIP: %s\n", why);
    exit(GK_SKIP);
}

const char *gk_test_data_dir(void) {
    static char buf[4096];
    const char *d = getenv("GGUFKIT_DATA");
    if (!d || !*d) d = "../shared/data";
    struct stat st;
    if (stat(d, &st) != 0 || !S_ISDIR(st.st_mode)) {
        char why[4200];
        snprintf(why, sizeof why, "shared test data not found at %s", d);
        gk_test_skip_or_fail(why);
    }
    snprintf(buf, sizeof buf, "%s", d);
    return buf;
}

const char *gk_test_data(const char *rel) {
    static char slots[4][4096];
    static int next = 0;
    char *b = slots[next++ & 3];
    snprintf(b, 4096, "%s/%s", gk_test_data_dir(), rel);
    return b;
}

unsigned char *gk_test_read_file(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    if (fseek(f, 0, SEEK_END) != 0) { fclose(f); return NULL; }
    long n = ftell(f);
    if (n < 0) { fclose(f); return NULL; }
    rewind(f);
    unsigned char *p = malloc((size_t)n + 1);
    if (p && fread(p, 1, (size_t)n, f) != (size_t)n) { free(p); p = NULL; }
    fclose(f);
    if (p && size) *size = (size_t)n;
    return p;
}

int gk_test_write_file(const char *path, const void *data, size_t size) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    int ok = fwrite(data, 1, size, f) == size;
    ok &= fclose(f) == 0;
    return ok ? 0 : -1;
}

const char *gk_test_tmpdir(void) {
    static char buf[4096];
    const char *t = getenv("TMPDIR");
    if (!t || !*t) t = "/tmp";
    snprintf(buf, sizeof buf, "%s/ggufkit-test-XXXXXX", t);
    if (!mkdtemp(buf)) return NULL;
    return buf;
}
