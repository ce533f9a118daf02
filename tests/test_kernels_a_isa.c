/* Kernels A across ISA paths: for every type of this area, on many inputs (normal, heavy-tailed,
 * outliers, zeros, constants, denormals, huge values; several row lengths; with and without
 * importance weights), each SIMD path the CPU has gives the scalar path's exact quantize,
 * from_float and to_float bytes, and a vec_dot within dot_tol x Σ|w_i a_i| of both the scalar
 * result and the f64 dot of the dequantized operands. An ISA the CPU lacks is skipped. */
#include "testutil.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

static const uint32_t types[] = {GK_TYPE_F32,  GK_TYPE_F16,    GK_TYPE_BF16,   GK_TYPE_Q4_0,
                                 GK_TYPE_Q4_1, GK_TYPE_Q5_0,   GK_TYPE_Q5_1,   GK_TYPE_Q8_0,
                                 GK_TYPE_Q8_1, GK_TYPE_IQ4_NL, GK_TYPE_IQ4_XS, GK_TYPE_MXFP4,
                                 GK_TYPE_NVFP4, GK_TYPE_Q1_0,   GK_TYPE_Q2_0};

static uint64_t rs;
static double urand(void) {
    rs = rs * 6364136223846793005ull + 1442695040888963407ull;
    return ((double)(rs >> 11) + 0.5) * 0x1p-53;
}
static double nrand(void) { return sqrt(-2 * log(urand())) * cos(6.283185307179586 * urand()); }

enum { NKIND = 8 };
static void gen(int kind, float *x, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        double v = nrand();
        switch (kind) {
        case 0: x[i] = (float)v; break;
        case 1: x[i] = (float)(v * exp(1.5 * nrand())); break;              /* heavy tails */
        case 2: x[i] = (float)(urand() < 0.02 ? v * 1000 : v * 0.01); break; /* outliers */
        case 3: x[i] = 0.0f; break;
        case 4: x[i] = i % 64 < 32 ? 0.75f : -3.0f; break;                   /* constants */
        case 5: x[i] = (float)(v * 1e-39); break;                           /* denormals */
        case 6: x[i] = (float)(v * 1e30); break;                            /* huge */
        default: x[i] = (float)((int)(v * 4)) * 0.5f; break;                /* ties */
        }
    }
}

/* Q8_K activation (format-facts §3.4), test-local, for the IQ4_XS dot product. */
static void q8k_ref(const float *x, uint8_t *y, int64_t k) {
    for (int64_t i = 0; i < k / 256; i++) {
        const float *xb = x + 256 * i;
        uint8_t *o = y + 292 * i;
        float max = 0, amax = 0;
        for (int j = 0; j < 256; j++)
            if (fabsf(xb[j]) > amax) { amax = fabsf(xb[j]); max = xb[j]; }
        memset(o, 0, 292);
        if (!amax) continue;
        const float iscale = -127.f / max;
        int8_t *qs = (int8_t *)(o + 4);
        for (int j = 0; j < 256; j++) {
            int v = (int)lrintf(iscale * xb[j]);
            qs[j] = (int8_t)(v > 127 ? 127 : v);
        }
        for (int j = 0; j < 16; j++) {
            int s = 0;
            for (int l = 0; l < 16; l++) s += qs[16 * j + l];
            int16_t s16 = (int16_t)s;
            memcpy(o + 260 + 2 * j, &s16, 2);
        }
        float d = 1 / iscale;
        memcpy(o, &d, 4);
    }
}

/* Dequantized activation values (for the f64 reference dot). */
static void act_to_float(const gk_kctx *c, uint32_t at, const uint8_t *a, float *y, int64_t n) {
    if (at == GK_TYPE_Q8_1) {
        for (int64_t b = 0; b < n / 32; b++) {
            uint16_t d;
            memcpy(&d, a + 36 * b, 2);
            for (int j = 0; j < 32; j++) y[32 * b + j] = gk_fp16_to_fp32(d) * (int8_t)a[36 * b + 4 + j];
        }
    } else if (at == GK_TYPE_Q8_K) {
        for (int64_t b = 0; b < n / 256; b++) {
            float d;
            memcpy(&d, a + 292 * b, 4);
            for (int j = 0; j < 256; j++) y[256 * b + j] = d * (int8_t)a[292 * b + 4 + j];
        }
    } else {
        c->fn[at].to_float(a, y, n);
    }
}

static void from_float(const gk_kctx *c, uint32_t at, const float *x, uint8_t *y, int64_t n) {
    if (at == GK_TYPE_Q8_K && !c->fn[at].from_float) q8k_ref(x, y, n);
    else c->fn[at].from_float(x, y, n);
}

int main(void) {
    gk_kctx sc;
    CHECK(gk_kctx_init(&sc, GK_ISA_SCALAR, NULL) == GK_OK);
    const char *env = getenv("GGUFKIT_ISA");
    int forced = env && *env, ran = 0;
    static const int64_t lens[] = {256, 512, 2304};
    enum { NR = 3, MAXN = 2304 };
    float *x = malloc(sizeof(float) * NR * MAXN), *y0 = malloc(sizeof(float) * NR * MAXN),
          *y1 = malloc(sizeof(float) * NR * MAXN), *act = malloc(sizeof(float) * MAXN),
          *imat = malloc(sizeof(float) * MAXN), *wd = malloc(sizeof(float) * MAXN),
          *ad = malloc(sizeof(float) * MAXN);
    uint8_t *q0 = malloc(NR * MAXN * 9 + 64), *q1 = malloc(NR * MAXN * 9 + 64),
            *a0 = malloc(MAXN * 9 + 64), *a1 = malloc(MAXN * 9 + 64);
    for (int isa = GK_ISA_AVX2; isa < GK_ISA_COUNT; isa++) {
        gk_kctx c;
        gk_status st = gk_kctx_init(&c, forced ? -1 : isa, NULL);
        if (forced && st == GK_E_UNSUPPORTED) {
            printf("SKIP: GGUFKIT_ISA=%s is not supported by this CPU\n", env);
            return GK_SKIP;
        }
        if (st == GK_E_UNSUPPORTED) {
            printf("SKIP isa %s: not supported by this CPU\n", gk_isa_name((gk_isa)isa));
            continue;
        }
        if (st != GK_OK || (forced && (int)c.isa != isa)) continue;
        ran++;
        int before = gk_test_failures;
        for (size_t ti = 0; ti < sizeof types / sizeof types[0]; ti++) {
            const uint32_t t = types[ti];
            const gk_kfns *fs = &sc.fn[t], *fc = &c.fn[t];
            const gk_kernel_row *row = gk_kernel_row_get(t);
            const char *name = gk_type_info_get(t)->name;
            const size_t bsz = gk_type_info_get(t)->type_size;
            const int64_t bs = gk_type_info_get(t)->blck_size;
            for (int kind = 0; kind < NKIND; kind++)
                for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++) {
                    const int64_t n = lens[li];
                    if (n % bs) continue;
                    rs = 0x1234567ull * (uint64_t)(kind + 1) + (uint64_t)n + t;
                    gen(kind, x, NR * n);
                    for (int64_t i = 0; i < n; i++) imat[i] = (float)(urand() < 0.1 ? 0 : urand() * 8);
                    const size_t rowb = (size_t)(n / bs) * bsz;
                    for (int im = 0; im < 2; im++) {
                        const float *w = im ? imat : NULL;
                        memset(q0, 0x55, NR * rowb + 16);
                        memset(q1, 0xAA, NR * rowb + 16);
                        size_t s0 = fs->quantize(x, q0, NR, n, w), s1 = fc->quantize(x, q1, NR, n, w);
                        CHECK(s0 == NR * rowb && s1 == s0);
                        CHECKF(memcmp(q0, q1, s0) == 0, "%s quantize %s kind %d n %lld im %d",
                               gk_isa_name(c.isa), name, kind, (long long)n, im);
                        CHECK(q1[s0] == 0xAA);
                    }
                    if (fs->from_float) {
                        fs->from_float(x, q0, n);
                        fc->from_float(x, q1, n);
                        CHECKF(memcmp(q0, q1, rowb) == 0, "%s from_float %s kind %d n %lld",
                               gk_isa_name(c.isa), name, kind, (long long)n);
                    }
                    if (!fs->to_float) continue;
                    fs->quantize(x, q0, NR, n, NULL);
                    fs->to_float(q0, y0, NR * n);
                    fc->to_float(q0, y1, NR * n);
                    CHECKF(memcmp(y0, y1, sizeof(float) * NR * n) == 0, "%s to_float %s kind %d",
                           gk_isa_name(c.isa), name, kind);
                    if (!fs->vec_dot || kind == 5 || kind == 6) continue;
                    const uint32_t at = row->vec_dot_type;
                    gen(0, act, n);
                    from_float(&sc, at, act, a0, n);
                    from_float(&c, at, act, a1, n);
                    act_to_float(&sc, at, a0, ad, n);
                    for (int r = 0; r < NR; r++) {
                        const uint8_t *wr = q0 + r * rowb;
                        fs->to_float(wr, wd, n);
                        double ref = 0, mag = 0;
                        for (int64_t i = 0; i < n; i++) {
                            ref += (double)wd[i] * ad[i];
                            mag += fabs((double)wd[i] * ad[i]);
                        }
                        double tol = row->dot_tol * mag + 1e-30;
                        if (at == GK_TYPE_Q8_1) /* the min term uses s = fp16(d*Σq): 2^-11 rel */
                            for (int64_t b = 0; b < n / 32; b++) {
                                uint16_t m, sa;
                                memcpy(&m, wr + b * bsz + 2, 2);
                                memcpy(&sa, a0 + b * 36 + 2, 2);
                                tol += fabs((double)gk_fp16_to_fp32(m) * gk_fp16_to_fp32(sa)) * 0x1p-10;
                            }
                        const float d0 = fs->vec_dot(n, wr, a0), d1 = fc->vec_dot(n, wr, a1);
                        CHECKF(fabs(d0 - ref) <= tol, "scalar vec_dot %s: %g vs %g", name, d0, ref);
                        CHECKF(fabs(d1 - ref) <= tol, "%s vec_dot %s kind %d: %g vs %g",
                               gk_isa_name(c.isa), name, kind, d1, ref);
                    }
                }
        }
        printf("isa %s vs scalar: %s\n", gk_isa_name(c.isa), gk_test_failures == before ? "ok" : "FAILED");
    }
    if (!ran) printf("no SIMD path on this CPU: nothing to compare\n");
    free(x); free(y0); free(y1); free(act); free(imat); free(wd); free(ad);
    free(q0); free(q1); free(a0); free(a1);
    return gk_test_result("test_kernels_a_isa");
}
