/* Known answers from llama.cpp's own library (format-facts §10 T9): the F32 tensors of
 * stories260K-f32.gguf quantized with our kernels equal, byte for byte, the tensors of the
 * stories260K-q8_0 / -q4_0 files written by gguf-py/llama.cpp (F16 where those files have F16,
 * F32 copied). Tensors are located with a tiny test-local GGUF v3 parser. Runs under every ISA
 * path the CPU has (or GGUFKIT_ISA only). */
#include "testutil.h"

#include <stdint.h>
#include <string.h>

typedef struct { char name[96]; uint32_t type; uint64_t ne[4]; uint32_t nd; uint64_t off; } tinfo;
typedef struct { const uint8_t *p; size_t n, pos; int bad; } rd;

static uint64_t rdn(rd *r, size_t k) {
    uint64_t v = 0;
    if (r->pos + k > r->n) { r->bad = 1; return 0; }
    for (size_t i = 0; i < k; i++) v |= (uint64_t)r->p[r->pos + i] << (8 * i);
    r->pos += k;
    return v;
}
static void skip_str(rd *r) {
    uint64_t l = rdn(r, 8);
    if (l > r->n - r->pos) r->bad = 1; else r->pos += l;
}
static const size_t scalar_size[13] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};
static void skip_val(rd *r, uint32_t t, uint32_t *align_out) {
    if (t == 8) { skip_str(r); return; }
    if (t == 9) {
        uint32_t et = (uint32_t)rdn(r, 4);
        uint64_t cnt = rdn(r, 8);
        for (uint64_t i = 0; i < cnt && !r->bad; i++) skip_val(r, et, NULL);
        return;
    }
    if (t > 12) { r->bad = 1; return; }
    uint64_t v = rdn(r, scalar_size[t]);
    if (align_out) *align_out = (uint32_t)v;
}

/* Returns the tensor count (<= cap) and the data start; -1 on a parse error. */
static int parse(const uint8_t *p, size_t n, tinfo *ti, int cap, size_t *data_start) {
    rd r = {p, n, 0, 0};
    if (rdn(&r, 4) != 0x46554747u || rdn(&r, 4) != 3) return -1;
    uint64_t nt = rdn(&r, 8), nkv = rdn(&r, 8);
    uint32_t align = 32;
    for (uint64_t i = 0; i < nkv && !r.bad; i++) {
        uint64_t kl = rdn(&r, 8);
        int is_align = kl == 17 && r.pos + 17 <= n && memcmp(p + r.pos, "general.alignment", 17) == 0;
        r.pos += kl;
        uint32_t t = (uint32_t)rdn(&r, 4);
        skip_val(&r, t, is_align ? &align : NULL);
    }
    if (nt > (uint64_t)cap) return -1;
    for (uint64_t i = 0; i < nt && !r.bad; i++) {
        uint64_t l = rdn(&r, 8);
        if (l >= sizeof ti[i].name || r.pos + l > n) return -1;
        memcpy(ti[i].name, p + r.pos, l);
        ti[i].name[l] = 0;
        r.pos += l;
        ti[i].nd = (uint32_t)rdn(&r, 4);
        if (ti[i].nd > 4) return -1;
        for (uint32_t d = 0; d < 4; d++) ti[i].ne[d] = d < ti[i].nd ? rdn(&r, 8) : 1;
        ti[i].type = (uint32_t)rdn(&r, 4);
        ti[i].off = rdn(&r, 8);
    }
    if (r.bad) return -1;
    *data_start = (r.pos + align - 1) / align * align;
    return (int)nt;
}

static tinfo src_t[64], dst_t[64];

static void check_file(const gk_kctx *ctx, const uint8_t *sp, size_t sn, const char *rel) {
    size_t dn = 0, sds = 0, dds = 0;
    uint8_t *dp = gk_test_read_file(gk_test_data(rel), &dn);
    CHECKF(dp != NULL, "cannot read %s", rel);
    if (!dp) return;
    int ns = parse(sp, sn, src_t, 64, &sds), nd = parse(dp, dn, dst_t, 64, &dds);
    CHECK(ns > 0 && nd == ns);
    int compared = 0, quantized = 0;
    for (int i = 0; i < nd; i++) {
        const tinfo *d = &dst_t[i], *s = NULL;
        for (int j = 0; j < ns; j++)
            if (strcmp(src_t[j].name, d->name) == 0) s = &src_t[j];
        CHECKF(s != NULL, "%s: %s not in the f32 file", rel, d->name);
        if (!s) continue;
        CHECK(s->type == GK_TYPE_F32);
        int64_t n_per_row = (int64_t)s->ne[0];
        int64_t nrows = (int64_t)(s->ne[1] * s->ne[2] * s->ne[3]);
        int ok = 0;
        uint64_t nbytes = gk_type_nbytes(d->type, (uint64_t)(n_per_row * nrows), &ok);
        CHECK(ok);
        const float *x = (const float *)(sp + sds + s->off); /* 32-aligned in the file */
        if (sds + s->off + (uint64_t)(n_per_row * nrows) * 4 > sn ||
            dds + d->off + nbytes > dn) {
            CHECKF(0, "%s: %s out of bounds", rel, d->name);
            continue;
        }
        uint8_t *out = malloc(nbytes + 64);
        gk_quantize_fn q = ctx->fn[d->type].quantize;
        CHECKF(q != NULL, "no quantize for type %u", d->type);
        if (q) {
            size_t w = q(x, out, nrows, n_per_row, NULL);
            CHECK(w == nbytes);
            int same = memcmp(out, dp + dds + d->off, nbytes) == 0;
            CHECKF(same, "%s: tensor %s (%s) differs", rel, d->name,
                   gk_type_info_get(d->type)->name);
            compared++;
            if (d->type != GK_TYPE_F32) quantized++;
        }
        free(out);
    }
    printf("  %s: %d tensors equal (%d converted)\n", rel, compared, quantized);
    CHECK(quantized > 0);
    free(dp);
}

int main(void) {
    gk_test_data_dir();
    size_t sn = 0;
    uint8_t *sp = gk_test_read_file(gk_test_data("gguf-py-written/stories260K-f32.gguf"), &sn);
    CHECK(sp != NULL);
    if (!sp) return gk_test_result("test_kernels_a_known");
    const char *env = getenv("GGUFKIT_ISA");
    int forced = env && *env, ran = 0;
    for (int isa = 0; isa < GK_ISA_COUNT; isa++) {
        gk_kctx ctx;
        gk_status st = gk_kctx_init(&ctx, forced ? -1 : isa, NULL);
        if (forced && st == GK_E_UNSUPPORTED) {
            printf("SKIP: GGUFKIT_ISA=%s is not supported by this CPU\n", env);
            return GK_SKIP;
        }
        if (st == GK_E_UNSUPPORTED) {
            printf("SKIP isa %s: not supported by this CPU\n", gk_isa_name((gk_isa)isa));
            continue;
        }
        if (st != GK_OK || (forced && (int)ctx.isa != isa)) continue;
        printf("isa %s\n", gk_isa_name(ctx.isa));
        ran++;
        check_file(&ctx, sp, sn, "gguf-py-written/stories260K-q8_0.gguf");
        check_file(&ctx, sp, sn, "gguf-py-written/stories260K-q4_0.gguf");
        check_file(&ctx, sp, sn, "gguf-py-written/stories260K-f16.gguf");
    }
    CHECK(ran >= 1);
    free(sp);
    return gk_test_result("test_kernels_a_known");
}
