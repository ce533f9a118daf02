/* Q8_1 (format-facts §3.2, §4): activation type of Q4_1 / Q5_1. 32 values, d:f16,
 * s:f16 (= d*Σq), qs[32] int8. No dequantization in ggml's core traits.
 * quantize: the reference rule (d = amax/127, q = roundf(x*(1/d)), s = fp16(Σq*d));
 * from_float: as ggml's x86 CPU backend (id = 127/amax, round half to even, s = fp16(d*Σq)). */
#include "kq_search.h"

#define QB 36

GK_INLINE size_t q8_1_quant_impl(const float *x, void *vy, int64_t nrows, int64_t n_per_row,
                                 const float *imatrix) {
    (void)imatrix;
    uint8_t *y = (uint8_t *)vy;
    const int64_t nb = nrows * (n_per_row / 32);
    for (int64_t ib = 0; ib < nb; ib++) {
        const float *xb = x + ib * 32;
        uint8_t *o = y + ib * QB;
        float amax = 0.0f;
        for (int j = 0; j < 32; j++) {
            const float v = fabsf(xb[j]);
            amax = amax > v ? amax : v;
        }
        const float d = amax / 127;
        const float id = d ? 1.0f / d : 0.0f;
        gk_st16(o, gk_f32_to_f16(d));
        int sum = 0;
        for (int j = 0; j < 16; ++j) {
            const int q0 = gk_cvtt_i8(roundf(xb[j] * id));
            const int q1 = gk_cvtt_i8(roundf(xb[16 + j] * id));
            o[4 + j] = (uint8_t)q0;
            o[4 + 16 + j] = (uint8_t)q1;
            sum += q0 + q1;
        }
        gk_st16(o + 2, gk_f32_to_f16((float)sum * d));
    }
    return (size_t)(nb * QB);
}
GK_KFN(size_t, q8_1_quant, GK_P_QUANT, GK_A_QUANT)

GK_INLINE void q8_1_fromf_impl(const float *x, void *vy, int64_t k) {
    uint8_t *y = (uint8_t *)vy;
    for (int64_t ib = 0; ib < k / 32; ib++) {
        const float *xb = x + ib * 32;
        uint8_t *o = y + ib * QB;
        float amax = 0.0f;
        for (int j = 0; j < 32; j++) {
            const float v = fabsf(xb[j]);
            amax = v > amax ? v : amax;
        }
        const float d = amax / 127.f;
        gk_st16(o, gk_f32_to_f16(d));
        const float id = amax != 0.0f ? 127.f / amax : 0.0f;
        uint32_t sum = 0; /* Σ of the int32 lanes before the saturating pack, wrapping */
        for (int j = 0; j < 32; ++j) {
            const int32_t q32 = gk_cvtps_i32(xb[j] * id);
            o[4 + j] = (uint8_t)(int8_t)(q32 < -128 ? -128 : q32 > 127 ? 127 : q32);
            sum += (uint32_t)q32;
        }
        gk_st16(o + 2, gk_f32_to_f16(d * (float)(int32_t)sum));
    }
}
#if GK_X86
/* The x86 path itself: max|x| over the lanes (NaN lanes ignored, as the scalar `v > amax`),
 * cvtps (half to even), the saturating packs, the wrapping int32 lane sum; fp16 via F16C, which
 * equals gk_f32_to_f16 on every value reachable here (d is never NaN; s is NaN only as the
 * default NaN of inf*0). */
GK_TARGET_AVX2 static inline void q8_1_fromf_loop(const float *x, void *vy, int64_t k) {
    uint8_t *y = (uint8_t *)vy;
    const __m256i perm = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    for (int64_t ib = 0; ib < k / 32; ib++) {
        const float *xb = x + ib * 32;
        uint8_t *o = y + ib * QB;
        __m256 ax[4];
        const float amax = gk_absmax32(xb, ax);
        const float d = amax / 127.f;
        const float id = amax != 0.0f ? 127.f / amax : 0.0f;
        const __m256 vid = _mm256_set1_ps(id);
        const __m256i i0 = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(xb), vid));
        const __m256i i1 = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(xb + 8), vid));
        const __m256i i2 = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(xb + 16), vid));
        const __m256i i3 = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(xb + 24), vid));
        __m256i s = _mm256_add_epi32(_mm256_add_epi32(i0, i1), _mm256_add_epi32(i2, i3));
        __m128i s4 = _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
        s4 = _mm_add_epi32(s4, _mm_unpackhi_epi64(s4, s4));
        s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 1));
        const int32_t sum = _mm_cvtsi128_si32(s4);
        const __m256i p = _mm256_packs_epi16(_mm256_packs_epi32(i0, i1), _mm256_packs_epi32(i2, i3));
        _mm256_storeu_si256((__m256i *)(o + 4), _mm256_permutevar8x32_epi32(p, perm));
        gk_st16(o, (uint16_t)_cvtss_sh(d, 0));
        gk_st16(o + 2, (uint16_t)_cvtss_sh(d * (float)sum, 0));
    }
}
static void q8_1_fromf_scalar GK_P_FROMF { q8_1_fromf_impl GK_A_FROMF; }
GK_TARGET_AVX2 static void q8_1_fromf_avx2 GK_P_FROMF { q8_1_fromf_loop GK_A_FROMF; }
GK_TARGET_AVX512 static void q8_1_fromf_avx512 GK_P_FROMF { q8_1_fromf_loop GK_A_FROMF; }
#else
GK_KFNV(q8_1_fromf, GK_P_FROMF, GK_A_FROMF)
#endif

/* ggml_validate_row_data has no case for Q8_1 (an activation type, never a storage type): it
 * reports any Q8_1 data as invalid, so the first block is reported bad, whatever it holds. */
static int64_t q8_1_validate(const void *data, size_t nbytes) {
    (void)data;
    return nbytes ? 0 : -1;
}
static void q8_1_byteswap(void *blocks, size_t n) {
    for (size_t i = 0; i < n; i++) {
        gk_swap16_at((uint8_t *)blocks + i * QB);
        gk_swap16_at((uint8_t *)blocks + i * QB + 2);
    }
}

const gk_kernel_row gk_krow_q8_1 = {
    .type = GK_TYPE_Q8_1,
    .vec_dot_type = GK_TYPE_Q8_1,
    .quantize = GK_ISA3(q8_1_quant),
    .from_float = GK_ISA3(q8_1_fromf),
    .validate = q8_1_validate,
    .byteswap = q8_1_byteswap,
    .uses_imatrix = 0,
    .dot_tol = 1e-4,
};
