/* Kernel rows of the grid types: iq2_xxs, iq2_xs, iq2_s, iq3_xxs, iq3_s, iq1_s, iq1_m (vec_dot
 * type Q8_K in ggml). Decoding them needs the lattice grids (format-facts §2.1), which ggufkit
 * does not carry: no to_float, quantize or vec_dot here (NULL). What a reader needs is present:
 *   validate  (§3.10) the fp16 super-scale of every block is finite; IQ1_M has no d field and
 *             its scale is reassembled from the top nibbles of its four u16 scale words;
 *   byteswap  every multi-byte field of a block, for big-endian files: the fp16 d, the u16
 *             arrays (iq2_xxs/iq2_xs qs, iq1_s qh, iq1_m scales) and iq3_xxs's eight u32
 *             scale-and-sign words (read as little-endian u32 by ggml). Byte arrays stay.
 * A byteswap applied twice is the identity. Pointers may be unaligned. */
#include "kernels_int.h"

#include <stddef.h>

/* ---- helpers ------------------------------------------------------------------------------- */
static inline int f16_finite(uint16_t h) { return (h & 0x7c00u) != 0x7c00u; }

static inline void swap16_at(uint8_t *p) { uint8_t t = p[0]; p[0] = p[1]; p[1] = t; }

static inline void swap32_at(uint8_t *p) {
    uint8_t t0 = p[0], t1 = p[1];
    p[0] = p[3]; p[1] = p[2]; p[2] = t1; p[3] = t0;
}

static void swap16_run(uint8_t *p, size_t count) {
    for (size_t i = 0; i < count; i++) swap16_at(p + 2 * i);
}

/* Validates blocks whose fp16 d sits at byte 0. A trailing partial block is reported bad. */
static int64_t validate_d_first(const void *data, size_t nbytes, size_t bsize) {
    const uint8_t *p = data;
    size_t nb = nbytes / bsize;
    for (size_t i = 0; i < nb; i++)
        if (!f16_finite(gk_ld16(p + i * bsize))) return (int64_t)i;
    return nbytes % bsize ? (int64_t)nb : -1;
}

/* ---- validate ------------------------------------------------------------------------------ */
static int64_t validate_iq2_xxs(const void *d, size_t n) { return validate_d_first(d, n, sizeof(gk_block_iq2_xxs)); }
static int64_t validate_iq2_xs(const void *d, size_t n) { return validate_d_first(d, n, sizeof(gk_block_iq2_xs)); }
static int64_t validate_iq2_s(const void *d, size_t n) { return validate_d_first(d, n, sizeof(gk_block_iq2_s)); }
static int64_t validate_iq3_xxs(const void *d, size_t n) { return validate_d_first(d, n, sizeof(gk_block_iq3_xxs)); }
static int64_t validate_iq3_s(const void *d, size_t n) { return validate_d_first(d, n, sizeof(gk_block_iq3_s)); }
static int64_t validate_iq1_s(const void *d, size_t n) { return validate_d_first(d, n, sizeof(gk_block_iq1_s)); }

/* IQ1_M: the four u16 scale words carry the fp16 super-scale in their top nibbles. */
static uint16_t iq1_m_scale(const uint8_t *block) {
    const uint8_t *sc = block + offsetof(gk_block_iq1_m, scales);
    uint16_t s0 = gk_ld16(sc), s1 = gk_ld16(sc + 2), s2 = gk_ld16(sc + 4), s3 = gk_ld16(sc + 6);
    return (uint16_t)((s0 >> 12) | ((s1 >> 8) & 0x00f0u) | ((s2 >> 4) & 0x0f00u) | (s3 & 0xf000u));
}

static int64_t validate_iq1_m(const void *data, size_t nbytes) {
    const uint8_t *p = data;
    const size_t bs = sizeof(gk_block_iq1_m);
    size_t nb = nbytes / bs;
    for (size_t i = 0; i < nb; i++)
        if (!f16_finite(iq1_m_scale(p + i * bs))) return (int64_t)i;
    return nbytes % bs ? (int64_t)nb : -1;
}

/* ---- byteswap ------------------------------------------------------------------------------ */
static void byteswap_iq2_xxs(void *blocks, size_t n) {
    uint8_t *b = blocks;
    for (size_t i = 0; i < n; i++, b += sizeof(gk_block_iq2_xxs)) {
        swap16_at(b + offsetof(gk_block_iq2_xxs, d));
        swap16_run(b + offsetof(gk_block_iq2_xxs, qs), 32);
    }
}

static void byteswap_iq2_xs(void *blocks, size_t n) {
    uint8_t *b = blocks;
    for (size_t i = 0; i < n; i++, b += sizeof(gk_block_iq2_xs)) {
        swap16_at(b + offsetof(gk_block_iq2_xs, d));
        swap16_run(b + offsetof(gk_block_iq2_xs, qs), 32);
    }
}

/* d only: the remaining fields are byte arrays */
static void byteswap_d_only(void *blocks, size_t n, size_t bsize) {
    uint8_t *b = blocks;
    for (size_t i = 0; i < n; i++, b += bsize) swap16_at(b);
}
static void byteswap_iq2_s(void *blocks, size_t n) { byteswap_d_only(blocks, n, sizeof(gk_block_iq2_s)); }
static void byteswap_iq3_s(void *blocks, size_t n) { byteswap_d_only(blocks, n, sizeof(gk_block_iq3_s)); }

static void byteswap_iq3_xxs(void *blocks, size_t n) {
    uint8_t *b = blocks;
    for (size_t i = 0; i < n; i++, b += sizeof(gk_block_iq3_xxs)) {
        swap16_at(b + offsetof(gk_block_iq3_xxs, d));
        uint8_t *words = b + offsetof(gk_block_iq3_xxs, qs) + 64;  /* after the 64 index bytes */
        for (int w = 0; w < 8; w++) swap32_at(words + 4 * w);
    }
}

static void byteswap_iq1_s(void *blocks, size_t n) {
    uint8_t *b = blocks;
    for (size_t i = 0; i < n; i++, b += sizeof(gk_block_iq1_s)) {
        swap16_at(b + offsetof(gk_block_iq1_s, d));
        swap16_run(b + offsetof(gk_block_iq1_s, qh), 8);
    }
}

static void byteswap_iq1_m(void *blocks, size_t n) {
    uint8_t *b = blocks;
    for (size_t i = 0; i < n; i++, b += sizeof(gk_block_iq1_m))
        swap16_run(b + offsetof(gk_block_iq1_m, scales), 4);
}

/* ---- rows ---------------------------------------------------------------------------------- */
#define GRID_ROW(name, ID)                                                                 \
    const gk_kernel_row gk_krow_##name = {.type = GK_TYPE_##ID, .vec_dot_type = GK_TYPE_Q8_K, \
                                          .validate = validate_##name,                     \
                                          .byteswap = byteswap_##name}

GRID_ROW(iq2_xxs, IQ2_XXS);
GRID_ROW(iq2_xs, IQ2_XS);
GRID_ROW(iq2_s, IQ2_S);
GRID_ROW(iq3_xxs, IQ3_XXS);
GRID_ROW(iq3_s, IQ3_S);
GRID_ROW(iq1_s, IQ1_S);
GRID_ROW(iq1_m, IQ1_M);
