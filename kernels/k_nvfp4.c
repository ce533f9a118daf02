/* NVFP4 (format-facts §3.7): 64 values in four sub-blocks of 16, d[4] (UE4M3, one per
 * sub-block), qs[32]: byte qs[8s+j] holds element 16s+j (low nibble) and 16s+8+j (high).
 * y = Kfp4[nibble]*ue4m3_half(d[s]). Reference: d[s] = encode_ue4m3(amax/6), nearest Kfp4
 * entry. Ignores the imatrix. vec_dot pairs with Q8_0 (two Q8_0 blocks per NVFP4 block).
 * Validation: nothing is checked (every byte pattern decodes to a finite value). */
#include "kdot512.h"

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
            const uint8_t ue = gk_fp32_to_ue4m3(gk_amax_n(xb, 16) / 6.0f);
            o[s] = ue;
            const float d = gk_ue4m3_half(ue);
            if (simd) {
                NVFP4_SIMD_SUB(xb, o + 4 + s * 8, d);
                continue;
            }
            gk_fp4_pack_pairs(xb, 8, d, o + 4 + s * 8);
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
/* The four UE4M3 scales of a block decoded together (as gk_ue4m3_half) and multiplied by the
 * two activation scales (da * ue, as the scalar code): the one-block steps (AVX2 last block,
 * AVX-512 rows not a multiple of eight blocks). */
GK_TARGET_AVX2 static inline __m128 nvfp4_scales4(const uint8_t *bw, const uint8_t *ba0) {
    const __m128i v = _mm_cvtepu8_epi32(_mm_cvtsi32_si128((int)gk_ld32(bw)));
    const __m128i ex = _mm_and_si128(_mm_srli_epi32(v, 3), _mm_set1_epi32(0xF));
    const __m128i man = _mm_and_si128(v, _mm_set1_epi32(7));
    const __m128i nrm = _mm_or_si128(_mm_slli_epi32(_mm_add_epi32(ex, _mm_set1_epi32(119)), 23),
                                     _mm_slli_epi32(man, 20));
    const __m128 sub = _mm_mul_ps(_mm_cvtepi32_ps(man), _mm_set1_ps(0x1p-10f));
    __m128 u = _mm_blendv_ps(_mm_castsi128_ps(nrm), sub,
                             _mm_castsi128_ps(_mm_cmpeq_epi32(ex, _mm_setzero_si128())));
    const __m128i z = _mm_or_si128(_mm_cmpeq_epi32(v, _mm_setzero_si128()),
                                   _mm_cmpeq_epi32(v, _mm_set1_epi32(0x7F)));
    u = _mm_andnot_ps(_mm_castsi128_ps(z), u);
    const uint32_t h2 = (uint32_t)gk_ld16(ba0) | ((uint32_t)gk_ld16(ba0 + 34) << 16);
    __m128 da = _mm_cvtph_ps(_mm_cvtsi32_si128((int)h2));
    da = _mm_unpacklo_ps(da, da); /* da0 da0 da1 da1 */
    return _mm_mul_ps(da, u);
}
/* The values of a block as int8 in two vectors, each 128-bit lane one sub-block in element order:
 * *x02 = sub-blocks 0 | 2, *x13 = sub-blocks 1 | 3 (no lane-crossing shuffle; the activations
 * are loaded to match). */
GK_TARGET_AVX2 static inline void nvfp4_vals_avx2(const uint8_t *bw, __m256i tbl, __m256i *x02, __m256i *x13) {
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    const __m256i t = _mm256_loadu_si256((const __m256i *)(bw + 4));
    const __m256i lo = _mm256_and_si256(t, m4), hi = _mm256_and_si256(_mm256_srli_epi16(t, 4), m4);
    *x02 = _mm256_shuffle_epi8(tbl, _mm256_unpacklo_epi64(lo, hi));
    *x13 = _mm256_shuffle_epi8(tbl, _mm256_unpackhi_epi64(lo, hi));
}
/* 16-bit pair sums of x*y (|x| <= 12: a sub-block's eight pair sums fit in int16). */
GK_TARGET_AVX2 static inline __m256i nvfp4_pairs_avx2(__m256i x, __m256i y) {
    return _mm256_maddubs_epi16(_mm256_sign_epi8(x, x), _mm256_sign_epi8(y, x));
}
/* 16 bytes at p (lane 0) and at q (lane 1). */
GK_TARGET_AVX2 static inline __m256i nvfp4_ld2x16(const uint8_t *p, const uint8_t *q) {
    return _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)p)),
                                   _mm_loadu_si128((const __m128i *)q), 1);
}
/* AVX2: two blocks (eight sub-blocks) per step. The eight 16-bit pair-sum vectors are reduced
 * by three vphaddw and one vpmaddwd to the eight sub-block sums, lane 0 [b0s0 b0s1 b1s0 b1s1],
 * lane 1 [b0s2 b0s3 b1s2 b1s3]; the eight UE4M3 scales in that order are decoded as fp16
 * ((x & 0x7F) << 7 is ue4m3_half(x) / 128, the 128 moved to the activation scales); one FMA. */
GK_TARGET_AVX2 static inline __m256 nvfp4_pair_avx2(const uint8_t *bw, const uint8_t *ba, __m256i tbl, __m256 acc) {
    __m256i x02, x13, z02, z13;
    nvfp4_vals_avx2(bw, tbl, &x02, &x13);
    nvfp4_vals_avx2(bw + 36, tbl, &z02, &z13);
    const __m256i m0 = nvfp4_pairs_avx2(x02, nvfp4_ld2x16(ba + 2, ba + 36));
    const __m256i m1 = nvfp4_pairs_avx2(x13, nvfp4_ld2x16(ba + 18, ba + 52));
    const __m256i m2 = nvfp4_pairs_avx2(z02, nvfp4_ld2x16(ba + 70, ba + 104));
    const __m256i m3 = nvfp4_pairs_avx2(z13, nvfp4_ld2x16(ba + 86, ba + 120));
    const __m256i s = _mm256_madd_epi16(_mm256_hadd_epi16(_mm256_hadd_epi16(m0, m1), _mm256_hadd_epi16(m2, m3)),
                                        _mm256_set1_epi16(1));
    const uint64_t su = (uint64_t)gk_ld16(bw) | ((uint64_t)gk_ld16(bw + 36) << 16) |
                        ((uint64_t)gk_ld16(bw + 2) << 32) | ((uint64_t)gk_ld16(bw + 38) << 48);
    const __m128i hw = _mm_cvtepu8_epi16(_mm_cvtsi64_si128((long long)su));
    const __m128i h = _mm_andnot_si128(_mm_cmpeq_epi16(hw, _mm_set1_epi16(0x7F)),
                                       _mm_and_si128(_mm_slli_epi16(hw, 7), _mm_set1_epi16(0x3F80)));
    const uint64_t au = (uint64_t)gk_ld16(ba) | ((uint64_t)gk_ld16(ba + 34) << 16) |
                        ((uint64_t)gk_ld16(ba + 68) << 32) | ((uint64_t)gk_ld16(ba + 102) << 48);
    const __m128 da = _mm_mul_ps(_mm_cvtph_ps(_mm_cvtsi64_si128((long long)au)), _mm_set1_ps(128.0f));
    const __m256 d = _mm256_mul_ps(_mm256_cvtph_ps(h), _mm256_permutevar8x32_ps(_mm256_castps128_ps256(da),
                                                     _mm256_setr_epi32(0, 0, 2, 2, 1, 1, 3, 3)));
    return _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(s), acc);
}
/* One block (the odd last one): two vectors of two sub-blocks, scales as nvfp4_scales4. */
GK_TARGET_AVX2 static inline __m256 nvfp4_blk_avx2(const uint8_t *bw, const uint8_t *ba, __m256i tbl, __m256 acc) {
    __m256i x02, x13;
    nvfp4_vals_avx2(bw, tbl, &x02, &x13);
    const __m256 s4 = _mm256_castps128_ps256(nvfp4_scales4(bw, ba));
    const __m256i p02 = gk_dot_i8_i32(x02, nvfp4_ld2x16(ba + 2, ba + 36));
    const __m256i p13 = gk_dot_i8_i32(x13, nvfp4_ld2x16(ba + 18, ba + 52));
    acc = _mm256_fmadd_ps(_mm256_permutevar8x32_ps(s4, _mm256_setr_epi32(0, 0, 0, 0, 2, 2, 2, 2)),
                          _mm256_cvtepi32_ps(p02), acc);
    return _mm256_fmadd_ps(_mm256_permutevar8x32_ps(s4, _mm256_setr_epi32(1, 1, 1, 1, 3, 3, 3, 3)),
                           _mm256_cvtepi32_ps(p13), acc);
}
GK_TARGET_AVX2 static float nvfp4_dot_avx2 GK_P_DOT {
    const uint8_t *w = (const uint8_t *)vw, *a = (const uint8_t *)va;
    const __m256i tbl = gk_table16(gk_kvalues_fp4);
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    const int64_t nb = n / 64;
    int64_t i = 0;
    for (; i + 3 < nb; i += 4) {
        GK_T16_PREFETCH(w + i * 36, 144, GK_T16_PF_DIST);
        acc0 = nvfp4_pair_avx2(w + i * 36, a + 2 * i * 34, tbl, acc0);
        acc1 = nvfp4_pair_avx2(w + (i + 2) * 36, a + (2 * i + 4) * 34, tbl, acc1);
    }
    if (i + 1 < nb) {
        acc0 = nvfp4_pair_avx2(w + i * 36, a + 2 * i * 34, tbl, acc0);
        i += 2;
    }
    if (i < nb) acc1 = nvfp4_blk_avx2(w + i * 36, a + 2 * i * 34, tbl, acc1);
    return gk_hsum_ps(_mm256_add_ps(acc0, acc1));
}
/* AVX-512: a block per 512-bit vector, values + 12 as unsigned codes (VNNI), minus 12*Σy. */
GK_TARGET_AVX512 static inline __m512 nvfp4_dot_blk512(const uint8_t *bw, const uint8_t *ba, __m512 acc) {
    static const int8_t tbl12[16] = {12, 13, 14, 15, 16, 18, 20, 24, 12, 11, 10, 9, 8, 6, 4, 0};
    const __m512 d = _mm512_permutexvar_ps(_mm512_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3),
                                           _mm512_castps128_ps512(nvfp4_scales4(bw, ba)));
    __m512i z = _mm512_permutexvar_epi64(_mm512_setr_epi64(0, 0, 1, 1, 2, 2, 3, 3),
                                         _mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)(bw + 4))));
    z = _mm512_mask_blend_epi64(0xAA, z, _mm512_srli_epi16(z, 4));
    z = _mm512_and_si512(z, _mm512_set1_epi8(0x0F));
    const __m512i xu = _mm512_shuffle_epi8(_mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)tbl12)), z);
    const __m512i y = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)(ba + 2))),
                                         _mm256_loadu_si256((const __m256i *)(ba + 36)), 1);
    const __m512i p = _mm512_dpbusd_epi32(_mm512_setzero_si512(), xu, y);
    const __m512i q = _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_set1_epi8(12), y);
    return _mm512_fmadd_ps(d, _mm512_cvtepi32_ps(_mm512_sub_epi32(p, q)), acc);
}
/* AVX-512 tiles of eight blocks (512 values, sixteen Q8_0 blocks), after kdot512.h: the integer
 * sums of a block per vector as above (128-bit lane L = sub-block L, four partial sums each);
 * four blocks reduced to their sixteen sub-block sums by two levels of unpack + add (lane L,
 * dword k = block k, sub-block L); their sixteen UE4M3 scales fetched by one window permute and
 * a byte transpose, decoded as fp16 ((x & 0x7F) << 7 is ue4m3_half(x) / 128, the 128 moved to the
 * activation scales), the activation scales of the tile by window permutes (GK_T16_F16); one
 * FMA per four blocks. Rows not a multiple of eight blocks finish with the step above. */
GK_TARGET_AVX512 static inline __m512i nvfp4_t8_isum(const uint8_t *bw, const uint8_t *ba, __m512i tbl12) {
    __m512i z = _mm512_permutexvar_epi64(_mm512_setr_epi64(0, 0, 1, 1, 2, 2, 3, 3),
                                         _mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)(bw + 4))));
    z = _mm512_mask_srli_epi16(z, (__mmask32)0xF0F0F0F0u, z, 4);
    const __m512i xu = _mm512_shuffle_epi8(tbl12, _mm512_and_si512(z, _mm512_set1_epi8(0x0F)));
    const __m512i y = gk_t16_q8(ba + 2, ba + 36);
    const __m512i p = _mm512_dpbusd_epi32(_mm512_setzero_si512(), xu, y);
    return _mm512_sub_epi32(p, _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_set1_epi8(12), y));
}
/* Four blocks at bw (activations at ba): acc + Σ scale * isum over their sixteen sub-blocks; da16
 * the tile's sixteen activation scales (times 128), g the group (0, 1) of the tile. */
GK_TARGET_AVX512 static inline __m512 nvfp4_t8_group(const uint8_t *bw, const uint8_t *ba, __m512 da16, int g,
                                                     __m512i tbl12, __m512 acc) {
    __m512i s0 = nvfp4_t8_isum(bw, ba, tbl12), s1 = nvfp4_t8_isum(bw + 36, ba + 68, tbl12);
    __m512i s2 = nvfp4_t8_isum(bw + 72, ba + 136, tbl12), s3 = nvfp4_t8_isum(bw + 108, ba + 204, tbl12);
    const __m512i t0 = _mm512_add_epi32(_mm512_unpacklo_epi32(s0, s1), _mm512_unpackhi_epi32(s0, s1));
    const __m512i t1 = _mm512_add_epi32(_mm512_unpacklo_epi32(s2, s3), _mm512_unpackhi_epi32(s2, s3));
    const __m512i u = _mm512_add_epi32(_mm512_unpacklo_epi64(t0, t1), _mm512_unpackhi_epi64(t0, t1));
    /* the scale dwords of the four blocks (bytes 0, 36, 72, 108: words 0-1, 18-19, 36-37, 54-55) */
    const __m512i sw = _mm512_permutex2var_epi16(_mm512_loadu_si512(bw),
                                                 _mm512_setr_epi32(0x10000, 0x130012, 0x250024, 0x370036, 0, 0, 0, 0,
                                                                   0, 0, 0, 0, 0, 0, 0, 0),
                                                 _mm512_loadu_si512(bw + 64));
    const __m128i sb = _mm_shuffle_epi8(_mm512_castsi512_si128(sw),
                                        _mm_setr_epi8(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15));
    const __m256i hw = _mm256_maskz_cvtepu8_epi16(_mm_cmpneq_epi8_mask(sb, _mm_set1_epi8(0x7F)), sb);
    const __m512 ue = _mm512_cvtph_ps(_mm256_and_si256(_mm256_slli_epi16(hw, 7), _mm256_set1_epi16(0x3F80)));
    /* lane 4L+k: Q8_0 block 2k + L/2 of the group */
    const __m512i di = g ? _mm512_setr_epi32(8, 10, 12, 14, 8, 10, 12, 14, 9, 11, 13, 15, 9, 11, 13, 15)
                         : _mm512_setr_epi32(0, 2, 4, 6, 0, 2, 4, 6, 1, 3, 5, 7, 1, 3, 5, 7);
    const __m512 d = _mm512_mul_ps(ue, _mm512_permutexvar_ps(di, da16));
    return _mm512_fmadd_ps(d, _mm512_cvtepi32_ps(u), acc);
}
GK_TARGET_AVX512 static float nvfp4_dot_avx512 GK_P_DOT {
    static const int8_t tbl12[16] = {12, 13, 14, 15, 16, 18, 20, 24, 12, 11, 10, 9, 8, 6, 4, 0};
    const uint8_t *w = (const uint8_t *)vw, *a = (const uint8_t *)va;
    const __m512i t12 = _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)tbl12));
    __m512 acc = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
    const int64_t nb = n / 64;
    int64_t i = 0;
    for (; i + 7 < nb; i += 8) {
        const uint8_t *bw = w + i * 36, *ba = a + 2 * i * 34;
        GK_T16_PREFETCH(bw, 288, GK_T16_PF_DIST);
        const __m512 da16 = _mm512_mul_ps(GK_T16_F16(ba, 34, 0), _mm512_set1_ps(128.0f));
        acc = nvfp4_t8_group(bw, ba, da16, 0, t12, acc);
        acc1 = nvfp4_t8_group(bw + 144, ba + 272, da16, 1, t12, acc1);
    }
    for (; i < nb; i++) acc = nvfp4_dot_blk512(w + i * 36, a + 2 * i * 34, acc);
    return _mm512_reduce_add_ps(_mm512_add_ps(acc, acc1));
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
    .vec_dot = GK_DOT3(nvfp4_dot),
    .validate = nvfp4_validate,
    .byteswap = nvfp4_byteswap,
    .uses_imatrix = 0,
    .dot_tol = 1e-3,
};
