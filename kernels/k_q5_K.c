/* Q5_K (format-facts §3.4): as Q4_K with a fifth bit per value in qh[32]; q in [0,31].
 * quantize: ggml's quantize_row_q5_K_ref without an imatrix, quantize_row_q5_K_impl with one.
 * vec_dot pairs with Q8_K: integer sums per sub-block, bsums for the mins. */
#include "kdot512.h"

#define QB 176

/* Requantize with the decoded scales and pack ql / qh (shared by both paths). */
GK_KQ_INLINE void q5_K_finish(const float *x, uint8_t *o, uint8_t *L, int simd) {
    (void)simd;
    const float d = gk_f16_to_f32(gk_ld16(o)), dmin = gk_f16_to_f32(gk_ld16(o + 2));
    for (int j = 0; j < 8; ++j) {
        uint8_t sc, m;
        gk_kq_get_scale_min_k4(j, o + 4, &sc, &m);
        const float dd = d * sc;
        if (!dd) continue;
        const float dm = dmin * m;
#if GK_X86
        if (simd) {
            gk_kq_requant_simd(x + 32 * j, 32, 1, dm, dd, 0, 31, 0, L + 32 * j);
            continue;
        }
#endif
        for (int ii = 0; ii < 32; ++ii) {
            int l = gk_nearest_int((x[32 * j + ii] + dm) / dd);
            L[32 * j + ii] = (uint8_t)gk_kq_clampi(l, 0, 31);
        }
    }
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

/* One super-block, both paths (qw NULL: reference). */
static void q5_K_block(const float *x, uint8_t *o, const float *qw) {
    uint8_t L[256];
    gk_kq_q45_scales(x, qw, o, L, 31, -0.5f, 0.1f, 15);
    q5_K_finish(x, o, L, 0);
}

#if GK_X86
GK_TARGET_AVX2 static void q5_K_block_simd(const float *x, uint8_t *o, const float *qw) {
    uint8_t L[256];
    gk_kq_q45_scales_simd(x, qw, o, L, 31, -0.5f, 0.1f, 15);
    q5_K_finish(x, o, L, 1);
}
#endif

GK_KQ_QUANT_ISA(q5_K, QB)

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
/* The twelve scale bytes at s (read as 16: the block continues) -> bytes 0-7 the eight 6-bit
 * scales, 8-15 the eight mins (format-facts §3.4 packing), in vector registers: dwords u0, u1, u2
 * give [u0 & 0x3f.., (u2 & 0x0f..) | ((u0 >> 2) & 0x30..), u1 & 0x3f.., ((u2 >> 4) & 0x0f..) |
 * ((u1 >> 2) & 0x30..)]. */
GK_KQ_AVX2 __m128i q5_K_scales(const uint8_t *s) {
    const __m128i x = _mm_loadu_si128((const __m128i *)s);
    const __m128i lo = _mm_srlv_epi32(_mm_shuffle_epi32(x, 0x98), _mm_setr_epi32(0, 0, 0, 4)); /* u0 u2 u1 u2>>4 */
    const __m128i hi = _mm_srli_epi32(_mm_shuffle_epi32(x, 0x50), 2);                          /* u0 u0 u1 u1, >> 2 */
    return _mm_or_si128(_mm_and_si128(lo, _mm_setr_epi32(0x3f3f3f3f, 0x0f0f0f0f, 0x3f3f3f3f, 0x0f0f0f0f)),
                        _mm_and_si128(hi, _mm_setr_epi32(0, 0x30303030, 0, 0x30303030)));
}
GK_KQ_AVX2 float q5_K_dot_simd(int64_t n, const void *vw, const void *va) {
    const uint8_t *w = (const uint8_t *)vw, *a = (const uint8_t *)va;
    const __m256i m4 = _mm256_set1_epi8(0xF), one = _mm256_set1_epi8(1);
    __m256 accf = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / 256; i++) {
        const uint8_t *bw = w + i * QB, *ba = a + i * 292;
        GK_T16_PREFETCH(bw, QB, GK_T16_PF_DIST);
        const __m256i sc16 = _mm256_cvtepu8_epi16(q5_K_scales(bw + 4));
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
        const __m256i bs = gk_kq_ld256(ba + 260);
        const __m128i pairs = _mm_hadd_epi16(_mm256_castsi256_si128(bs), _mm256_extracti128_si256(bs, 1));
        const __m128i mm = _mm_madd_epi16(_mm256_extracti128_si256(sc16, 1), pairs);
        /* [scale sums | min sums] pairwise (vphaddd): one conversion, one FMA per block */
        const __m128 dd = _mm_permute_ps(_mm_mul_ps(_mm_cvtph_ps(_mm_cvtsi32_si128((int)gk_ld32(bw))), _mm_set1_ps(gk_ldf(ba))), 0x50);
        accf = _mm256_fmadd_ps(_mm256_set_m128(dd, dd), _mm256_cvtepi32_ps(_mm256_hadd_epi32(acc, _mm256_zextsi128_si256(mm))), accf);
    }
    const __m128 h = _mm_add_ps(_mm256_castps256_ps128(accf), _mm256_extractf128_ps(accf, 1));
    const __m128 r = _mm_sub_ps(h, _mm_movehl_ps(h, h));
    return _mm_cvtss_f32(_mm_add_ss(r, _mm_movehdup_ps(r)));
}
GK_TARGET_AVX512 static inline __attribute__((always_inline)) __m512i q5_K_red4(__m512i v0, __m512i v1, __m512i v2, __m512i v3) {
    const __m512i t0 = _mm512_add_epi32(_mm512_unpacklo_epi32(v0, v1), _mm512_unpackhi_epi32(v0, v1));
    const __m512i t1 = _mm512_add_epi32(_mm512_unpacklo_epi32(v2, v3), _mm512_unpackhi_epi32(v2, v3));
    return _mm512_add_epi32(_mm512_unpacklo_epi64(t0, t1), _mm512_unpackhi_epi64(t0, t1));
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
    return q5_K_red4(v[0], v[1], v[2], v[3]);
}
/* Two super-blocks A, B per step: [A even | A odd | B even | B odd] sub-block sums (lanes L0+L1,
 * L2+L3), one vpmulld with the scales in that order, min sums [A | B] by one vpmaddwd (each min
 * in both words of a dword against the bsum pairs), one conversion and FMA each. A lone last
 * super-block runs as A with B = A and B's d, dmin zero. */
GK_TARGET_AVX512 static float q5_K_dot_avx512(int64_t n, const void *vw, const void *va) {
    const uint8_t *w = (const uint8_t *)vw, *a = (const uint8_t *)va;
    const int64_t nb = n / 256;
    const __m128i sctl = _mm_setr_epi8(0, 2, 4, 6, 1, 3, 5, 7, 8, 10, 12, 14, 9, 11, 13, 15);
    const __m512i iD = _mm512_inserti64x4(_mm512_setzero_si512(), _mm256_set1_epi32(2), 1);
    const __m512i iM = _mm512_add_epi32(iD, _mm512_set1_epi32(1));
    __m512 accf = _mm512_setzero_ps(), accm = _mm512_setzero_ps();
    for (int64_t i = 0; i < nb; i += 2) {
        const int two = i + 1 < nb;
        const uint8_t *bwA = w + i * QB, *baA = a + i * 292;
        const uint8_t *bwB = two ? bwA + QB : bwA, *baB = two ? baA + 292 : baA;
        GK_T16_PREFETCH(bwA, 2 * QB, GK_T16_PF_DIST);
        const __m128i smA = q5_K_scales(bwA + 4), smB = q5_K_scales(bwB + 4);
        const __m512i uA = q5_K_u512(bwA, baA), uB = q5_K_u512(bwB, baB);
        const __m512i T = _mm512_add_epi32(_mm512_shuffle_i64x2(uA, uB, 0x88), _mm512_shuffle_i64x2(uA, uB, 0xDD));
        const __m512i I = _mm512_mullo_epi32(T, _mm512_cvtepu8_epi32(_mm_shuffle_epi8(_mm_unpacklo_epi64(smA, smB), sctl)));
        const __m512i m32 = _mm512_cvtepu8_epi32(_mm_unpackhi_epi64(smA, smB));
        const __m512i bs = _mm512_inserti64x4(_mm512_castsi256_si512(gk_kq_ld256(baA + 260)), gk_kq_ld256(baB + 260), 1);
        const __m512i M = _mm512_madd_epi16(bs, _mm512_or_si512(m32, _mm512_slli_epi32(m32, 16)));
        /* [dA, dminA, dB, dminB] * [daA, daA, daB, daB]; B's zero when there is no B */
        const __m128i h = _mm_insert_epi32(_mm_cvtsi32_si128((int)gk_ld32(bwA)), two ? (int)gk_ld32(bwB) : 0, 1);
        const __m128 dd = _mm_mul_ps(_mm_cvtph_ps(h), _mm_setr_ps(gk_ldf(baA), gk_ldf(baA), gk_ldf(baB), gk_ldf(baB)));
        accf = _mm512_fmadd_ps(_mm512_permutexvar_ps(iD, _mm512_castps128_ps512(dd)), _mm512_cvtepi32_ps(I), accf);
        accm = _mm512_fmadd_ps(_mm512_permutexvar_ps(iM, _mm512_castps128_ps512(dd)), _mm512_cvtepi32_ps(M), accm);
    }
    const __m512 f = _mm512_sub_ps(accf, accm);
    return gk_kq_hsum_ps(_mm256_add_ps(_mm512_castps512_ps256(f), _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(f), 1))));
}
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
