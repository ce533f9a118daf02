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
/* AVX2: each 32-bit group of signs becomes +-1 bytes, integer sums with the Q8_0 block. */
GK_TARGET_AVX2 static float q1_0_dot_avx2 GK_P_DOT {
    const uint8_t *w = (const uint8_t *)vw, *a = (const uint8_t *)va;
    __m256 acc = _mm256_setzero_ps();
    const __m256i two = _mm256_set1_epi8(2), one = _mm256_set1_epi8(1);
    for (int64_t i = 0; i < n / 128; i++) {
        const uint8_t *bw = w + i * QB;
        const float d = gk_h2f_f16c(bw);
        for (int k = 0; k < 4; k++) {
            const uint8_t *ba = a + (4 * i + k) * 34;
            const __m256i x = _mm256_sub_epi8(_mm256_and_si256(gk_bits32(gk_ld32(bw + 2 + 4 * k)), two), one);
            const __m256i y = _mm256_loadu_si256((const __m256i *)(ba + 2));
            acc = _mm256_fmadd_ps(_mm256_set1_ps(d * gk_h2f_f16c(ba)),
                                  _mm256_cvtepi32_ps(gk_dot_i8_i32(x, y)), acc);
        }
    }
    return gk_hsum_ps(acc);
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
    .vec_dot = GK_DOT2(q1_0_dot),
    .validate = q1_0_validate,
    .byteswap = q1_0_byteswap,
    .uses_imatrix = 0,
    .dot_tol = 1e-3,
};
