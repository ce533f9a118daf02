/* Q2_0 (format-facts §3.7): 64 values, d:f16, qs[16]: element j in bits 2*(j%4) of byte j/4;
 * y = (q-1)*d. Reference: d = amax, q = clamp(roundf(x/d) + 1, 0, 3); the imatrix is ignored.
 * vec_dot pairs with Q8_0 (two Q8_0 blocks per Q2_0 block). */
#include "kq_search.h"

#define QB 18

#if GK_X86
/* roundf exactly (see k_q8_0.c): trunc, +-1 when the dropped part is >= 0.5 */
GK_TARGET_AVX2 static inline __m256 q2_roundf(__m256 v) {
    const __m256 t = _mm256_round_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    const __m256 sign = _mm256_set1_ps(-0.0f);
    const __m256 frac = _mm256_andnot_ps(sign, _mm256_sub_ps(v, t));
    const __m256 one = _mm256_or_ps(_mm256_and_ps(v, sign), _mm256_set1_ps(1.0f));
    return _mm256_add_ps(t, _mm256_and_ps(_mm256_cmp_ps(frac, _mm256_set1_ps(0.5f), _CMP_GE_OQ), one));
}
GK_TARGET_AVX2 static inline void q2_0_block_avx2(const float *xb, uint8_t *o) {
    __m256 ax[4];
    const float a0 = gk_absmax32(xb, ax), a1 = gk_absmax32(xb + 32, ax);
    const float amax = a0 > a1 ? a0 : a1;
    const float d = amax;
    const float id = d ? 1.0f / d : 0.0f;
    gk_st16(o, gk_f32_to_f16(d));
    const __m256 vid = _mm256_set1_ps(id);
    const __m256i shifts = _mm256_setr_epi32(0, 2, 4, 6, 0, 2, 4, 6);
    for (int k = 0; k < 8; k++) {
        const __m256 r = q2_roundf(_mm256_mul_ps(_mm256_loadu_ps(xb + 8 * k), vid));
        __m256i q = _mm256_add_epi32(_mm256_cvttps_epi32(r), _mm256_set1_epi32(1));
        q = _mm256_max_epi32(_mm256_min_epi32(q, _mm256_set1_epi32(3)), _mm256_setzero_si256());
        int32_t t[8];
        _mm256_storeu_si256((__m256i *)t, _mm256_sllv_epi32(q, shifts));
        o[2 + 2 * k] = (uint8_t)(t[0] | t[1] | t[2] | t[3]);
        o[3 + 2 * k] = (uint8_t)(t[4] | t[5] | t[6] | t[7]);
    }
}
#define Q2_0_SIMD_BLOCK(xb, o) q2_0_block_avx2(xb, o)
#else
#define Q2_0_SIMD_BLOCK(xb, o) ((void)0)
#endif

GK_INLINE size_t q2_0_quant_impl(const float *x, void *vy, int64_t nrows, int64_t n_per_row,
                                 const float *imatrix, int simd) {
    (void)imatrix;
    uint8_t *y = (uint8_t *)vy;
    const int64_t nb = nrows * (n_per_row / 64);
    for (int64_t i = 0; i < nb; i++) {
        const float *xb = x + i * 64;
        uint8_t *o = y + i * QB;
        if (simd) {
            Q2_0_SIMD_BLOCK(xb, o);
            continue;
        }
        float amax = 0.0f;
        for (int j = 0; j < 64; j++)
            if (amax < fabsf(xb[j])) amax = fabsf(xb[j]);
        const float d = amax;
        const float id = d ? 1.0f / d : 0.0f;
        gk_st16(o, gk_f32_to_f16(d));
        memset(o + 2, 0, 16);
        for (int j = 0; j < 64; j++) {
            int q = gk_cvtt_i32(roundf(xb[j] * id)) + 1;
            q = q < 0 ? 0 : q > 3 ? 3 : q;
            o[2 + j / 4] |= (uint8_t)(q << (2 * (j % 4)));
        }
    }
    return (size_t)(nb * QB);
}
GK_KFN_QSIMD(q2_0_quant)

GK_INLINE void q2_0_tof_impl(const void *vx, float *y, int64_t k) {
    const uint8_t *x = (const uint8_t *)vx;
    for (int64_t i = 0; i < k / 64; i++) {
        const uint8_t *b = x + i * QB;
        const float d = gk_h2f(gk_ld16(b));
        for (int by = 0; by < 16; by++)
            for (int t = 0; t < 4; t++)
                y[i * 64 + 4 * by + t] = (float)(((b[2 + by] >> (2 * t)) & 3) - 1) * d;
    }
}
GK_KFNV(q2_0_tof, GK_P_TOF, GK_A_TOF)

GK_INLINE float q2_0_dot_impl(int64_t n, const void *vw, const void *va) {
    const uint8_t *w = (const uint8_t *)vw, *a = (const uint8_t *)va;
    float sumf = 0;
    for (int64_t i = 0; i < n / 64; i++) {
        const uint8_t *bw = w + i * QB;
        const float d = gk_h2f(gk_ld16(bw));
        for (int k = 0; k < 2; k++) {
            const uint8_t *ba = a + (2 * i + k) * 34;
            const int8_t *qa = (const int8_t *)(ba + 2);
            int sumi = 0;
            for (int j = 0; j < 32; j++) {
                const int e = 32 * k + j;
                sumi += (((bw[2 + e / 4] >> (2 * (e % 4))) & 3) - 1) * qa[j];
            }
            sumf += d * gk_h2f(gk_ld16(ba)) * (float)sumi;
        }
    }
    return sumf;
}
static float q2_0_dot_scalar GK_P_DOT { return q2_0_dot_impl GK_A_DOT; }
#if GK_X86
/* AVX2: 8 bytes of 2-bit codes -> 32 values q-1 in {-1,0,1,2}, integer sums with Q8_0. */
GK_TARGET_AVX2 static float q2_0_dot_avx2 GK_P_DOT {
    const uint8_t *w = (const uint8_t *)vw, *a = (const uint8_t *)va;
    __m256 acc = _mm256_setzero_ps();
    const __m256i idx = _mm256_setr_epi8(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3,
                                         4, 4, 4, 4, 5, 5, 5, 5, 6, 6, 6, 6, 7, 7, 7, 7);
    const __m256i sh = _mm256_set1_epi32(0x40100401); /* per byte: 1, 4, 16, 64 */
    const __m256i m = _mm256_set1_epi32((int)0xC0300C03);
    const __m256i one = _mm256_set1_epi8(1), two = _mm256_set1_epi8(2), three = _mm256_set1_epi8(3);
    for (int64_t i = 0; i < n / 64; i++) {
        const uint8_t *bw = w + i * QB;
        const float d = gk_h2f_f16c(bw);
        for (int k = 0; k < 2; k++) {
            const uint8_t *ba = a + (2 * i + k) * 34;
            uint64_t q8b;
            memcpy(&q8b, bw + 2 + 8 * k, 8);
            const __m256i v = _mm256_and_si256(_mm256_shuffle_epi8(_mm256_set1_epi64x((long long)q8b), idx), m);
            /* code c at shift 2p: v == c * 4^p */
            const __m256i c1 = _mm256_cmpeq_epi8(v, sh);
            const __m256i c2 = _mm256_cmpeq_epi8(v, _mm256_add_epi8(sh, sh));
            const __m256i c3 = _mm256_cmpeq_epi8(v, _mm256_add_epi8(_mm256_add_epi8(sh, sh), sh));
            __m256i q = _mm256_or_si256(_mm256_and_si256(c1, one),
                                        _mm256_or_si256(_mm256_and_si256(c2, two), _mm256_and_si256(c3, three)));
            q = _mm256_sub_epi8(q, one);
            const __m256i y = _mm256_loadu_si256((const __m256i *)(ba + 2));
            acc = _mm256_fmadd_ps(_mm256_set1_ps(d * gk_h2f_f16c(ba)),
                                  _mm256_cvtepi32_ps(gk_dot_i8_i32(q, y)), acc);
        }
    }
    return gk_hsum_ps(acc);
}
#endif

static int64_t q2_0_validate(const void *data, size_t nbytes) {
    return gk_validate_f16_fields(data, nbytes, QB, 0, -1);
}
static void q2_0_byteswap(void *blocks, size_t n) {
    for (size_t i = 0; i < n; i++) gk_swap16_at((uint8_t *)blocks + i * QB);
}

const gk_kernel_row gk_krow_q2_0 = {
    .type = GK_TYPE_Q2_0,
    .vec_dot_type = GK_TYPE_Q8_0,
    .to_float = GK_ISA3(q2_0_tof),
    .quantize = GK_ISA3(q2_0_quant),
    .vec_dot = GK_DOT2(q2_0_dot),
    .validate = q2_0_validate,
    .byteswap = q2_0_byteswap,
    .uses_imatrix = 0,
    .dot_tol = 1e-3,
};
