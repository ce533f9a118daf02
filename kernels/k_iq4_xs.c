/* IQ4_XS (format-facts §3.5): 256 values, d:f16, scales_h:u16, scales_l[4], qs[128];
 * sub-block ib of 32: ls = 6-bit scale, dl = d*(ls-32), y = dl*K[nibble] (low nibble j, high
 * nibble j+16 within the sub-block). quantize: quantize_row_iq4_nl_impl(256, 32, ntry 7),
 * σ² = 2Σx²/256. vec_dot pairs with Q8_K (layout gk_block_q8_K: d f32, qs[256], bsums[16]). */
#include "kq_search.h"

#define QB 136
#define Q8K_B 292

GK_INLINE void iq4_xs_block(const float *x, uint8_t *out, const float *quant_weights, int simd) {
    const float sigma2 = gk_iq4_sigma2(x, 256);
    float scales[8], weight[32];
    uint8_t L[256];
    float max_scale = 0, amax_scale = 0;
    for (int ib = 0; ib < 8; ++ib) {
        const float *xb = x + ib * 32;
        gk_iq4_weights(xb, quant_weights ? quant_weights + ib * 32 : NULL, sigma2, weight);
        const float d = GK_IQ4_SCALE(simd, xb, weight);
        scales[ib] = d;
        float abs_d = fabsf(d);
        if (abs_d > amax_scale) {
            amax_scale = abs_d;
            max_scale = d;
        }
    }
    uint16_t scales_h = 0;
    uint8_t scales_l[4] = {0, 0, 0, 0};
    const float d = -max_scale / 32;
    gk_st16(out, gk_f32_to_f16(d));
    const float id = d ? 1 / d : 0.f;
    for (int ib = 0; ib < 8; ++ib) {
        int l = gk_nearest_int(id * scales[ib]);
        l = l < -32 ? -32 : l > 31 ? 31 : l;
        const float dl = d * l;
        const float idl = dl ? 1 / dl : 0.f;
        const float *xb = x + ib * 32;
        GK_IQ4_INDICES(simd, xb, idl, L + ib * 32);
        l += 32;
        const uint8_t l_l = (uint8_t)(l & 0xf), l_h = (uint8_t)(l >> 4);
        if (ib % 2 == 0) scales_l[ib / 2] = l_l;
        else scales_l[ib / 2] |= (uint8_t)(l_l << 4);
        scales_h |= (uint16_t)(l_h << 2 * (ib % 8));
    }
    gk_st16(out + 2, scales_h);
    memcpy(out + 4, scales_l, 4);
    for (int i = 0; i < 8; ++i)
        for (int j = 0; j < 16; ++j)
            out[8 + 16 * i + j] = (uint8_t)(L[32 * i + j] | (L[32 * i + 16 + j] << 4));
}

/* the 16 tries of each sub-block's scale search run as vector lanes: identical bytes */
GK_INLINE size_t iq4_xs_quant_impl(const float *x, void *vy, int64_t nrows, int64_t n_per_row,
                                   const float *imatrix, int simd) {
    return gk_quant_block_rows(x, vy, nrows, n_per_row, imatrix, simd, 256, QB, iq4_xs_block);
}
GK_KFN_QSIMD2(iq4_xs_quant)

GK_INLINE void iq4_xs_tof_impl(const void *vx, float *y, int64_t k) {
    const uint8_t *x = (const uint8_t *)vx;
    for (int64_t i = 0; i < k / 256; i++) {
        const uint8_t *b = x + i * QB;
        const float d = gk_h2f(gk_ld16(b));
        const uint16_t sh = gk_ld16(b + 2);
        const uint8_t *qs = b + 8;
        for (int ib = 0; ib < 8; ++ib) {
            const int ls = ((b[4 + ib / 2] >> 4 * (ib % 2)) & 0xf) | (((sh >> 2 * ib) & 3) << 4);
            const float dl = d * (float)(ls - 32);
            float *yb = y + i * 256 + ib * 32;
            for (int j = 0; j < 16; ++j) {
                yb[j] = dl * gk_kvalues_iq4nl[qs[16 * ib + j] & 0xf];
                yb[j + 16] = dl * gk_kvalues_iq4nl[qs[16 * ib + j] >> 4];
            }
        }
    }
}
GK_KFNV(iq4_xs_tof, GK_P_TOF, GK_A_TOF)

GK_INLINE float iq4_xs_dot_impl(int64_t n, const void *vw, const void *va) {
    const uint8_t *w = (const uint8_t *)vw, *a = (const uint8_t *)va;
    float sumf = 0;
    for (int64_t i = 0; i < n / 256; i++) {
        const uint8_t *b = w + i * QB, *ba = a + i * Q8K_B;
        const float d4d8 = gk_h2f(gk_ld16(b)) * gk_ldf(ba);
        uint16_t h = gk_ld16(b + 2);
        const uint8_t *qs = b + 8;
        const int8_t *q8 = (const int8_t *)(ba + 4);
        for (int ib = 0; ib < 8; ib += 2) {
            const int ls1 = (b[4 + ib / 2] & 0xf) | ((h << 4) & 0x30);
            const int ls2 = (b[4 + ib / 2] >> 4) | ((h << 2) & 0x30);
            h >>= 4;
            const float d1 = d4d8 * (float)(ls1 - 32), d2 = d4d8 * (float)(ls2 - 32);
            int sumi1 = 0, sumi2 = 0;
            for (int j = 0; j < 16; ++j) {
                sumi1 += q8[j] * gk_kvalues_iq4nl[qs[j] & 0xf];
                sumi2 += q8[j + 16] * gk_kvalues_iq4nl[qs[j] >> 4];
            }
            sumf += d1 * (float)(sumi1 + sumi2);
            qs += 16;
            q8 += 32;
            sumi1 = sumi2 = 0;
            for (int j = 0; j < 16; ++j) {
                sumi1 += q8[j] * gk_kvalues_iq4nl[qs[j] & 0xf];
                sumi2 += q8[j + 16] * gk_kvalues_iq4nl[qs[j] >> 4];
            }
            sumf += d2 * (float)(sumi1 + sumi2);
            qs += 16;
            q8 += 32;
        }
    }
    return sumf;
}
static float iq4_xs_dot_scalar GK_P_DOT { return iq4_xs_dot_impl GK_A_DOT; }
#if GK_X86
/* AVX2 (also the AVX-512 path): integer inner sums per block, float scales, FMA. */
GK_TARGET_AVX2 static float iq4_xs_dot_avx2 GK_P_DOT {
    const uint8_t *w = (const uint8_t *)vw, *a = (const uint8_t *)va;
    __m256 acc = _mm256_setzero_ps();
    const __m256i tbl = gk_table16(gk_kvalues_iq4nl);
    for (int64_t i = 0; i < n / 256; i++) {
        const uint8_t *b = w + i * 136, *ba = a + i * 292;
        const float d4d8 = gk_h2f_f16c(b) * gk_ldf(ba);
        const uint16_t h = gk_ld16(b + 2);
        __m256i sumi = _mm256_setzero_si256();
        for (int ib = 0; ib < 8; ib++) {
            const int ls = ((b[4 + ib / 2] >> 4 * (ib % 2)) & 0xf) | (((h >> 2 * ib) & 3) << 4);
            const __m256i x = _mm256_shuffle_epi8(tbl, gk_nibbles32(b + 8 + 16 * ib));
            const __m256i y = _mm256_loadu_si256((const __m256i *)(ba + 4 + 32 * ib));
            sumi = _mm256_add_epi32(sumi, _mm256_mullo_epi32(gk_dot_i8_i32(x, y), _mm256_set1_epi32(ls - 32)));
        }
        acc = _mm256_fmadd_ps(_mm256_set1_ps(d4d8), _mm256_cvtepi32_ps(sumi), acc);
    }
    return gk_hsum_ps(acc);
}
/* AVX-512: 64 bytes of qs (four 32-sub-blocks) give 128 nibbles; vpermt2q puts each
 * sub-block's low then high nibbles in order (matching the contiguous activations), vpshufb
 * maps them to the table + 128 (unsigned, 1..241), one vpdpbusd per two sub-blocks. The +128
 * is removed as 128 * scale * bsum (vpdpwssd), the 6-bit scales are applied by vpmulld, one
 * float FMA per super-block. */
GK_TARGET_AVX512 static float iq4_xs_dot_avx512 GK_P_DOT {
    const uint8_t *w = (const uint8_t *)vw, *a = (const uint8_t *)va;
    const __m512i tbl = _mm512_broadcast_i32x4(
        _mm_xor_si128(_mm_loadu_si128((const __m128i *)gk_kvalues_iq4nl), _mm_set1_epi8((char)0x80)));
    const __m512i m4 = _mm512_set1_epi8(0x0F), zero = _mm512_setzero_si512();
    const __m512i ix0 = _mm512_set_epi64(11, 10, 3, 2, 9, 8, 1, 0);
    const __m512i ix1 = _mm512_set_epi64(15, 14, 7, 6, 13, 12, 5, 4);
    /* vector v (sub-blocks 2v, 2v+1): dwords 0..7 scale 2v, 8..15 scale 2v+1 */
    const __m512i sv0 = _mm512_set_epi32(1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0);
    const __m512i two = _mm512_set1_epi32(2);
    __m512 accf0 = _mm512_setzero_ps(), accf1 = _mm512_setzero_ps();
    for (int64_t i = 0; i < n / 256; i++) {
        const uint8_t *b = w + i * QB, *ba = a + i * Q8K_B;
        /* software prefetch of the weight stream 16 KiB ahead (a hint: never faults) */
        for (int l = 0; l < QB; l += 64) _mm_prefetch((const char *)(b + 16384 + l), _MM_HINT_T0);
        /* ls_ib: low nibble ib of scales_l, 2 bits ib of scales_h above */
        const uint64_t ls = _pdep_u64(gk_ld32(b + 4), 0x0F0F0F0F0F0F0F0Full) |
                            _pdep_u64(gk_ld16(b + 2), 0x3030303030303030ull);
        const __m128i lsb = _mm_cvtsi64_si128((long long)ls);
        const __m512i sc = _mm512_sub_epi32(_mm512_cvtepu8_epi32(lsb), _mm512_set1_epi32(32));
        /* -128 * (ls - 32) per bsum (each scale twice) */
        const __m256i scw = _mm256_slli_epi16(
            _mm256_sub_epi16(_mm256_set1_epi16(32), _mm256_cvtepu8_epi16(_mm_unpacklo_epi8(lsb, lsb))), 7);
        __m512i acc = _mm512_dpwssd_epi32(zero, _mm512_zextsi256_si512(_mm256_loadu_si256((const __m256i *)(ba + 260))),
                                          _mm512_zextsi256_si512(scw));
        __m512i sidx = sv0;
        for (int h = 0; h < 2; ++h) {
            const __m512i z = _mm512_loadu_si512((const void *)(b + 8 + 64 * h));
            const __m512i lo = _mm512_and_si512(z, m4), hi = _mm512_and_si512(_mm512_srli_epi16(z, 4), m4);
            const __m512i w0 = _mm512_shuffle_epi8(tbl, _mm512_permutex2var_epi64(lo, ix0, hi));
            const __m512i w1 = _mm512_shuffle_epi8(tbl, _mm512_permutex2var_epi64(lo, ix1, hi));
            const __m512i s0 = _mm512_dpbusd_epi32(zero, w0, _mm512_loadu_si512((const void *)(ba + 4 + 128 * h)));
            const __m512i s1 = _mm512_dpbusd_epi32(zero, w1, _mm512_loadu_si512((const void *)(ba + 68 + 128 * h)));
            acc = _mm512_add_epi32(acc, _mm512_mullo_epi32(s0, _mm512_permutexvar_epi32(sidx, sc)));
            sidx = _mm512_add_epi32(sidx, two);
            acc = _mm512_add_epi32(acc, _mm512_mullo_epi32(s1, _mm512_permutexvar_epi32(sidx, sc)));
            sidx = _mm512_add_epi32(sidx, two);
        }
        const __m512 dd = _mm512_set1_ps(gk_h2f_f16c(b) * gk_ldf(ba));
        if (i & 1) accf1 = _mm512_fmadd_ps(dd, _mm512_cvtepi32_ps(acc), accf1);
        else accf0 = _mm512_fmadd_ps(dd, _mm512_cvtepi32_ps(acc), accf0);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(accf0, accf1));
}
#endif

static int64_t iq4_xs_validate(const void *data, size_t nbytes) {
    return gk_validate_f16_fields(data, nbytes, QB, 0, -1);
}
static void iq4_xs_byteswap(void *blocks, size_t n) {
    for (size_t i = 0; i < n; i++) {
        gk_swap16_at((uint8_t *)blocks + i * QB);
        gk_swap16_at((uint8_t *)blocks + i * QB + 2);
    }
}

const gk_kernel_row gk_krow_iq4_xs = {
    .type = GK_TYPE_IQ4_XS,
    .vec_dot_type = GK_TYPE_Q8_K,
    .to_float = GK_ISA3(iq4_xs_tof),
    .quantize = GK_DOT2(iq4_xs_quant),
    .vec_dot = GK_DOT3(iq4_xs_dot),
    .validate = iq4_xs_validate,
    .byteswap = iq4_xs_byteswap,
    .uses_imatrix = 1,
    .dot_tol = 1e-3,
};
