/* Q4_1 (format-facts §3.2): 32 values, d:f16, m:f16, qs[16]; y = q*d + m.
 * Reference: d = (max-min)/15, q = min(15, (int8)((x-min)*id + 0.5)). Imatrix path:
 * make_qkx3_quants(32, 15, ..., -0.9, 0.05, 36) with w = qw*sqrt(σ²+x²), σ² over the row.
 * vec_dot pairs with Q8_1. */
#include "kdot512.h"

#define QB 20

GK_INLINE void q4_1_ref_block(const float *x, uint8_t *out) {
    float min = 3.402823466e+38f, max = -3.402823466e+38f;
    for (int j = 0; j < 32; j++) {
        const float v = x[j];
        if (v < min) min = v;
        if (v > max) max = v;
    }
    const float d = (max - min) / 15;
    const float id = d ? 1.0f / d : 0.0f;
    gk_st16(out, gk_f32_to_f16(d));
    gk_st16(out + 2, gk_f32_to_f16(min));
    for (int j = 0; j < 16; ++j) {
        const float x0 = (x[j] - min) * id;
        const float x1 = (x[16 + j] - min) * id;
        const int a = gk_cvtt_i8(x0 + 0.5f), b = gk_cvtt_i8(x1 + 0.5f);
        const uint8_t xi0 = (uint8_t)(a < 15 ? a : 15);
        const uint8_t xi1 = (uint8_t)(b < 15 ? b : 15);
        out[4 + j] = (uint8_t)(xi0 | (xi1 << 4));
    }
}

#if GK_X86
GK_TARGET_AVX2 static inline void q4_1_ref_block_avx2(const float *x, uint8_t *out) {
    float min, max;
    if (!gk_minmax32(x, &min, &max)) {
        q4_1_ref_block(x, out);
        return;
    }
    const float d = (max - min) / 15;
    const float id = d ? 1.0f / d : 0.0f;
    gk_st16(out, gk_f32_to_f16(d));
    gk_st16(out + 2, gk_f32_to_f16(min));
    const __m256 vid = _mm256_set1_ps(id), vmin = _mm256_set1_ps(min), h = _mm256_set1_ps(0.5f);
    __m256i v[4];
    for (int k = 0; k < 4; k++) {
        const __m256 t = _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(x + 8 * k), vmin), vid);
        v[k] = gk_u8_of_min_i8(_mm256_add_ps(t, h), 15);
    }
    gk_store_nibbles(v, out + 4);
}
#define Q4_1_BLOCK(simd, x, o) ((simd) ? q4_1_ref_block_avx2(x, o) : q4_1_ref_block(x, o))
#else
#define Q4_1_BLOCK(simd, x, o) ((void)(simd), q4_1_ref_block(x, o))
#endif

GK_INLINE size_t q4_1_quant_impl(const float *x, void *vy, int64_t nrows, int64_t n_per_row,
                                 const float *imatrix, int simd) {
    uint8_t *y = (uint8_t *)vy;
    const int64_t nb = n_per_row / 32;
    for (int64_t r = 0; r < nrows; r++) {
        const float *xr = x + r * n_per_row;
        uint8_t *yr = y + r * nb * QB;
        if (!imatrix) {
            for (int64_t ib = 0; ib < nb; ib++) Q4_1_BLOCK(simd, xr + ib * 32, yr + ib * QB);
            continue;
        }
        const float sigma2 = gk_row_sigma2(xr, n_per_row);
        for (int64_t ib = 0; ib < nb; ib++) {
            const float *xb = xr + 32 * ib, *qw = imatrix + 32 * ib;
            float weight[32], min;
            uint8_t L[32], Laux[32];
            for (int j = 0; j < 32; ++j) weight[j] = qw[j] * sqrtf(sigma2 + xb[j] * xb[j]);
            float d = gk_kq_make_qkx3_quants(32, 15, xb, weight, L, &min, Laux, -0.9f, 0.05f, 36, 0);
            uint8_t *o = yr + ib * QB;
            gk_st16(o, gk_f32_to_f16(d));
            gk_st16(o + 2, gk_f32_to_f16(-min));
            for (int j = 0; j < 16; ++j) o[4 + j] = (uint8_t)(L[j] | (L[j + 16] << 4));
        }
    }
    return (size_t)(nrows * nb * QB);
}
GK_KFN_QSIMD(q4_1_quant)

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
/* d*d and m*s of a block in one vector multiply: lane 0 and lane 1 of (dw, mw) x (da, sa). */
GK_TARGET_AVX2 static inline __m256 q4_1_dot_blk(const uint8_t *bw, const uint8_t *ba, __m256 acc,
                                              __m128 *ms) {
    const __m128 p = _mm_mul_ps(_mm_cvtph_ps(_mm_cvtsi32_si128((int)gk_ld32(bw))),
                                _mm_cvtph_ps(_mm_cvtsi32_si128((int)gk_ld32(ba))));
    *ms = _mm_add_ps(*ms, p);
    const __m256i x = gk_nibbles32(bw + 4);
    const __m256i y = _mm256_loadu_si256((const __m256i *)(ba + 4));
    return _mm256_fmadd_ps(_mm256_broadcastss_ps(p), _mm256_cvtepi32_ps(gk_dot_u8_i32(x, y)), acc);
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
