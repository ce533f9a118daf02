/* NVFP4 (format-facts §3.7): 64 values in four sub-blocks of 16, d[4] (UE4M3, one per
 * sub-block), qs[32]: byte qs[8s+j] holds element 16s+j (low nibble) and 16s+8+j (high).
 * y = Kfp4[nibble]*ue4m3_half(d[s]). Reference: d[s] = encode_ue4m3(amax/6), nearest Kfp4
 * entry. Ignores the imatrix. vec_dot pairs with Q8_0 (two Q8_0 blocks per NVFP4 block).
 * Validation: nothing is checked (every byte pattern decodes to a finite value). */
#include "kq_search.h"

#define QB 36

#if GK_X86
GK_TARGET_AVX2 static inline void nvfp4_sub_avx2(const float *xb, uint8_t *qs, float d) {
    const __m256i lo = gk_fp4_index8(_mm256_loadu_ps(xb), d);
    const __m256i hi = gk_fp4_index8(_mm256_loadu_ps(xb + 8), d);
    int32_t t[8];
    _mm256_storeu_si256((__m256i *)t, _mm256_or_si256(lo, _mm256_slli_epi32(hi, 4)));
    for (int j = 0; j < 8; ++j) qs[j] = (uint8_t)t[j];
}
#define NVFP4_SIMD_SUB(xb, qs, d) nvfp4_sub_avx2(xb, qs, d)
#else
#define NVFP4_SIMD_SUB(xb, qs, d) ((void)0)
#endif

GK_INLINE size_t nvfp4_quant_impl(const float *x, void *vy, int64_t nrows, int64_t n_per_row,
                                  const float *imatrix, int simd) {
    (void)imatrix;
    uint8_t *y = (uint8_t *)vy;
    const int64_t nb = nrows * (n_per_row / 64);
    for (int64_t i = 0; i < nb; i++) {
        uint8_t *o = y + i * QB;
        for (int s = 0; s < 4; s++) {
            const float *xb = x + i * 64 + s * 16;
            float amax = 0.0f;
            for (int j = 0; j < 16; j++)
                if (amax < fabsf(xb[j])) amax = fabsf(xb[j]);
            const uint8_t ue = gk_fp32_to_ue4m3(amax / 6.0f);
            o[s] = ue;
            const float d = gk_ue4m3_half(ue);
            if (simd) {
                NVFP4_SIMD_SUB(xb, o + 4 + s * 8, d);
                continue;
            }
            for (int j = 0; j < 8; ++j) {
                const int x0 = gk_best_index_fp4(xb[j], d);
                const int x1 = gk_best_index_fp4(xb[8 + j], d);
                o[4 + s * 8 + j] = (uint8_t)(x0 | (x1 << 4));
            }
        }
    }
    return (size_t)(nb * QB);
}
GK_KFN_QSIMD(nvfp4_quant)

GK_INLINE void nvfp4_tof_impl(const void *vx, float *y, int64_t k) {
    const uint8_t *x = (const uint8_t *)vx;
    for (int64_t i = 0; i < k / 64; i++) {
        const uint8_t *b = x + i * QB;
        for (int s = 0; s < 4; s++) {
            const float d = gk_ue4m3_half(b[s]);
            float *yb = y + i * 64 + s * 16;
            for (int j = 0; j < 8; ++j) {
                yb[j] = (float)gk_kvalues_fp4[b[4 + s * 8 + j] & 0x0F] * d;
                yb[j + 8] = (float)gk_kvalues_fp4[b[4 + s * 8 + j] >> 4] * d;
            }
        }
    }
}
GK_KFNV(nvfp4_tof, GK_P_TOF, GK_A_TOF)

GK_INLINE float nvfp4_dot_impl(int64_t n, const void *vw, const void *va) {
    const uint8_t *w = (const uint8_t *)vw, *a = (const uint8_t *)va;
    float sumf = 0;
    for (int64_t i = 0; i < n / 64; i++) {
        const uint8_t *bw = w + i * QB;
        for (int s = 0; s < 4; s++) {
            /* sub-block s covers activation elements 16s..16s+15: Q8_0 block 2i + s/2 */
            const uint8_t *ba = a + (2 * i + s / 2) * 34;
            const int8_t *qa = (const int8_t *)(ba + 2) + (s % 2) * 16;
            int sumi = 0;
            for (int j = 0; j < 8; ++j) {
                sumi += qa[j] * gk_kvalues_fp4[bw[4 + s * 8 + j] & 0xf];
                sumi += qa[j + 8] * gk_kvalues_fp4[bw[4 + s * 8 + j] >> 4];
            }
            sumf += gk_h2f(gk_ld16(ba)) * gk_ue4m3_half(bw[s]) * (float)sumi;
        }
    }
    return sumf;
}
static float nvfp4_dot_scalar GK_P_DOT { return nvfp4_dot_impl GK_A_DOT; }
#if GK_X86
/* AVX2 (also the AVX-512 path): integer inner sums per block, float scales, FMA. */
GK_TARGET_AVX2 static float nvfp4_dot_avx2 GK_P_DOT {
    const uint8_t *w = (const uint8_t *)vw, *a = (const uint8_t *)va;
    __m256 acc = _mm256_setzero_ps();
    const __m256i tbl = gk_table16(gk_kvalues_fp4);
    const __m128i m4 = _mm_set1_epi8(0x0F);
    for (int64_t i = 0; i < n / 64; i++) {
        const uint8_t *bw = w + i * 36;
        for (int h = 0; h < 2; h++) {
            const uint8_t *ba = a + (2 * i + h) * 34;
            const __m128i t = _mm_loadu_si128((const __m128i *)(bw + 4 + 16 * h));
            const __m128i lo = _mm_and_si128(t, m4), hi = _mm_and_si128(_mm_srli_epi16(t, 4), m4);
            const __m256i idx = _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_unpacklo_epi64(lo, hi)),
                                                        _mm_unpackhi_epi64(lo, hi), 1);
            const __m256i x = _mm256_shuffle_epi8(tbl, idx);
            const __m256i y = _mm256_loadu_si256((const __m256i *)(ba + 2));
            const float da = gk_h2f_f16c(ba);
            const float s0 = da * gk_ue4m3_half(bw[2 * h]), s1 = da * gk_ue4m3_half(bw[2 * h + 1]);
            const __m256 d = _mm256_setr_ps(s0, s0, s0, s0, s1, s1, s1, s1);
            acc = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(gk_dot_i8_i32(x, y)), acc);
        }
    }
    return gk_hsum_ps(acc);
}
#endif

static int64_t nvfp4_validate(const void *data, size_t nbytes) {
    (void)data;
    return nbytes % QB ? (int64_t)(nbytes / QB) : -1;
}
static void nvfp4_byteswap(void *blocks, size_t n) { (void)blocks; (void)n; }

const gk_kernel_row gk_krow_nvfp4 = {
    .type = GK_TYPE_NVFP4,
    .vec_dot_type = GK_TYPE_Q8_0,
    .to_float = GK_ISA3(nvfp4_tof),
    .quantize = GK_ISA3(nvfp4_quant),
    .vec_dot = GK_DOT2(nvfp4_dot),
    .validate = nvfp4_validate,
    .byteswap = nvfp4_byteswap,
    .uses_imatrix = 0,
    .dot_tol = 1e-3,
};
