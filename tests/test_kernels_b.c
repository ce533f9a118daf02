/* K-quant / ternary kernels: format-facts §10 T5 (sha256 of ggml_quantize_chunk output, with and
 * without imatrix), T6 (scale packing), T7 (TQ1_0 trits), RMS error ordering, vec_dot of T5
 * row 0 with row 1, and scalar vs AVX2 vs AVX-512 agreement (identical quantize bytes,
 * dequantization and dot products) over many inputs. Every check runs for every ISA path the
 * CPU has; a missing ISA is reported as skipped. */
#include "testutil.h"

#include <math.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <string.h>

static void sha256_hex(const void *p, size_t n, char out[65]) {
    unsigned char md[32];
    unsigned int len = 0;
    EVP_Digest(p, n, md, &len, EVP_sha256(), NULL);
    for (int i = 0; i < 32; i++) sprintf(out + 2 * i, "%02x", md[i]);
}

static float t5x[512], t5w[256];

static void t5_input(void) {
    uint32_t s = 1;
    for (int i = 0; i < 512; i++) {
        s = s * 1664525u + 1013904223u;
        t5x[i] = (float)((int)(s >> 16) - 32768) / 32768.0f;
    }
    for (int i = 0; i < 256; i++) t5w[i] = (float)(1 + i % 7);
}

struct t5 {
    uint32_t type;
    const char *name;
    size_t bytes;
    const char *plain, *imat, *first4;
    double rms;
};

static const struct t5 T5[] = {
    {GK_TYPE_Q2_K, "q2_K", 168, "01083766daa691896bbc1e9da9e8370336203b15c1cccbfc68954433936c6a83",
     "f63c331551eafd18ebf172fc9f3aa3bdf9b136f15d8e17b457ed7dedbb5c9e43", "ffccbcdc", 0.1316},
    {GK_TYPE_Q3_K, "q3_K", 220, "cd1dccc8c550103993684719964daad55d43ef032486d26463ad4bec60cc59d4",
     "377f0d3f5733501d9305a0b2fdfb47c548a97e24623511fb53716f0027ffa8e0", "fab8ffbf", 0.0714},
    {GK_TYPE_Q4_K, "q4_K", 288, "025b5f1c121881de1db63f9e9b391db6920dd9f9fe1185c257e77fd077fe0dde",
     "67bfe1871a60500c623199b87e5adc2358fce391a138c89563916cb88cba68ae", "8a181124", 0.0333},
    {GK_TYPE_Q5_K, "q5_K", 352, "39dabe8ffe206f06e6c6c7c617bd9e587123552b726df005fc8c02296f19b4aa",
     "f402e8ef7adb490a669aa50df6dcd0aa642dccf1dbf6a962ad1edb3d49e33bde", "22141724", 0.0160},
    {GK_TYPE_Q6_K, "q6_K", 420, "b9c094136e9ac27853483c83e6b642cd40d9b0496b47700e62e13a6d6107ca51",
     "5e9113e4127372e5c9775cd6dba768ab071ad2cdd27fae3aa300e4409989fd40", "df48f0ed", 0.0077},
    {GK_TYPE_TQ1_0, "tq1_0", 108, "25e3ce1deaf533122ee75772a9da35388322595af5c72a3fbc43690dee1908e7",
     "25e3ce1deaf533122ee75772a9da35388322595af5c72a3fbc43690dee1908e7", NULL, 0.2886},
    {GK_TYPE_TQ2_0, "tq2_0", 132, "4aa99389c0bdc5ee1b9a61592b37bb64fa6b32d25a10b1980dca434093bcc22f",
     "4aa99389c0bdc5ee1b9a61592b37bb64fa6b32d25a10b1980dca434093bcc22f", NULL, 0.2886},
};
#define NT5 (sizeof T5 / sizeof T5[0])

static void test_t5(const gk_kctx *c) {
    const char *isa = gk_isa_name(c->isa);
    double prev_rms = 1e9;
    for (size_t t = 0; t < NT5; t++) {
        const gk_kfns *f = &c->fn[T5[t].type];
        unsigned char out[1024];
        char hex[65];
        CHECKF(f->quantize && f->to_float && f->vec_dot, "%s %s: missing kernels", isa, T5[t].name);
        if (!f->quantize || !f->to_float || !f->vec_dot) continue;
        for (int im = 0; im < 2; im++) {
            memset(out, 0xA5, sizeof out);
            size_t n = f->quantize(t5x, out, 2, 256, im ? t5w : NULL);
            CHECKF(n == T5[t].bytes, "%s %s: %zu bytes", isa, T5[t].name, n);
            sha256_hex(out, T5[t].bytes, hex);
            CHECKF(strcmp(hex, im ? T5[t].imat : T5[t].plain) == 0, "%s %s%s: sha256 %s", isa,
                   T5[t].name, im ? " (imatrix)" : "", hex);
            if (!im && T5[t].first4) {
                char f4[9];
                sprintf(f4, "%02x%02x%02x%02x", out[0], out[1], out[2], out[3]);
                CHECKF(strcmp(f4, T5[t].first4) == 0, "%s %s: first bytes %s", isa, T5[t].name, f4);
            }
        }
        f->quantize(t5x, out, 2, 256, NULL);
        float deq[512];
        f->to_float(out, deq, 512);
        double e2 = 0;
        for (int i = 0; i < 512; i++) e2 += ((double)deq[i] - t5x[i]) * ((double)deq[i] - t5x[i]);
        double rms = sqrt(e2 / 512);
        CHECKF(fabs(rms - T5[t].rms) < 5e-4 * (T5[t].rms / 0.01 + 1), "%s %s: rms %.5f vs %.4f",
               isa, T5[t].name, rms, T5[t].rms);
        if (T5[t].type != GK_TYPE_TQ2_0 && T5[t].type != GK_TYPE_TQ1_0) {
            CHECKF(rms < prev_rms, "%s %s: rms not falling", isa, T5[t].name);
            prev_rms = rms;
        }
        /* vec_dot of the weight row 0 with the activation row 1 (as Q8_K). */
        unsigned char act[292];
        c->fn[GK_TYPE_Q8_K].from_float(t5x + 256, act, 256);
        float dot = f->vec_dot(256, out, act);
        float deqa[256];
        double ref = 0;
        {
            float da;
            memcpy(&da, act, 4);
            for (int i = 0; i < 256; i++) deqa[i] = da * (float)(int8_t)act[4 + i];
            for (int i = 0; i < 256; i++) ref += (double)deq[i] * deqa[i];
        }
        const gk_kernel_row *row = gk_kernel_row_get(T5[t].type);
        CHECKF(fabs(dot - ref) <= row->dot_tol * 64 + 1e-6, "%s %s: dot %.7f vs f64 %.7f", isa,
               T5[t].name, dot, ref);
        if (T5[t].type == GK_TYPE_Q4_K)
            CHECKF(fabs(dot - -0.784086) < 2e-3, "%s q4_K dot %.6f vs ggml -0.784086", isa, dot);
    }
}

/* T6: scale packing. */
static void test_t6(const gk_kctx *c) {
    /* Q4_K: decode the packed bytes through to_float of a block whose qs are all 1, d = dmin =
     * 1, and check d*sc - m for each sub-block; and check the pack through quantize is not
     * needed: decode is the spec. */
    static const uint8_t q4s[12] = {0x81, 0x82, 0xc3, 0xc4, 0x85, 0x86, 0x87, 0xc8, 0x81, 0x92, 0xae, 0xff};
    static const int sc[8] = {1, 2, 3, 4, 33, 34, 62, 63}, mn[8] = {5, 6, 7, 8, 40, 41, 42, 63};
    uint8_t b[144];
    memset(b, 0x11, sizeof b);
    b[0] = 0x00; b[1] = 0x3c; b[2] = 0x00; b[3] = 0x3c; /* 1.0, 1.0 */
    memcpy(b + 4, q4s, 12);
    float y[256];
    c->fn[GK_TYPE_Q4_K].to_float(b, y, 256);
    for (int j = 0; j < 8; j++)
        CHECKF(y[32 * j] == (float)(sc[j] - mn[j]), "q4_K T6 sub-block %d: %g", j, y[32 * j]);
    /* Q3_K: scales decode to the signed list. */
    static const uint8_t q3s[12] = {0x00, 0xf1, 0xef, 0xe0, 0x71, 0x82, 0x3f, 0xd0, 0x98, 0x78, 0xb9, 0x5e};
    static const int s3[16] = {-32, -31, -1, 0, 1, 2, 15, 16, -16, 31, 30, -2, 7, -8, 3, -3};
    uint8_t b3[110];
    memset(b3, 0, sizeof b3);
    memset(b3, 0xFF, 32);            /* hmask all set: q = low bits */
    memset(b3 + 32, 0x55, 64);       /* every 2-bit field = 1 */
    memcpy(b3 + 96, q3s, 12);
    b3[108] = 0x00; b3[109] = 0x3c;
    c->fn[GK_TYPE_Q3_K].to_float(b3, y, 256);
    for (int j = 0; j < 16; j++)
        CHECKF(y[16 * j] == (float)s3[j], "q3_K T6 sub-block %d: %g", j, y[16 * j]);
}

/* T7: trits (2,0,1,2,1) -> 188, decoding gives them back. */
static void test_t7(const gk_kctx *c) {
    uint8_t b[54];
    memset(b, 0, sizeof b);
    b[0] = 188;
    b[52] = 0x00; b[53] = 0x3c;
    float y[256];
    c->fn[GK_TYPE_TQ1_0].to_float(b, y, 256);
    static const int tr[5] = {2, 0, 1, 2, 1};
    for (int k = 0; k < 5; k++) CHECKF(y[32 * k] == (float)(tr[k] - 1), "T7 trit %d: %g", k, y[32 * k]);
    float x[256];
    for (int i = 0; i < 256; i++) x[i] = 0;
    for (int k = 0; k < 5; k++) x[32 * k] = (float)(tr[k] - 1);
    uint8_t o[54];
    c->fn[GK_TYPE_TQ1_0].quantize(x, o, 1, 256, NULL);
    CHECKF(o[0] == 188, "T7 encode: %d", o[0]);
}


/* ---- scalar vs SIMD agreement over many inputs ------------------------------------------------ */
static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint32_t rnd(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 16);
}
static float frand(void) { return (float)((rnd() & 0xFFFFFF) / 16777216.0) * 2.0f - 1.0f; }

/* Input families: 0 normal-ish, 1 heavy-tailed, 2 zeros, 3 constant, 4 denormals, 5 huge,
 * 6 sparse, 7 mixed scales per sub-block, 8 positive only, 9 ties (multiples of 1/8),
 * 10 NaN / inf sprinkled in. */
static void fill(float *x, int64_t n, int fam) {
    float c = frand();
    for (int64_t i = 0; i < n; i++) {
        float v = frand();
        switch (fam) {
        case 0: x[i] = v + frand() + frand(); break;
        case 1: x[i] = v / (0.02f + fabsf(frand())); break;
        case 2: x[i] = 0.0f; break;
        case 3: x[i] = c; break;
        case 4: x[i] = v * 1e-39f; break;
        case 5: x[i] = v * 1e30f; break;
        case 6: x[i] = (rnd() % 17 == 0) ? v * 10 : 0.0f; break;
        case 7: x[i] = v * (float)(1 << ((i / 16) % 12)) * 1e-3f; break;
        case 8: x[i] = fabsf(v) + 0.25f; break;
        case 9: x[i] = (float)((int)(rnd() % 33) - 16) / 8.0f; break;
        default: /* non-finite values sprinkled into normal data */
            x[i] = (rnd() % 29 == 0) ? (rnd() & 1 ? NAN : (rnd() & 1 ? INFINITY : -INFINITY)) : v;
            break;
        }
    }
}

static const uint32_t AGREE_TYPES[] = {GK_TYPE_Q2_K, GK_TYPE_Q3_K, GK_TYPE_Q4_K, GK_TYPE_Q5_K,
                                       GK_TYPE_Q6_K, GK_TYPE_Q8_K, GK_TYPE_TQ1_0, GK_TYPE_TQ2_0};

static void test_agree(const gk_kctx *ref, const gk_kctx *c) {
    static const int64_t lens[] = {256, 512, 1280, 4096};
    enum { MAXN = 4096 };
    static float x[MAXN], w[MAXN], xa[MAXN], y0[MAXN], y1[MAXN];
    static unsigned char q0[MAXN * 2], q1[MAXN * 2], a0[MAXN * 2], a1[MAXN * 2];
    for (size_t t = 0; t < sizeof AGREE_TYPES / sizeof AGREE_TYPES[0]; t++) {
        const uint32_t ty = AGREE_TYPES[t];
        const gk_kfns *f0 = &ref->fn[ty], *f1 = &c->fn[ty];
        const gk_kernel_row *row = gk_kernel_row_get(ty);
        int bad = 0;
        for (int fam = 0; fam < 11 && bad < 5; fam++) {
            for (int rep = 0; rep < 3; rep++) {
                const int64_t n = lens[(fam + rep) % 4];
                fill(x, n, fam);
                fill(xa, n, rep == 2 ? 1 : 0);
                for (int64_t i = 0; i < n; i++) w[i] = (rnd() % 4 == 0) ? 0.0f : fabsf(frand()) * 3;
                for (int im = 0; im < 2; im++) {
                    memset(q0, 0x5A, sizeof q0);
                    memset(q1, 0xA5, sizeof q1);
                    size_t s0 = f0->quantize(x, q0, 1, n, im ? w : NULL);
                    size_t s1 = f1->quantize(x, q1, 1, n, im ? w : NULL);
                    if (s0 != s1 || memcmp(q0, q1, s0)) {
                        CHECKF(0, "%s type %u fam %d n %lld imat %d: quantize bytes differ",
                               gk_isa_name(c->isa), ty, fam, (long long)n, im);
                        bad++;
                    }
                }
                if (ty == GK_TYPE_Q8_K) {
                    memset(a0, 1, sizeof a0);
                    memset(a1, 2, sizeof a1);
                    f0->from_float(x, a0, n);
                    f1->from_float(x, a1, n);
                    CHECKF(!memcmp(a0, a1, (size_t)(n / 256 * 292)), "%s q8_K from_float fam %d",
                           gk_isa_name(c->isa), fam);
                    continue;
                }
                f0->to_float(q0, y0, n);
                f1->to_float(q0, y1, n);
                if (memcmp(y0, y1, (size_t)n * 4)) {
                    CHECKF(0, "%s type %u fam %d: to_float differs", gk_isa_name(c->isa), ty, fam);
                    bad++;
                }
                ref->fn[GK_TYPE_Q8_K].from_float(xa, a0, n);
                float d0 = f0->vec_dot(n, q0, a0), d1 = f1->vec_dot(n, q0, a0);
                /* scale of the terms: sum |w|*|a| */
                double mag = 0;
                {
                    static float ya[MAXN];
                    for (int64_t b = 0; b < n / 256; b++) {
                        float da;
                        memcpy(&da, a0 + b * 292, 4);
                        for (int i = 0; i < 256; i++)
                            ya[b * 256 + i] = da * (float)(int8_t)a0[b * 292 + 4 + i];
                    }
                    double ex = 0;
                    for (int64_t i = 0; i < n; i++) {
                        mag += fabs((double)y0[i] * ya[i]);
                        ex += (double)y0[i] * ya[i];
                    }
                    if (isfinite(mag))
                        CHECKF(fabs(d0 - ex) <= row->dot_tol * mag + 1e-30, "%s type %u fam %d: "
                               "scalar dot %g vs f64 %g", gk_isa_name(c->isa), ty, fam, d0, ex);
                }
                if (isfinite(mag) && !(fabs(d0 - d1) <= row->dot_tol * mag + 1e-30)) {
                    CHECKF(0, "%s type %u fam %d n %lld: dot %g vs scalar %g",
                           gk_isa_name(c->isa), ty, fam, (long long)n, d1, d0);
                    bad++;
                }
            }
        }
    }
}

/* validate and byteswap */
static void test_validate(const gk_kctx *c) {
    static const struct { uint32_t ty; int bs; int off[2]; } V[] = {
        {GK_TYPE_Q2_K, 84, {80, 82}}, {GK_TYPE_Q3_K, 110, {108, -1}}, {GK_TYPE_Q4_K, 144, {0, 2}},
        {GK_TYPE_Q5_K, 176, {0, 2}},  {GK_TYPE_Q6_K, 210, {208, -1}}, {GK_TYPE_TQ1_0, 54, {52, -1}},
        {GK_TYPE_TQ2_0, 66, {64, -1}}};
    unsigned char b[3 * 210], s[3 * 210];
    for (size_t t = 0; t < sizeof V / sizeof V[0]; t++) {
        const gk_kfns *f = &c->fn[V[t].ty];
        for (size_t i = 0; i < sizeof b; i++) b[i] = (unsigned char)(rnd() & 0x3B);
        CHECKF(f->validate(b, 3 * (size_t)V[t].bs) == -1, "type %u valid", V[t].ty);
        CHECKF(f->validate(b, 3 * (size_t)V[t].bs - 1) == 2, "type %u partial", V[t].ty);
        for (int k = 0; k < 2; k++) {
            if (V[t].off[k] < 0) continue;
            memcpy(s, b, sizeof b);
            s[V[t].bs + V[t].off[k] + 1] = 0x7C; /* inf */
            CHECKF(f->validate(s, 3 * (size_t)V[t].bs) == 1, "type %u field %d inf", V[t].ty, k);
            s[V[t].bs + V[t].off[k] + 1] = 0xFE; /* NaN */
            CHECKF(f->validate(s, 3 * (size_t)V[t].bs) == 1, "type %u field %d nan", V[t].ty, k);
        }
        memcpy(s, b, sizeof b);
        f->byteswap(s, 3);
        for (int blk = 0; blk < 3; blk++)
            for (int k = 0; k < 2; k++) {
                int o = blk * V[t].bs + V[t].off[k];
                if (V[t].off[k] < 0) continue;
                CHECK(s[o] == b[o + 1] && s[o + 1] == b[o]);
            }
        f->byteswap(s, 3);
        CHECK(!memcmp(s, b, 3 * (size_t)V[t].bs));
    }
    /* bad shapes are refused without writing: n_per_row not a multiple of 256 */
    {
        float x[512] = {0};
        unsigned char o[600];
        for (size_t t = 0; t < sizeof AGREE_TYPES / sizeof AGREE_TYPES[0]; t++) {
            memset(o, 0x77, sizeof o);
            CHECK(c->fn[AGREE_TYPES[t]].quantize(x, o, 1, 300, NULL) == 0);
            CHECK(c->fn[AGREE_TYPES[t]].quantize(x, o, 2, 128, NULL) == 0);
            CHECK(o[0] == 0x77);
        }
    }
    unsigned char q[292];
    memset(q, 0, sizeof q);
    CHECK(c->fn[GK_TYPE_Q8_K].validate(q, 292) == -1);
    q[3] = 0x7F; q[2] = 0x80;
    CHECK(c->fn[GK_TYPE_Q8_K].validate(q, 292) == 0);
}

int main(void) {
    t5_input();
    {
        unsigned char hx[65];
        sha256_hex(t5x, sizeof t5x, (char *)hx);
        CHECK(strcmp((char *)hx, "8f5250bf8ea9e6c180b767413a783d1f382f61484a7ca9782345e52ad62b044c") == 0);
    }
    gk_kctx ref;
    CHECK(gk_kctx_init(&ref, GK_ISA_SCALAR, NULL) == GK_OK);
    /* GGUFKIT_ISA set (ctest registers one run per ISA): that path only, 77 if the CPU lacks
     * it; else every path the CPU has. */
    const char *env = getenv("GGUFKIT_ISA");
    int forced = env && *env;
    for (int isa = 0; isa < GK_ISA_COUNT; isa++) {
        gk_kctx c;
        gk_status st = gk_kctx_init(&c, forced ? -1 : isa, NULL);
        if (forced && st == GK_E_UNSUPPORTED) {
            printf("SKIP: GGUFKIT_ISA=%s is not supported by this CPU\n", env);
            return GK_SKIP;
        }
        if (forced && (st != GK_OK || (int)c.isa != isa)) continue;
        if (st != GK_OK) {
            printf("SKIP: isa %s not supported by this CPU\n", gk_isa_name((gk_isa)isa));
            continue;
        }
        printf("isa %s\n", gk_isa_name((gk_isa)isa));
        test_t5(&c);
        test_t6(&c);
        test_t7(&c);
        test_validate(&c);
        if (isa > 0) test_agree(&ref, &c);
        else test_agree(&ref, &ref);
    }
    return gk_test_result("test_kernels_b");
}
