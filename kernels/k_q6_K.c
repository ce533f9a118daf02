/* Q6_K (format-facts §3.4): 256 values, 16 sub-blocks of 16; ql[128], qh[64], scales[16] int8,
 * d: f16. y = d*scales[e/16]*(q - 32).
 * quantize: ggml's quantize_row_q6_K_ref without an imatrix, quantize_row_q6_K_impl with one
 * (make_qx_quants weighted by the raw importance). vec_dot pairs with Q8_K. */
#include "kdot512.h"

#define QB 210

/* After the sub-block searches: the int8 scales, d, requantize and pack. */
GK_KQ_INLINE void q6_K_post(const float *x, uint8_t *o, int8_t *L, const float *scales, int simd) {
    (void)simd;
    float max_scale = 0, max_abs_scale = 0;
    for (int ib = 0; ib < 16; ++ib) {
        const float scale = scales[ib];
        const float abs_scale = fabsf(scale);
        if (abs_scale > max_abs_scale) {
            max_abs_scale = abs_scale;
            max_scale = scale;
        }
    }
    if (max_abs_scale < GK_KQ_EPS) {
        memset(o, 0, QB);
        return;
    }
    float iscale = -128.f / max_scale;
    gk_st16(o + 208, gk_f32_to_f16(1 / iscale));
    int8_t *sc = (int8_t *)(o + 192);
    for (int ib = 0; ib < 16; ++ib) {
        int v = gk_nearest_int(iscale * scales[ib]);
        sc[ib] = (int8_t)(v < 127 ? v : 127);
    }
    const float d0 = gk_f16_to_f32(gk_ld16(o + 208));
    for (int j = 0; j < 16; ++j) {
        float d = d0 * sc[j];
        if (!d) continue;
#if GK_X86
        if (simd) {
            gk_kq_requant_simd(x + 16 * j, 16, 0, 0.0f, d, -32, 31, 32, (uint8_t *)L + 16 * j);
            continue;
        }
#endif
        for (int ii = 0; ii < 16; ++ii) {
            int l = gk_nearest_int(x[16 * j + ii] / d);
            L[16 * j + ii] = (int8_t)(gk_kq_clampi(l, -32, 31) + 32);
        }
    }
    uint8_t *ql = o, *qh = o + 128;
    for (int j = 0; j < 256; j += 128) {
        for (int l = 0; l < 32; ++l) {
            const uint8_t q1 = L[j + l + 0] & 0xF, q2 = L[j + l + 32] & 0xF;
            const uint8_t q3 = L[j + l + 64] & 0xF, q4 = L[j + l + 96] & 0xF;
            ql[l + 0] = (uint8_t)(q1 | (q3 << 4));
            ql[l + 32] = (uint8_t)(q2 | (q4 << 4));
            qh[l] = (uint8_t)(((uint8_t)L[j + l] >> 4) | (((uint8_t)L[j + l + 32] >> 4) << 2) |
                              (((uint8_t)L[j + l + 64] >> 4) << 4) |
                              (((uint8_t)L[j + l + 96] >> 4) << 6));
        }
        ql += 64;
        qh += 32;
    }
}

/* One super-block; qw = NULL for the reference path. */
GK_KQ_INLINE void q6_K_block(const float *x, uint8_t *o, const float *qw) {
    int8_t L[256];
    float scales[16];
    for (int ib = 0; ib < 16; ++ib)
        scales[ib] = gk_kq_make_qx_quants(16, 32, x + 16 * ib, L + 16 * ib, 1, qw ? qw + 16 * ib : NULL);
    q6_K_post(x, o, L, scales, 0);
}

#if GK_X86
/* The same with the searches of 8 sub-blocks at a time lane-parallel (identical bytes). */
GK_TARGET_AVX2 static void q6_K_block_simd(const float *x, uint8_t *o, const float *qw) {
    int8_t L[256];
    float scales[16], xt[128], qwt[128];
    for (int g = 0; g < 2; ++g) {
        gk_kq_transpose8(16, x + 128 * g, xt);
        if (qw) gk_kq_transpose8(16, qw + 128 * g, qwt);
        gk_kq_qx_x8(16, 32, xt, qw ? qwt : NULL, L + 128 * g, scales + 8 * g);
    }
    q6_K_post(x, o, L, scales, 1);
}
#endif

GK_KQ_QUANT_ISA(q6_K, QB)

GK_KQ_INLINE void q6_K_tof_body(const void *vx, float *y, int64_t k) {
    const uint8_t *x = (const uint8_t *)vx;
    for (int64_t i = 0; i < k / 256; i++) {
        const uint8_t *b = x + i * QB;
        const float d = gk_f16_to_f32(gk_ld16(b + 208));
        const uint8_t *ql = b, *qh = b + 128;
        const int8_t *sc = (const int8_t *)(b + 192);
        for (int n = 0; n < 256; n += 128) {
            for (int l = 0; l < 32; ++l) {
                int is = l / 16;
                const int q1 = ((ql[l + 0] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
                const int q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
                const int q3 = ((ql[l + 0] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                y[l + 0] = d * sc[is + 0] * q1;
                y[l + 32] = d * sc[is + 2] * q2;
                y[l + 64] = d * sc[is + 4] * q3;
                y[l + 96] = d * sc[is + 6] * q4;
            }
            y += 128;
            ql += 64;
            qh += 32;
            sc += 8;
        }
    }
}
#if GK_X86
GK_KQ_AVX2 void q6_K_tof_simd(const void *vx, float *y, int64_t k) {
    const uint8_t *x = (const uint8_t *)vx;
    const __m256i m4 = _mm256_set1_epi8(0xF), m2 = _mm256_set1_epi8(3);
    for (int64_t i = 0; i < k / 256; i++, y += 256) {
        const uint8_t *b = x + i * QB;
        const float d = gk_kq_h2f(b + 208);
        const int8_t *sc = (const int8_t *)(b + 192);
        for (int h = 0; h < 2; ++h) {
            const __m256i l0 = gk_kq_ld256(b + 64 * h), l1 = gk_kq_ld256(b + 64 * h + 32);
            const __m256i qh = gk_kq_ld256(b + 128 + 32 * h);
            for (int c = 0; c < 4; ++c) {
                const __m256i l = (c & 1) ? l1 : l0;
                const __m256i lo = (c >> 1) ? _mm256_and_si256(_mm256_srli_epi16(l, 4), m4) : _mm256_and_si256(l, m4);
                const __m256i hi = _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2 * c), m2), 4);
                const int s = 8 * h + 2 * c;
                gk_kq_store32(y + 128 * h + 32 * c, _mm256_or_si256(lo, hi), 32, d * sc[s], d * sc[s + 1]);
            }
        }
    }
}
#endif
GK_KQ_FN_SIMD(void, q6_K_tof, GK_KQ_P_TOF, GK_KQ_A_TOF)

/* Per super-block isum = sum_j sc_j * sum((q-32)*a); result += (da*d)*isum. */
GK_KQ_INLINE float q6_K_dot_body(int64_t n, const void *vw, const void *va) {
    const uint8_t *w = (const uint8_t *)vw, *a = (const uint8_t *)va;
    float sumf = 0;
    for (int64_t i = 0; i < n / 256; i++) {
        const uint8_t *bw = w + i * QB, *ba = a + i * 292;
        const int8_t *qa = (const int8_t *)(ba + 4);
        const int8_t *sc = (const int8_t *)(bw + 192);
        int32_t isum = 0;
        for (int j = 0; j < 16; ++j) {
            /* element e = 128h + 32c + l: ql[64h + l + 32(c&1)] nibble c>>1, qh[32h+l] bits 2c */
            int32_t s = 0;
            for (int t = 0; t < 16; ++t) {
                const int e = 16 * j + t, h = e / 128, c = (e % 128) / 32, l = e % 32;
                const int lo = (bw[64 * h + l + 32 * (c & 1)] >> (4 * (c >> 1))) & 0xF;
                const int hi = (bw[128 + 32 * h + l] >> (2 * c)) & 3;
                s += ((lo | (hi << 4)) - 32) * qa[e];
            }
            isum += sc[j] * s;
        }
        sumf += (gk_ldf(ba) * gk_f16_to_f32(gk_ld16(bw + 208))) * (float)isum;
    }
    return sumf;
}
#if GK_X86
/* sum sc*(q-32)*a = sum sc*q*a - 32*sum sc*bsum, q in [0,63] unsigned for maddubs. */
GK_KQ_AVX2 float q6_K_dot_simd(int64_t n, const void *vw, const void *va) {
    const uint8_t *w = (const uint8_t *)vw, *a = (const uint8_t *)va;
    const __m256i m4 = _mm256_set1_epi8(0xF), m2 = _mm256_set1_epi8(3);
    __m256 accf = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / 256; i++) {
        const uint8_t *bw = w + i * QB, *ba = a + i * 292;
        GK_T16_PREFETCH(bw, QB, GK_T16_PF_DIST);
        const __m256i S = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(bw + 192)));
        const __m256i Sh[2] = {_mm256_permute4x64_epi64(S, 0x44), _mm256_permute4x64_epi64(S, 0xEE)};
        __m256i acc = _mm256_slli_epi32(_mm256_madd_epi16(S, gk_kq_ld256(ba + 260)), 5);
        acc = _mm256_sub_epi32(_mm256_setzero_si256(), acc);
        for (int h = 0; h < 2; ++h) {
            const __m256i l0 = gk_kq_ld256(bw + 64 * h), l1 = gk_kq_ld256(bw + 64 * h + 32);
            const __m256i qh = gk_kq_ld256(bw + 128 + 32 * h);
            for (int c = 0; c < 4; ++c) {
                const __m256i l = (c & 1) ? l1 : l0;
                const __m256i lo = (c >> 1) ? _mm256_and_si256(_mm256_srli_epi16(l, 4), m4)
                                            : _mm256_and_si256(l, m4);
                const __m256i hi = _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2 * c), m2), 4);
                const __m256i p = _mm256_maddubs_epi16(_mm256_or_si256(lo, hi), gk_kq_ld256(ba + 4 + 128 * h + 32 * c));
                acc = _mm256_add_epi32(acc, _mm256_madd_epi16(p, gk_kq_scale_pair(Sh[h], 2 * c)));
            }
        }
        accf = _mm256_add_ps(accf, _mm256_mul_ps(_mm256_set1_ps(gk_ldf(ba) * gk_kq_h2f(bw + 208)), _mm256_cvtepi32_ps(acc)));
    }
    return gk_kq_hsum_ps(accf);
}
/* AVX-512: two 32-value chunks per 512-bit register; the same integers, float accumulation. */
GK_TARGET_AVX512 static float q6_K_dot_avx512(int64_t n, const void *vw, const void *va) {
    const uint8_t *w = (const uint8_t *)vw, *a = (const uint8_t *)va;
    const __m512i m4 = _mm512_set1_epi8(0xF), m2 = _mm512_set1_epi8(3);
    const __m512i sh01 = _mm512_inserti64x4(_mm512_setzero_si512(), _mm256_set1_epi16(2), 1);
    const __m512i sh23 = _mm512_add_epi16(sh01, _mm512_set1_epi16(4));
    __m512 accf = _mm512_setzero_ps();
    for (int64_t i = 0; i < n / 256; i++) {
        const uint8_t *bw = w + i * QB, *ba = a + i * 292;
        GK_T16_PREFETCH(bw, QB, GK_T16_PF_DIST);
        const __m256i S = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(bw + 192)));
        const __m512i S5 = _mm512_castsi256_si512(S);
        __m256i corr = _mm256_madd_epi16(S, gk_kq_ld256(ba + 260));
        __m512i acc = _mm512_setzero_si512();
        for (int h = 0; h < 2; ++h) {
            const __m512i L = _mm512_loadu_si512((const void *)(bw + 64 * h));
            const __m512i qh = _mm512_broadcast_i64x4(gk_kq_ld256(bw + 128 + 32 * h));
            const __m512i h01 = _mm512_slli_epi16(_mm512_and_si512(_mm512_srlv_epi16(qh, sh01), m2), 4);
            const __m512i h23 = _mm512_slli_epi16(_mm512_and_si512(_mm512_srlv_epi16(qh, sh23), m2), 4);
            const __m512i q01 = _mm512_or_si512(_mm512_and_si512(L, m4), h01);
            const __m512i q23 = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(L, 4), m4), h23);
            const __m512i i01 = _mm512_set_epi64(0x0003000300030003LL + 0x0008000800080008LL * h, 0x0003000300030003LL + 0x0008000800080008LL * h,
                                                 0x0002000200020002LL + 0x0008000800080008LL * h, 0x0002000200020002LL + 0x0008000800080008LL * h,
                                                 0x0001000100010001LL + 0x0008000800080008LL * h, 0x0001000100010001LL + 0x0008000800080008LL * h,
                                                 0x0000000000000000LL + 0x0008000800080008LL * h, 0x0000000000000000LL + 0x0008000800080008LL * h);
            const __m512i i23 = _mm512_add_epi16(i01, _mm512_set1_epi16(4));
            const __m512i a01 = _mm512_loadu_si512((const void *)(ba + 4 + 128 * h));
            const __m512i a23 = _mm512_loadu_si512((const void *)(ba + 4 + 128 * h + 64));
            acc = _mm512_add_epi32(acc, _mm512_madd_epi16(_mm512_maddubs_epi16(q01, a01), _mm512_permutexvar_epi16(i01, S5)));
            acc = _mm512_add_epi32(acc, _mm512_madd_epi16(_mm512_maddubs_epi16(q23, a23), _mm512_permutexvar_epi16(i23, S5)));
        }
        corr = _mm256_slli_epi32(corr, 5);
        acc = _mm512_sub_epi32(acc, _mm512_inserti64x4(_mm512_setzero_si512(), corr, 0));
        const __m512 d = _mm512_set1_ps(gk_ldf(ba) * gk_kq_h2f(bw + 208));
        accf = _mm512_add_ps(accf, _mm512_mul_ps(d, _mm512_cvtepi32_ps(acc)));
    }
    const __m256 f = _mm256_add_ps(_mm512_castps512_ps256(accf), _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(accf), 1)));
    return gk_kq_hsum_ps(f);
}
#endif
static float q6_K_dot_scalar GK_KQ_P_DOT { return q6_K_dot_body GK_KQ_A_DOT; }
#if GK_X86
GK_TARGET_AVX2 static float q6_K_dot_avx2 GK_KQ_P_DOT { return q6_K_dot_simd GK_KQ_A_DOT; }
#endif

static int64_t q6_K_validate(const void *data, size_t nbytes) {
    return gk_kq_validate_f16(data, nbytes, QB, 208, -1);
}
static void q6_K_byteswap(void *blocks, size_t n) {
    for (size_t i = 0; i < n; i++) gk_kq_swap16((uint8_t *)blocks + i * QB + 208);
}

const gk_kernel_row gk_krow_q6_K = {
    .type = GK_TYPE_Q6_K,
    .vec_dot_type = GK_TYPE_Q8_K,
    .to_float = GK_KQ_ISA3(q6_K_tof),
    .quantize = GK_KQ_ISA3(q6_K_quant),
    .vec_dot = GK_KQ_ISA3(q6_K_dot),
    .validate = q6_K_validate,
    .byteswap = q6_K_byteswap,
    .uses_imatrix = 1,
    .dot_tol = 2e-5,
};
