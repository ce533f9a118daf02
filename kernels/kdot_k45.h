/* Shared by the Q4_K and Q5_K dot products (format-facts §3.4): the two types have the same
 * super-block head (d, dmin: f16; twelve bytes of 6-bit scales and mins) and the same Q8_K
 * activations, and differ only in how a super-block's codes are read. Included by k_q4_K.c and
 * k_q5_K.c after kdot512.h. */
#ifndef GK_KDOT_K45_H
#define GK_KDOT_K45_H

#include "kdot512.h"

#if GK_X86
/* The twelve scale bytes at s (read as 16: the block continues) -> bytes 0-7 the eight 6-bit
 * scales, 8-15 the eight mins (format-facts §3.4 packing), in vector registers: dwords u0, u1, u2
 * give [u0 & 0x3f.., (u2 & 0x0f..) | ((u0 >> 2) & 0x30..), u1 & 0x3f.., ((u2 >> 4) & 0x0f..) |
 * ((u1 >> 2) & 0x30..)]. */
GK_KQ_AVX2 __m128i gk_k45_scales(const uint8_t *s) {
    const __m128i x = _mm_loadu_si128((const __m128i *)s);
    const __m128i lo = _mm_srlv_epi32(_mm_shuffle_epi32(x, 0x98), _mm_setr_epi32(0, 0, 0, 4)); /* u0 u2 u1 u2>>4 */
    const __m128i hi = _mm_srli_epi32(_mm_shuffle_epi32(x, 0x50), 2);                          /* u0 u0 u1 u1, >> 2 */
    return _mm_or_si128(_mm_and_si128(lo, _mm_setr_epi32(0x3f3f3f3f, 0x0f0f0f0f, 0x3f3f3f3f, 0x0f0f0f0f)),
                        _mm_and_si128(hi, _mm_setr_epi32(0, 0x30303030, 0, 0x30303030)));
}
/* AVX2: a super-block's scaled code sums `acc` (8 int32) and its mins against the Q8_K bsums,
 * as [scale sums | min sums] pairwise (vphaddd): one conversion, one FMA per super-block into
 * accf (lanes: d*da terms, dmin*da terms, which gk_k45_result_avx2 subtracts). */
GK_KQ_AVX2 __m256 gk_k45_finish_avx2(const uint8_t *bw, const uint8_t *ba, __m256i sc16, __m256i acc, __m256 accf) {
    const __m256i bs = gk_kq_ld256(ba + 260);
    const __m128i pairs = _mm_hadd_epi16(_mm256_castsi256_si128(bs), _mm256_extracti128_si256(bs, 1));
    const __m128i mm = _mm_madd_epi16(_mm256_extracti128_si256(sc16, 1), pairs);
    const __m128 dd = _mm_permute_ps(_mm_mul_ps(_mm_cvtph_ps(_mm_cvtsi32_si128((int)gk_ld32(bw))), _mm_set1_ps(gk_ldf(ba))), 0x50);
    return _mm256_fmadd_ps(_mm256_set_m128(dd, dd), _mm256_cvtepi32_ps(_mm256_hadd_epi32(acc, _mm256_zextsi128_si256(mm))), accf);
}
GK_KQ_AVX2 float gk_k45_result_avx2(__m256 accf) {
    const __m128 h = _mm_add_ps(_mm256_castps256_ps128(accf), _mm256_extractf128_ps(accf, 1));
    const __m128 r = _mm_sub_ps(h, _mm_movehl_ps(h, h));
    return _mm_cvtss_f32(_mm_add_ss(r, _mm_movehdup_ps(r)));
}
GK_TARGET_AVX512 static inline __attribute__((always_inline)) __m512i gk_k45_red4(__m512i v0, __m512i v1, __m512i v2, __m512i v3) {
    const __m512i t0 = _mm512_add_epi32(_mm512_unpacklo_epi32(v0, v1), _mm512_unpackhi_epi32(v0, v1));
    const __m512i t1 = _mm512_add_epi32(_mm512_unpacklo_epi32(v2, v3), _mm512_unpackhi_epi32(v2, v3));
    return _mm512_add_epi32(_mm512_unpacklo_epi64(t0, t1), _mm512_unpackhi_epi64(t0, t1));
}
/* AVX-512 dot product NAME of a K-quant with the Q4_K/Q5_K head, super-blocks of QB bytes;
 * U512(bw, ba) gives one super-block's chunk sums reduced as gk_k45_red4 leaves them.
 * Two super-blocks A, B per step: [A even | A odd | B even | B odd] sub-block sums (lanes L0+L1,
 * L2+L3), one vpmulld with the scales in that order, min sums [A | B] by one vpmaddwd (each min
 * in both words of a dword against the bsum pairs), one conversion and FMA each. A lone last
 * super-block runs as A with B = A and B's d, dmin zero. */
#define GK_K45_DOT512(name, QB, U512)                                                                                                  \
    GK_TARGET_AVX512 static float name(int64_t n, const void *vw, const void *va) {                                                    \
        const uint8_t *w = (const uint8_t *)vw, *a = (const uint8_t *)va;                                                              \
        const int64_t nb = n / 256;                                                                                                    \
        const __m128i sctl = _mm_setr_epi8(0, 2, 4, 6, 1, 3, 5, 7, 8, 10, 12, 14, 9, 11, 13, 15);                                      \
        const __m512i iD = _mm512_inserti64x4(_mm512_setzero_si512(), _mm256_set1_epi32(2), 1);                                        \
        const __m512i iM = _mm512_add_epi32(iD, _mm512_set1_epi32(1));                                                                 \
        __m512 accf = _mm512_setzero_ps(), accm = _mm512_setzero_ps();                                                                 \
        for (int64_t i = 0; i < nb; i += 2) {                                                                                          \
            const int two = i + 1 < nb;                                                                                                \
            const uint8_t *bwA = w + i * (QB), *baA = a + i * 292;                                                                       \
            const uint8_t *bwB = two ? bwA + (QB) : bwA, *baB = two ? baA + 292 : baA;                                                   \
            GK_T16_PREFETCH(bwA, 2 * (QB), GK_T16_PF_DIST);                                                                          \
            const __m128i smA = gk_k45_scales(bwA + 4), smB = gk_k45_scales(bwB + 4);                                                  \
            const __m512i uA = U512(bwA, baA), uB = U512(bwB, baB);                                                                    \
            const __m512i T = _mm512_add_epi32(_mm512_shuffle_i64x2(uA, uB, 0x88), _mm512_shuffle_i64x2(uA, uB, 0xDD));                \
            const __m512i I = _mm512_mullo_epi32(T, _mm512_cvtepu8_epi32(_mm_shuffle_epi8(_mm_unpacklo_epi64(smA, smB), sctl)));       \
            const __m512i m32 = _mm512_cvtepu8_epi32(_mm_unpackhi_epi64(smA, smB));                                                    \
            const __m512i bs = _mm512_inserti64x4(_mm512_castsi256_si512(gk_kq_ld256(baA + 260)), gk_kq_ld256(baB + 260), 1);          \
            const __m512i M = _mm512_madd_epi16(bs, _mm512_or_si512(m32, _mm512_slli_epi32(m32, 16)));                                 \
            /* [dA, dminA, dB, dminB] * [daA, daA, daB, daB]; B's zero when there is no B */                                           \
            const __m128i h = _mm_insert_epi32(_mm_cvtsi32_si128((int)gk_ld32(bwA)), two ? (int)gk_ld32(bwB) : 0, 1);                  \
            const __m128 dd = _mm_mul_ps(_mm_cvtph_ps(h), _mm_setr_ps(gk_ldf(baA), gk_ldf(baA), gk_ldf(baB), gk_ldf(baB)));            \
            accf = _mm512_fmadd_ps(_mm512_permutexvar_ps(iD, _mm512_castps128_ps512(dd)), _mm512_cvtepi32_ps(I), accf);                \
            accm = _mm512_fmadd_ps(_mm512_permutexvar_ps(iM, _mm512_castps128_ps512(dd)), _mm512_cvtepi32_ps(M), accm);                \
        }                                                                                                                              \
        const __m512 f = _mm512_sub_ps(accf, accm);                                                                                    \
        return gk_kq_hsum_ps(_mm256_add_ps(_mm512_castps512_ps256(f), _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(f), 1))));\
    }

#endif /* GK_X86 */
#endif
