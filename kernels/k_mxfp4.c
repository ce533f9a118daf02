/* MXFP4 (format-facts §3.7): 32 values, e:u8 (E8M0), qs[16]; y = Kfp4[nibble]*2^(e-128), the
 * Q4_0 interleave. Reference quantizer: e = floor(log2(amax)) - 2 + 127 (0 if amax = 0),
 * nearest Kfp4 entry, lowest index wins ties. Ignores the imatrix. vec_dot pairs with Q8_0.
 * Validation: e != 0xFF. */
#include "kdot512.h"
#include "kdot256.h"

#define QB 17

#if GK_X86
GK_TARGET_AVX2 static inline void mxfp4_block_avx2(const float *xb, uint8_t *qs, float d) {
    __m256i v[4];
    for (int k = 0; k < 4; k++) v[k] = gk_fp4_index8(_mm256_loadu_ps(xb + 8 * k), d);
    gk_store_nibbles(v, qs);
}
#define MXFP4_SIMD_BLOCK(xb, qs, d) mxfp4_block_avx2(xb, qs, d)
#else
#define MXFP4_SIMD_BLOCK(xb, qs, d) ((void)0)
#endif

GK_INLINE size_t mxfp4_quant_impl(const float *x, void *vy, int64_t nrows, int64_t n_per_row,
                                  const float *imatrix, int simd) {
    (void)imatrix;
    uint8_t *y = (uint8_t *)vy;
    const int64_t nb = nrows * (n_per_row / 32);
    for (int64_t i = 0; i < nb; i++) {
        const float *xb = x + i * 32;
        uint8_t *o = y + i * QB;
        const float amax = gk_amax_n(xb, 32);
        const uint8_t e = amax > 0.0f ? (uint8_t)gk_cvtt_u8(floorf(log2f(amax)) - 2 + 127) : 0;
        const float d = gk_e8m0_half(e);
        o[0] = e;
        if (simd) {
            MXFP4_SIMD_BLOCK(xb, o + 1, d);
            continue;
        }
        gk_fp4_pack_pairs(xb, 16, d, o + 1);
    }
    return (size_t)(nb * QB);
}
GK_KFN_QSIMD(mxfp4_quant)

GK_INLINE void mxfp4_tof_impl(const void *vx, float *y, int64_t k) {
    const uint8_t *x = (const uint8_t *)vx;
    for (int64_t ib = 0; ib < k / 32; ib++) {
        const uint8_t *b = x + ib * QB;
        const float d = gk_e8m0_half(b[0]);
        float *yb = y + ib * 32;
        for (int j = 0; j < 16; ++j) {
            yb[j] = (float)gk_kvalues_fp4[b[1 + j] & 0x0F] * d;
            yb[j + 16] = (float)gk_kvalues_fp4[b[1 + j] >> 4] * d;
        }
    }
}
GK_KFNV(mxfp4_tof, GK_P_TOF, GK_A_TOF)

GK_INLINE float mxfp4_dot_impl(int64_t n, const void *vw, const void *va) {
    const uint8_t *w = (const uint8_t *)vw, *a = (const uint8_t *)va;
    float sumf = 0;
    for (int64_t ib = 0; ib < n / 32; ib++) {
        const uint8_t *bw = w + ib * QB, *ba = a + ib * 34;
        const int8_t *qa = (const int8_t *)(ba + 2);
        const float d = gk_h2f(gk_ld16(ba)) * gk_e8m0_half(bw[0]);
        int sumi1 = 0, sumi2 = 0;
        for (int j = 0; j < 16; ++j) {
            sumi1 += qa[j] * gk_kvalues_fp4[bw[1 + j] & 0xf];
            sumi2 += qa[j + 16] * gk_kvalues_fp4[bw[1 + j] >> 4];
        }
        sumf += d * (float)(sumi1 + sumi2);
    }
    return sumf;
}
static float mxfp4_dot_scalar GK_P_DOT { return mxfp4_dot_impl GK_A_DOT; }
#if GK_X86
/* AVX2 per-block step (the tail of the AVX2 tile below): integer inner sums, float scales, FMA. */
GK_TARGET_AVX2 static inline __m256 mxfp4_dot_blk(const uint8_t *bw, const uint8_t *ba, __m256 acc, float *summs) {
    const __m256 d = _mm256_set1_ps(gk_h2f_f16c(ba) * gk_e8m0_half(bw[0]));
    const __m256i x = _mm256_shuffle_epi8(gk_table16(gk_kvalues_fp4), gk_nibbles32(bw + 1));
    const __m256i y = _mm256_loadu_si256((const __m256i *)(ba + 2));
    (void)summs;
    return _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(gk_dot_i8_i32(x, y)), acc);
}
GK_DOT_BLOCKS_AVX2(mxfp4_dot, 17, 34)
/* AVX2 tiles of eight blocks (kdot256.h): values + 12 unsigned, minus 12*y; the E8M0 scales
 * decoded as gk_e8m0_half for eight blocks at once. */
GK_TARGET_AVX2 static inline __m256i mxfp4_t8_blk(const uint8_t *bw, const uint8_t *ba) {
    static const int8_t tbl12[16] = {12, 13, 14, 15, 16, 18, 20, 24, 12, 11, 10, 9, 8, 6, 4, 0};
    const __m256i xu = _mm256_shuffle_epi8(gk_table16(tbl12), gk_nibbles32(bw + 1));
    return gk_t8_dot_u8_off(xu, _mm256_loadu_si256((const __m256i *)(ba + 2)), _mm256_set1_epi8(12));
}
GK_TARGET_AVX2 static inline __m256 mxfp4_t8_finish(const uint8_t *bw, const uint8_t *ba, __m256i s, __m256 acc) {
    const __m256i e = _mm256_setr_epi32(bw[0], bw[17], bw[34], bw[51], bw[68], bw[85], bw[102], bw[119]);
    const __m256i big = _mm256_slli_epi32(_mm256_sub_epi32(e, _mm256_set1_epi32(1)), 23);
    const __m256i small = _mm256_sllv_epi32(_mm256_set1_epi32(0x00200000), e);
    const __m256i lt2 = _mm256_cmpgt_epi32(_mm256_set1_epi32(2), e);
    const __m256 dw = _mm256_castsi256_ps(_mm256_blendv_epi8(big, small, lt2));
    return _mm256_fmadd_ps(_mm256_mul_ps(gk_t8_f16(ba, 34), dw), _mm256_cvtepi32_ps(s), acc);
}
GK_T8_DOT(mxfp4_dot_t8, 17, 34, mxfp4_t8_blk, mxfp4_t8_finish, mxfp4_dot_avx2)
/* AVX-512 tiles of sixteen blocks (kdot512.h); rows shorter than a tile use the AVX2 tile. */
GK_TARGET_AVX512 static inline __m512i mxfp4_t16_pair(const uint8_t *w0, const uint8_t *a0, const uint8_t *w1,
                                                      const uint8_t *a1) {
    static const uint8_t tbl12[16] = {12, 13, 14, 15, 16, 18, 20, 24, 12, 11, 10, 9, 8, 6, 4, 0};
    return gk_t16_lut_pair(tbl12, 12, w0 + 1, w1 + 1, a0 + 2, a1 + 2);
}
/* The sixteen E8M0 bytes (offset 17k: word 17k/2, its high byte for odd k) as gk_e8m0_half. The
 * windows start at blocks 0, 4, 8 and, clamped to the tile's end, byte 144 (block 12 at +60). */
GK_TARGET_AVX512 static inline __m512 mxfp4_t16_e8m0(const uint8_t *bw) {
    const __m512i idx = _mm512_setr_epi32(0 | 8 << 16, 17 | 25 << 16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
    const __m512i idx3 = _mm512_setr_epi32(30 | 38 << 16, 47 | 55 << 16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
    const __m512i g0 = _mm512_permutex2var_epi16(_mm512_loadu_si512(bw), idx, _mm512_loadu_si512(bw + 64));
    const __m512i g1 = _mm512_permutex2var_epi16(_mm512_loadu_si512(bw + 68), idx, _mm512_loadu_si512(bw + 132));
    const __m512i g2 = _mm512_permutex2var_epi16(_mm512_loadu_si512(bw + 136), idx, _mm512_loadu_si512(bw + 200));
    const __m512i g3 = _mm512_permutex2var_epi16(_mm512_loadu_si512(bw + 144), idx3, _mm512_loadu_si512(bw + 208));
    __m256i e16 = gk_t16_join(g0, g1, g2, g3);
    e16 = _mm256_and_si256(_mm256_mask_srli_epi16(e16, 0xAAAA, e16, 8), _mm256_set1_epi16(0xFF));
    const __m512i e = _mm512_cvtepu16_epi32(e16);
    const __m512i big = _mm512_slli_epi32(_mm512_sub_epi32(e, _mm512_set1_epi32(1)), 23);
    const __m512i small = _mm512_sllv_epi32(_mm512_set1_epi32(0x00200000), e);
    return _mm512_castsi512_ps(_mm512_mask_blend_epi32(_mm512_cmplt_epu32_mask(e, _mm512_set1_epi32(2)), big, small));
}
GK_TARGET_AVX512 static inline __m512 mxfp4_t16_finish(const uint8_t *bw, const uint8_t *ba, __m512i s, __m512 acc) {
    const __m512 d = _mm512_mul_ps(GK_T16_F16(ba, 34, 0), mxfp4_t16_e8m0(bw));
    return _mm512_fmadd_ps(d, _mm512_cvtepi32_ps(s), acc);
}
GK_T16_DOT(mxfp4_dot_avx512, 17, 34, mxfp4_t16_pair, mxfp4_t16_finish, mxfp4_dot_t8)
#endif

static int64_t mxfp4_validate(const void *data, size_t nbytes) {
    const uint8_t *p = (const uint8_t *)data;
    size_t nb = nbytes / QB;
    for (size_t i = 0; i < nb; i++)
        if (p[i * QB] == 0xFF) return (int64_t)i;
    return nbytes % QB ? (int64_t)nb : -1;
}
static void mxfp4_byteswap(void *blocks, size_t n) { (void)blocks; (void)n; }

const gk_kernel_row gk_krow_mxfp4 = {
    .type = GK_TYPE_MXFP4,
    .vec_dot_type = GK_TYPE_Q8_0,
    .to_float = GK_ISA3(mxfp4_tof),
    .quantize = GK_ISA3(mxfp4_quant),
#if GK_X86
    .vec_dot = {mxfp4_dot_scalar, mxfp4_dot_t8, mxfp4_dot_avx512},
#else
    .vec_dot = GK_DOT3(mxfp4_dot),
#endif
    .validate = mxfp4_validate,
    .byteswap = mxfp4_byteswap,
    .uses_imatrix = 0,
    .dot_tol = 1e-3,
};
