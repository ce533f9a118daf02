/* Q5_1 (format-facts §3.2): 32 values, d:f16, m:f16, qh (u32 LE), qs[16]; y = q*d + m.
 * Reference: d = (max-min)/31, q = (uint8)((x-min)*id + 0.5), no clamp. Imatrix path:
 * make_qkx3_quants(32, 31, ..., -0.9, 0.05, 36) with w = qw*sqrt(σ²+x²), σ² over the row.
 * vec_dot pairs with Q8_1. */
#include "kdot512.h"
#include "kq_legacy.h"

#define QB 24

GK_LEGACY_QUANT(q5_1_quant, 5, 1)

GK_INLINE void q5_1_tof_impl(const void *vx, float *y, int64_t k) {
    const uint8_t *x = (const uint8_t *)vx;
    for (int64_t ib = 0; ib < k / 32; ib++) {
        const uint8_t *b = x + ib * QB;
        const float d = gk_h2f(gk_ld16(b)), m = gk_h2f(gk_ld16(b + 2));
        const uint32_t qh = gk_ld32(b + 4);
        float *yb = y + ib * 32;
        for (int j = 0; j < 16; ++j) {
            const int xh0 = (int)(((qh >> j) << 4) & 0x10);
            const int xh1 = (int)((qh >> (j + 12)) & 0x10);
            yb[j] = (float)((b[8 + j] & 0x0F) | xh0) * d + m;
            yb[j + 16] = (float)((b[8 + j] >> 4) | xh1) * d + m;
        }
    }
}
GK_KFNV(q5_1_tof, GK_P_TOF, GK_A_TOF)

GK_INLINE float q5_1_dot_impl(int64_t n, const void *vw, const void *va) {
    const uint8_t *w = (const uint8_t *)vw, *a = (const uint8_t *)va;
    float sumf = 0;
    for (int64_t ib = 0; ib < n / 32; ib++) {
        const uint8_t *bw = w + ib * QB, *ba = a + ib * 36;
        const int8_t *qa = (const int8_t *)(ba + 4);
        const uint32_t qh = gk_ld32(bw + 4);
        int sumi0 = 0, sumi1 = 0;
        for (int j = 0; j < 16; ++j) {
            const int xh0 = (int)(((qh >> j) << 4) & 0x10);
            const int xh1 = (int)((qh >> (j + 12)) & 0x10);
            sumi0 += ((bw[8 + j] & 0x0F) | xh0) * qa[j];
            sumi1 += ((bw[8 + j] >> 4) | xh1) * qa[j + 16];
        }
        const int sumi = sumi0 + sumi1;
        sumf += (gk_h2f(gk_ld16(bw)) * gk_h2f(gk_ld16(ba))) * (float)sumi +
                gk_h2f(gk_ld16(bw + 2)) * gk_h2f(gk_ld16(ba + 2));
    }
    return sumf;
}
static float q5_1_dot_scalar GK_P_DOT { return q5_1_dot_impl GK_A_DOT; }
#if GK_X86
/* AVX2 (also the AVX-512 tail of rows not a multiple of 16 blocks): integer inner sums per
 * block, float scales, FMA. */
GK_TARGET_AVX2 static inline __m256 q5_1_dot_blk(const uint8_t *bw, const uint8_t *ba, __m256 acc,
                                              __m128 *ms) {
    return gk_dot_dm_blk(bw, ba, _mm256_or_si256(gk_nibbles32(bw + 8),
                                                     _mm256_and_si256(gk_bits32(gk_ld32(bw + 4)), _mm256_set1_epi8(0x10))), acc, ms);
}
#define q5_1_dotm_blk q5_1_dot_blk
GK_DOT_BLOCKS_MS(q5_1_dotm, 24, 36)
#define q5_1_dot_avx2 q5_1_dotm_avx2
/* AVX-512 tiles of sixteen blocks (kdot512.h): the fifth bit added as 16 under a byte mask made
 * of the two blocks' qh words (bit j of qh is value j, as the nibble order of gk_t16_nibbles_bc),
 * codes unsigned (VNNI); d_w*d_a and m_w*s_a fetched by window permutes, two FMAs per tile.
 * Rows shorter than a tile use the AVX2 step. */
GK_TARGET_AVX512 static inline __m512i q5_1_t16_pair(const uint8_t *w0, const uint8_t *a0, const uint8_t *w1,
                                                     const uint8_t *a1) {
    const __mmask64 hb = (__mmask64)((uint64_t)gk_ld32(w0 + 4) | ((uint64_t)gk_ld32(w1 + 4) << 32));
    const __m512i x = gk_t16_nibbles_bc(w0 + 8, w1 + 8);
    return _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_mask_add_epi8(x, hb, x, _mm512_set1_epi8(16)),
                               gk_t16_q8(a0 + 4, a1 + 4));
}
GK_T16_FINISH_DM(q5_1_t16_finish, 24, 36)
GK_T16_DOT(q5_1_dot_avx512, 24, 36, q5_1_t16_pair, q5_1_t16_finish, q5_1_dotm_avx512)
#endif

static int64_t q5_1_validate(const void *data, size_t nbytes) {
    return gk_validate_f16_fields(data, nbytes, QB, 0, 2);
}
static void q5_1_byteswap(void *blocks, size_t n) {
    for (size_t i = 0; i < n; i++) {
        uint8_t *b = (uint8_t *)blocks + i * QB;
        gk_swap16_at(b);
        gk_swap16_at(b + 2);
        gk_swap32_at(b + 4);
    }
}

const gk_kernel_row gk_krow_q5_1 = {
    .type = GK_TYPE_Q5_1,
    .vec_dot_type = GK_TYPE_Q8_1,
    .to_float = GK_ISA3(q5_1_tof),
    .quantize = GK_ISA3(q5_1_quant),
    .vec_dot = GK_DOT3(q5_1_dot),
    .validate = q5_1_validate,
    .byteswap = q5_1_byteswap,
    .uses_imatrix = 1,
    .dot_tol = 1e-3,
};
