/* Q4_0 (format-facts §3.2): 32 values, d:f16, qs[16] (element j low nibble, j+16 high nibble).
 * Reference quantizer: d = max/-8, q = min(15, (int8)(x*id + 8.5)). Imatrix path: make_qx_quants
 * with w = qw*sqrt(σ²+x²), σ² over the whole row (§3.9). vec_dot pairs with Q8_0. */
#include "kdot512.h"
#include "kq_legacy.h"
#include "kdot256.h"

#define QB 18

GK_LEGACY_QUANT(q4_0_quant, 4, 0)

GK_INLINE void q4_0_tof_impl(const void *vx, float *y, int64_t k) {
    const uint8_t *x = (const uint8_t *)vx;
    for (int64_t ib = 0; ib < k / 32; ib++) {
        const uint8_t *b = x + ib * QB;
        const float d = gk_h2f(gk_ld16(b));
        float *yb = y + ib * 32;
        for (int j = 0; j < 16; ++j) {
            yb[j] = (float)((b[2 + j] & 0x0F) - 8) * d;
            yb[j + 16] = (float)((b[2 + j] >> 4) - 8) * d;
        }
    }
}
static void q4_0_tof_scalar GK_P_TOF { q4_0_tof_impl GK_A_TOF; }
#if GK_X86
GK_TARGET_AVX2 static void q4_0_tof_avx2 GK_P_TOF {
    const uint8_t *x = (const uint8_t *)vx;
    for (int64_t ib = 0; ib < k / 32; ib++) {
        const uint8_t *b = x + ib * QB;
        gk_store_i8x32_mul(_mm256_sub_epi8(gk_nibbles32(b + 2), _mm256_set1_epi8(8)),
                           _mm256_set1_ps(gk_h2f_f16c(b)), y + ib * 32);
    }
}
#endif

GK_INLINE float q4_0_dot_impl(int64_t n, const void *vw, const void *va) {
    const uint8_t *w = (const uint8_t *)vw, *a = (const uint8_t *)va;
    float sumf = 0;
    for (int64_t ib = 0; ib < n / 32; ib++) {
        const uint8_t *bw = w + ib * QB, *ba = a + ib * 34;
        const int8_t *qa = (const int8_t *)(ba + 2);
        int sumi0 = 0, sumi1 = 0;
        for (int j = 0; j < 16; ++j) {
            sumi0 += ((bw[2 + j] & 0x0F) - 8) * qa[j];
            sumi1 += ((bw[2 + j] >> 4) - 8) * qa[j + 16];
        }
        sumf += (float)(sumi0 + sumi1) * gk_h2f(gk_ld16(bw)) * gk_h2f(gk_ld16(ba));
    }
    return sumf;
}
static float q4_0_dot_scalar GK_P_DOT { return q4_0_dot_impl GK_A_DOT; }
#if GK_X86
/* AVX2 per-block step (the tail of the AVX2 tile below): integer inner sums, float scales, FMA. */
GK_TARGET_AVX2 static inline __m256 q4_0_dot_blk(const uint8_t *bw, const uint8_t *ba, __m256 acc, float *summs) {
    const __m256 d = gk_dprod_bcast(bw, ba);
    const __m256i x = _mm256_sub_epi8(gk_nibbles32(bw + 2), _mm256_set1_epi8(8));
    const __m256i y = _mm256_loadu_si256((const __m256i *)(ba + 2));
    (void)summs;
    return _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(gk_dot_i8_i32(x, y)), acc);
}
GK_DOT_BLOCKS_AVX2(q4_0_dot, 18, 34)
/* AVX2 tiles of eight blocks (kdot256.h): unsigned codes, the -8 as 8*y in the int16 pair sums. */
GK_TARGET_AVX2 static inline __m256i q4_0_t8_blk(const uint8_t *bw, const uint8_t *ba) {
    return gk_t8_dot_u8_off(gk_nibbles32(bw + 2), _mm256_loadu_si256((const __m256i *)(ba + 2)), _mm256_set1_epi8(8));
}
GK_T8_FINISH_D(q4_0_t8_finish, 18, 34)
GK_T8_DOT(q4_0_dot_t8, 18, 34, q4_0_t8_blk, q4_0_t8_finish, q4_0_dot_avx2)
/* AVX-512 tiles of sixteen blocks (kdot512.h); rows shorter than a tile use the AVX2 tile. */
GK_TARGET_AVX512 static inline __m512i q4_0_t16_pair(const uint8_t *w0, const uint8_t *a0, const uint8_t *w1,
                                                     const uint8_t *a1) {
    return gk_t16_dot_off(gk_t16_nibbles_bc(w0 + 2, w1 + 2), gk_t16_q8(a0 + 2, a1 + 2), 8);
}
GK_T16_FINISH_D(q4_0_t16_finish, 18, 34)
GK_T16_DOT(q4_0_dot_avx512, 18, 34, q4_0_t16_pair, q4_0_t16_finish, q4_0_dot_t8)
#endif

static int64_t q4_0_validate(const void *data, size_t nbytes) {
    return gk_validate_f16_fields(data, nbytes, QB, 0, -1);
}
static void q4_0_byteswap(void *blocks, size_t n) {
    for (size_t i = 0; i < n; i++) gk_swap16_at((uint8_t *)blocks + i * QB);
}

const gk_kernel_row gk_krow_q4_0 = {
    .type = GK_TYPE_Q4_0,
    .vec_dot_type = GK_TYPE_Q8_0,
    .to_float = GK_DOT2(q4_0_tof),
    .quantize = GK_ISA3(q4_0_quant),
#if GK_X86
    .vec_dot = {q4_0_dot_scalar, q4_0_dot_t8, q4_0_dot_avx512},
#else
    .vec_dot = GK_DOT3(q4_0_dot),
#endif
    .validate = q4_0_validate,
    .byteswap = q4_0_byteswap,
    .uses_imatrix = 1,
    .dot_tol = 1e-3,
};
