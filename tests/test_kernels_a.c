/* Kernels A (f32/f16/bf16/f64, i8..i64, Q4_0..Q8_1, IQ4_NL, IQ4_XS, MXFP4, NVFP4):
 * T3 fp16/bf16 table, T4 single blocks, T5 sha256 of quantized bytes with and without imatrix
 * (format-facts §10), validate / byteswap, on every ISA path the CPU has (others: skipped). */
#include "testutil.h"

#include <math.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <string.h>

static void hexs(const uint8_t *p, size_t n, char *out) {
    for (size_t i = 0; i < n; i++) sprintf(out + 2 * i, "%02x", p[i]);
    out[2 * n] = 0;
}
static void sha256_hex(const void *p, size_t n, char out[65]) {
    unsigned char md[32];
    unsigned int len = 0;
    EVP_Digest(p, n, md, &len, EVP_sha256(), NULL);
    hexs(md, 32, out);
}
static float u2f(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

static void test_t3(const gk_kctx *ctx) {
    static const struct { uint32_t f; int h; int b; } t[] = {
        {0x3F800000, 0x3C00, 0x3F80}, {0x477FE000, 0x7BFF, 0x4780}, {0x477FEF00, 0x7BFF, 0x4780},
        {0x477FF000, 0x7C00, 0x4780}, {0x4E6E6B28, 0x7C00, 0x4E6E}, {0x33800000, 0x0001, 0x3380},
        {0x33000000, 0x0000, 0x3300}, {0x33400000, 0x0001, 0x3340}, {0x387FC000, 0x03FF, 0x3880},
        {0x3EAAAAAB, 0x3555, 0x3EAB}, {0x3F801000, 0x3C00, 0x3F80}, {0x3F803000, 0x3C02, 0x3F80},
        {0x80000000, 0x8000, 0x8000}, {0x7FC00000, 0x7E00, 0x7FC0}, {0x7F800001, 0x7E00, 0x7FC0},
        {0xFF800000, 0xFC00, 0xFF80}, {0x3F808000, -1, 0x3F80}, {0x3F818000, -1, 0x3F82},
        {0x3F808001, -1, 0x3F81}, {0x7F7FFFFF, -1, 0x7F80}, {0x7FC00001, -1, 0x7FC0},
        {0xFF800001, -1, 0xFFC0}, {0x00000001, -1, 0x0000},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        float f = u2f(t[i].f);
        /* 9 copies so that SIMD groups of 8 and the scalar tail both see the value */
        float in[9];
        uint16_t h[9], b[9];
        for (int j = 0; j < 9; j++) in[j] = f;
        ctx->fn[GK_TYPE_F16].quantize(in, h, 1, 9, NULL);
        ctx->fn[GK_TYPE_BF16].quantize(in, b, 1, 9, NULL);
        for (int j = 0; j < 9; j++) {
            if (t[i].h >= 0) CHECKF(h[j] == t[i].h, "f16(%08x)[%d] = %04x", t[i].f, j, h[j]);
            CHECKF(b[j] == t[i].b, "bf16(%08x)[%d] = %04x", t[i].f, j, b[j]);
        }
        if (t[i].h >= 0) CHECK(gk_fp32_to_fp16(f) == t[i].h);
        CHECK(gk_fp32_to_bf16(f) == t[i].b);
        if (t[i].h >= 0 && (t[i].h & 0x7c00) != 0x7c00) {
            float back;
            ctx->fn[GK_TYPE_F16].to_float(h, &back, 1);
            CHECK(gk_fp32_to_fp16(back) == t[i].h);
        }
    }
    /* every fp16 value round-trips through f32 */
    for (uint32_t v = 0; v < 65536; v++) {
        if ((v & 0x7c00) == 0x7c00 && (v & 0x3ff)) continue;
        float f = gk_fp16_to_fp32((uint16_t)v);
        if (gk_fp32_to_fp16(f) != v) {
            CHECKF(0, "fp16 %04x does not round-trip", v);
            break;
        }
    }
}

static void test_t4(const gk_kctx *ctx) {
    static const struct { uint32_t type; const char *hex; } t[] = {
        {GK_TYPE_Q8_0, "083081899199a1a9b1b9c0c8d0d8e0e8f0f8000810182028303840474f575f676f77"},
        {GK_TYPE_Q4_0, "0040809191a2a2b3b3c4c4d5d5e6e6f7f7f8"},
        {GK_TYPE_Q4_1, "224000cc80809191a2a2b3b3c4c4d5d5e6e6f7f7"},
        {GK_TYPE_Q5_0, "003c0000ffff00112233445566778899aabbccddeeff"},
        {GK_TYPE_Q5_1, "003c00cc0000ffff00112233445566778899aabbccddeeff"},
        {GK_TYPE_IQ4_NL, "fa2f809091a1b1b2c2c3d3d4e4e5e5f6f6f7"},
        {GK_TYPE_MXFP4, "810e0e1d1d2d2d3c3c4c4b4b5a5a595960"},
    };
    float x[32];
    for (int j = 0; j < 32; j++) x[j] = (float)(j - 16);
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        const gk_kfns *f = &ctx->fn[t[i].type];
        uint8_t out[64];
        char hx[130];
        CHECK(f->quantize != NULL);
        if (!f->quantize) continue;
        size_t n = f->quantize(x, out, 1, 32, NULL);
        hexs(out, n, hx);
        CHECKF(strcmp(hx, t[i].hex) == 0, "T4 %s: %s", gk_type_info_get(t[i].type)->name, hx);
        float y[32];
        f->to_float(out, y, 32);
        if (t[i].type == GK_TYPE_Q5_0 || t[i].type == GK_TYPE_Q5_1)
            for (int j = 0; j < 32; j++) CHECK(y[j] == x[j]);
        if (t[i].type == GK_TYPE_Q4_0) CHECK(y[0] == -16.0f && y[31] == 14.0f);
        if (t[i].type == GK_TYPE_MXFP4) CHECK(y[0] == -16.0f && y[31] == 16.0f);
    }
}

static void t5_input(float *x) {
    uint32_t s = 1;
    for (int i = 0; i < 512; i++) {
        s = s * 1664525u + 1013904223u;
        x[i] = (float)((int)(s >> 16) - 32768) / 32768.0f;
    }
}

static void test_t5(const gk_kctx *ctx) {
    static const struct { uint32_t type; const char *plain, *imat; } t[] = {
        {GK_TYPE_F16, "df86622f4bc88cc6846cc84a885f07846c12e40f57ef27ff3eaa5abd9cc89763", NULL},
        {GK_TYPE_BF16, "7417d5c98b46aca848d8ced3611c08f95f57f76467856e159e37bccec824aa1a", NULL},
        {GK_TYPE_Q4_0, "bb43d1e7ff076579bce9fa9e69d348f5aae359b4a69cc97c4c0da7e59ee62a13",
         "fe8024d200337784ca64f7001c43108f34b6fea13ea0635fc080420a70606dc2"},
        {GK_TYPE_Q4_1, "33ad45c8166a70509d866d5eb986a2d96598429eab48387c521686a73d92de92",
         "8530feb80ae5086858283154d0cad725e25ca861a1ce5fef32e1d34aa8ed43db"},
        {GK_TYPE_Q5_0, "44845487581314ba9ceaf1cd9f5e698f00c328a84ce37dfdf95aef87bf6e65b6",
         "9d90470eec612f6bb94a6cd5fb437ac84a3a2650136a2de4de8e13db26027b57"},
        {GK_TYPE_Q5_1, "b399242ff460a5ce6c9405036ef9b9c782b0c9dd9ad13eb85d8315052e971c0a",
         "d7da4e93e07135b1666b0754e7d73bc076241c305e844996ee15fa8492521ca1"},
        {GK_TYPE_Q8_0, "1a506417d71547153ca2d48ef0d9d12524de10a612da09a85ebd91a7fb0a6a47", NULL},
        {GK_TYPE_IQ4_NL, "dc911f62ef13b2a8561da571dfb3975690b88d8a1a3c1a3cf8fa341e8f9a983b",
         "955e472d254ee6aa9bedb0e55a1a9b9fa264d46336ea1d622f28780d59921911"},
        {GK_TYPE_IQ4_XS, "3f6a259197055511ac33f59d2f7a671a9ea7592a2659a39a804bcc0e8d1d0c3e",
         "d2f689d3977d7f934dc24064773181f96d9460910272fa9e2c9951bf505dcce3"},
        {GK_TYPE_MXFP4, "c2ca68a3737fb88a46250e75cc0325cd83fff845b9a44d1ec8c84fe133dc484e", NULL},
    };
    float x[512], w[256];
    t5_input(x);
    char h[65];
    sha256_hex(x, sizeof x, h);
    CHECK(strcmp(h, "8f5250bf8ea9e6c180b767413a783d1f382f61484a7ca9782345e52ad62b044c") == 0);
    for (int i = 0; i < 256; i++) w[i] = (float)(1 + i % 7);
    static uint8_t out[4096];
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        const gk_kfns *f = &ctx->fn[t[i].type];
        const char *name = gk_type_info_get(t[i].type)->name;
        for (int im = 0; im < 2; im++) {
            memset(out, 0xAA, sizeof out);
            size_t n = f->quantize(x, out, 2, 256, im ? w : NULL);
            uint64_t want = gk_type_nbytes(t[i].type, 512, NULL);
            CHECKF(n == want, "%s: %zu bytes", name, n);
            sha256_hex(out, n, h);
            const char *exp = im && t[i].imat ? t[i].imat : t[i].plain;
            CHECKF(strcmp(h, exp) == 0, "T5 %s%s: sha256 %s (first bytes %02x%02x%02x%02x)",
                   name, im ? " +imatrix" : "", h, out[0], out[1], out[2], out[3]);
        }
    }
}

/* validate: a NaN / Inf in the data or a block scale is found at the right index. */
static void test_validate(const gk_kctx *ctx) {
    static const uint32_t types[] = {GK_TYPE_F32, GK_TYPE_F16, GK_TYPE_BF16, GK_TYPE_Q4_0,
                                     GK_TYPE_Q4_1, GK_TYPE_Q5_0, GK_TYPE_Q5_1, GK_TYPE_Q8_0,
                                     GK_TYPE_IQ4_NL, GK_TYPE_IQ4_XS, GK_TYPE_MXFP4};
    float x[1024];
    for (int i = 0; i < 1024; i++) x[i] = sinf((float)i * 0.37f) * 3.0f;
    static uint8_t buf[8192];
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        uint32_t t = types[i];
        const gk_type_info *ti = gk_type_info_get(t);
        const gk_kfns *f = &ctx->fn[t];
        size_t n = f->quantize(x, buf, 1, 1024, NULL);
        CHECKF(f->validate(buf, n) == -1, "%s: clean data flagged", ti->name);
        size_t nb = n / ti->type_size;
        size_t bad = nb / 2 + 1;
        uint8_t *b = buf + bad * ti->type_size;
        switch (t) {
        case GK_TYPE_F32: memcpy(b, &(float){INFINITY}, 4); break;
        case GK_TYPE_BF16: b[0] = 0xc1; b[1] = 0x7f; break; /* NaN */
        case GK_TYPE_MXFP4: b[0] = 0xff; break;
        case GK_TYPE_Q4_1: case GK_TYPE_Q5_1: b[2] = 0x00; b[3] = 0x7c; break; /* m = inf */
        default: b[0] = 0x01; b[1] = 0x7e; break;                              /* d = NaN */
        }
        CHECKF(f->validate(buf, n) == (int64_t)bad, "%s: bad at %zu, got %lld", ti->name, bad,
               (long long)f->validate(buf, n));
        CHECK(f->validate(buf, n - 1) != -1);
    }
    CHECK(ctx->fn[GK_TYPE_I32].validate(buf, 16) == -1);
    CHECK(ctx->fn[GK_TYPE_NVFP4].validate(buf, 72) == -1);
    double dd[2] = {1.0, NAN};
    CHECK(ctx->fn[GK_TYPE_F64].validate(dd, 16) == 1);
}

/* byteswap: swapping twice is the identity, and swapped scales read back byte-reversed. */
static void test_byteswap(const gk_kctx *ctx) {
    static const struct { uint32_t type; int off[3]; int size[3]; } t[] = {
        {GK_TYPE_Q4_0, {0, -1, -1}, {2, 0, 0}}, {GK_TYPE_Q4_1, {0, 2, -1}, {2, 2, 0}},
        {GK_TYPE_Q5_0, {0, 2, -1}, {2, 4, 0}},  {GK_TYPE_Q5_1, {0, 2, 4}, {2, 2, 4}},
        {GK_TYPE_Q8_0, {0, -1, -1}, {2, 0, 0}}, {GK_TYPE_Q8_1, {0, 2, -1}, {2, 2, 0}},
        {GK_TYPE_IQ4_NL, {0, -1, -1}, {2, 0, 0}}, {GK_TYPE_IQ4_XS, {0, 2, -1}, {2, 2, 0}},
        {GK_TYPE_MXFP4, {-1, -1, -1}, {0, 0, 0}}, {GK_TYPE_NVFP4, {-1, -1, -1}, {0, 0, 0}},
        {GK_TYPE_F16, {0, -1, -1}, {2, 0, 0}}, {GK_TYPE_F32, {0, -1, -1}, {4, 0, 0}},
        {GK_TYPE_F64, {0, -1, -1}, {8, 0, 0}}, {GK_TYPE_I16, {0, -1, -1}, {2, 0, 0}},
        {GK_TYPE_I32, {0, -1, -1}, {4, 0, 0}}, {GK_TYPE_I64, {0, -1, -1}, {8, 0, 0}},
        {GK_TYPE_I8, {-1, -1, -1}, {0, 0, 0}}, {GK_TYPE_BF16, {0, -1, -1}, {2, 0, 0}},
    };
    uint8_t a[600], b[600];
    for (int i = 0; i < 600; i++) a[i] = (uint8_t)(i * 7 + 3);
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        const gk_type_info *ti = gk_type_info_get(t[i].type);
        gk_byteswap_fn sw = ctx->fn[t[i].type].byteswap;
        CHECK(sw != NULL);
        if (!sw) continue;
        memcpy(b, a, sizeof a);
        sw(b, 2);
        size_t bs = ti->type_size;
        for (int blk = 0; blk < 2; blk++) {
            uint8_t expect[300];
            memcpy(expect, a + blk * bs, bs);
            for (int k = 0; k < 3; k++) {
                if (t[i].off[k] < 0) continue;
                for (int q = 0; q < t[i].size[k]; q++)
                    expect[t[i].off[k] + q] = a[blk * bs + t[i].off[k] + t[i].size[k] - 1 - q];
            }
            CHECKF(memcmp(expect, b + blk * bs, bs) == 0, "byteswap %s block %d", ti->name, blk);
        }
        CHECK(memcmp(a + 2 * bs, b + 2 * bs, 16) == 0); /* nothing past n blocks */
        sw(b, 2);
        CHECK(memcmp(a, b, sizeof a) == 0);
    }
}

int main(void) {
    int ran = 0;
    /* GGUFKIT_ISA set (ctest registers one run per ISA): that path only, 77 if the CPU lacks it;
     * else every path the CPU has. */
    const char *env = getenv("GGUFKIT_ISA");
    int forced = env && *env;
    for (int isa = 0; isa < GK_ISA_COUNT; isa++) {
        gk_kctx ctx;
        gk_status st = gk_kctx_init(&ctx, forced ? -1 : isa, NULL);
        if (forced && st == GK_E_UNSUPPORTED) {
            printf("SKIP: GGUFKIT_ISA=%s is not supported by this CPU\n", env);
            return GK_SKIP;
        }
        if (forced && (int)ctx.isa != isa) continue;
        if (st == GK_E_UNSUPPORTED) {
            printf("SKIP isa %s: not supported by this CPU\n", gk_isa_name((gk_isa)isa));
            continue;
        }
        CHECK(st == GK_OK);
        if (st != GK_OK) continue;
        ran++;
        int before = gk_test_failures;
        test_t3(&ctx);
        test_t4(&ctx);
        test_t5(&ctx);
        test_validate(&ctx);
        test_byteswap(&ctx);
        printf("isa %s: %s\n", gk_isa_name((gk_isa)isa), gk_test_failures == before ? "ok" : "FAILED");
    }
    CHECK(ran >= 1);
    return gk_test_result("test_kernels_a");
}
