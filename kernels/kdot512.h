/* AVX-512 dot products over 32-value blocks, sixteen blocks at a time (the "tile").
 *
 * A dot product of 32-blocks is Σ_b scale_b · isum_b: an integer inner sum per block times a
 * float scale per block (the weight's and the activation's fp16 d, sometimes a min term too).
 * Doing the float part block by block costs as much as the integer part: two fp16 loads, a
 * conversion, a multiply and a broadcast for every 32 values. The tile instead
 *   1. computes the integer sums of two blocks per 512-bit vector with vpdpbusd (lanes 0-7 one
 *      block, lanes 8-15 the other): eight such vectors for sixteen blocks;
 *   2. reduces the eight vectors to one vector of sixteen per-block sums (gk_t16_reduce: three
 *      levels of unpack + add, no horizontal reduction per block);
 *   3. gathers the sixteen fp16 scales of the weights and of the activations with two-source
 *      word permutes of 128-byte windows (GK_T16_F16: no vpgatherdd, which is slow here), and
 *      applies them with one conversion and one FMA per sixteen blocks.
 * Pair k of a tile holds blocks (k, k+4) for k < 4 and (k+4, k+8) for k >= 4, so that the
 * reduction yields the sixteen sums in block order.
 *
 * Dot products are tolerance paths (format-facts §4): the summation order differs from the scalar
 * reference only in the float accumulation, as every SIMD dot here does. */
#ifndef GK_KDOT512_H
#define GK_KDOT512_H

#include "kq_search.h"

#if GK_X86
#include <immintrin.h>

/* The blocks of pair k (0..7) of a tile: first and second block index within the tile. */
#define GK_T16_FIRST(k) ((k) < 4 ? (k) : (k) + 4)
#define GK_T16_SECOND(k) ((k) < 4 ? (k) + 4 : (k) + 8)

/* Eight vectors [block A: 8 lanes | block B: 8 lanes] -> the sixteen per-block sums in block
 * order (with the pair assignment above). */
GK_TARGET_AVX512 static inline __m512i gk_t16_reduce(const __m512i s[8]) {
    /* level 1: within 128-bit lanes, [a0+a2, b0+b2, a1+a3, b1+b3] */
    const __m512i t0 = _mm512_add_epi32(_mm512_unpacklo_epi32(s[0], s[1]), _mm512_unpackhi_epi32(s[0], s[1]));
    const __m512i t1 = _mm512_add_epi32(_mm512_unpacklo_epi32(s[2], s[3]), _mm512_unpackhi_epi32(s[2], s[3]));
    const __m512i t2 = _mm512_add_epi32(_mm512_unpacklo_epi32(s[4], s[5]), _mm512_unpackhi_epi32(s[4], s[5]));
    const __m512i t3 = _mm512_add_epi32(_mm512_unpacklo_epi32(s[6], s[7]), _mm512_unpackhi_epi32(s[6], s[7]));
    /* level 2: lane L of u holds the 128-bit-lane-L partial sums of s0..s3 (u0), s4..s7 (u1) */
    const __m512i u0 = _mm512_add_epi32(_mm512_unpacklo_epi64(t0, t1), _mm512_unpackhi_epi64(t0, t1));
    const __m512i u1 = _mm512_add_epi32(_mm512_unpacklo_epi64(t2, t3), _mm512_unpackhi_epi64(t2, t3));
    /* level 3: 128-bit lanes 0+1 are the A blocks, 2+3 the B blocks */
    const __m512i x = _mm512_shuffle_i32x4(u0, u1, _MM_SHUFFLE(2, 0, 2, 0));
    const __m512i y = _mm512_shuffle_i32x4(u0, u1, _MM_SHUFFLE(3, 1, 3, 1));
    return _mm512_add_epi32(x, y);
}

/* Word indices o, o+st, o+2st, o+3st in words 0-3 (the rest 0). */
GK_TARGET_AVX512 static inline __m512i gk_t16_idx4(int o, int st) {
    return _mm512_setr_epi32(o | ((o + st) << 16), (o + 2 * st) | ((o + 3 * st) << 16), 0, 0, 0, 0, 0, 0,
                             0, 0, 0, 0, 0, 0, 0, 0);
}
/* Four consecutive 16-bit fields at byte offset OFF of blocks of SB bytes (SB even, 8 <= SB <= 40),
 * starting at block j of p, into words 0-3. The 128-byte window never reaches past the field of
 * the tile's last block (start clamped to 16*SB - 128), so nothing beyond the tile is read. */
#define GK_T16_WIN4(p, j, SB, OFF)                                                               \
    ((j) * (SB) <= 16 * (SB) - 128                                                               \
         ? _mm512_permutex2var_epi16(_mm512_loadu_si512((p) + (j) * (SB)),                       \
                                     gk_t16_idx4((OFF) / 2, (SB) / 2),                           \
                                     _mm512_loadu_si512((p) + (j) * (SB) + 64))                  \
         : _mm512_permutex2var_epi16(_mm512_loadu_si512((p) + 16 * (SB) - 128),                  \
                                     gk_t16_idx4(((j) * (SB) - (16 * (SB) - 128) + (OFF)) / 2, (SB) / 2), \
                                     _mm512_loadu_si512((p) + 16 * (SB) - 64)))
/* The sixteen fp16 fields at byte offset OFF of 16 blocks of SB bytes at p, as floats. */
#define GK_T16_F16(p, SB, OFF) gk_t16_f16_join(GK_T16_WIN4(p, 0, SB, OFF), GK_T16_WIN4(p, 4, SB, OFF), \
                                               GK_T16_WIN4(p, 8, SB, OFF), GK_T16_WIN4(p, 12, SB, OFF))
/* Words 0-3 of four vectors -> sixteen words. */
GK_TARGET_AVX512 static inline __m256i gk_t16_join(__m512i g0, __m512i g1, __m512i g2, __m512i g3) {
    const __m128i lo = _mm_unpacklo_epi64(_mm512_castsi512_si128(g0), _mm512_castsi512_si128(g1));
    const __m128i hi = _mm_unpacklo_epi64(_mm512_castsi512_si128(g2), _mm512_castsi512_si128(g3));
    return _mm256_inserti128_si256(_mm256_castsi128_si256(lo), hi, 1);
}
GK_TARGET_AVX512 static inline __m512 gk_t16_f16_join(__m512i g0, __m512i g1, __m512i g2, __m512i g3) {
    return _mm512_cvtph_ps(gk_t16_join(g0, g1, g2, g3));
}

/* Two adjacent fp16 fields (byte offsets OFF and OFF+2, e.g. d and m) of 16 blocks at once:
 * each window permute fetches both fields of four blocks (words 0-3 the first field, 4-7 the
 * second), so the pair costs what one field costs with GK_T16_F16. Needs OFF + 4 <= SB. */
GK_TARGET_AVX512 static inline __m512i gk_t16_idx4x2(int o, int st) {
    return _mm512_setr_epi32(o | ((o + st) << 16), (o + 2 * st) | ((o + 3 * st) << 16),
                             (o + 1) | ((o + 1 + st) << 16), (o + 1 + 2 * st) | ((o + 1 + 3 * st) << 16),
                             0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
}
#define GK_T16_WIN4X2(p, j, SB, OFF)                                                             \
    ((j) * (SB) <= 16 * (SB) - 128                                                               \
         ? _mm512_permutex2var_epi16(_mm512_loadu_si512((p) + (j) * (SB)),                       \
                                     gk_t16_idx4x2((OFF) / 2, (SB) / 2),                         \
                                     _mm512_loadu_si512((p) + (j) * (SB) + 64))                  \
         : _mm512_permutex2var_epi16(_mm512_loadu_si512((p) + 16 * (SB) - 128),                  \
                                     gk_t16_idx4x2(((j) * (SB) - (16 * (SB) - 128) + (OFF)) / 2, (SB) / 2), \
                                     _mm512_loadu_si512((p) + 16 * (SB) - 64)))
/* *f0 = the sixteen fields at OFF, *f1 = the sixteen at OFF+2, as floats. */
#define GK_T16_F16X2(p, SB, OFF, f0, f1)                                                         \
    gk_t16_f16x2_join(GK_T16_WIN4X2(p, 0, SB, OFF), GK_T16_WIN4X2(p, 4, SB, OFF),                 \
                      GK_T16_WIN4X2(p, 8, SB, OFF), GK_T16_WIN4X2(p, 12, SB, OFF), f0, f1)
GK_TARGET_AVX512 static inline void gk_t16_f16x2_join(__m512i g0, __m512i g1, __m512i g2, __m512i g3,
                                                      __m512 *f0, __m512 *f1) {
    const __m128i a0 = _mm512_castsi512_si128(g0), a1 = _mm512_castsi512_si128(g1);
    const __m128i a2 = _mm512_castsi512_si128(g2), a3 = _mm512_castsi512_si128(g3);
    *f0 = _mm512_cvtph_ps(_mm256_inserti128_si256(_mm256_castsi128_si256(_mm_unpacklo_epi64(a0, a1)),
                                                  _mm_unpacklo_epi64(a2, a3), 1));
    *f1 = _mm512_cvtph_ps(_mm256_inserti128_si256(_mm256_castsi128_si256(_mm_unpackhi_epi64(a0, a1)),
                                                  _mm_unpackhi_epi64(a2, a3), 1));
}

/* Two 16-byte groups (p0, p1) -> 64 nibbles: 128-bit lanes [lo(p0), hi(p0), lo(p1), hi(p1)],
 * i.e. the 32 values of each block in the Q4_0 order (low nibbles first); the groups are placed
 * by 128-bit broadcast loads (no lane-crossing shuffle). */
GK_TARGET_AVX512 static inline __m512i gk_t16_nibbles_bc(const uint8_t *p0, const uint8_t *p1) {
    __m512i z = _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)p0));
    z = _mm512_mask_broadcast_i32x4(z, (__mmask16)0xFF00, _mm_loadu_si128((const __m128i *)p1));
    z = _mm512_mask_srli_epi16(z, (__mmask32)0xFF00FF00u, z, 4);
    return _mm512_and_si512(z, _mm512_set1_epi8(0x0F));
}
/* The 32 int8 of two Q8_0/Q8_1 blocks (quants at p0, p1). */
GK_TARGET_AVX512 static inline __m512i gk_t16_q8(const uint8_t *p0, const uint8_t *p1) {
    return _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)p0)),
                              _mm256_loadu_si256((const __m256i *)p1), 1);
}

/* Unsigned codes xu times the Q8 values y, minus off*Σy per group of four: the dot product of
 * codes that the format offsets by -off (Q4_0 -8, Q5_0 -16, IQ4_NL's table shifted by +128,
 * MXFP4's by +12). */
GK_TARGET_AVX512 static inline __m512i gk_t16_dot_off(__m512i xu, __m512i y, char off) {
    const __m512i p = _mm512_dpbusd_epi32(_mm512_setzero_si512(), xu, y);
    return _mm512_sub_epi32(p, _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_set1_epi8(off), y));
}
/* Two blocks of sixteen code bytes (q0, q1) looked up in a 16-entry table of unsigned values
 * (the format's values + off), against the Q8 quants at y0, y1. */
GK_TARGET_AVX512 static inline __m512i gk_t16_lut_pair(const uint8_t *tbl, char off, const uint8_t *q0,
                                                       const uint8_t *q1, const uint8_t *y0, const uint8_t *y1) {
    const __m512i xu = _mm512_shuffle_epi8(_mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)tbl)),
                                           gk_t16_nibbles_bc(q0, q1));
    return gk_t16_dot_off(xu, gk_t16_q8(y0, y1), off);
}
/* FINISH functions for GK_T16_DOT: NAME(bw, ba, sums, acc). _D: weight d (fp16 at 0 of SBW-byte
 * blocks) times activation d (fp16 at 0 of SBA-byte blocks); _DM: plus the min term m_w*s_a
 * (fp16 at 2 of both). */
#define GK_T16_FINISH_D(name, SBW, SBA)                                                          \
    GK_TARGET_AVX512 static inline __m512 name(const uint8_t *bw, const uint8_t *ba, __m512i s, __m512 acc) { \
        const __m512 d = _mm512_mul_ps(GK_T16_F16(bw, SBW, 0), GK_T16_F16(ba, SBA, 0));         \
        return _mm512_fmadd_ps(d, _mm512_cvtepi32_ps(s), acc);                                  \
    }
#define GK_T16_FINISH_DM(name, SBW, SBA)                                                         \
    GK_TARGET_AVX512 static inline __m512 name(const uint8_t *bw, const uint8_t *ba, __m512i s, __m512 acc) { \
        __m512 dw, mw, da, sa;                                                                  \
        GK_T16_F16X2(bw, SBW, 0, &dw, &mw);                                                     \
        GK_T16_F16X2(ba, SBA, 0, &da, &sa);                                                     \
        acc = _mm512_fmadd_ps(mw, sa, acc);                                                     \
        return _mm512_fmadd_ps(_mm512_mul_ps(dw, da), _mm512_cvtepi32_ps(s), acc);              \
    }

/* Software prefetch of the SIZE bytes DIST bytes ahead of p, one hint per 64 bytes (with tiles
 * laid end to end, steps of at most 64 bytes reach every cache line). A prefetch never faults
 * and loads nothing into registers, so it may point past the row (the address is formed as an
 * integer). Weight rows stream from memory: on the Zen 5 machine, DIST = 8 KiB (GK_T16_PF_DIST)
 * gave 7-17% more bandwidth than the hardware prefetchers alone (q4_1, q5_1, nvfp4 matvec of
 * 16384 x 4096; 2 KiB ~2%, 16-32 KiB about the same as 8). */
#define GK_T16_PF_DIST 8192
#define GK_T16_PREFETCH(p, SIZE, DIST)                                                           \
    do {                                                                                         \
        for (int l_ = 0; l_ < (SIZE); l_ += 64)                                                  \
            _mm_prefetch((const char *)((uintptr_t)(p) + (DIST) + (uintptr_t)l_), _MM_HINT_T0);  \
    } while (0)

/* The tile loop. PAIR(bw0, ba0, bw1, ba1) -> __m512i integer sums of two blocks; FINISH(bw, ba,
 * sums, acc) -> acc plus the tile's float contribution; TAIL(n, w, a) the remaining blocks
 * (fewer than sixteen) as a float. The weights are prefetched GK_T16_PF_DIST ahead. */
#define GK_T16_DOT(fname, QBW, QBA, PAIR, FINISH, TAIL)                                          \
    GK_TARGET_AVX512 static float fname(int64_t n, const void *vw, const void *va) {             \
        const uint8_t *w = (const uint8_t *)vw, *a = (const uint8_t *)va;                       \
        const int64_t nb = n / 32;                                                              \
        __m512 acc = _mm512_setzero_ps();                                                       \
        int64_t ib = 0;                                                                         \
        for (; ib + 15 < nb; ib += 16) {                                                        \
            const uint8_t *bw = w + ib * (QBW), *ba = a + ib * (QBA);                           \
            GK_T16_PREFETCH(bw, 16 * (QBW), GK_T16_PF_DIST);                                    \
            __m512i s[8];                                                                       \
            _Pragma("GCC unroll 8") for (int k = 0; k < 8; k++)                                 \
                s[k] = PAIR(bw + GK_T16_FIRST(k) * (QBW), ba + GK_T16_FIRST(k) * (QBA),         \
                            bw + GK_T16_SECOND(k) * (QBW), ba + GK_T16_SECOND(k) * (QBA));      \
            acc = FINISH(bw, ba, gk_t16_reduce(s), acc);                                        \
        }                                                                                       \
        const float tail = ib < nb ? TAIL((nb - ib) * 32, w + ib * (QBW), a + ib * (QBA)) : 0.0f; \
        return _mm512_reduce_add_ps(acc) + tail;                                                \
    }

#endif /* GK_X86 */
#endif
