/* Q8_0 (format-facts §3.2, §4): 32 values, d:f16, qs[32] int8; y = q*d.
 * quantize (weights, ggml_quantize_chunk): reference rule d = amax/127, q = roundf(x*(1/d)),
 * the imatrix is ignored. from_float (activations) as ggml's x86 CPU backend computes it:
 * id = 127/amax and round-half-to-even, with int32->int8 saturation. vec_dot pairs with Q8_0. */
#include "kdot512.h"
#include "kdot256.h"

#define QB 34

GK_INLINE void q8_0_ref_block(const float *xb, uint8_t *o) {
    float amax = 0.0f;
    for (int j = 0; j < 32; j++) {
        const float v = fabsf(xb[j]);
        amax = amax > v ? amax : v;
    }
    const float d = amax / 127;
    const float id = d ? 1.0f / d : 0.0f;
    gk_st16(o, gk_f32_to_f16(d));
    for (int j = 0; j < 32; ++j) o[2 + j] = (uint8_t)gk_cvtt_i8(roundf(xb[j] * id));
}

#if GK_X86
/* roundf (half away from zero) exactly: trunc, then +-1 when the dropped part is >= 0.5. */
GK_TARGET_AVX2 static inline __m256 q8_roundf(__m256 v) {
    const __m256 t = _mm256_round_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    const __m256 sign = _mm256_set1_ps(-0.0f);
    const __m256 frac = _mm256_andnot_ps(sign, _mm256_sub_ps(v, t));
    const __m256 one = _mm256_or_ps(_mm256_and_ps(v, sign), _mm256_set1_ps(1.0f));
    const __m256 adj = _mm256_and_ps(_mm256_cmp_ps(frac, _mm256_set1_ps(0.5f), _CMP_GE_OQ), one);
    return _mm256_add_ps(t, adj);
}
GK_TARGET_AVX2 static inline void q8_0_ref_block_avx2(const float *xb, uint8_t *o) {
    if (gk_has_nan32(xb)) { /* MAX() lets a NaN through in the scalar order: keep that order */
        q8_0_ref_block(xb, o);
        return;
    }
    __m256 ax[4];
    const float amax = gk_absmax32(xb, ax);
    const float d = amax / 127;
    const float id = d ? 1.0f / d : 0.0f;
    gk_st16(o, gk_f32_to_f16(d));
    const __m256 vid = _mm256_set1_ps(id), ff = _mm256_castsi256_ps(_mm256_set1_epi32(0xFF));
    __m256i v[4];
    for (int k = 0; k < 4; k++) {
        const __m256 r = q8_roundf(_mm256_mul_ps(_mm256_loadu_ps(xb + 8 * k), vid));
        v[k] = _mm256_and_si256(_mm256_cvttps_epi32(r), _mm256_castps_si256(ff));
    }
    gk_store16_u8(v[0], v[1], o + 2);
    gk_store16_u8(v[2], v[3], o + 18);
}
#define Q8_0_BLOCK(simd, x, o) ((simd) ? q8_0_ref_block_avx2(x, o) : q8_0_ref_block(x, o))
#else
#define Q8_0_BLOCK(simd, x, o) ((void)(simd), q8_0_ref_block(x, o))
#endif

GK_INLINE size_t q8_0_quant_impl(const float *x, void *vy, int64_t nrows, int64_t n_per_row,
                                 const float *imatrix, int simd) {
    (void)imatrix;
    uint8_t *y = (uint8_t *)vy;
    const int64_t nb = nrows * (n_per_row / 32);
    for (int64_t ib = 0; ib < nb; ib++) Q8_0_BLOCK(simd, x + ib * 32, y + ib * QB);
    return (size_t)(nb * QB);
}
GK_KFN_QSIMD(q8_0_quant)

/* The per-block amax of the x86 path (max of |x| lanes; NaN lanes are ignored here). */
GK_INLINE float gk_q8_act_amax(const float *xb) {
    float amax = 0.0f;
    for (int j = 0; j < 32; j++) {
        const float v = fabsf(xb[j]);
        amax = v > amax ? v : amax;
    }
    return amax;
}

GK_INLINE void q8_0_fromf_impl(const float *x, void *vy, int64_t k) {
    uint8_t *y = (uint8_t *)vy;
    for (int64_t ib = 0; ib < k / 32; ib++) {
        const float *xb = x + ib * 32;
        uint8_t *o = y + ib * QB;
        const float amax = gk_q8_act_amax(xb);
        const float d = amax / 127.f;
        gk_st16(o, gk_f32_to_f16(d));
        const float id = amax != 0.0f ? 127.f / amax : 0.0f;
        for (int j = 0; j < 32; ++j) o[2 + j] = (uint8_t)(int8_t)gk_sat_i8(gk_cvtps_i32(xb[j] * id));
    }
}
GK_KFNV(q8_0_fromf, GK_P_FROMF, GK_A_FROMF)

GK_INLINE void q8_0_tof_impl(const void *vx, float *y, int64_t k) {
    const uint8_t *x = (const uint8_t *)vx;
    for (int64_t ib = 0; ib < k / 32; ib++) {
        const uint8_t *b = x + ib * QB;
        const float d = gk_h2f(gk_ld16(b));
        const int8_t *q = (const int8_t *)(b + 2);
        for (int j = 0; j < 32; ++j) y[ib * 32 + j] = (float)q[j] * d;
    }
}
static void q8_0_tof_scalar GK_P_TOF { q8_0_tof_impl GK_A_TOF; }
#if GK_X86
GK_TARGET_AVX2 static void q8_0_tof_avx2 GK_P_TOF {
    const uint8_t *x = (const uint8_t *)vx;
    for (int64_t ib = 0; ib < k / 32; ib++) {
        const uint8_t *b = x + ib * QB;
        gk_store_i8x32_mul(_mm256_loadu_si256((const __m256i *)(b + 2)), _mm256_set1_ps(gk_h2f_f16c(b)),
                           y + ib * 32);
    }
}
#endif

GK_INLINE float q8_0_dot_impl(int64_t n, const void *vw, const void *va) {
    const uint8_t *w = (const uint8_t *)vw, *a = (const uint8_t *)va;
    float sumf = 0;
    for (int64_t ib = 0; ib < n / 32; ib++) {
        const uint8_t *bw = w + ib * QB, *ba = a + ib * QB;
        const int8_t *qw = (const int8_t *)(bw + 2), *qa = (const int8_t *)(ba + 2);
        int sumi = 0;
        for (int j = 0; j < 32; ++j) sumi += qw[j] * qa[j];
        sumf += (float)sumi * (gk_h2f(gk_ld16(bw)) * gk_h2f(gk_ld16(ba)));
    }
    return sumf;
}
static float q8_0_dot_scalar GK_P_DOT { return q8_0_dot_impl GK_A_DOT; }
#if GK_X86
/* AVX2 (also the AVX-512 path): integer inner sums per block, float scales, FMA. */
GK_TARGET_AVX2 static inline __m256 q8_0_dot_blk(const uint8_t *bw, const uint8_t *ba, __m256 acc,
                                              float *summs) {
    const __m256 d = gk_dprod_bcast(bw, ba);
    const __m256i x = _mm256_loadu_si256((const __m256i *)(bw + 2));
    const __m256i y = _mm256_loadu_si256((const __m256i *)(ba + 2));
    (void)summs;
    return _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(gk_dot_i8_i32(x, y)), acc);
}
GK_DOT_BLOCKS(q8_0_dot, 34, 34)
/* AVX2 tiles of eight blocks (kdot256.h). */
GK_TARGET_AVX2 static inline __m256i q8_0_t8_blk(const uint8_t *bw, const uint8_t *ba) {
    return gk_dot_i8_i32(_mm256_loadu_si256((const __m256i *)(bw + 2)), _mm256_loadu_si256((const __m256i *)(ba + 2)));
}
GK_T8_FINISH_D(q8_0_t8_finish, 34, 34)
GK_T8_DOT(q8_0_dot_t8, 34, 34, q8_0_t8_blk, q8_0_t8_finish, q8_0_dot_avx2)
/* AVX-512 tiles (kdot512.h): |x| times y with x's sign, one vpdpbusd per two blocks. */
GK_TARGET_AVX512 static inline __m512i q8_0_t16_pair(const uint8_t *w0, const uint8_t *a0, const uint8_t *w1,
                                                     const uint8_t *a1) {
    const __m512i x = gk_t16_q8(w0 + 2, w1 + 2), y = gk_t16_q8(a0 + 2, a1 + 2);
    const __m512i sy = _mm512_mask_sub_epi8(y, _mm512_movepi8_mask(x), _mm512_setzero_si512(), y);
    return _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_abs_epi8(x), sy);
}
GK_T16_FINISH_D(q8_0_t16_finish, 34, 34)
GK_T16_DOT(q8_0_dot_t16, 34, 34, q8_0_t16_pair, q8_0_t16_finish, q8_0_dot_avx512)
#endif

static int64_t q8_0_validate(const void *data, size_t nbytes) {
    return gk_validate_f16_fields(data, nbytes, QB, 0, -1);
}
static void q8_0_byteswap(void *blocks, size_t n) {
    for (size_t i = 0; i < n; i++) gk_swap16_at((uint8_t *)blocks + i * QB);
}

const gk_kernel_row gk_krow_q8_0 = {
    .type = GK_TYPE_Q8_0,
    .vec_dot_type = GK_TYPE_Q8_0,
    .to_float = GK_DOT2(q8_0_tof),
    .quantize = GK_ISA3(q8_0_quant),
    .from_float = GK_ISA3(q8_0_fromf),
#if GK_X86
    .vec_dot = {q8_0_dot_scalar, q8_0_dot_t8, q8_0_dot_t16},
#else
    .vec_dot = GK_DOT3(q8_0_dot),
#endif
    .validate = q8_0_validate,
    .byteswap = q8_0_byteswap,
    .uses_imatrix = 0,
    .dot_tol = 1e-4,
};
