/* Q1_0 (format-facts §3.7): 128 values, d:f16, qs[16] sign bits (bit j%8 of byte j/8 is 1 when
 * x >= 0); y = bit ? d : -d. Reference: d = fp16(Σ|x| / 128), the imatrix is ignored.
 * vec_dot pairs with Q8_0 (four Q8_0 blocks per Q1_0 block). */
#include "kq_search.h"

#define QB 18

#if GK_X86
/* sign bits of 128 values: movemask of (x >= 0), 8 per vector, bit j%8 of byte j/8 */
GK_TARGET_AVX2 static inline void q1_0_bits_avx2(const float *xb, uint8_t *qs) {
    for (int k = 0; k < 16; k++)
        qs[k] = (uint8_t)_mm256_movemask_ps(
            _mm256_cmp_ps(_mm256_loadu_ps(xb + 8 * k), _mm256_setzero_ps(), _CMP_GE_OQ));
}
#define Q1_0_SIMD_BITS(xb, qs) q1_0_bits_avx2(xb, qs)
#else
#define Q1_0_SIMD_BITS(xb, qs) ((void)0)
#endif

GK_INLINE size_t q1_0_quant_impl(const float *x, void *vy, int64_t nrows, int64_t n_per_row,
                                 const float *imatrix, int simd) {
    (void)imatrix;
    uint8_t *y = (uint8_t *)vy;
    const int64_t nb = nrows * (n_per_row / 128);
    for (int64_t i = 0; i < nb; i++) {
        const float *xb = x + i * 128;
        uint8_t *o = y + i * QB;
        float sum_abs = 0.0f;
        for (int j = 0; j < 128; j++) sum_abs += fabsf(xb[j]);
        gk_st16(o, gk_f32_to_f16(sum_abs / 128));
        if (simd) {
            Q1_0_SIMD_BITS(xb, o + 2);
            continue;
        }
        memset(o + 2, 0, 16);
        for (int j = 0; j < 128; j++)
            if (xb[j] >= 0.0f) o[2 + j / 8] |= (uint8_t)(1u << (j % 8));
    }
    return (size_t)(nb * QB);
}
GK_KFN_QSIMD(q1_0_quant)

GK_INLINE void q1_0_tof_impl(const void *vx, float *y, int64_t k) {
    const uint8_t *x = (const uint8_t *)vx;
    for (int64_t i = 0; i < k / 128; i++) {
        const uint8_t *b = x + i * QB;
        const float d = gk_h2f(gk_ld16(b)), nd = -d;
        for (int by = 0; by < 16; by++)
            for (int t = 0; t < 8; t++) y[i * 128 + 8 * by + t] = (b[2 + by] >> t) & 1 ? d : nd;
    }
}
GK_KFNV(q1_0_tof, GK_P_TOF, GK_A_TOF)

GK_INLINE float q1_0_dot_impl(int64_t n, const void *vw, const void *va) {
    const uint8_t *w = (const uint8_t *)vw, *a = (const uint8_t *)va;
    float sumf = 0;
    for (int64_t i = 0; i < n / 128; i++) {
        const uint8_t *bw = w + i * QB;
        const float d = gk_h2f(gk_ld16(bw));
        for (int k = 0; k < 4; k++) {
            const uint8_t *ba = a + (4 * i + k) * 34;
            const int8_t *qa = (const int8_t *)(ba + 2);
            int sumi = 0;
            for (int j = 0; j < 32; j++) {
                const int e = 32 * k + j;
                sumi += ((bw[2 + e / 8] >> (e % 8)) & 1) ? qa[j] : -qa[j];
            }
            sumf += d * gk_h2f(gk_ld16(ba)) * (float)sumi;
        }
    }
    return sumf;
}
static float q1_0_dot_scalar GK_P_DOT { return q1_0_dot_impl GK_A_DOT; }
#if GK_X86
/* The SIMD kernels below sum -x * y (a set bit negates y: (bit & mask) + 0x7F is negative exactly
 * where the bit is set) and return the negated total. */

/* The four products d * d_a[k] of one Q1_0 block: the four activation fp16 scales gathered in
 * one u64, one vcvtph2ps, times d. */
GK_TARGET_AVX2 static inline __m128 q1_0_scales4(const uint8_t *bw, const uint8_t *ba) {
    const uint64_t h = (uint64_t)gk_ld16(ba) | (uint64_t)gk_ld16(ba + 34) << 16 |
                       (uint64_t)gk_ld16(ba + 68) << 32 | (uint64_t)gk_ld16(ba + 102) << 48;
    const __m128 da = _mm_cvtph_ps(_mm_cvtsi64_si128((long long)h));
    const __m128 dw = _mm_cvtph_ps(_mm_set1_epi16((short)gk_ld16(bw)));
    return _mm_mul_ps(da, dw);
}
/* AVX2, one Q1_0 block: per Q8_0 block the 32 sign bits broadcast and spread one bit per byte,
 * vpsignb, vpmaddubsw with ones (byte pairs), vpmaddwd with ones (4 bytes); then two rounds of
 * vpackssdw + vpmaddwd fold the four blocks into one vector of i16 8-byte sums: per 128-bit
 * half (bytes 0-15 / 16-31 of each block) b0 b0 b1 b1 b2 b2 b3 b3 (|sum| <= 8*127). */
GK_TARGET_AVX2 static inline __m256i q1_0_part_avx2(const uint8_t *bw, const uint8_t *ba) {
    const __m256i shuf = _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202,
                                           0x0101010101010101, 0x0000000000000000);
    const __m256i bit = _mm256_set1_epi64x((long long)0x8040201008040201ull);
    const __m256i c7f = _mm256_set1_epi8(0x7F), one8 = _mm256_set1_epi8(1), one16 = _mm256_set1_epi16(1);
    __m256i d[4];
    for (int k = 0; k < 4; k++) {
        const __m256i m = _mm256_shuffle_epi8(_mm256_set1_epi32((int)gk_ld32(bw + 2 + 4 * k)), shuf);
        const __m256i t = _mm256_add_epi8(_mm256_and_si256(m, bit), c7f);
        const __m256i sy = _mm256_sign_epi8(_mm256_loadu_si256((const __m256i *)(ba + 34 * k + 2)), t);
        d[k] = _mm256_madd_epi16(_mm256_maddubs_epi16(one8, sy), one16);
    }
    const __m256i e01 = _mm256_madd_epi16(_mm256_packs_epi32(d[0], d[1]), one16);
    const __m256i e23 = _mm256_madd_epi16(_mm256_packs_epi32(d[2], d[3]), one16);
    return _mm256_packs_epi32(e01, e23);
}
/* One vpmaddwd adds the two 8-byte sums of each block in each half: [b0 b1 b2 b3 | b0 b1 b2 b3],
 * converted and multiplied by the four scales in both halves; vector arithmetic was measured
 * faster here than folding two Q1_0 blocks into one vector or gathering the scales by unpacks. */
GK_TARGET_AVX2 static inline __m256 q1_0_blk_avx2(const uint8_t *bw, const uint8_t *ba, __m256 acc) {
    const __m256i p = _mm256_madd_epi16(q1_0_part_avx2(bw, ba), _mm256_set1_epi16(1));
    const __m128 s4 = q1_0_scales4(bw, ba);
    const __m256 s = _mm256_insertf128_ps(_mm256_castps128_ps256(s4), s4, 1);
    return _mm256_fmadd_ps(s, _mm256_cvtepi32_ps(p), acc);
}
GK_TARGET_AVX2 static float q1_0_dot_avx2 GK_P_DOT {
    const uint8_t *w = (const uint8_t *)vw, *a = (const uint8_t *)va;
    __m256 acc0 = _mm256_setzero_ps(), acc1 = acc0;
    const int64_t nb = n / 128;
    int64_t i = 0;
    for (; i + 1 < nb; i += 2) {
        acc0 = q1_0_blk_avx2(w + i * QB, a + i * 136, acc0);
        acc1 = q1_0_blk_avx2(w + (i + 1) * QB, a + (i + 1) * 136, acc1);
    }
    if (i < nb) acc0 = q1_0_blk_avx2(w + i * QB, a + i * 136, acc0);
    return -gk_hsum_ps(_mm256_add_ps(acc0, acc1));
}
/* AVX-512: two Q8_0 blocks per vector, the 128 sign bits as two 64-bit masks; a masked
 * vpsubb negates y where the bit is set, vpdpbusd with ones sums groups of four bytes, and
 * one FMA per vector with the scales spread over the two 8-lane halves. */
/* measured slower here: merge-masked loads instead of vinserti64x4, the scales of two Q1_0 blocks
 * in one vcvtph2ps, the scales by vpermt2w from the activation bytes, masked FMAs with broadcast
 * scales: the kernel is bound by vector ops, so the scale gathering stays in scalar code. */
GK_TARGET_AVX512 static inline void q1_0_blk512(const uint8_t *bw, const uint8_t *ba, __m512 *acc0,
                                                __m512 *acc1) {
    const __m512 s = _mm512_castps128_ps512(q1_0_scales4(bw, ba));
    const __m512i one8 = _mm512_set1_epi8(1), zero = _mm512_setzero_si512();
    uint64_t m0, m1;
    memcpy(&m0, bw + 2, 8);
    memcpy(&m1, bw + 10, 8);
    __m512i y0 = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)(ba + 2))),
                                    _mm256_loadu_si256((const __m256i *)(ba + 36)), 1);
    __m512i y1 = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)(ba + 70))),
                                    _mm256_loadu_si256((const __m256i *)(ba + 104)), 1);
    y0 = _mm512_mask_sub_epi8(y0, _cvtu64_mask64(m0), zero, y0);
    y1 = _mm512_mask_sub_epi8(y1, _cvtu64_mask64(m1), zero, y1);
    const __m512i p0 = _mm512_dpbusd_epi32(zero, one8, y0), p1 = _mm512_dpbusd_epi32(zero, one8, y1);
    const __m512 s0 = _mm512_permutexvar_ps(_mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1), s);
    const __m512 s1 = _mm512_permutexvar_ps(_mm512_setr_epi32(2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3), s);
    *acc0 = _mm512_fmadd_ps(s0, _mm512_cvtepi32_ps(p0), *acc0);
    *acc1 = _mm512_fmadd_ps(s1, _mm512_cvtepi32_ps(p1), *acc1);
}
GK_TARGET_AVX512 static float q1_0_dot_avx512 GK_P_DOT {
    const uint8_t *w = (const uint8_t *)vw, *a = (const uint8_t *)va;
    __m512 acc0 = _mm512_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0;
    const int64_t nb = n / 128;
    int64_t i = 0;
    for (; i + 1 < nb; i += 2) {
        q1_0_blk512(w + i * QB, a + i * 136, &acc0, &acc1);
        q1_0_blk512(w + (i + 1) * QB, a + (i + 1) * 136, &acc2, &acc3);
    }
    if (i < nb) q1_0_blk512(w + i * QB, a + i * 136, &acc0, &acc1);
    return -_mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(acc0, acc1), _mm512_add_ps(acc2, acc3)));
}
#endif

static int64_t q1_0_validate(const void *data, size_t nbytes) {
    return gk_validate_f16_fields(data, nbytes, QB, 0, -1);
}
static void q1_0_byteswap(void *blocks, size_t n) {
    for (size_t i = 0; i < n; i++) gk_swap16_at((uint8_t *)blocks + i * QB);
}

const gk_kernel_row gk_krow_q1_0 = {
    .type = GK_TYPE_Q1_0,
    .vec_dot_type = GK_TYPE_Q8_0,
    .to_float = GK_ISA3(q1_0_tof),
    .quantize = GK_ISA3(q1_0_quant),
    .vec_dot = GK_DOT3(q1_0_dot),
    .validate = q1_0_validate,
    .byteswap = q1_0_byteswap,
    .uses_imatrix = 0,
    .dot_tol = 1e-3,
};
