/* ggufkit-bench kernels: single-thread MB/s of f32 for quantize, dequantize and vec_dot, ours
 * against llama.cpp's own ggml (dlopen, bench/ggml_dl.c), interleaved run by run, median of
 * --runs (>= 5) each.
 *
 * Input: 64 Mi normal floats (deterministic splitmix64 + Box-Muller) in rows of 4096; --mib N
 * shrinks it to N MiB of f32. The vec_dot pass is a matrix-vector product: every weight row (the
 * ggml-quantized bytes, repeated to at least 256 MiB so that they are far larger than the caches
 * for every type) against one activation row quantized by each side's own from_float; it is
 * reported both as MB/s of f32 and as GB/s of weight bytes read, and set against a plain read of
 * the same buffer in the same run (the single-core memory bandwidth limit, "read GB/s").
 * --vdot-mib X sets the matrix size instead (0.5: inside the L2, which shows a kernel's compute
 * limit); a timed run repeats passes over it until it has read at least 256 MiB.
 * --threads N adds our row quantization through gk_pool on N threads (scaling).
 * --json prints only a JSON list on stdout. */
#include "ggml_dl.h"

#include "ggufkit.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

int gk_bench_kernels(int argc, char **argv);

#define ROW 4096
#define MAX_RUNS 101
#define VD_PASS_BYTES ((size_t)256 << 20) /* each timed vec_dot pass reads at least this much */

/* A plain read of n bytes: the bandwidth a kernel that reads the same bytes cannot beat. With
 * AVX2, four 32-byte loads per step into four sums (this reaches the memory limit; a 64-bit
 * scalar loop reads ~40% less here); otherwise eight 64-bit sums. */
static uint64_t read_all_c(const uint8_t *p, size_t n) {
    uint64_t s[8] = {0};
    size_t i = 0;
    for (; i + 64 <= n; i += 64)
        for (int k = 0; k < 8; k++) {
            uint64_t v;
            memcpy(&v, p + i + 8 * k, 8);
            s[k] += v;
        }
    for (; i < n; i++) s[0] += p[i];
    return s[0] ^ s[1] ^ s[2] ^ s[3] ^ s[4] ^ s[5] ^ s[6] ^ s[7];
}
#if defined(__x86_64__)
#include <immintrin.h>
__attribute__((target("avx2"))) static uint64_t read_all_avx2(const uint8_t *p, size_t n) {
    __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
    size_t i = 0;
    for (; i + 128 <= n; i += 128) {
        a0 = _mm256_add_epi64(a0, _mm256_loadu_si256((const __m256i *)(p + i)));
        a1 = _mm256_add_epi64(a1, _mm256_loadu_si256((const __m256i *)(p + i + 32)));
        a2 = _mm256_add_epi64(a2, _mm256_loadu_si256((const __m256i *)(p + i + 64)));
        a3 = _mm256_add_epi64(a3, _mm256_loadu_si256((const __m256i *)(p + i + 96)));
    }
    const __m256i s = _mm256_add_epi64(_mm256_add_epi64(a0, a1), _mm256_add_epi64(a2, a3));
    uint64_t r = (uint64_t)_mm256_extract_epi64(s, 0) ^ (uint64_t)_mm256_extract_epi64(s, 1) ^
                 (uint64_t)_mm256_extract_epi64(s, 2) ^ (uint64_t)_mm256_extract_epi64(s, 3);
    return r ^ read_all_c(p + i, n - i);
}
#endif
#if defined(__x86_64__)
static int read_vec = -1; /* AVX2 available: asked once (cpuid is slow in a VM) */
#endif
static uint64_t read_all(const uint8_t *p, size_t n) {
#if defined(__x86_64__)
    if (read_vec < 0) read_vec = gk_cpu_isa() >= GK_ISA_AVX2;
    if (read_vec) return read_all_avx2(p, n);
#endif
    return read_all_c(p, n);
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static void gen_normal(float *x, int64_t n) {
    uint64_t s = 0x9e3779b97f4a7c15ull;
    for (int64_t i = 0; i < n; i += 2) {
        uint64_t z1 = (s += 0x9e3779b97f4a7c15ull), z2 = (s += 0x9e3779b97f4a7c15ull);
        z1 = (z1 ^ (z1 >> 30)) * 0xbf58476d1ce4e5b9ull; z1 = (z1 ^ (z1 >> 27)) * 0x94d049bb133111ebull; z1 ^= z1 >> 31;
        z2 = (z2 ^ (z2 >> 30)) * 0xbf58476d1ce4e5b9ull; z2 = (z2 ^ (z2 >> 27)) * 0x94d049bb133111ebull; z2 ^= z2 >> 31;
        double u = ((double)(z1 >> 11) + 0.5) * 0x1p-53, v = ((double)(z2 >> 11) + 0.5) * 0x1p-53;
        double r = sqrt(-2.0 * log(u));
        x[i] = (float)(r * cos(6.283185307179586 * v));
        if (i + 1 < n) x[i + 1] = (float)(r * sin(6.283185307179586 * v));
    }
}

/* multi-threaded row quantization through gk_pool */
typedef struct {
    gk_quantize_fn q;
    const float *x;
    uint8_t *y;
    int64_t rows_per_task, nrows;
    size_t row_size;
} mt_job;

static void mt_task(void *ctx, int64_t task, int thread) {
    (void)thread;
    const mt_job *j = ctx;
    int64_t r0 = task * j->rows_per_task, nr = j->rows_per_task;
    if (r0 + nr > j->nrows) nr = j->nrows - r0;
    j->q(j->x + r0 * ROW, j->y + (size_t)r0 * j->row_size, nr, ROW, NULL);
}

typedef struct {
    const char *name;
    double q, dq, vd, gq, gdq, gvd, qmt;   /* MB/s; 0 = not measured */
    double wgbs, gwgbs;                    /* vec_dot GB/s of weight bytes */
    double rgbs;                           /* plain read of the same weight bytes, GB/s */
    int identical;                         /* -1 unknown */
} result;

static void usage(FILE *o) {
    fprintf(o, "usage: ggufkit-bench kernels [--types q4_K,...] [--json] [--runs N] [--mib N] "
               "[--threads N] [--vdot-mib N]\n"
               "  --mib N      MiB of f32 input (default 256 = 64 Mi floats), rows of 4096\n"
               "  --runs N     runs per measurement, median reported (default 5, minimum 5)\n"
               "  --threads N  also measure our quantize on N threads through gk_pool\n"
               "  --vdot-mib X the vec_dot weight matrix in MiB (default 256: far beyond the caches;\n"
               "               0.5: inside L2, the kernels' compute limit; passes repeat to 256 MiB)\n"
               "env: GGUFKIT_ISA, GGUFKIT_GGML_DIR, GGUFKIT_GGML_VARIANT\n");
}

static void json_num(double v) {
    if (v > 0) printf("%.1f", v); else printf("null");
}

int gk_bench_kernels(int argc, char **argv) {
    const char *types = NULL;
    int json = 0, runs = 5, threads = 0;
    long mib = 256;
    double vdot_mib = 256;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--types") && i + 1 < argc) types = argv[++i];
        else if (!strcmp(argv[i], "--json")) json = 1;
        else if (!strcmp(argv[i], "--runs") && i + 1 < argc) runs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--mib") && i + 1 < argc) mib = atol(argv[++i]);
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--vdot-mib") && i + 1 < argc) vdot_mib = atof(argv[++i]);
        else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) { usage(stdout); return 0; }
        else { usage(stderr); return 2; }
    }
    if (runs < 5) runs = 5;
    if (runs > MAX_RUNS) runs = MAX_RUNS;
    if (mib < 1 || mib > 4096 || !(vdot_mib >= 0.0625 && vdot_mib <= 4096) || threads < 0 || threads > 256) {
        usage(stderr);
        return 2;
    }
    char bad[32];
    if (gk_check_type_list(types, bad, sizeof bad) != 0) {
        fprintf(stderr, "unknown type '%s'\n", bad);
        return 2;
    }

    gk_kctx k;
    gk_err ke;
    if (gk_kctx_init(&k, -1, &ke) != GK_OK) { fprintf(stderr, "ggufkit-bench: %s\n", ke.msg); return 3; }
    gk_ggml g;
    char err[1024];
    if (gk_ggml_load(&g, err, sizeof err) != 0) {
        fprintf(stderr, "ggufkit-bench: cannot load ggml: %s\n", err);
        return 3;
    }
    gk_pool *pool = NULL;
    if (threads > 0 && gk_pool_create(threads, &pool, &ke) != GK_OK) {
        fprintf(stderr, "ggufkit-bench: %s\n", ke.msg);
        return 3;
    }

    int64_t nrows = (int64_t)mib * 1024 * 1024 / 4 / ROW;
    if (nrows < 1) nrows = 1;
    int64_t n = nrows * ROW;
    float *x = malloc(sizeof(float) * (size_t)n), *deq = malloc(sizeof(float) * (size_t)n);
    uint8_t *qo = malloc(sizeof(float) * (size_t)n + 64), *qg = malloc(sizeof(float) * (size_t)n + 64);
    float *act = malloc(sizeof(float) * ROW);
    uint8_t *ao = malloc(sizeof(float) * ROW * 2), *ag = malloc(sizeof(float) * ROW * 2);
    if (!x || !deq || !qo || !qg || !act || !ao || !ag) { fprintf(stderr, "ggufkit-bench: out of memory\n"); return 3; }
    gen_normal(x, n);
    memcpy(act, x + (nrows / 2) * ROW, sizeof(float) * ROW);
    for (int64_t i = 0; i < n; i++) deq[i] = 0.0f;   /* touch the pages before timing */
    memset(qo, 0, (size_t)n * 4);
    memset(qg, 0, (size_t)n * 4);

    if (!json) {
        printf("ggufkit-bench kernels: %lld x %d f32 (%.0f MiB), %d runs (median), single thread; "
               "ours: ISA %s; ggml: libggml-cpu-%s.so\n",
               (long long)nrows, ROW, (double)n * 4 / 1048576.0, runs, gk_isa_name(k.isa), g.variant);
        printf("%-7s %25s %25s %25s %15s %6s %5s %9s%s\n", "type", "quantize MB/s", "dequantize MB/s",
               "vec_dot MB/s", "weights GB/s", "read", "ours", "identical",
               pool ? "  quantize MT MB/s" : "");
        printf("%-7s %25s %25s %25s %15s %6s %5s %9s\n", "", "ours / ggml (ratio)", "ours / ggml (ratio)",
               "ours / ggml (ratio)", "ours / ggml", "GB/s", "/read", "bytes");
    }
    result res[GK_TYPE_COUNT];
    int n_res = 0;
    double t[2][MAX_RUNS];

    for (uint32_t ty = 0; ty < GK_TYPE_COUNT; ty++) {
        const gk_type_info *ti = gk_type_info_get(ty);
        if (!ti || (ti->flags & (GK_TF_REMOVED | GK_TF_INT)) || ty == GK_TYPE_F64) continue;
        if (!gk_name_in_list(types, ti->name)) continue;
        const gk_kfns *f = &k.fn[ty];
        if (!f->quantize && !f->to_float && !f->vec_dot && !f->from_float) {
            if (types && !json) printf("%-7s not implemented yet\n", ti->name);
            continue;
        }
        if (ROW % ti->blck_size) continue;
        result *r = &res[n_res++];
        memset(r, 0, sizeof *r);
        r->name = ti->name;
        r->identical = -1;
        size_t row_size = (size_t)(ROW / ti->blck_size) * ti->type_size;
        size_t qbytes = row_size * (size_t)nrows;
        double mb = (double)n * 4.0 / 1e6;

        /* quantize (activation-only types q8_1/q8_K: each side's from_float, row by row, which is
         * what feeds vec_dot) */
        int act_only = (ti->flags & GK_TF_ACT_ONLY) != 0;
        gk_ggml_from_float_t gff = act_only ? gk_ggml_from_float(&g, ty) : NULL;
        int ocan = act_only ? f->from_float != NULL : f->quantize != NULL;
        int gcan = act_only ? gff != NULL : g.can_quantize[ty] && !g.quantize_requires_imatrix((int)ty);
        if (ocan || gcan) {
            for (int i = 0; i < runs; i++) {
                double t0;
                if (ocan) {
                    t0 = now();
                    if (act_only)
                        for (int64_t rr = 0; rr < nrows; rr++) f->from_float(x + rr * ROW, qo + (size_t)rr * row_size, ROW);
                    else f->quantize(x, qo, nrows, ROW, NULL);
                    t[0][i] = now() - t0;
                }
                if (gcan) {
                    t0 = now();
                    if (act_only)
                        for (int64_t rr = 0; rr < nrows; rr++) gff(x + rr * ROW, qg + (size_t)rr * row_size, ROW);
                    else gk_ggml_quantize(&g, ty, x, qg, nrows, ROW, NULL);
                    t[1][i] = now() - t0;
                }
            }
            if (ocan) r->q = mb / median(t[0], runs);
            if (gcan) r->gq = mb / median(t[1], runs);
            if (ocan && gcan) r->identical = memcmp(qo, qg, qbytes) == 0;
        }
        const uint8_t *w = gcan ? qg : qo;   /* weights for the other passes: ggml's bytes */
        if (!gcan && !ocan) continue;

        /* dequantize */
        gk_ggml_to_float_t gtf = gk_ggml_to_float(&g, ty);
        if (f->to_float || gtf) {
            for (int i = 0; i < runs; i++) {
                double t0;
                if (f->to_float) { t0 = now(); f->to_float(w, deq, n); t[0][i] = now() - t0; }
                if (gtf) { t0 = now(); gtf(w, deq, n); t[1][i] = now() - t0; }
            }
            if (f->to_float) r->dq = mb / median(t[0], runs);
            if (gtf) r->gdq = mb / median(t[1], runs);
        }

        /* vec_dot: a matrix of --vdot-mib MiB (the quantized rows, repeated or cut) x one
         * activation row, passes repeated so that a timed run reads >= VD_PASS_BYTES */
        int gvt = gk_ggml_vec_dot_type(&g, ty);
        gk_ggml_vec_dot_t gvd = gk_ggml_vec_dot_fn(&g, ty);
        uint32_t vt = f->vec_dot_type;
        const gk_type_info *vi = gk_type_info_get(vt);
        int ours_ok = f->vec_dot && vi && k.fn[vt].from_float && ROW % vi->blck_size == 0;
        int ggml_ok = gvd && gvt >= 0 && gk_ggml_from_float(&g, (uint32_t)gvt);
        if (ours_ok) k.fn[vt].from_float(act, ao, ROW);
        if (ggml_ok) gk_ggml_from_float(&g, (uint32_t)gvt)(act, ag, ROW);
        const size_t vtarget = (size_t)(vdot_mib * 1048576.0);
        const int64_t vrows = (int64_t)((vtarget + row_size - 1) / row_size);
        const size_t vbytes = row_size * (size_t)vrows;
        const int passes = vbytes >= VD_PASS_BYTES ? 1 : (int)((VD_PASS_BYTES + vbytes - 1) / vbytes);
        uint8_t *wv = (ours_ok || ggml_ok) ? malloc(vbytes) : NULL;
        if ((ours_ok || ggml_ok) && !wv) { fprintf(stderr, "ggufkit-bench: out of memory\n"); return 3; }
        for (int64_t rr = 0; wv && rr < vrows; rr++)
            memcpy(wv + (size_t)rr * row_size, w + (size_t)(rr % nrows) * row_size, row_size);
        const double vmb = (double)passes * (double)vrows * ROW * 4.0 / 1e6;
        const double vgb = (double)passes * (double)vbytes / 1e9;
        volatile float sink = 0.0f;
        volatile uint64_t rsink = 0;
        double tr[MAX_RUNS];
        for (int i = 0; i < runs && (ours_ok || ggml_ok); i++) {
            double t0;
            if (ours_ok) {
                float s = 0.0f;
                t0 = now();
                for (int ps = 0; ps < passes; ps++)
                    for (int64_t rr = 0; rr < vrows; rr++) s += f->vec_dot(ROW, wv + (size_t)rr * row_size, ao);
                t[0][i] = now() - t0;
                sink += s;
            }
            if (ggml_ok) {
                float s = 0.0f, one;
                t0 = now();
                for (int ps = 0; ps < passes; ps++)
                    for (int64_t rr = 0; rr < vrows; rr++) {
                        gvd(ROW, &one, 0, wv + (size_t)rr * row_size, 0, ag, 0, 1);
                        s += one;
                    }
                t[1][i] = now() - t0;
                sink += s;
            }
            t0 = now();
            for (int ps = 0; ps < passes; ps++) rsink += read_all(wv, vbytes);
            tr[i] = now() - t0;
        }
        (void)sink;
        (void)rsink;
        free(wv);
        if (ours_ok) { double m = median(t[0], runs); r->vd = vmb / m; r->wgbs = vgb / m; }
        if (ggml_ok) { double m = median(t[1], runs); r->gvd = vmb / m; r->gwgbs = vgb / m; }
        if (ours_ok || ggml_ok) r->rgbs = vgb / median(tr, runs);

        /* multi-threaded quantize through the pool */
        if (pool && f->quantize && !act_only) {
            mt_job j = {f->quantize, x, qo, 16, nrows, row_size};
            int64_t tasks = (nrows + j.rows_per_task - 1) / j.rows_per_task;
            for (int i = 0; i < runs; i++) {
                double t0 = now();
                gk_pool_run(pool, tasks, mt_task, &j);
                t[0][i] = now() - t0;
            }
            r->qmt = mb / median(t[0], runs);
            if (gcan && r->identical == 1 && memcmp(qo, qg, qbytes) != 0) r->identical = 0;
        }

        if (!json) {
            char c[3][48], wb[32], rb[16] = "-", pr[16] = "-", mt[48] = "";
#define CELL(buf, a, b)                                                                   \
    do {                                                                                  \
        if ((a) > 0 && (b) > 0) snprintf(buf, sizeof buf, "%7.0f / %7.0f (%5.2f)", a, b, (a) / (b)); \
        else if ((a) > 0) snprintf(buf, sizeof buf, "%7.0f / %7s        ", a, "-");        \
        else if ((b) > 0) snprintf(buf, sizeof buf, "%7s / %7.0f        ", "-", b);        \
        else snprintf(buf, sizeof buf, "%25s", "-");                                      \
    } while (0)
            CELL(c[0], r->q, r->gq);
            CELL(c[1], r->dq, r->gdq);
            CELL(c[2], r->vd, r->gvd);
#undef CELL
            if (r->wgbs > 0 || r->gwgbs > 0) snprintf(wb, sizeof wb, "%5.1f / %5.1f", r->wgbs, r->gwgbs);
            else snprintf(wb, sizeof wb, "-");
            if (r->rgbs > 0) snprintf(rb, sizeof rb, "%.1f", r->rgbs);
            if (r->rgbs > 0 && r->wgbs > 0) snprintf(pr, sizeof pr, "%.0f%%", 100.0 * r->wgbs / r->rgbs);
            if (pool && r->qmt > 0)
                snprintf(mt, sizeof mt, "  %7.0f (x%.2f on %d)", r->qmt, r->q > 0 ? r->qmt / r->q : 0.0,
                         gk_pool_size(pool));
            printf("%-7s %25s %25s %25s %15s %6s %5s %9s%s\n", r->name, c[0], c[1], c[2], wb, rb, pr,
                   r->identical < 0 ? "-" : r->identical ? "yes" : "NO", mt);
            fflush(stdout);
        }
    }

    if (json) {
        printf("[");
        for (int i = 0; i < n_res; i++) {
            const result *r = &res[i];
            printf("%s\n  {\"type\": \"%s\", \"quantize_mbs\": ", i ? "," : "", r->name);
            json_num(r->q);
            printf(", \"dequantize_mbs\": "); json_num(r->dq);
            printf(", \"vec_dot_mbs\": "); json_num(r->vd);
            printf(", \"ggml_quantize_mbs\": "); json_num(r->gq);
            printf(", \"ggml_dequantize_mbs\": "); json_num(r->gdq);
            printf(", \"ggml_vec_dot_mbs\": "); json_num(r->gvd);
            printf(", \"identical_bytes\": %s", r->identical < 0 ? "null" : r->identical ? "true" : "false");
            printf(", \"vec_dot_weight_gbs\": %.3f, \"ggml_vec_dot_weight_gbs\": %.3f, \"read_gbs\": %.3f",
                   r->wgbs, r->gwgbs, r->rgbs);
            if (pool) {
                printf(", \"threads\": %d, \"quantize_mt_mbs\": ", gk_pool_size(pool));
                json_num(r->qmt);
            }
            printf("}");
        }
        printf("\n]\n");
    } else {
        printf("vec_dot: a %g MiB weight matrix (the quantized rows repeated%s) x one activation row; "
               "'read' is a plain single-core read of the same bytes in the same run, 'ours/read' our "
               "vec_dot's share of it\n", vdot_mib, vdot_mib >= 64 ? ", far beyond the caches" : ", inside the caches");
    }
    gk_pool_free(pool);
    gk_ggml_unload(&g);
    free(x); free(deq); free(qo); free(qg); free(act); free(ao); free(ag);
    return 0;
}
