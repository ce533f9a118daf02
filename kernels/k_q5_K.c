/* Q5_K (format-facts §3.4): as Q4_K with a fifth bit per value in qh[32]; q in [0,31].
 * quantize: ggml's quantize_row_q5_K_ref without an imatrix, quantize_row_q5_K_impl with one.
 * vec_dot pairs with Q8_K: integer sums per sub-block, bsums for the mins. */
#include "kdot_k45.h"

#define QB 176

/* Pack the 256 codes (shared by both paths). */
GK_KQ_INLINE void q5_K_pack(uint8_t *o, const uint8_t *L) {
    uint8_t *qh = o + 16, *ql = o + 48;
    memset(qh, 0, 32);
    uint8_t m1 = 1, m2 = 2;
    for (int n = 0; n < 256; n += 64) {
        for (int j = 0; j < 32; ++j) {
            int l1 = L[n + j];
            if (l1 > 15) { l1 -= 16; qh[j] |= m1; }
            int l2 = L[n + j + 32];
            if (l2 > 15) { l2 -= 16; qh[j] |= m2; }
            ql[j] = (uint8_t)(l1 | (l2 << 4));
        }
        m1 = (uint8_t)(m1 << 2);
        m2 = (uint8_t)(m2 << 2);
        ql += 32;
    }
}

GK_KQ_Q45_QUANT(q5_K, QB, 31, -0.5f, 0.1f, 15)

GK_KQ_INLINE void q5_K_tof_body(const void *vx, float *y, int64_t k) {
    const uint8_t *x = (const uint8_t *)vx;
    for (int64_t i = 0; i < k / 256; i++) {
        const uint8_t *b = x + i * QB;
        const float d = gk_f16_to_f32(gk_ld16(b)), min = gk_f16_to_f32(gk_ld16(b + 2));
        const uint8_t *qh = b + 16, *ql = b + 48;
        uint8_t u1 = 1, u2 = 2;
        for (int j = 0; j < 4; ++j) {
            uint8_t sc, m;
            gk_kq_get_scale_min_k4(2 * j, b + 4, &sc, &m);
            const float d1 = d * sc, m1 = min * m;
            gk_kq_get_scale_min_k4(2 * j + 1, b + 4, &sc, &m);
            const float d2 = d * sc, m2 = min * m;
            for (int l = 0; l < 32; ++l)
                *y++ = d1 * (float)((ql[l] & 0xF) + (qh[l] & u1 ? 16 : 0)) - m1;
            for (int l = 0; l < 32; ++l)
                *y++ = d2 * (float)((ql[l] >> 4) + (qh[l] & u2 ? 16 : 0)) - m2;
            ql += 32;
            u1 = (uint8_t)(u1 << 2);
            u2 = (uint8_t)(u2 << 2);
        }
    }
}
GK_KQ_FN(void, q5_K_tof, GK_KQ_P_TOF, GK_KQ_A_TOF)

GK_KQ_INLINE float q5_K_dot_body(int64_t n, const void *vw, const void *va) {
    const uint8_t *w = (const uint8_t *)vw, *a = (const uint8_t *)va;
    float sumf = 0;
    for (int64_t i = 0; i < n / 256; i++) {
        const uint8_t *bw = w + i * QB, *ba = a + i * 292;
        const int8_t *qa = (const int8_t *)(ba + 4);
        const uint8_t *qh = bw + 16, *ql = bw + 48;
        int32_t isum = 0, summ = 0;
        for (int j = 0; j < 8; ++j) {
            uint8_t sc, m;
            gk_kq_get_scale_min_k4(j, bw + 4, &sc, &m);
            const int shift = 4 * (j & 1);
            const uint8_t *qq = ql + 32 * (j / 2);
            int32_t s = 0;
            for (int l = 0; l < 32; ++l) {
                int q = ((qq[l] >> shift) & 0xF) | (((qh[l] >> j) & 1) << 4);
                s += q * qa[32 * j + l];
            }
            isum += sc * s;
            summ += m * ((int16_t)gk_ld16(ba + 260 + 4 * j) + (int16_t)gk_ld16(ba + 262 + 4 * j));
        }
        const float da = gk_ldf(ba);
        sumf += (da * gk_f16_to_f32(gk_ld16(bw))) * (float)isum -
                (da * gk_f16_to_f32(gk_ld16(bw + 2))) * (float)summ;
    }
    return sumf;
}
#if GK_X86
GK_KQ_AVX2 float q5_K_dot_simd(int64_t n, const void *vw, const void *va) {
    const uint8_t *w = (const uint8_t *)vw, *a = (const uint8_t *)va;
    const __m256i m4 = _mm256_set1_epi8(0xF), one = _mm256_set1_epi8(1);
    __m256 accf = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / 256; i++) {
        const uint8_t *bw = w + i * QB, *ba = a + i * 292;
        GK_T16_PREFETCH(bw, QB, GK_T16_PF_DIST);
        const __m256i sc16 = _mm256_cvtepu8_epi16(gk_k45_scales(bw + 4));
        const __m256i s8 = _mm256_permute4x64_epi64(sc16, 0x44);
        const __m256i qh = gk_kq_ld256(bw + 16);
        __m256i acc = _mm256_setzero_si256();
        for (int c = 0; c < 4; ++c) {
            const __m256i q = gk_kq_ld256(bw + 48 + 32 * c);
            const __m256i h0 = _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2 * c), one), 4);
            const __m256i h1 = _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2 * c + 1), one), 4);
            const __m256i lo = _mm256_or_si256(_mm256_and_si256(q, m4), h0);
            const __m256i hi = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q, 4), m4), h1);
            acc = _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(lo, gk_kq_ld256(ba + 4 + 64 * c)), gk_kq_scale_bcast(s8, 2 * c)));
            acc = _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(hi, gk_kq_ld256(ba + 36 + 64 * c)), gk_kq_scale_bcast(s8, 2 * c + 1)));
        }
        accf = gk_k45_finish_avx2(bw, ba, sc16, acc, accf);
    }
    return gk_k45_result_avx2(accf);
}
/* One super-block's chunk sums, reduced: lane (L, k) = sub-block 2k (L < 2) or 2k+1 (L >= 2),
 * summed over 128-bit lane L. */
GK_TARGET_AVX512 static inline __attribute__((always_inline)) __m512i q5_K_u512(const uint8_t *bw, const uint8_t *ba) {
    const __m512i m4 = _mm512_set1_epi8(0xF), s16 = _mm512_set1_epi8(16);
    __m512i hb[4];
    for (int c = 0; c < 4; ++c)
        hb[c] = _mm512_inserti64x4(_mm512_set1_epi8((char)(1 << (2 * c))), _mm256_set1_epi8((char)(1 << (2 * c + 1))), 1);
    const __m512i qh = _mm512_broadcast_i64x4(gk_kq_ld256(bw + 16));
    __m512i v[4];
    for (int c = 0; c < 4; ++c) {
        const __m512i q = _mm512_broadcast_i64x4(gk_kq_ld256(bw + 48 + 32 * c));
        __m512i x = _mm512_and_si512(_mm512_mask_srli_epi16(q, 0xFFFF0000u, q, 4), m4);
        x = _mm512_mask_add_epi8(x, _mm512_test_epi8_mask(qh, hb[c]), x, s16);
        v[c] = _mm512_dpbusd_epi32(_mm512_setzero_si512(), x, _mm512_loadu_si512((const void *)(ba + 4 + 64 * c)));
    }
    return gk_k45_red4(v[0], v[1], v[2], v[3]);
}
GK_K45_DOT512(q5_K_dot_avx512, QB, q5_K_u512)
#endif
static float q5_K_dot_scalar GK_KQ_P_DOT { return q5_K_dot_body GK_KQ_A_DOT; }
#if GK_X86
GK_TARGET_AVX2 static float q5_K_dot_avx2 GK_KQ_P_DOT { return q5_K_dot_simd GK_KQ_A_DOT; }
#endif

static int64_t q5_K_validate(const void *data, size_t nbytes) {
    return gk_kq_validate_f16(data, nbytes, QB, 0, 2);
}
static void q5_K_byteswap(void *blocks, size_t n) {
    for (size_t i = 0; i < n; i++) {
        gk_kq_swap16((uint8_t *)blocks + i * QB);
        gk_kq_swap16((uint8_t *)blocks + i * QB + 2);
    }
}

const gk_kernel_row gk_krow_q5_K = {
    .type = GK_TYPE_Q5_K,
    .vec_dot_type = GK_TYPE_Q8_K,
    .to_float = GK_KQ_ISA3(q5_K_tof),
    .quantize = GK_KQ_ISA3(q5_K_quant),
    .vec_dot = GK_KQ_ISA3(q5_K_dot),
    .validate = q5_K_validate,
    .byteswap = q5_K_byteswap,
    .uses_imatrix = 1,
    .dot_tol = 2e-5,
};
