/* Q4_K (format-facts §3.4): 256 values in 8 sub-blocks of 32; d, dmin: f16; scales[12] (six-bit
 * scale and min per sub-block, packed); qs[128] nibbles. y = d*sc*q - dmin*m.
 * quantize: ggml's quantize_row_q4_K_ref without an imatrix, quantize_row_q4_K_impl with one.
 * vec_dot pairs with Q8_K: integer sums per sub-block, bsums for the mins. */
#include "kdot_k45.h"

#define QB 144

/* Pack the 256 codes (shared by both paths). */
GK_KQ_INLINE void q4_K_pack(uint8_t *o, const uint8_t *L) {
    uint8_t *q = o + 16;
    for (int j = 0; j < 256; j += 64) {
        for (int l = 0; l < 32; ++l) q[l] = (uint8_t)(L[j + l] | (L[j + l + 32] << 4));
        q += 32;
    }
}

GK_KQ_Q45_QUANT(q4_K, QB, 15, -1.f, 0.1f, 20)

GK_KQ_INLINE void q4_K_tof_body(const void *vx, float *y, int64_t k) {
    const uint8_t *x = (const uint8_t *)vx;
    for (int64_t i = 0; i < k / 256; i++) {
        const uint8_t *b = x + i * QB;
        const float d = gk_f16_to_f32(gk_ld16(b)), min = gk_f16_to_f32(gk_ld16(b + 2));
        const uint8_t *q = b + 16;
        for (int j = 0; j < 4; ++j) {
            uint8_t sc, m;
            gk_kq_get_scale_min_k4(2 * j, b + 4, &sc, &m);
            const float d1 = d * sc, m1 = min * m;
            gk_kq_get_scale_min_k4(2 * j + 1, b + 4, &sc, &m);
            const float d2 = d * sc, m2 = min * m;
            for (int l = 0; l < 32; ++l) *y++ = d1 * (float)(q[l] & 0xF) - m1;
            for (int l = 0; l < 32; ++l) *y++ = d2 * (float)(q[l] >> 4) - m2;
            q += 32;
        }
    }
}
GK_KQ_FN(void, q4_K_tof, GK_KQ_P_TOF, GK_KQ_A_TOF)

/* Per super-block: isum = sum_s sc_s * sum(q*a), summ = sum_s m_s * bsum_s;
 * result += (da*d)*isum - (da*dmin)*summ. The SIMD variants compute the same integers. */
GK_KQ_INLINE float q4_K_dot_body(int64_t n, const void *vw, const void *va) {
    const uint8_t *w = (const uint8_t *)vw, *a = (const uint8_t *)va;
    float sumf = 0;
    for (int64_t i = 0; i < n / 256; i++) {
        const uint8_t *bw = w + i * QB, *ba = a + i * 292;
        const int8_t *qa = (const int8_t *)(ba + 4);
        const uint8_t *q = bw + 16;
        int32_t isum = 0, summ = 0;
        for (int j = 0; j < 8; ++j) {
            uint8_t sc, m;
            gk_kq_get_scale_min_k4(j, bw + 4, &sc, &m);
            const int shift = 4 * (j & 1);
            const uint8_t *qq = q + 32 * (j / 2);
            int32_t s = 0;
            for (int l = 0; l < 32; ++l) s += ((qq[l] >> shift) & 0xF) * qa[32 * j + l];
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
/* Same integers as the scalar body; the per-block scaling is accumulated in a float vector
 * (a different rounding order: within dot_tol, not bit-identical to scalar). */
GK_KQ_AVX2 float q4_K_dot_simd(int64_t n, const void *vw, const void *va) {
    const uint8_t *w = (const uint8_t *)vw, *a = (const uint8_t *)va;
    const __m256i m4 = _mm256_set1_epi8(0xF);
    __m256 accf = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / 256; i++) {
        const uint8_t *bw = w + i * QB, *ba = a + i * 292;
        GK_T16_PREFETCH(bw, QB, GK_T16_PF_DIST);
        const __m128i sm = gk_k45_scales(bw + 4);
        const __m256i sc16 = _mm256_cvtepu8_epi16(sm);            /* 8 scales, 8 mins */
        const __m256i s8 = _mm256_permute4x64_epi64(sc16, 0x44);  /* scales in both halves */
        __m256i acc = _mm256_setzero_si256();
        for (int c = 0; c < 4; ++c) {
            const __m256i q = gk_kq_ld256(bw + 16 + 32 * c);
            const __m256i lo = _mm256_and_si256(q, m4);
            const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), m4);
            const __m256i p0 = _mm256_maddubs_epi16(lo, gk_kq_ld256(ba + 4 + 64 * c));
            const __m256i p1 = _mm256_maddubs_epi16(hi, gk_kq_ld256(ba + 36 + 64 * c));
            acc = _mm256_add_epi32(acc, _mm256_madd_epi16(p0, gk_kq_scale_bcast(s8, 2 * c)));
            acc = _mm256_add_epi32(acc, _mm256_madd_epi16(p1, gk_kq_scale_bcast(s8, 2 * c + 1)));
        }
        accf = gk_k45_finish_avx2(bw, ba, sc16, acc, accf);
    }
    return gk_k45_result_avx2(accf);
}
/* One super-block's chunk sums, reduced: lane (L, k) = sub-block 2k (L < 2) or 2k+1 (L >= 2),
 * summed over 128-bit lane L. */
GK_TARGET_AVX512 static inline __attribute__((always_inline)) __m512i q4_K_u512(const uint8_t *bw, const uint8_t *ba) {
    const __m512i m4 = _mm512_set1_epi8(0xF);
    __m512i v[4];
    for (int c = 0; c < 4; ++c) {
        const __m512i q = _mm512_broadcast_i64x4(gk_kq_ld256(bw + 16 + 32 * c));
        const __m512i x = _mm512_and_si512(_mm512_mask_srli_epi16(q, 0xFFFF0000u, q, 4), m4);
        v[c] = _mm512_dpbusd_epi32(_mm512_setzero_si512(), x, _mm512_loadu_si512((const void *)(ba + 4 + 64 * c)));
    }
    return gk_k45_red4(v[0], v[1], v[2], v[3]);
}
GK_K45_DOT512(q4_K_dot_avx512, QB, q4_K_u512)
#endif
static float q4_K_dot_scalar GK_KQ_P_DOT { return q4_K_dot_body GK_KQ_A_DOT; }
#if GK_X86
GK_TARGET_AVX2 static float q4_K_dot_avx2 GK_KQ_P_DOT { return q4_K_dot_simd GK_KQ_A_DOT; }
#endif

static int64_t q4_K_validate(const void *data, size_t nbytes) {
    return gk_kq_validate_f16(data, nbytes, QB, 0, 2);
}
static void q4_K_byteswap(void *blocks, size_t n) {
    for (size_t i = 0; i < n; i++) {
        gk_kq_swap16((uint8_t *)blocks + i * QB);
        gk_kq_swap16((uint8_t *)blocks + i * QB + 2);
    }
}

const gk_kernel_row gk_krow_q4_K = {
    .type = GK_TYPE_Q4_K,
    .vec_dot_type = GK_TYPE_Q8_K,
    .to_float = GK_KQ_ISA3(q4_K_tof),
    .quantize = GK_KQ_ISA3(q4_K_quant),
    .vec_dot = GK_KQ_ISA3(q4_K_dot),
    .validate = q4_K_validate,
    .byteswap = q4_K_byteswap,
    .uses_imatrix = 1,
    .dot_tol = 2e-5,
};
