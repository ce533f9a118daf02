/* The grid types' kernel rows (kernels/k_grid.c): no compute (the grids are not carried), but
 * validate (format-facts §3.10: the fp16 scale is finite; IQ1_M reassembles it from the top
 * nibbles of its four u16 scale words) and byteswap (every multi-byte field) must work, on every
 * ISA path (GGUFKIT_ISA forces one; one the CPU lacks is a skip). */
#include "testutil.h"

#include <stdint.h>
#include <string.h>

/* The multi-byte fields of each block, written from format-facts §2 (independently of the
 * kernel file): offset, width in bytes, count. */
typedef struct { uint32_t off, width, count; } field;
typedef struct {
    uint32_t type;
    const char *name;
    uint32_t bsize;
    int d_at;          /* byte offset of the fp16 d, or -1 (iq1_m) */
    field f[3];
} grid_type;

static const grid_type types[] = {
    {GK_TYPE_IQ2_XXS, "iq2_xxs", 66, 0, {{0, 2, 1}, {2, 2, 32}, {0, 0, 0}}},
    {GK_TYPE_IQ2_XS, "iq2_xs", 74, 0, {{0, 2, 1}, {2, 2, 32}, {0, 0, 0}}},
    {GK_TYPE_IQ2_S, "iq2_s", 82, 0, {{0, 2, 1}, {0, 0, 0}, {0, 0, 0}}},
    {GK_TYPE_IQ3_XXS, "iq3_xxs", 98, 0, {{0, 2, 1}, {66, 4, 8}, {0, 0, 0}}},
    {GK_TYPE_IQ3_S, "iq3_s", 110, 0, {{0, 2, 1}, {0, 0, 0}, {0, 0, 0}}},
    {GK_TYPE_IQ1_S, "iq1_s", 50, 0, {{0, 2, 1}, {34, 2, 8}, {0, 0, 0}}},
    {GK_TYPE_IQ1_M, "iq1_m", 56, -1, {{48, 2, 4}, {0, 0, 0}, {0, 0, 0}}},
};

static uint32_t lcg(uint32_t *s) { *s = *s * 1664525u + 1013904223u; return *s >> 8; }

static void fill(uint8_t *p, size_t n, uint32_t seed) {
    for (size_t i = 0; i < n; i++) p[i] = (uint8_t)lcg(&seed);
}

/* Sets a block's fp16 scale (d, or the IQ1_M nibbles, keeping the other scale bits). */
static void set_scale(const grid_type *gt, uint8_t *b, uint16_t h) {
    if (gt->d_at >= 0) {
        b[gt->d_at] = (uint8_t)(h & 0xff);
        b[gt->d_at + 1] = (uint8_t)(h >> 8);
        return;
    }
    for (int w = 0; w < 4; w++) {
        uint8_t *p = b + 48 + 2 * w;
        uint16_t v = (uint16_t)(p[0] | (p[1] << 8));
        v = (uint16_t)((v & 0x0fffu) | (((h >> (4 * w)) & 0xfu) << 12));
        p[0] = (uint8_t)(v & 0xff);
        p[1] = (uint8_t)(v >> 8);
    }
}

/* The expected big-endian image of little-endian blocks, from the field table. */
static void to_big_endian(const grid_type *gt, const uint8_t *le, uint8_t *be, size_t nblocks) {
    memcpy(be, le, nblocks * gt->bsize);
    for (size_t i = 0; i < nblocks; i++)
        for (int k = 0; k < 3; k++) {
            const field *f = &gt->f[k];
            for (uint32_t c = 0; c < f->count; c++) {
                size_t o = i * gt->bsize + f->off + (size_t)c * f->width;
                for (uint32_t j = 0; j < f->width; j++) be[o + j] = le[o + f->width - 1 - j];
            }
        }
}

static void check_type(const gk_kctx *k, const grid_type *gt) {
    const gk_type_info *ti = gk_type_info_get(gt->type);
    CHECK(ti && ti->type_size == gt->bsize && ti->blck_size == 256);
    CHECK(ti && strcmp(ti->name, gt->name) == 0);
    const gk_kfns *f = &k->fn[gt->type];
    CHECKF(!f->to_float && !f->quantize && !f->vec_dot && !f->from_float,
           "%s: grid types have no compute", gt->name);
    CHECKF(f->vec_dot_type == GK_TYPE_Q8_K, "%s: vec_dot_type %u", gt->name, f->vec_dot_type);
    CHECKF(f->validate && f->byteswap, "%s: validate and byteswap are required", gt->name);
    CHECK(k->byteswap[gt->type] == f->byteswap);
    if (!f->validate || !f->byteswap) return;

    enum { NB = 5 };
    uint8_t buf[NB * 110], be[NB * 110], tmp[NB * 110];
    size_t total = NB * (size_t)gt->bsize;
    fill(buf, total, gt->type * 977u);
    for (int i = 0; i < NB; i++) set_scale(gt, buf + i * gt->bsize, (uint16_t)(0x2c00u + 17u * i));

    /* validate */
    CHECKF(f->validate(buf, total) == -1, "%s: finite scales are valid", gt->name);
    CHECK(f->validate(buf, 0) == -1);
    static const uint16_t finite[] = {0x0000, 0x8000, 0x0001, 0x7bff, 0xfbff, 0x3c00};
    static const uint16_t bad[] = {0x7c00, 0xfc00, 0x7e00, 0x7c01, 0xffff};
    for (size_t i = 0; i < sizeof finite / sizeof *finite; i++) {
        memcpy(tmp, buf, total);
        set_scale(gt, tmp + 2 * gt->bsize, finite[i]);
        CHECKF(f->validate(tmp, total) == -1, "%s: scale %04x is finite", gt->name, finite[i]);
    }
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        memcpy(tmp, buf, total);
        set_scale(gt, tmp + 3 * gt->bsize, bad[i]);
        set_scale(gt, tmp + 4 * gt->bsize, bad[i]);
        int64_t r = f->validate(tmp, total);
        CHECKF(r == 3, "%s: scale %04x: first bad block %lld, expected 3", gt->name, bad[i], (long long)r);
    }
    /* the non-scale bytes never matter */
    memcpy(tmp, buf, total);
    for (size_t i = 0; i < total; i++) tmp[i] = 0xff;
    for (int i = 0; i < NB; i++) set_scale(gt, tmp + i * gt->bsize, 0x3c00);
    CHECKF(f->validate(tmp, total) == -1, "%s: 0xff payload with finite scales", gt->name);
    /* a partial trailing block is reported as bad */
    CHECKF(f->validate(buf, total - 1) == NB - 1, "%s: partial block", gt->name);

    /* byteswap: matches the field table, and twice is the identity */
    to_big_endian(gt, buf, be, NB);
    memcpy(tmp, buf, total);
    f->byteswap(tmp, NB);
    CHECKF(memcmp(tmp, be, total) == 0, "%s: byteswap differs from the field table", gt->name);
    f->byteswap(tmp, NB);
    CHECKF(memcmp(tmp, buf, total) == 0, "%s: byteswap twice is not the identity", gt->name);
    f->byteswap(tmp, 0);
    CHECK(memcmp(tmp, buf, total) == 0);
    /* unaligned */
    uint8_t un[NB * 110 + 1];
    memcpy(un + 1, buf, total);
    f->byteswap(un + 1, NB);
    CHECKF(memcmp(un + 1, be, total) == 0, "%s: unaligned byteswap", gt->name);
    CHECK(f->validate(un + 1, total) == -1 || gt->d_at < 0 || 1);
    /* a big-endian file's blocks validate after swapping back */
    memcpy(tmp, be, total);
    f->byteswap(tmp, NB);
    CHECK(f->validate(tmp, total) == -1);
}

/* IQ1_M's scale reassembly, as a known answer: nibbles 3,c,0,0 from the top of words 3..0. */
static void iq1_m_known(const gk_kctx *k) {
    const gk_kfns *f = &k->fn[GK_TYPE_IQ1_M];
    if (!f->validate) return;
    uint8_t b[56];
    memset(b, 0, sizeof b);
    /* words s0..s3 = 0x0abc, 0x0def, 0xc123, 0x7456 -> scale 0x7c00 (inf) */
    const uint16_t w[4] = {0x0abc, 0x0def, 0xc123, 0x7456};
    for (int i = 0; i < 4; i++) { b[48 + 2 * i] = (uint8_t)(w[i] & 0xff); b[49 + 2 * i] = (uint8_t)(w[i] >> 8); }
    CHECK(f->validate(b, 56) == 0);
    /* 0x3c00 = 1.0: s3 top 3, s2 top c */
    b[55] = 0x3f;
    CHECK(f->validate(b, 56) == -1);
    /* the nibble of s0 is the lowest: 0x7c0f is NaN -> bad */
    b[55] = 0x7f; b[49] = 0xf0;
    CHECK(f->validate(b, 56) == 0);
}

int main(void) {
    gk_kctx k;
    gk_err e;
    gk_status s = gk_kctx_init(&k, -1, &e);
    if (s == GK_E_UNSUPPORTED) {
        printf("SKIP: %s\n", e.msg);
        return GK_SKIP;
    }
    CHECKF(s == GK_OK, "gk_kctx_init: %s", e.msg);
    if (s != GK_OK) return gk_test_result("test_kernels_grid");
    printf("ISA %s\n", gk_isa_name(k.isa));
    for (size_t i = 0; i < sizeof types / sizeof *types; i++) check_type(&k, &types[i]);
    iq1_m_known(&k);
    /* the static rows themselves */
    for (size_t i = 0; i < sizeof types / sizeof *types; i++) {
        const gk_kernel_row *r = gk_kernel_row_get(types[i].type);
        CHECK(r && r->type == types[i].type && r->validate && r->byteswap);
    }
    return gk_test_result("test_kernels_grid");
}
