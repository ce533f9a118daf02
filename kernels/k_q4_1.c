/* Q4_1 (format-facts §3.2): 32 values, d:f16, m:f16, qs[16]; y = q*d + m.
 * Reference: d = (max-min)/15, q = min(15, (int8)((x-min)*id + 0.5)). Imatrix path:
 * make_qkx3_quants(32, 15, ..., -0.9, 0.05, 36) with w = qw*sqrt(σ²+x²), σ² over the row.
 * vec_dot pairs with Q8_1. */
#include "kdot512.h"
#include "kq_legacy.h"

#define QB 20

GK_LEGACY_QUANT(q4_1_quant, 4, 1)

GK_INLINE void q4_1_tof_impl(const void *vx, float *y, int64_t k) {
    const uint8_t *x = (const uint8_t *)vx;
    for (int64_t ib = 0; ib < k / 32; ib++) {
        const uint8_t *b = x + ib * QB;
        const float d = gk_h2f(gk_ld16(b)), m = gk_h2f(gk_ld16(b + 2));
        float *yb = y + ib * 32;
        for (int j = 0; j < 16; ++j) {
            yb[j] = (float)(b[4 + j] & 0x0F) * d + m;
            yb[j + 16] = (float)(b[4 + j] >> 4) * d + m;
        }
    }
}
static void q4_1_tof_scalar GK_P_TOF { q4_1_tof_impl GK_A_TOF; }
#if GK_X86
GK_TARGET_AVX2 static void q4_1_tof_avx2 GK_P_TOF {
    const uint8_t *x = (const uint8_t *)vx;
    for (int64_t ib = 0; ib < k / 32; ib++) {
        const uint8_t *b = x + ib * QB;
        const __m256 d = _mm256_set1_ps(gk_h2f_f16c(b)), m = _mm256_set1_ps(gk_h2f_f16c(b + 2));
        const __m256i q = gk_nibbles32(b + 4);
        const __m128i lo = _mm256_castsi256_si128(q), hi = _mm256_extracti128_si256(q, 1);
        const __m128i parts[4] = {lo, _mm_srli_si128(lo, 8), hi, _mm_srli_si128(hi, 8)};
        for (int k8 = 0; k8 < 4; k8++) {
            const __m256 v = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(parts[k8]));
            _mm256_storeu_ps(y + ib * 32 + 8 * k8, _mm256_add_ps(_mm256_mul_ps(v, d), m));
        }
    }
}
#endif

GK_INLINE float q4_1_dot_impl(int64_t n, const void *vw, const void *va) {
    const uint8_t *w = (const uint8_t *)vw, *a = (const uint8_t *)va;
    float sumf = 0;
    for (int64_t ib = 0; ib < n / 32; ib++) {
        const uint8_t *bw = w + ib * QB, *ba = a + ib * 36;
        const int8_t *qa = (const int8_t *)(ba + 4);
        int sumi0 = 0, sumi1 = 0;
        for (int j = 0; j < 16; ++j) {
            sumi0 += (bw[4 + j] & 0x0F) * qa[j];
            sumi1 += (bw[4 + j] >> 4) * qa[j + 16];
        }
        const int sumi = sumi0 + sumi1;
        sumf += (gk_h2f(gk_ld16(bw)) * gk_h2f(gk_ld16(ba))) * (float)sumi +
                gk_h2f(gk_ld16(bw + 2)) * gk_h2f(gk_ld16(ba + 2));
    }
    return sumf;
}
static float q4_1_dot_scalar GK_P_DOT { return q4_1_dot_impl GK_A_DOT; }
#if GK_X86
/* AVX2 (also the AVX-512 tail of rows not a multiple of 16 blocks): integer inner sums per
 * block, float scales, FMA. */
GK_TARGET_AVX2 static inline __m256 q4_1_dot_blk(const uint8_t *bw, const uint8_t *ba, __m256 acc,
                                              __m128 *ms) {
    return gk_dot_dm_blk(bw, ba, gk_nibbles32(bw + 4), acc, ms);
}
#define q4_1_dotm_blk q4_1_dot_blk
GK_DOT_BLOCKS_MS(q4_1_dotm, 20, 36)
#define q4_1_dot_avx2 q4_1_dotm_avx2
/* AVX-512 tiles of sixteen blocks (kdot512.h): codes unsigned (VNNI), d_w*d_a and m_w*s_a
 * fetched by window permutes, two FMAs per tile; rows shorter than a tile use the AVX2 step. */
GK_TARGET_AVX512 static inline __m512i q4_1_t16_pair(const uint8_t *w0, const uint8_t *a0, const uint8_t *w1,
                                                     const uint8_t *a1) {
    return _mm512_dpbusd_epi32(_mm512_setzero_si512(), gk_t16_nibbles_bc(w0 + 4, w1 + 4), gk_t16_q8(a0 + 4, a1 + 4));
}
GK_T16_FINISH_DM(q4_1_t16_finish, 20, 36)
GK_T16_DOT(q4_1_dot_avx512, 20, 36, q4_1_t16_pair, q4_1_t16_finish, q4_1_dotm_avx512)
#endif

static int64_t q4_1_validate(const void *data, size_t nbytes) {
    return gk_validate_f16_fields(data, nbytes, QB, 0, 2);
}
static void q4_1_byteswap(void *blocks, size_t n) {
    for (size_t i = 0; i < n; i++) {
        gk_swap16_at((uint8_t *)blocks + i * QB);
        gk_swap16_at((uint8_t *)blocks + i * QB + 2);
    }
}

const gk_kernel_row gk_krow_q4_1 = {
    .type = GK_TYPE_Q4_1,
    .vec_dot_type = GK_TYPE_Q8_1,
    .to_float = GK_DOT2(q4_1_tof),
    .quantize = GK_ISA3(q4_1_quant),
    .vec_dot = GK_DOT3(q4_1_dot),
    .validate = q4_1_validate,
    .byteswap = q4_1_byteswap,
    .uses_imatrix = 1,
    .dot_tol = 1e-3,
};
