/* IQ4_NL (format-facts §3.5): 32 values, d:f16, qs[16]; y = d*K[nibble], the Q4_0 interleave.
 * quantize: quantize_row_iq4_nl_impl with ntry = 7 (what ggml_quantize_chunk uses), weights x²
 * or qw*sqrt(σ²+x²) with σ² = 2Σx²/32 over the block. vec_dot pairs with Q8_0. */
#include "kdot512.h"
#include "kdot256.h"

#define QB 18

/* One block: weights, scale search, indices (§3.5 steps 1-5). */
GK_INLINE void iq4_nl_block(const float *x, uint8_t *out, const float *qw, int simd) {
    float weight[32];
    uint8_t L[32];
    gk_iq4_weights(x, qw, gk_iq4_sigma2(x, 32), weight);
    const float scale = GK_IQ4_SCALE(simd, x, weight);
    gk_st16(out, gk_f32_to_f16(scale));
    float id = scale ? 1 / scale : 0;
    GK_IQ4_INDICES(simd, x, id, L);
    for (int j = 0; j < 16; ++j) out[2 + j] = (uint8_t)(L[j] | (L[16 + j] << 4));
}

/* the 16 tries of each block's scale search run as vector lanes: identical bytes */
GK_INLINE size_t iq4_nl_quant_impl(const float *x, void *vy, int64_t nrows, int64_t n_per_row,
                                   const float *imatrix, int simd) {
    return gk_quant_block_rows(x, vy, nrows, n_per_row, imatrix, simd, 32, QB, iq4_nl_block);
}
GK_KFN_QSIMD2(iq4_nl_quant)

GK_INLINE void iq4_nl_tof_impl(const void *vx, float *y, int64_t k) {
    const uint8_t *x = (const uint8_t *)vx;
    for (int64_t ib = 0; ib < k / 32; ib++) {
        const uint8_t *b = x + ib * QB;
        const float d = gk_h2f(gk_ld16(b));
        float *yb = y + ib * 32;
        for (int j = 0; j < 16; ++j) {
            yb[j] = d * gk_kvalues_iq4nl[b[2 + j] & 0xf];
            yb[j + 16] = d * gk_kvalues_iq4nl[b[2 + j] >> 4];
        }
    }
}
static void iq4_nl_tof_scalar GK_P_TOF { iq4_nl_tof_impl GK_A_TOF; }
#if GK_X86
GK_TARGET_AVX2 static void iq4_nl_tof_avx2 GK_P_TOF {
    const uint8_t *x = (const uint8_t *)vx;
    const __m256i tbl = gk_table16(gk_kvalues_iq4nl);
    for (int64_t ib = 0; ib < k / 32; ib++) {
        const uint8_t *b = x + ib * QB;
        gk_store_i8x32_mul(_mm256_shuffle_epi8(tbl, gk_nibbles32(b + 2)), _mm256_set1_ps(gk_h2f_f16c(b)),
                           y + ib * 32);
    }
}
#endif

GK_INLINE float iq4_nl_dot_impl(int64_t n, const void *vw, const void *va) {
    const uint8_t *w = (const uint8_t *)vw, *a = (const uint8_t *)va;
    float sumf = 0;
    for (int64_t ib = 0; ib < n / 32; ib++) {
        const uint8_t *bw = w + ib * QB, *ba = a + ib * 34;
        const int8_t *qa = (const int8_t *)(ba + 2);
        const float d = gk_h2f(gk_ld16(ba)) * gk_h2f(gk_ld16(bw));
        int sumi1 = 0, sumi2 = 0;
        for (int j = 0; j < 16; ++j) {
            sumi1 += qa[j] * gk_kvalues_iq4nl[bw[2 + j] & 0xf];
            sumi2 += qa[j + 16] * gk_kvalues_iq4nl[bw[2 + j] >> 4];
        }
        sumf += d * (float)(sumi1 + sumi2);
    }
    return sumf;
}
static float iq4_nl_dot_scalar GK_P_DOT { return iq4_nl_dot_impl GK_A_DOT; }
#if GK_X86
/* AVX2 (also the AVX-512 path): integer inner sums per block, float scales, FMA. */
GK_TARGET_AVX2 static inline __m256 iq4_nl_dot_blk(const uint8_t *bw, const uint8_t *ba, __m256 acc,
                                              float *summs) {
    const __m256 d = gk_dprod_bcast(bw, ba);
    const __m256i x = _mm256_shuffle_epi8(gk_table16(gk_kvalues_iq4nl), gk_nibbles32(bw + 2));
    const __m256i y = _mm256_loadu_si256((const __m256i *)(ba + 2));
    (void)summs;
    return _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(gk_dot_i8_i32(x, y)), acc);
}
GK_DOT_BLOCKS(iq4_nl_dot, 18, 34)
/* AVX2 tiles of eight blocks (kdot256.h); the signed table values with the sign trick. */
GK_TARGET_AVX2 static inline __m256i iq4_nl_t8_blk(const uint8_t *bw, const uint8_t *ba) {
    const __m256i x = _mm256_shuffle_epi8(gk_table16(gk_kvalues_iq4nl), gk_nibbles32(bw + 2));
    return gk_dot_i8_i32(x, _mm256_loadu_si256((const __m256i *)(ba + 2)));
}
GK_T8_FINISH_D(iq4_nl_t8_finish, 18, 34)
GK_T8_DOT(iq4_nl_dot_t8, 18, 34, iq4_nl_t8_blk, iq4_nl_t8_finish, iq4_nl_dot_avx2)
/* AVX-512 tiles (kdot512.h): the table shifted to unsigned (K+128) for vpdpbusd, minus 128*Σy. */
GK_TARGET_AVX512 static inline __m512i iq4_nl_t16_pair(const uint8_t *w0, const uint8_t *a0, const uint8_t *w1,
                                                       const uint8_t *a1) {
    static const uint8_t tbl[16] = {1, 24, 45, 63, 79, 93, 106, 118, 129, 141, 153, 166, 181, 197, 217, 241};
    return gk_t16_lut_pair(tbl, (char)128, w0 + 2, w1 + 2, a0 + 2, a1 + 2);
}
GK_T16_FINISH_D(iq4_nl_t16_finish, 18, 34)
GK_T16_DOT(iq4_nl_dot_t16, 18, 34, iq4_nl_t16_pair, iq4_nl_t16_finish, iq4_nl_dot_avx512)
#endif

static int64_t iq4_nl_validate(const void *data, size_t nbytes) {
    return gk_validate_f16_fields(data, nbytes, QB, 0, -1);
}
static void iq4_nl_byteswap(void *blocks, size_t n) {
    for (size_t i = 0; i < n; i++) gk_swap16_at((uint8_t *)blocks + i * QB);
}

const gk_kernel_row gk_krow_iq4_nl = {
    .type = GK_TYPE_IQ4_NL,
    .vec_dot_type = GK_TYPE_Q8_0,
    .to_float = GK_DOT2(iq4_nl_tof),
    .quantize = GK_DOT2(iq4_nl_quant),
#if GK_X86
    .vec_dot = {iq4_nl_dot_scalar, iq4_nl_dot_t8, iq4_nl_dot_t16},
#else
    .vec_dot = GK_DOT3(iq4_nl_dot),
#endif
    .validate = iq4_nl_validate,
    .byteswap = iq4_nl_byteswap,
    .uses_imatrix = 1,
    .dot_tol = 1e-3,
};
