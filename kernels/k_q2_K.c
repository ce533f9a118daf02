/* Q2_K (format-facts §3.4): 256 values, 16 sub-blocks of 16; scales[16] (low nibble scale, high
 * nibble min), qs[64] (2 bits), d, dmin: f16. y = d*(sc&15)*q - dmin*(sc>>4).
 * quantize: ggml's quantize_row_q2_K_ref without an imatrix, quantize_row_q2_K_impl with one.
 * vec_dot pairs with Q8_K: integer sums per sub-block, bsums for the mins. */
#include "kdot512.h"

#define QB 84

/* Requantize with the decoded scales (d, dmin at o+80, o+82) and pack qs. */
GK_KQ_INLINE void q2_K_finish(const float *x, uint8_t *o, uint8_t *L, int simd) {
    (void)simd;
    const float dm = gk_f16_to_f32(gk_ld16(o + 80)), mm = gk_f16_to_f32(gk_ld16(o + 82));
    for (int j = 0; j < 16; ++j) {
        const float d = dm * (o[j] & 0xF);
        if (!d) continue;
        const float m = mm * (o[j] >> 4);
#if GK_X86
        if (simd) {
            gk_kq_requant_simd(x + 16 * j, 16, 1, m, d, 0, 3, 0, L + 16 * j);
            continue;
        }
#endif
        for (int ii = 0; ii < 16; ++ii) {
            int l = gk_nearest_int((x[16 * j + ii] + m) / d);
            L[16 * j + ii] = (uint8_t)gk_kq_clampi(l, 0, 3);
        }
    }
    uint8_t *qs = o + 16;
    for (int j = 0; j < 256; j += 128)
        for (int l = 0; l < 32; ++l)
            qs[j / 4 + l] = (uint8_t)(L[j + l] | (L[j + l + 32] << 2) | (L[j + l + 64] << 4) |
                                      (L[j + l + 96] << 6));
}

/* After the searches: the reference path's 4-bit scales and mins, then requantize. */
GK_KQ_INLINE void q2_K_ref_post(const float *x, uint8_t *o, uint8_t *L, const float *scales,
                                const float *mins, int simd) {
    float max_scale = 0, max_min = 0;
    for (int j = 0; j < 16; ++j) {
        if (scales[j] > max_scale) max_scale = scales[j];
        if (mins[j] > max_min) max_min = mins[j];
    }
    if (max_scale > 0) {
        float iscale = 15.f / max_scale;
        for (int j = 0; j < 16; ++j) o[j] = (uint8_t)gk_nearest_int(iscale * scales[j]);
        gk_st16(o + 80, gk_f32_to_f16(max_scale / 15.f));
    } else {
        memset(o, 0, 16);
        gk_st16(o + 80, gk_f32_to_f16(0.f));
    }
    if (max_min > 0) {
        float iscale = 15.f / max_min;
        for (int j = 0; j < 16; ++j) o[j] |= (uint8_t)((unsigned)gk_nearest_int(iscale * mins[j]) << 4);
        gk_st16(o + 82, gk_f32_to_f16(max_min / 15.f));
    } else {
        gk_st16(o + 82, gk_f32_to_f16(0.f));
    }
    q2_K_finish(x, o, L, simd);
}

/* After the searches: the imatrix path's make_qp_quants scales, then requantize. */
GK_KQ_INLINE void q2_K_imat_post(const float *x, uint8_t *o, uint8_t *L, float *scales,
                                 float *mins, const float *sw, int simd) {
    uint8_t Ls[16], Lm[16];
    float dm = gk_kq_make_qp_quants(16, 15, scales, Ls, sw);
    float mm = gk_kq_make_qp_quants(16, 15, mins, Lm, sw);
    gk_st16(o + 80, gk_f32_to_f16(dm));
    gk_st16(o + 82, gk_f32_to_f16(mm));
    for (int j = 0; j < 16; ++j) o[j] = (uint8_t)(Ls[j] | (Lm[j] << 4));
    q2_K_finish(x, o, L, simd);
}

GK_KQ_INLINE void q2_K_ref_block(const float *x, uint8_t *o) {
    uint8_t L[256], Laux[16];
    float weights[16], mins[16], scales[16];
    for (int j = 0; j < 16; ++j) {
        for (int l = 0; l < 16; ++l) weights[l] = fabsf(x[16 * j + l]);
        scales[j] = gk_kq_make_qkx2_quants(16, 3, x + 16 * j, weights, L + 16 * j, &mins[j], Laux,
                                           -0.5f, 0.1f, 15, 1);
    }
    q2_K_ref_post(x, o, L, scales, mins, 0);
}

GK_KQ_INLINE void q2_K_imat_block(const float *x, uint8_t *o, const float *qw) {
    uint8_t L[256], Laux[16];
    float mins[16], scales[16], sw[16], weight[16];
    float sumx2 = 0;
    for (int j = 0; j < 256; ++j) sumx2 += x[j] * x[j];
    float sigma2 = sumx2 / 256;
    for (int j = 0; j < 16; ++j) {
        for (int l = 0; l < 16; ++l)
            weight[l] = qw[16 * j + l] * sqrtf(sigma2 + x[16 * j + l] * x[16 * j + l]);
        float s = 0;
        for (int l = 0; l < 16; ++l) s += weight[l];
        sw[j] = s;
        scales[j] = gk_kq_make_qkx3_quants(16, 3, x + 16 * j, weight, L + 16 * j, &mins[j], Laux,
                                           -0.9f, 0.05f, 36, 0);
    }
    q2_K_imat_post(x, o, L, scales, mins, sw, 0);
}

#if GK_X86
/* Both paths with the searches of 8 sub-blocks at a time lane-parallel (identical bytes). */
GK_TARGET_AVX2 static void q2_K_block_simd(const float *x, uint8_t *o, const float *qw) {
    uint8_t L[256];
    float xt[128], wt[128], mins[16], scales[16], sw[16];
    float sigma2 = 0;
    if (qw) {
        float sumx2 = 0;
        for (int j = 0; j < 256; ++j) sumx2 += x[j] * x[j];
        sigma2 = sumx2 / 256;
    }
    for (int g = 0; g < 2; ++g) {
        gk_kq_transpose8(16, x + 128 * g, xt);
        if (qw) {
            float qwt[128];
            gk_kq_transpose8(16, qw + 128 * g, qwt);
            const __m256 s2 = _mm256_set1_ps(sigma2);
            __m256 s = _mm256_setzero_ps();
            for (int l = 0; l < 16; ++l) {
                const __m256 xv = _mm256_loadu_ps(xt + 8 * l);
                const __m256 w = _mm256_mul_ps(_mm256_loadu_ps(qwt + 8 * l),
                                               _mm256_sqrt_ps(_mm256_add_ps(s2, _mm256_mul_ps(xv, xv))));
                _mm256_storeu_ps(wt + 8 * l, w);
                s = _mm256_add_ps(s, w);
            }
            _mm256_storeu_ps(sw + 8 * g, s);
            gk_kq_qkx_x8(16, 3, xt, wt, L + 128 * g, scales + 8 * g, mins + 8 * g, -0.9f, 0.05f, 36, 0, 1);
        } else {
            for (int l = 0; l < 16; ++l)
                _mm256_storeu_ps(wt + 8 * l, gk_kq_abs8(_mm256_loadu_ps(xt + 8 * l)));
            gk_kq_qkx_x8(16, 3, xt, wt, L + 128 * g, scales + 8 * g, mins + 8 * g, -0.5f, 0.1f, 15, 1, 0);
        }
    }
    if (qw) q2_K_imat_post(x, o, L, scales, mins, sw, 1);
    else q2_K_ref_post(x, o, L, scales, mins, 1);
}
#endif

/* One super-block, both paths (qw NULL: reference). */
static void q2_K_block(const float *x, uint8_t *o, const float *qw) {
    if (qw) q2_K_imat_block(x, o, qw);
    else q2_K_ref_block(x, o);
}

GK_KQ_QUANT_ISA(q2_K, QB)

GK_KQ_INLINE void q2_K_tof_body(const void *vx, float *y, int64_t k) {
    const uint8_t *x = (const uint8_t *)vx;
    for (int64_t i = 0; i < k / 256; i++) {
        const uint8_t *b = x + i * QB;
        const float d = gk_f16_to_f32(gk_ld16(b + 80)), min = gk_f16_to_f32(gk_ld16(b + 82));
        const uint8_t *q = b + 16;
        int is = 0;
        for (int n = 0; n < 256; n += 128) {
            int shift = 0;
            for (int j = 0; j < 4; ++j) {
                uint8_t sc = b[is++];
                float dl = d * (sc & 0xF), ml = min * (sc >> 4);
                for (int l = 0; l < 16; ++l) *y++ = dl * (float)((q[l] >> shift) & 3) - ml;
                sc = b[is++];
                dl = d * (sc & 0xF);
                ml = min * (sc >> 4);
                for (int l = 0; l < 16; ++l) *y++ = dl * (float)((q[l + 16] >> shift) & 3) - ml;
                shift += 2;
            }
            q += 32;
        }
    }
}
GK_KQ_FN(void, q2_K_tof, GK_KQ_P_TOF, GK_KQ_A_TOF)

GK_KQ_INLINE float q2_K_dot_body(int64_t n, const void *vw, const void *va) {
    const uint8_t *w = (const uint8_t *)vw, *a = (const uint8_t *)va;
    float sumf = 0;
    for (int64_t i = 0; i < n / 256; i++) {
        const uint8_t *bw = w + i * QB, *ba = a + i * 292;
        const int8_t *qa = (const int8_t *)(ba + 4);
        int32_t isum = 0, summ = 0;
        for (int j = 0; j < 16; ++j) {
            const int nn = j / 8, jj = (j % 8) / 2, off = 16 * (j & 1);
            int32_t s = 0;
            for (int l = 0; l < 16; ++l)
                s += ((bw[16 + 32 * nn + off + l] >> (2 * jj)) & 3) * qa[16 * j + l];
            isum += (bw[j] & 0xF) * s;
            summ += (bw[j] >> 4) * (int16_t)gk_ld16(ba + 260 + 2 * j);
        }
        const float da = gk_ldf(ba);
        sumf += (da * gk_f16_to_f32(gk_ld16(bw + 80))) * (float)isum -
                (da * gk_f16_to_f32(gk_ld16(bw + 82))) * (float)summ;
    }
    return sumf;
}
#if GK_X86
/* d and dmin of a block times the activation's d: [d*da, dmin*da, 0, 0]. */
GK_KQ_AVX2 __m128 q2_K_dd(const uint8_t *bw, const uint8_t *ba) {
    return _mm_mul_ps(_mm_cvtph_ps(_mm_cvtsi32_si128((int)gk_ld32(bw + 80))), _mm_set1_ps(gk_ldf(ba)));
}
/* The scale sums and the min sums of a block meet in one vector (vphaddd) before the conversion:
 * one cvt and one FMA per block; lanes 2,3 (of each half) carry the mins, subtracted at the end. */
GK_KQ_AVX2 float q2_K_dot_simd(int64_t n, const void *vw, const void *va) {
    const uint8_t *w = (const uint8_t *)vw, *a = (const uint8_t *)va;
    __m256 accf = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / 256; i++) {
        const uint8_t *bw = w + i * QB, *ba = a + i * 292;
        GK_T16_PREFETCH(bw, QB, GK_T16_PF_DIST);
        const __m256i sm = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)bw));
        const __m256i S = _mm256_and_si256(sm, _mm256_set1_epi16(0xF));
        const __m256i M = _mm256_srli_epi16(sm, 4);
        const __m256i Sh[2] = {_mm256_permute4x64_epi64(S, 0x44), _mm256_permute4x64_epi64(S, 0xEE)};
        __m256i acc = _mm256_setzero_si256();
        for (int nn = 0; nn < 2; ++nn) {
            const __m256i qs = gk_kq_ld256(bw + 16 + 32 * nn);
            for (int j = 0; j < 4; ++j) {
                const __m256i p = _mm256_maddubs_epi16(gk_kq_bits2(qs, j), gk_kq_ld256(ba + 4 + 128 * nn + 32 * j));
                acc = _mm256_add_epi32(acc, _mm256_madd_epi16(p, gk_kq_scale_pair(Sh[nn], 2 * j)));
            }
        }
        const __m256i mm = _mm256_madd_epi16(M, gk_kq_ld256(ba + 260));
        const __m128 dd = _mm_permute_ps(q2_K_dd(bw, ba), 0x50);
        accf = _mm256_fmadd_ps(_mm256_set_m128(dd, dd), _mm256_cvtepi32_ps(_mm256_hadd_epi32(acc, mm)), accf);
    }
    const __m128 h = _mm_add_ps(_mm256_castps256_ps128(accf), _mm256_extractf128_ps(accf, 1));
    const __m128 r = _mm_sub_ps(h, _mm_movehl_ps(h, h));
    return _mm_cvtss_f32(_mm_add_ss(r, _mm_movehdup_ps(r)));
}
/* AVX-512: the scales folded into the weights. Every 128-bit lane of a 64-value vector is one
 * 16-value sub-block, so a per-lane byte table tt (vpshufb) maps the 2-bit code q to sc*q
 * (<= 45, unsigned): lane i of tt holds, at bytes 4k..4k+3, q*sc[4k+i] for q = 0..3, and vector
 * v (sub-blocks 4v..4v+3) looks up q + 4v. vpdpbusd then sums sc*q*a directly: no per-vector
 * scale shuffles or multiplies. tt: word pairs (sc, 0) times (256, 770) = bytes (0, sc), (2sc, 3sc).
 * Two super-blocks per step share the float work: [A | B] halves for the scale sums (each folded
 * to 8 lanes) and for the min sums, one conversion and one FMA each. A lone last super-block runs
 * as A with B = A and B's scales zero. The same integers as the scalar body. */
GK_TARGET_AVX512 static inline __m512i q2_K_isum512(const uint8_t *bw, const uint8_t *ba) {
    const __m512i m3 = _mm512_set1_epi8(3);
    const __m512i ctl = _mm512_add_epi32(_mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15),
                                         _mm512_setr_epi32(0, 4 << 16, 8 << 16, 12 << 16, 1 << 16, 5 << 16, 9 << 16, 13 << 16,
                                                           2 << 16, 6 << 16, 10 << 16, 14 << 16, 3 << 16, 7 << 16, 11 << 16, 15 << 16));
    const __m512i r = _mm512_shuffle_epi8(_mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)bw)), ctl);
    const __m512i tt = _mm512_mullo_epi16(_mm512_and_si512(r, _mm512_set1_epi16(0xF)), _mm512_set1_epi32(256 | (770 << 16)));
    __m512i acc = _mm512_setzero_si512();
    for (int nn = 0; nn < 2; ++nn) {
        const __m512i qs = _mm512_broadcast_i64x4(gk_kq_ld256(bw + 16 + 32 * nn));
        const __m512i x01 = _mm512_mask_srli_epi16(qs, 0xFFFF0000u, qs, 2); /* fields 0 | 1 */
        const __m512i x23 = _mm512_srli_epi16(x01, 4);                       /* fields 2 | 3 */
        /* (x & 3) | 4v */
        const __m512i i01 = _mm512_ternarylogic_epi32(x01, m3, _mm512_set1_epi8((char)(8 * nn)), 0xEA);
        const __m512i i23 = _mm512_ternarylogic_epi32(x23, m3, _mm512_set1_epi8((char)(8 * nn + 4)), 0xEA);
        acc = _mm512_dpbusd_epi32(acc, _mm512_shuffle_epi8(tt, i01), _mm512_loadu_si512((const void *)(ba + 4 + 128 * nn)));
        acc = _mm512_dpbusd_epi32(acc, _mm512_shuffle_epi8(tt, i23), _mm512_loadu_si512((const void *)(ba + 68 + 128 * nn)));
    }
    return acc;
}
GK_TARGET_AVX512 static float q2_K_dot_avx512(int64_t n, const void *vw, const void *va) {
    const uint8_t *w = (const uint8_t *)vw, *a = (const uint8_t *)va;
    const int64_t nb = n / 256;
    const __m512i iD = _mm512_inserti64x4(_mm512_setzero_si512(), _mm256_set1_epi32(2), 1);
    const __m512i iM = _mm512_add_epi32(iD, _mm512_set1_epi32(1));
    __m512 accf = _mm512_setzero_ps(), accm = _mm512_setzero_ps();
    for (int64_t i = 0; i < nb; i += 2) {
        const int two = i + 1 < nb;
        const uint8_t *bwA = w + i * QB, *baA = a + i * 292;
        const uint8_t *bwB = two ? bwA + QB : bwA, *baB = two ? baA + 292 : baA;
        GK_T16_PREFETCH(bwA, 2 * QB, GK_T16_PF_DIST);
        const __m512i sA = q2_K_isum512(bwA, baA), sB = q2_K_isum512(bwB, baB);
        const __m512i T = _mm512_add_epi32(_mm512_shuffle_i64x2(sA, sB, 0x44), _mm512_shuffle_i64x2(sA, sB, 0xEE));
        const __m256i sb = _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)bwA)),
                                                   _mm_loadu_si128((const __m128i *)bwB), 1);
        const __m512i mins = _mm512_cvtepu8_epi16(_mm256_and_si256(_mm256_srli_epi16(sb, 4), _mm256_set1_epi8(0xF)));
        const __m512i bs = _mm512_inserti64x4(_mm512_castsi256_si512(gk_kq_ld256(baA + 260)), gk_kq_ld256(baB + 260), 1);
        const __m512i M = _mm512_madd_epi16(mins, bs);
        /* [dA, dminA, dB, dminB] * [daA, daA, daB, daB]; B's zero when there is no B */
        const __m128i h = _mm_insert_epi32(_mm_cvtsi32_si128((int)gk_ld32(bwA + 80)), two ? (int)gk_ld32(bwB + 80) : 0, 1);
        const __m128 dd = _mm_mul_ps(_mm_cvtph_ps(h), _mm_setr_ps(gk_ldf(baA), gk_ldf(baA), gk_ldf(baB), gk_ldf(baB)));
        accf = _mm512_fmadd_ps(_mm512_permutexvar_ps(iD, _mm512_castps128_ps512(dd)), _mm512_cvtepi32_ps(T), accf);
        accm = _mm512_fmadd_ps(_mm512_permutexvar_ps(iM, _mm512_castps128_ps512(dd)), _mm512_cvtepi32_ps(M), accm);
    }
    const __m512 f = _mm512_sub_ps(accf, accm);
    return gk_kq_hsum_ps(_mm256_add_ps(_mm512_castps512_ps256(f), _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(f), 1))));
}
#endif
static float q2_K_dot_scalar GK_KQ_P_DOT { return q2_K_dot_body GK_KQ_A_DOT; }
#if GK_X86
GK_TARGET_AVX2 static float q2_K_dot_avx2 GK_KQ_P_DOT { return q2_K_dot_simd GK_KQ_A_DOT; }
#endif

static int64_t q2_K_validate(const void *data, size_t nbytes) {
    return gk_kq_validate_f16(data, nbytes, QB, 80, 82);
}
static void q2_K_byteswap(void *blocks, size_t n) {
    for (size_t i = 0; i < n; i++) {
        gk_kq_swap16((uint8_t *)blocks + i * QB + 80);
        gk_kq_swap16((uint8_t *)blocks + i * QB + 82);
    }
}

const gk_kernel_row gk_krow_q2_K = {
    .type = GK_TYPE_Q2_K,
    .vec_dot_type = GK_TYPE_Q8_K,
    .to_float = GK_KQ_ISA3(q2_K_tof),
    .quantize = GK_KQ_ISA3(q2_K_quant),
    .vec_dot = GK_KQ_ISA3(q2_K_dot),
    .validate = q2_K_validate,
    .byteswap = q2_K_byteswap,
    .uses_imatrix = 1,
    .dot_tol = 2e-5,
};
