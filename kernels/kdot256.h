/* AVX2 dot products over 32-value blocks, eight blocks at a time: the AVX2 form of the tiles of
 * kdot512.h. Each block's integer inner sum is left as eight int32 lanes; gk_t8_reduce turns the
 * eight blocks' vectors into one vector of eight sums with three levels of unpack + add, and the
 * eight scale products are formed once per tile (gk_t8_f16: word inserts, no gathers) and applied
 * with one conversion and one FMA, instead of a broadcast, a conversion and an FMA per block.
 * Dot products are tolerance paths (format-facts §4). */
#ifndef GK_KDOT256_H
#define GK_KDOT256_H

#include "kq_search.h"

#if GK_X86
#include <immintrin.h>

/* Eight vectors of eight int32 (one block each) -> the eight per-block sums in block order. */
GK_TARGET_AVX2 static inline __m256i gk_t8_reduce(const __m256i s[8]) {
    const __m256i t0 = _mm256_add_epi32(_mm256_unpacklo_epi32(s[0], s[1]), _mm256_unpackhi_epi32(s[0], s[1]));
    const __m256i t1 = _mm256_add_epi32(_mm256_unpacklo_epi32(s[2], s[3]), _mm256_unpackhi_epi32(s[2], s[3]));
    const __m256i t2 = _mm256_add_epi32(_mm256_unpacklo_epi32(s[4], s[5]), _mm256_unpackhi_epi32(s[4], s[5]));
    const __m256i t3 = _mm256_add_epi32(_mm256_unpacklo_epi32(s[6], s[7]), _mm256_unpackhi_epi32(s[6], s[7]));
    /* per 128-bit lane: [s0 s1 s2 s3] partial sums (u0), [s4 .. s7] (u1) */
    const __m256i u0 = _mm256_add_epi32(_mm256_unpacklo_epi64(t0, t1), _mm256_unpackhi_epi64(t0, t1));
    const __m256i u1 = _mm256_add_epi32(_mm256_unpacklo_epi64(t2, t3), _mm256_unpackhi_epi64(t2, t3));
    return _mm256_add_epi32(_mm256_permute2x128_si256(u0, u1, 0x20), _mm256_permute2x128_si256(u0, u1, 0x31));
}

/* Eight 16-bit fields at p, p+st, ..., p+7st. */
GK_TARGET_AVX2 static inline __m128i gk_t8_ld16x8(const uint8_t *p, int st) {
    __m128i v = _mm_cvtsi32_si128(gk_ld16(p));
    v = _mm_insert_epi16(v, gk_ld16(p + st), 1);
    v = _mm_insert_epi16(v, gk_ld16(p + 2 * st), 2);
    v = _mm_insert_epi16(v, gk_ld16(p + 3 * st), 3);
    v = _mm_insert_epi16(v, gk_ld16(p + 4 * st), 4);
    v = _mm_insert_epi16(v, gk_ld16(p + 5 * st), 5);
    v = _mm_insert_epi16(v, gk_ld16(p + 6 * st), 6);
    return _mm_insert_epi16(v, gk_ld16(p + 7 * st), 7);
}
/* The eight fp16 fields at p + k*st as floats. */
GK_TARGET_AVX2 static inline __m256 gk_t8_f16(const uint8_t *p, int st) {
    return _mm256_cvtph_ps(gk_t8_ld16x8(p, st));
}

/* unsigned codes xu (at most 127 with |y| <= 127, or the int16 pair sums would saturate) times
 * y, minus off*y: int16 pair sums, then int32 groups of four. */
GK_TARGET_AVX2 static inline __m256i gk_t8_dot_u8_off(__m256i xu, __m256i y, __m256i off) {
    const __m256i p = _mm256_sub_epi16(_mm256_maddubs_epi16(xu, y), _mm256_maddubs_epi16(off, y));
    return _mm256_madd_epi16(p, _mm256_set1_epi16(1));
}

/* FINISH for GK_T8_DOT: weight d (fp16 at 0 of SBW-byte blocks) times activation d (fp16 at 0
 * of SBA-byte blocks), one FMA for the eight blocks. */
#define GK_T8_FINISH_D(name, SBW, SBA)                                                           \
    GK_TARGET_AVX2 static inline __m256 name(const uint8_t *bw, const uint8_t *ba, __m256i s, __m256 acc) { \
        return _mm256_fmadd_ps(_mm256_mul_ps(gk_t8_f16(bw, SBW), gk_t8_f16(ba, SBA)), _mm256_cvtepi32_ps(s), acc); \
    }

/* The tile loop. BLK(bw, ba) -> __m256i eight int32 partial sums of one block; FINISH(bw, ba,
 * sums, acc) -> acc plus the tile's float contribution; TAIL(n, w, a) the remaining blocks
 * (fewer than eight). The weights are prefetched GK_T8_PF_DIST ahead (a hint: never faults). */
#define GK_T8_PF_DIST 8192
#define GK_T8_DOT(fname, QBW, QBA, BLK, FINISH, TAIL)                                            \
    GK_TARGET_AVX2 static float fname(int64_t n, const void *vw, const void *va) {               \
        const uint8_t *w = (const uint8_t *)vw, *a = (const uint8_t *)va;                       \
        const int64_t nb = n / 32;                                                              \
        __m256 acc = _mm256_setzero_ps();                                                       \
        int64_t ib = 0;                                                                         \
        for (; ib + 7 < nb; ib += 8) {                                                          \
            const uint8_t *bw = w + ib * (QBW), *ba = a + ib * (QBA);                           \
            for (int l_ = 0; l_ < 8 * (QBW); l_ += 64)                                          \
                _mm_prefetch((const char *)((uintptr_t)bw + GK_T8_PF_DIST + (uintptr_t)l_), _MM_HINT_T0); \
            __m256i s[8];                                                                       \
            _Pragma("GCC unroll 8") for (int k = 0; k < 8; k++) s[k] = BLK(bw + k * (QBW), ba + k * (QBA)); \
            acc = FINISH(bw, ba, gk_t8_reduce(s), acc);                                         \
        }                                                                                       \
        const float tail = ib < nb ? TAIL((nb - ib) * 32, w + ib * (QBW), a + ib * (QBA)) : 0.0f; \
        return gk_hsum_ps(acc) + tail;                                                          \
    }

#endif /* GK_X86 */
#endif
