/* Q5_0 (format-facts §3.2): 32 values, d:f16, qh (u32 LE: bit j = 5th bit of element j),
 * qs[16]; y = (q-16)*d. Reference: d = max/-16, q = min(31, (int8)(x*id + 16.5)). Imatrix
 * path: make_qx_quants(32, 16, ..., w) with w = qw*sqrt(σ²+x²), σ² over the row. vec_dot
 * pairs with Q8_0. */
#include "kdot512.h"
#include "kq_legacy.h"
#include "kdot256.h"

#define QB 22

GK_LEGACY_QUANT(q5_0_quant, 5, 0)

GK_INLINE void q5_0_tof_impl(const void *vx, float *y, int64_t k) {
    const uint8_t *x = (const uint8_t *)vx;
    for (int64_t ib = 0; ib < k / 32; ib++) {
        const uint8_t *b = x + ib * QB;
        const float d = gk_h2f(gk_ld16(b));
        const uint32_t qh = gk_ld32(b + 2);
        float *yb = y + ib * 32;
        for (int j = 0; j < 16; ++j) {
            const int xh0 = (int)(((qh >> j) << 4) & 0x10);
            const int xh1 = (int)((qh >> (j + 12)) & 0x10);
            yb[j] = (float)(((b[6 + j] & 0x0F) | xh0) - 16) * d;
            yb[j + 16] = (float)(((b[6 + j] >> 4) | xh1) - 16) * d;
        }
    }
}
GK_KFNV(q5_0_tof, GK_P_TOF, GK_A_TOF)

GK_INLINE float q5_0_dot_impl(int64_t n, const void *vw, const void *va) {
    const uint8_t *w = (const uint8_t *)vw, *a = (const uint8_t *)va;
    float sumf = 0;
    for (int64_t ib = 0; ib < n / 32; ib++) {
        const uint8_t *bw = w + ib * QB, *ba = a + ib * 34;
        const int8_t *qa = (const int8_t *)(ba + 2);
        const uint32_t qh = gk_ld32(bw + 2);
        int sumi0 = 0, sumi1 = 0;
        for (int j = 0; j < 16; ++j) {
            const int xh0 = (int)(((qh >> j) << 4) & 0x10);
            const int xh1 = (int)((qh >> (j + 12)) & 0x10);
            sumi0 += (((bw[6 + j] & 0x0F) | xh0) - 16) * qa[j];
            sumi1 += (((bw[6 + j] >> 4) | xh1) - 16) * qa[j + 16];
        }
        sumf += (float)(sumi0 + sumi1) * gk_h2f(gk_ld16(bw)) * gk_h2f(gk_ld16(ba));
    }
    return sumf;
}
static float q5_0_dot_scalar GK_P_DOT { return q5_0_dot_impl GK_A_DOT; }
#if GK_X86
/* AVX2 per-block step (the tail of the AVX2 tile below): integer inner sums, float scales, FMA. */
GK_TARGET_AVX2 static inline __m256 q5_0_dot_blk(const uint8_t *bw, const uint8_t *ba, __m256 acc, float *summs) {
    const __m256 d = gk_dprod_bcast(bw, ba);
    /* (nibble | bit4) - 16 as int8: a clear 5th bit sets the top nibble to 0xF */
    const __m256i x = _mm256_or_si256(gk_nibbles32(bw + 6),
                                      _mm256_andnot_si256(gk_bits32(gk_ld32(bw + 2)),
                                                          _mm256_set1_epi8((char)0xF0)));
    const __m256i y = _mm256_loadu_si256((const __m256i *)(ba + 2));
    (void)summs;
    return _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(gk_dot_i8_i32(x, y)), acc);
}
GK_DOT_BLOCKS_AVX2(q5_0_dot, 22, 34)
/* AVX2 tiles of eight blocks (kdot256.h): codes 0..31 unsigned, the -16 as 16*y. */
GK_TARGET_AVX2 static inline __m256i q5_0_t8_blk(const uint8_t *bw, const uint8_t *ba) {
    const __m256i xu = _mm256_or_si256(gk_nibbles32(bw + 6),
                                       _mm256_and_si256(gk_bits32(gk_ld32(bw + 2)), _mm256_set1_epi8(0x10)));
    return gk_t8_dot_u8_off(xu, _mm256_loadu_si256((const __m256i *)(ba + 2)), _mm256_set1_epi8(16));
}
GK_T8_FINISH_D(q5_0_t8_finish, 22, 34)
GK_T8_DOT(q5_0_dot_t8, 22, 34, q5_0_t8_blk, q5_0_t8_finish, q5_0_dot_avx2)
/* AVX-512 tiles of sixteen blocks (kdot512.h); rows shorter than a tile use the AVX2 tile. */
GK_TARGET_AVX512 static inline __m512i q5_0_t16_pair(const uint8_t *w0, const uint8_t *a0, const uint8_t *w1,
                                                     const uint8_t *a1) {
    const __m512i z = gk_t16_nibbles_bc(w0 + 6, w1 + 6);
    const __mmask64 k = _cvtu64_mask64((uint64_t)gk_ld32(w0 + 2) | ((uint64_t)gk_ld32(w1 + 2) << 32));
    return gk_t16_dot_off(_mm512_mask_add_epi8(z, k, z, _mm512_set1_epi8(16)), gk_t16_q8(a0 + 2, a1 + 2), 16);
}
GK_T16_FINISH_D(q5_0_t16_finish, 22, 34)
GK_T16_DOT(q5_0_dot_avx512, 22, 34, q5_0_t16_pair, q5_0_t16_finish, q5_0_dot_t8)
#endif

static int64_t q5_0_validate(const void *data, size_t nbytes) {
    return gk_validate_f16_fields(data, nbytes, QB, 0, -1);
}
static void q5_0_byteswap(void *blocks, size_t n) {
    for (size_t i = 0; i < n; i++) {
        gk_swap16_at((uint8_t *)blocks + i * QB);
        gk_swap32_at((uint8_t *)blocks + i * QB + 2);
    }
}

const gk_kernel_row gk_krow_q5_0 = {
    .type = GK_TYPE_Q5_0,
    .vec_dot_type = GK_TYPE_Q8_0,
    .to_float = GK_ISA3(q5_0_tof),
    .quantize = GK_ISA3(q5_0_quant),
#if GK_X86
    .vec_dot = {q5_0_dot_scalar, q5_0_dot_t8, q5_0_dot_avx512},
#else
    .vec_dot = GK_DOT3(q5_0_dot),
#endif
    .validate = q5_0_validate,
    .byteswap = q5_0_byteswap,
    .uses_imatrix = 1,
    .dot_tol = 1e-3,
};
