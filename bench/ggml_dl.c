/* dlopen loader for llama.cpp's ggml CPU libraries: see ggml_dl.h. */
#include "ggml_dl.h"

#include "ggufkit.h"

#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#define GKDL_X86 1
#else
#define GKDL_X86 0
#endif

/* ---- CPU features ----------------------------------------------------------------------- */
enum {
    F_SSE42 = 1u << 0, F_AVX = 1u << 1, F_F16C = 1u << 2, F_FMA = 1u << 3, F_AVX2 = 1u << 4,
    F_BMI2 = 1u << 5, F_AVX512 = 1u << 6, F_AVX512_VBMI = 1u << 7, F_AVX512_VNNI = 1u << 8,
    F_AVX512_BF16 = 1u << 9, F_AVX_VNNI = 1u << 10, F_AMX = 1u << 11,
};

static unsigned cpu_features(void) {
    unsigned f = 0;
#if GKDL_X86
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    if ((c >> 20) & 1) f |= F_SSE42;
    int osxsave = (c >> 27) & 1;
    uint64_t xcr0 = 0;
    if (osxsave) {
        uint32_t lo, hi;
        __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
        xcr0 = ((uint64_t)hi << 32) | lo;
    }
    int ymm = (xcr0 & 0x6) == 0x6, zmm = (xcr0 & 0xe6) == 0xe6;
    if (!ymm) return f;                                   /* no AVX state: SSE only */
    if ((c >> 28) & 1) f |= F_AVX;
    if ((c >> 29) & 1) f |= F_F16C;
    if ((c >> 12) & 1) f |= F_FMA;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return f;
    if ((b >> 5) & 1) f |= F_AVX2;
    if ((b >> 8) & 1) f |= F_BMI2;
    /* ggml's AVX512 variants are compiled with F, CD, VL, DQ and BW */
    int avx512 = ((b >> 16) & 1) && ((b >> 17) & 1) && ((b >> 28) & 1) && ((b >> 30) & 1) &&
                 ((b >> 31) & 1) && zmm;
    if (avx512) {
        f |= F_AVX512;
        if ((c >> 1) & 1) f |= F_AVX512_VBMI;
        if ((c >> 11) & 1) f |= F_AVX512_VNNI;
    }
    int amx = ((d >> 24) & 1) && ((d >> 25) & 1) && ((xcr0 >> 17) & 3) == 3;
    unsigned a1 = 0, b1, c1, d1;
    if (a >= 1 && __get_cpuid_count(7, 1, &a1, &b1, &c1, &d1)) {
        if ((a1 >> 4) & 1) f |= F_AVX_VNNI;
        if (avx512 && ((a1 >> 5) & 1)) f |= F_AVX512_BF16;
    }
    (void)amx; /* AMX also needs an arch_prctl permission; the AMX variant is never auto-picked */
#endif
    return f;
}

const char *gk_ggml_cpu_features(void) {
    static char buf[256];
    static const char *names[] = {"sse4.2", "avx", "f16c", "fma", "avx2", "bmi2", "avx512",
                                  "avx512_vbmi", "avx512_vnni", "avx512_bf16", "avx_vnni", "amx"};
    unsigned f = cpu_features();
    buf[0] = 0;
    for (unsigned i = 0; i < sizeof names / sizeof *names; i++)
        if (f & (1u << i)) {
            strncat(buf, names[i], sizeof buf - strlen(buf) - 2);
            strncat(buf, " ", sizeof buf - strlen(buf) - 1);
        }
    return buf;
}

/* ggml's x86 CPU variants (GGML_CPU_ALL_VARIANTS) with the features each is compiled for, best
 * first. sapphirerapids (AMX) is only used when forced. */
static const struct { const char *name; unsigned need; int auto_pick; } variants[] = {
    {"sapphirerapids", F_SSE42 | F_AVX | F_F16C | F_FMA | F_AVX2 | F_BMI2 | F_AVX512 |
                           F_AVX512_VBMI | F_AVX512_VNNI | F_AVX512_BF16 | F_AMX, 0},
    {"zen4", F_SSE42 | F_AVX | F_F16C | F_FMA | F_AVX2 | F_BMI2 | F_AVX512 | F_AVX512_VBMI |
                 F_AVX512_VNNI | F_AVX512_BF16, 1},
    {"cooperlake", F_SSE42 | F_AVX | F_F16C | F_FMA | F_AVX2 | F_BMI2 | F_AVX512 |
                       F_AVX512_VNNI | F_AVX512_BF16, 1},
    {"icelake", F_SSE42 | F_AVX | F_F16C | F_FMA | F_AVX2 | F_BMI2 | F_AVX512 | F_AVX512_VBMI |
                    F_AVX512_VNNI, 1},
    {"cascadelake", F_SSE42 | F_AVX | F_F16C | F_FMA | F_AVX2 | F_BMI2 | F_AVX512 |
                        F_AVX512_VNNI, 1},
    {"cannonlake", F_SSE42 | F_AVX | F_F16C | F_FMA | F_AVX2 | F_BMI2 | F_AVX512 |
                       F_AVX512_VBMI, 1},
    {"skylakex", F_SSE42 | F_AVX | F_F16C | F_FMA | F_AVX2 | F_BMI2 | F_AVX512, 1},
    {"alderlake", F_SSE42 | F_AVX | F_F16C | F_FMA | F_AVX2 | F_BMI2 | F_AVX_VNNI, 1},
    {"haswell", F_SSE42 | F_AVX | F_F16C | F_FMA | F_AVX2 | F_BMI2, 1},
    {"piledriver", F_SSE42 | F_AVX | F_F16C | F_FMA, 1},
    {"ivybridge", F_SSE42 | F_AVX | F_F16C, 1},
    {"sandybridge", F_SSE42 | F_AVX, 1},
    {"sse42", F_SSE42, 1},
    {"x64", 0, 1},
};

/* ---- helpers ------------------------------------------------------------------------------ */
static void seterr(char *err, size_t cap, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
static void seterr(char *err, size_t cap, const char *fmt, ...) {
    if (!err || !cap) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, cap, fmt, ap);
    va_end(ap);
}

static int is_dir(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static int is_file(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* dlsym into a function pointer without a data->function pointer cast. */
static int sym(void *h, const char *name, void *fnptr, size_t sz) {
    void *p = dlsym(h, name);
    if (!p) return -1;
    memcpy(fnptr, &p, sz);
    return 0;
}
#define SYM(h, name, dst) sym((h), (name), &(dst), sizeof(dst))

/* The source tree: $GGUFKIT_SRC, else two levels above this file (CMake compiles with absolute
 * paths). */
static void source_dir(char *buf, size_t cap) {
    const char *s = getenv("GGUFKIT_SRC");
    if (s && *s) { snprintf(buf, cap, "%s", s); return; }
    snprintf(buf, cap, "%s", __FILE__);
    for (int up = 0; up < 2; up++) {
        char *sl = strrchr(buf, '/');
        if (sl) *sl = 0; else { snprintf(buf, cap, "."); return; }
    }
}

/* Runs tests/npm/ensure.sh and builds the bins path from its last output line. */
static int dir_from_npm(char *dir, size_t cap, char *err, size_t errcap) {
    char src[2048], cmd[4200], line[2048], last[2048] = "";
    source_dir(src, sizeof src);
    snprintf(cmd, sizeof cmd, "%s/tests/npm/ensure.sh", src);
    if (!is_file(cmd)) {
        seterr(err, errcap, "GGUFKIT_GGML_DIR is not set and %s does not exist", cmd);
        return -1;
    }
    snprintf(cmd, sizeof cmd, "bash '%s/tests/npm/ensure.sh'", src);
    fflush(NULL);
    FILE *p = popen(cmd, "r");
    if (!p) { seterr(err, errcap, "cannot run %s", cmd); return -1; }
    while (fgets(line, sizeof line, p)) {
        size_t n = strlen(line);
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = 0;
        if (n) snprintf(last, sizeof last, "%s", line);
    }
    int rc = pclose(p);
    if (rc != 0 || !last[0]) {
        seterr(err, errcap, "%s failed (status %d): cannot install node-llama-cpp's ggml", cmd, rc);
        return -1;
    }
    static const char bins[] = "/node_modules/@node-llama-cpp/linux-x64/bins/linux-x64";
    if (strlen(last) + sizeof bins > cap) {
        seterr(err, errcap, "npm cache directory name too long: %s", last);
        return -1;
    }
    memcpy(dir, last, strlen(last));
    memcpy(dir + strlen(last), bins, sizeof bins);
    return 0;
}

/* Type ids whose ggml_quantize_chunk exists (format-facts §2 "quant" column); ggml aborts on
 * any other id, so only these are ever passed. */
static const uint32_t quantizable[] = {
    GK_TYPE_F32, GK_TYPE_F16, GK_TYPE_BF16, GK_TYPE_Q4_0, GK_TYPE_Q4_1, GK_TYPE_Q5_0,
    GK_TYPE_Q5_1, GK_TYPE_Q8_0, GK_TYPE_Q2_K, GK_TYPE_Q3_K, GK_TYPE_Q4_K, GK_TYPE_Q5_K,
    GK_TYPE_Q6_K, GK_TYPE_IQ2_XXS, GK_TYPE_IQ2_XS, GK_TYPE_IQ3_XXS, GK_TYPE_IQ1_S,
    GK_TYPE_IQ4_NL, GK_TYPE_IQ3_S, GK_TYPE_IQ2_S, GK_TYPE_IQ4_XS, GK_TYPE_IQ1_M, GK_TYPE_TQ1_0,
    GK_TYPE_TQ2_0, GK_TYPE_MXFP4, GK_TYPE_NVFP4, GK_TYPE_Q1_0, GK_TYPE_Q2_0,
};

/* ---- load ----------------------------------------------------------------------------------- */
int gk_ggml_load(gk_ggml *g, char *err, size_t errcap) {
    memset(g, 0, sizeof *g);
    if (!GKDL_X86) {
        seterr(err, errcap, "the npm-shipped ggml libraries are x86-64 only");
        return -1;
    }
    const char *env = getenv("GGUFKIT_GGML_DIR");
    if (env && *env) snprintf(g->dir, sizeof g->dir, "%s", env);
    else if (dir_from_npm(g->dir, sizeof g->dir, err, errcap) != 0) return -1;
    if (!is_dir(g->dir)) {
        seterr(err, errcap, "ggml directory %s does not exist", g->dir);
        return -1;
    }

    char path[2300];
    snprintf(path, sizeof path, "%s/libggml-base.so", g->dir);
    g->base = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!g->base) { seterr(err, errcap, "dlopen %s: %s", path, dlerror()); return -1; }

    /* choose the CPU variant before loading any */
    unsigned have = cpu_features();
    const char *force = getenv("GGUFKIT_GGML_VARIANT");
    int (*score)(void) = NULL;
    for (size_t i = 0; i < sizeof variants / sizeof *variants && !g->cpu; i++) {
        if (force && *force ? strcmp(force, variants[i].name) != 0 : !variants[i].auto_pick)
            continue;
        if ((variants[i].need & have) != variants[i].need) {
            if (force && *force) {
                seterr(err, errcap, "GGUFKIT_GGML_VARIANT=%s needs CPU features this machine lacks",
                       force);
                gk_ggml_unload(g);
                return -1;
            }
            continue;
        }
        snprintf(path, sizeof path, "%s/libggml-cpu-%s.so", g->dir, variants[i].name);
        if (!is_file(path)) continue;
        void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
        if (!h) continue;
        /* ggml's own check agrees (0 = this build cannot run here) */
        if (SYM(h, "ggml_backend_score", score) == 0 && score() == 0) { dlclose(h); continue; }
        g->cpu = h;
        snprintf(g->variant, sizeof g->variant, "%s", variants[i].name);
    }
    if (!g->cpu) {
        seterr(err, errcap, "no usable libggml-cpu-*.so in %s for this CPU (%s)", g->dir,
               gk_ggml_cpu_features());
        gk_ggml_unload(g);
        return -1;
    }

    void (*cpu_init)(void) = NULL;
    if (SYM(g->base, "ggml_quantize_chunk", g->quantize_chunk) ||
        SYM(g->base, "ggml_quantize_init", g->quantize_init) ||
        SYM(g->base, "ggml_quantize_requires_imatrix", g->quantize_requires_imatrix) ||
        SYM(g->base, "ggml_get_type_traits", g->get_type_traits) ||
        SYM(g->cpu, "ggml_get_type_traits_cpu", g->get_type_traits_cpu) ||
        SYM(g->cpu, "ggml_cpu_init", cpu_init)) {
        seterr(err, errcap, "a ggml symbol is missing in %s: %s", g->dir, dlerror());
        gk_ggml_unload(g);
        return -1;
    }
    cpu_init();
    if (SYM(g->base, "ggml_validate_row_data", g->validate_row_data)) g->validate_row_data = NULL;

    /* run-time check of the declared layouts against our type table */
    int agree = 0;
    for (uint32_t t = 0; t < GK_TYPE_COUNT; t++) {
        const gk_type_info *ti = gk_type_info_get(t);
        if (!ti || (ti->flags & GK_TF_REMOVED)) continue;
        const struct gk_ggml_type_traits *tr = g->get_type_traits((int)t);
        if (!tr || !tr->type_name) continue;
        if (strcmp(tr->type_name, ti->name) != 0 || tr->blck_size != (int64_t)ti->blck_size ||
            tr->type_size != ti->type_size) {
            seterr(err, errcap,
                   "ggml's type %u is %s (block %lld, %zu bytes) but ours is %s (block %u, %u "
                   "bytes): the ggml_type_traits layout or the type table disagree",
                   t, tr->type_name, (long long)tr->blck_size, tr->type_size, ti->name,
                   ti->blck_size, ti->type_size);
            gk_ggml_unload(g);
            return -1;
        }
        g->known[t] = 1;
        agree++;
    }
    if (agree < 30) {
        seterr(err, errcap, "only %d ggml types agree with ours: wrong ggml_type_traits layout?",
               agree);
        gk_ggml_unload(g);
        return -1;
    }
    for (size_t i = 0; i < sizeof quantizable / sizeof *quantizable; i++)
        if (g->known[quantizable[i]]) g->can_quantize[quantizable[i]] = 1;
    /* the cpu traits: vec_dot_type must be a known type */
    for (uint32_t t = 0; t < GK_TYPE_COUNT; t++) {
        if (!g->known[t]) continue;
        const struct gk_ggml_type_traits_cpu *c = g->get_type_traits_cpu((int)t);
        if (c && c->vec_dot &&
            (c->vec_dot_type < 0 || c->vec_dot_type >= GK_TYPE_COUNT || !g->known[c->vec_dot_type])) {
            seterr(err, errcap, "ggml's cpu traits of type %u name vec_dot_type %d: wrong "
                   "ggml_type_traits_cpu layout?", t, (int)c->vec_dot_type);
            gk_ggml_unload(g);
            return -1;
        }
    }
    return 0;
}

void gk_ggml_unload(gk_ggml *g) {
    if (!g) return;
    /* ggml keeps global state (thread pools, tables): never dlclose a loaded CPU backend */
    g->cpu = NULL;
    g->base = NULL;
}

gk_ggml_to_float_t gk_ggml_to_float(const gk_ggml *g, uint32_t type) {
    if (type >= GK_TYPE_COUNT || !g->known[type]) return NULL;
    const struct gk_ggml_type_traits *tr = g->get_type_traits((int)type);
    return tr ? tr->to_float : NULL;
}

gk_ggml_from_float_t gk_ggml_from_float(const gk_ggml *g, uint32_t type) {
    if (type >= GK_TYPE_COUNT || !g->known[type]) return NULL;
    const struct gk_ggml_type_traits_cpu *c = g->get_type_traits_cpu((int)type);
    return c ? c->from_float : NULL;
}

gk_ggml_vec_dot_t gk_ggml_vec_dot_fn(const gk_ggml *g, uint32_t type) {
    if (type >= GK_TYPE_COUNT || !g->known[type]) return NULL;
    const struct gk_ggml_type_traits_cpu *c = g->get_type_traits_cpu((int)type);
    return c ? c->vec_dot : NULL;
}

int gk_ggml_vec_dot_type(const gk_ggml *g, uint32_t type) {
    if (type >= GK_TYPE_COUNT || !g->known[type]) return -1;
    const struct gk_ggml_type_traits_cpu *c = g->get_type_traits_cpu((int)type);
    return c && c->vec_dot ? (int)c->vec_dot_type : -1;
}

float gk_ggml_vec_dot(const gk_ggml *g, uint32_t type, int64_t n, const void *w, const void *a) {
    gk_ggml_vec_dot_t f = gk_ggml_vec_dot_fn(g, type);
    float s = 0.0f;
    if (f) f((int)n, &s, 0, w, 0, a, 0, 1);
    return s;
}

int gk_ggml_validate(const gk_ggml *g, uint32_t type, const void *data, size_t nbytes) {
    if (!g->validate_row_data || type >= GK_TYPE_COUNT || !g->known[type]) return -1;
    /* ggml prints each finding on stderr: silence it for the call */
    fflush(stderr);
    int saved = dup(2), null = open("/dev/null", O_WRONLY);
    if (saved >= 0 && null >= 0) dup2(null, 2);
    bool ok = g->validate_row_data((int)type, data, nbytes);
    fflush(stderr);
    if (saved >= 0) { dup2(saved, 2); close(saved); }
    if (null >= 0) close(null);
    return ok ? 1 : 0;
}

size_t gk_ggml_quantize(const gk_ggml *g, uint32_t type, const float *x, void *y, int64_t nrows,
                        int64_t n_per_row, const float *imatrix) {
    if (type >= GK_TYPE_COUNT || !g->can_quantize[type]) return 0;
    if (!imatrix && g->quantize_requires_imatrix((int)type)) return 0;
    g->quantize_init((int)type);
    return g->quantize_chunk((int)type, x, y, 0, nrows, n_per_row, imatrix);
}

int gk_name_in_list(const char *list, const char *name) {
    if (!list) return 1;
    size_t n = strlen(name);
    for (const char *p = list; *p;) {
        const char *c = strchr(p, ',');
        size_t len = c ? (size_t)(c - p) : strlen(p);
        if (len == n && strncasecmp(p, name, n) == 0) return 1;
        if (!c) break;
        p = c + 1;
    }
    return 0;
}

int gk_check_type_list(const char *list, char *bad, size_t cap) {
    for (const char *p = list; p && *p;) {
        const char *c = strchr(p, ',');
        char nm[32];
        size_t len = c ? (size_t)(c - p) : strlen(p);
        snprintf(nm, sizeof nm, "%.*s", (int)(len < 31 ? len : 31), p);
        if (gk_type_from_name(nm) < 0) {
            if (bad && cap) snprintf(bad, cap, "%s", nm);
            return -1;
        }
        if (!c) break;
        p = c + 1;
    }
    return 0;
}
