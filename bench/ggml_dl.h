/* Loads llama.cpp's own ggml CPU libraries (the ones node-llama-cpp ships) with dlopen, for the
 * parity test (tests/ggml_parity.c) and the kernel benchmark (bench/bench_kernels.c). One copy,
 * compiled into both.
 *
 * Where: $GGUFKIT_GGML_DIR, else tests/npm/ensure.sh is run (it installs the pinned npm packages
 * into a cache directory and prints it) and <dir>/node_modules/@node-llama-cpp/linux-x64/bins/
 * linux-x64 is used. The CPU variant (libggml-cpu-<variant>.so) is chosen by cpuid BEFORE any
 * dlopen, so a variant the CPU cannot run is never loaded (no SIGILL); $GGUFKIT_GGML_VARIANT
 * forces one (still checked against the CPU).
 *
 * The few ggml declarations needed are written here from the facts (ggml.h / ggml-cpu.h of the
 * pinned version); gk_ggml_load checks them at run time against our type table (names, block
 * sizes, bytes per block), so a layout change is reported rather than misread. */
#ifndef GK_GGML_DL_H
#define GK_GGML_DL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ggml.h: struct ggml_type_traits (field order matters). */
typedef void (*gk_ggml_to_float_t)(const void *x, float *y, int64_t k);
typedef void (*gk_ggml_from_float_t)(const float *x, void *y, int64_t k);
struct gk_ggml_type_traits {
    const char *type_name;
    int64_t blck_size;
    int64_t blck_size_interleave;
    size_t type_size;
    bool is_quantized;
    gk_ggml_to_float_t to_float;
    gk_ggml_from_float_t from_float_ref;
};

/* ggml-cpu.h: struct ggml_type_traits_cpu. */
typedef void (*gk_ggml_vec_dot_t)(int n, float *s, size_t bs, const void *x, size_t bx,
                                  const void *y, size_t by, int nrc);
struct gk_ggml_type_traits_cpu {
    gk_ggml_from_float_t from_float;
    gk_ggml_vec_dot_t vec_dot;
    int32_t vec_dot_type;          /* enum ggml_type */
    int64_t nrows;
};

typedef struct gk_ggml {
    void *base, *cpu;              /* dlopen handles */
    char dir[2048];
    char variant[32];              /* e.g. "zen4" */
    size_t (*quantize_chunk)(int type, const float *src, void *dst, int64_t start, int64_t nrows,
                             int64_t n_per_row, const float *imatrix);
    void (*quantize_init)(int type);
    bool (*quantize_requires_imatrix)(int type);
    const struct gk_ggml_type_traits *(*get_type_traits)(int type);
    const struct gk_ggml_type_traits_cpu *(*get_type_traits_cpu)(int type);
    bool (*validate_row_data)(int type, const void *data, size_t nbytes);   /* may be NULL */
    /* per type id (< GK_TYPE_COUNT), after the run-time check: 1 if ggml knows the type with the
     * same name, block size and bytes per block as our table */
    unsigned char known[64];
    /* per type id: 1 if ggml_quantize_chunk supports the type (never called otherwise: ggml
     * aborts on unsupported types) */
    unsigned char can_quantize[64];
} gk_ggml;

/* Finds and loads ggml. Returns 0 on success; else -1 with a message in err. */
int gk_ggml_load(gk_ggml *g, char *err, size_t errcap);
void gk_ggml_unload(gk_ggml *g);

/* Conveniences over the traits (NULL / 0 when ggml lacks the piece). */
gk_ggml_to_float_t gk_ggml_to_float(const gk_ggml *g, uint32_t type);
gk_ggml_from_float_t gk_ggml_from_float(const gk_ggml *g, uint32_t type);
gk_ggml_vec_dot_t gk_ggml_vec_dot_fn(const gk_ggml *g, uint32_t type);
int gk_ggml_vec_dot_type(const gk_ggml *g, uint32_t type);   /* -1 if none */
/* One-row dot product through ggml's vec_dot (nrc = 1). */
float gk_ggml_vec_dot(const gk_ggml *g, uint32_t type, int64_t n, const void *w, const void *a);
/* ggml_validate_row_data with ggml's own messages silenced: 1 valid, 0 invalid, -1 if ggml has
 * no such function. */
int gk_ggml_validate(const gk_ggml *g, uint32_t type, const void *data, size_t nbytes);
/* ggml_quantize_chunk from row 0; 0 if ggml cannot quantize the type (or needs an imatrix that
 * is not given). */
size_t gk_ggml_quantize(const gk_ggml *g, uint32_t type, const float *x, void *y, int64_t nrows,
                        int64_t n_per_row, const float *imatrix);

/* Shared command-line helpers of the parity test and the bench: 1 if name is in the comma
 * list (case-insensitive; a NULL list holds every name); 0 if every name of a --types list is
 * a known ggml type name, else -1 with the first unknown one in bad. */
int gk_name_in_list(const char *list, const char *name);
int gk_check_type_list(const char *list, char *bad, size_t cap);

/* CPU feature names this machine has, for messages ("avx512f avx512bw ..."). */
const char *gk_ggml_cpu_features(void);

#endif
