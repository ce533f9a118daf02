/* Q3_K (format-facts §3.4): 256 values, 16 sub-blocks of 16; hmask[32], qs[64] (2 low bits),
 * scales[12] (sixteen signed 6-bit scales), d: f16. y = d*(s-32)*(q - 4).
 * quantize: ggml's quantize_row_q3_K_ref without an imatrix, quantize_row_q3_K_impl with one.
 * vec_dot pairs with Q8_K. */
#include "kquant_util.h"

#define QB 110

/* Pack sixteen 6-bit codes (0..63) into scales[12] as ggml's writers do. */
GK_KQ_INLINE void q3_K_pack_scales(const int *l6, uint8_t *s) {
    memset(s, 0, 12);
    for (int j = 0; j < 16; ++j) {
        int l = l6[j];
        if (j < 8) s[j] = (uint8_t)(l & 0xF);
        else s[j - 8] |= (uint8_t)((l & 0xF) << 4);
        l >>= 4;
        s[j % 4 + 8] |= (uint8_t)(l << (2 * (j / 4)));
    }
}

/* Requantize with the decoded scales, then hmask and qs. */
GK_KQ_INLINE void q3_K_finish(const float *x, uint8_t *o, int8_t *L, int simd) {
    (void)simd;
    int8_t sc[16];
    gk_kq_q3_scales(o + 96, sc);
    const float d0 = gk_f16_to_f32(gk_ld16(o + 108));
    for (int j = 0; j < 16; ++j) {
        float d = d0 * sc[j];
        if (!d) continue;
#if GK_X86
        if (simd) {
            gk_kq_requant_simd(x + 16 * j, 16, 0, 0.0f, d, -4, 3, 4, (uint8_t *)L + 16 * j);
            continue;
        }
#endif
        for (int ii = 0; ii < 16; ++ii) {
            int l = gk_nearest_int(x[16 * j + ii] / d);
            L[16 * j + ii] = (int8_t)(gk_kq_clampi(l, -4, 3) + 4);
        }
    }
    uint8_t *hmask = o, *qs = o + 32;
    memset(hmask, 0, 32);
    /* element j = 32k + m: a code > 3 sets bit k of hmask[m] and keeps code - 4 (branch-free) */
    for (int k = 0; k < 8; ++k)
        for (int m = 0; m < 32; ++m) {
            const int h = L[32 * k + m] > 3;
            hmask[m] = (uint8_t)(hmask[m] | (h << k));
            L[32 * k + m] = (int8_t)(L[32 * k + m] - 4 * h);
        }
    for (int j = 0; j < 256; j += 128)
        for (int l = 0; l < 32; ++l)
            qs[j / 4 + l] = (uint8_t)(L[j + l] | (L[j + l + 32] << 2) | (L[j + l + 64] << 4) |
                                      (L[j + l + 96] << 6));
}

/* After the reference searches: the 6-bit scales, d, requantize. */
GK_KQ_INLINE void q3_K_ref_post(const float *x, uint8_t *o, int8_t *L, const float *scales,
                                int simd) {
    float max_scale = 0, amax = 0;
    for (int j = 0; j < 16; ++j) {
        float scale = fabsf(scales[j]);
        if (scale > amax) { amax = scale; max_scale = scales[j]; }
    }
    if (max_scale) {
        float iscale = -32.f / max_scale;
        int l6[16];
        for (int j = 0; j < 16; ++j) {
            int8_t l = (int8_t)gk_nearest_int(iscale * scales[j]);
            l6[j] = gk_kq_clampi(l, -32, 31) + 32;
        }
        q3_K_pack_scales(l6, o + 96);
        gk_st16(o + 108, gk_f32_to_f16(1 / iscale));
    } else {
        memset(o + 96, 0, 12);
        gk_st16(o + 108, gk_f32_to_f16(0.f));
    }
    q3_K_finish(x, o, L, simd);
}

GK_KQ_INLINE void q3_K_ref_block(const float *x, uint8_t *o) {
    int8_t L[256];
    float scales[16];
    for (int j = 0; j < 16; ++j) scales[j] = gk_kq_make_q3_quants(16, 4, x + 16 * j, L + 16 * j, 1);
    q3_K_ref_post(x, o, L, scales, 0);
}

/* After the imatrix searches: the scales by make_qx_quants(16, 32, .., sw), requantize. */
GK_KQ_INLINE void q3_K_imat_post(const float *x, uint8_t *o, int8_t *L, const float *scales,
                                 const float *sw, int simd) {
    int8_t Ls[16];
    float d_block = gk_kq_make_qx_quants(16, 32, scales, Ls, 1, sw);
    int l6[16];
    for (int j = 0; j < 16; ++j) l6[j] = Ls[j];
    q3_K_pack_scales(l6, o + 96);
    gk_st16(o + 108, gk_f32_to_f16(d_block));
    q3_K_finish(x, o, L, simd);
}

GK_KQ_INLINE void q3_K_imat_block(const float *x, uint8_t *o, const float *qw) {
    int8_t L[256];
    float scales[16], weight[16], sw[16];
    float sumx2 = 0;
    for (int j = 0; j < 256; ++j) sumx2 += x[j] * x[j];
    float sigma2 = 2 * sumx2 / 256;
    for (int j = 0; j < 16; ++j) {
        for (int l = 0; l < 16; ++l)
            weight[l] = qw[16 * j + l] * sqrtf(sigma2 + x[16 * j + l] * x[16 * j + l]);
        float sumw = 0;
        for (int l = 0; l < 16; ++l) sumw += weight[l];
        sw[j] = sumw;
        scales[j] = gk_kq_make_qx_quants(16, 4, x + 16 * j, L + 16 * j, 1, weight);
    }
    q3_K_imat_post(x, o, L, scales, sw, 0);
}

#if GK_X86
/* Both paths with the searches of 8 sub-blocks at a time lane-parallel (identical bytes). */
GK_TARGET_AVX2 static void q3_K_block_simd(const float *x, uint8_t *o, const float *qw) {
    int8_t L[256];
    float scales[16], sw[16], xt[128], wt[128], qwt[128];
    float sigma2 = 0;
    if (qw) {
        float sumx2 = 0;
        for (int j = 0; j < 256; ++j) sumx2 += x[j] * x[j];
        sigma2 = 2 * sumx2 / 256;
    }
    for (int g = 0; g < 2; ++g) {
        gk_kq_transpose8(16, x + 128 * g, xt);
        if (!qw) {
            gk_kq_q3_x8(16, 4, xt, L + 128 * g, scales + 8 * g);
            continue;
        }
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
        gk_kq_qx_x8(16, 4, xt, wt, L + 128 * g, scales + 8 * g);
    }
    if (qw) q3_K_imat_post(x, o, L, scales, sw, 1);
    else q3_K_ref_post(x, o, L, scales, 1);
}
#endif

/* One super-block, both paths (qw NULL: reference). */
static void q3_K_block(const float *x, uint8_t *o, const float *qw) {
    if (qw) q3_K_imat_block(x, o, qw);
    else q3_K_ref_block(x, o);
}

GK_KQ_QUANT_ISA(q3_K, QB)

GK_KQ_INLINE void q3_K_tof_body(const void *vx, float *y, int64_t k) {
    const uint8_t *x = (const uint8_t *)vx;
    for (int64_t i = 0; i < k / 256; i++) {
        const uint8_t *b = x + i * QB;
        const float d_all = gk_f16_to_f32(gk_ld16(b + 108));
        int8_t sc[16];
        gk_kq_q3_scales(b + 96, sc);
        const uint8_t *q = b + 32, *hm = b;
        for (int e = 0; e < 256; ++e) {
            const int n = e / 128, j = (e % 128) / 32, l = e % 32;
            const int low = (q[32 * n + l] >> (2 * j)) & 3;
            const int high = (hm[l] >> (4 * n + j)) & 1;
            const float dl = d_all * sc[e / 16];
            y[e] = dl * (float)(low - (high ? 0 : 4));
        }
        y += 256;
    }
}
#if GK_X86
GK_KQ_AVX2 void q3_K_tof_simd(const void *vx, float *y, int64_t k) {
    const uint8_t *x = (const uint8_t *)vx;
    const __m256i one = _mm256_set1_epi8(1);
    for (int64_t i = 0; i < k / 256; i++, y += 256) {
        const uint8_t *b = x + i * QB;
        const float d_all = gk_kq_h2f(b + 108);
        int8_t sc[16];
        gk_kq_q3_scales(b + 96, sc);
        const __m256i hm = gk_kq_ld256(b);
        for (int nn = 0; nn < 2; ++nn) {
            const __m256i qs = gk_kq_ld256(b + 32 + 32 * nn);
            for (int j = 0; j < 4; ++j) {
                const __m256i hb = _mm256_and_si256(_mm256_srli_epi16(hm, 4 * nn + j), one);
                const __m256i q = _mm256_or_si256(gk_kq_bits2(qs, j), _mm256_slli_epi16(hb, 2));
                const int s = 8 * nn + 2 * j;
                gk_kq_store32(y + 128 * nn + 32 * j, q, 4, d_all * sc[s], d_all * sc[s + 1]);
            }
        }
    }
}
#endif
GK_KQ_FN_SIMD(void, q3_K_tof, GK_KQ_P_TOF, GK_KQ_A_TOF)

GK_KQ_INLINE float q3_K_dot_body(int64_t n, const void *vw, const void *va) {
    const uint8_t *w = (const uint8_t *)vw, *a = (const uint8_t *)va;
    float sumf = 0;
    for (int64_t i = 0; i < n / 256; i++) {
        const uint8_t *bw = w + i * QB, *ba = a + i * 292;
        const int8_t *qa = (const int8_t *)(ba + 4);
        int8_t sc[16];
        gk_kq_q3_scales(bw + 96, sc);
        int32_t isum = 0;
        for (int j = 0; j < 16; ++j) {
            int32_t s = 0;
            for (int t = 0; t < 16; ++t) {
                const int e = 16 * j + t, nn = e / 128, jj = (e % 128) / 32, l = e % 32;
                const int low = (bw[32 + 32 * nn + l] >> (2 * jj)) & 3;
                const int high = (bw[l] >> (4 * nn + jj)) & 1;
                s += (low - (high ? 0 : 4)) * qa[e];
            }
            isum += sc[j] * s;
        }
        sumf += (gk_ldf(ba) * gk_f16_to_f32(gk_ld16(bw + 108))) * (float)isum;
    }
    return sumf;
}
#if GK_X86
/* q = low + 4*hbit in [0,7]; sum s*(q-4)*a = sum s*q*a - 4*sum s*bsum. */
GK_KQ_AVX2 float q3_K_dot_simd(int64_t n, const void *vw, const void *va) {
    const uint8_t *w = (const uint8_t *)vw, *a = (const uint8_t *)va;
    const __m256i one = _mm256_set1_epi8(1);
    __m256 accf = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / 256; i++) {
        const uint8_t *bw = w + i * QB, *ba = a + i * 292;
        /* the 16 signed scales by 32-bit masks (as gk_kq_q3_scales) */
        uint32_t u[4];
        memcpy(u, bw + 96, 12);
        const uint32_t k1 = 0x03030303u, k2 = 0x0f0f0f0fu, tmp = u[2];
        u[2] = ((u[0] >> 4) & k2) | (((tmp >> 4) & k1) << 4);
        u[3] = ((u[1] >> 4) & k2) | (((tmp >> 6) & k1) << 4);
        u[0] = (u[0] & k2) | (((tmp >> 0) & k1) << 4);
        u[1] = (u[1] & k2) | (((tmp >> 2) & k1) << 4);
        const __m256i S = _mm256_sub_epi16(_mm256_cvtepu8_epi16(_mm_setr_epi32((int)u[0], (int)u[1], (int)u[2], (int)u[3])),
                                           _mm256_set1_epi16(32));
        const __m256i Sh[2] = {_mm256_permute4x64_epi64(S, 0x44), _mm256_permute4x64_epi64(S, 0xEE)};
        const __m256i hm = gk_kq_ld256(bw);
        __m256i acc = _mm256_slli_epi32(_mm256_madd_epi16(S, gk_kq_ld256(ba + 260)), 2);
        acc = _mm256_sub_epi32(_mm256_setzero_si256(), acc);
        for (int nn = 0; nn < 2; ++nn) {
            const __m256i qs = gk_kq_ld256(bw + 32 + 32 * nn);
            for (int j = 0; j < 4; ++j) {
                const __m256i hb = _mm256_and_si256(_mm256_srli_epi16(hm, 4 * nn + j), one);
                const __m256i q = _mm256_or_si256(gk_kq_bits2(qs, j), _mm256_slli_epi16(hb, 2));
                const __m256i p = _mm256_maddubs_epi16(q, gk_kq_ld256(ba + 4 + 128 * nn + 32 * j));
                acc = _mm256_add_epi32(acc, _mm256_madd_epi16(p, gk_kq_scale_pair(Sh[nn], 2 * j)));
            }
        }
        accf = _mm256_add_ps(accf, _mm256_mul_ps(_mm256_set1_ps(gk_ldf(ba) * gk_kq_h2f(bw + 108)), _mm256_cvtepi32_ps(acc)));
    }
    return gk_kq_hsum_ps(accf);
}
/* AVX-512 helpers: the sixteen scale codes 0..63 as bytes from scales[12] (vector decode). */
#define Q3_AVX512 GK_TARGET_AVX512 static inline __attribute__((always_inline))
Q3_AVX512 __m128i q3_K_scodes(const uint8_t *p) {
    const __m128i v = _mm_loadl_epi64((const __m128i *)p);
    const __m128i lo = _mm_and_si128(_mm_unpacklo_epi64(v, _mm_srli_epi16(v, 4)), _mm_set1_epi8(0x0F));
    /* dword k: the 2-bit fields of scales[8..11] shifted by 2k */
    const __m128i h = _mm_srlv_epi32(_mm_set1_epi32((int)gk_ld32(p + 8)), _mm_setr_epi32(0, 2, 4, 6));
    return _mm_ternarylogic_epi32(lo, _mm_slli_epi32(h, 4), _mm_set1_epi8(0x30), 0xF8); /* lo | (h & 0x30) */
}
/* One super-block: 64 codes q = low + 4*hbit (0..7) per vector, one vpdpbusd each, whose dwords
 * each hold one 16-sub-block's partial sum (128-bit lane k of the vector for elements 64v.. is
 * sub-block 4v+k). Two such vectors are packed to int16 (|dword| <= 4*7*127) and scaled by one
 * vpdpwssd; the -4 offset is -4*scale*bsum, also by vpdpwssd. Returns the block's int32 lanes. */
Q3_AVX512 __m512i q3_K_blk512(const uint8_t *bw, const uint8_t *ba, const __m512i sh0, const __m512i sh1,
                              const __m512i *hb, const __m512i sidx0, const __m512i sidx1) {
    const __m512i m3 = _mm512_set1_epi8(3), four = _mm512_set1_epi8(4), zero = _mm512_setzero_si512();
    const __m512i u = _mm512_cvtepu8_epi16(_mm256_zextsi128_si256(q3_K_scodes(bw + 96)));
    const __m512i S5 = _mm512_sub_epi16(u, _mm512_set1_epi16(32));
    const __m512i S4n = _mm512_sub_epi16(_mm512_set1_epi16(128), _mm512_slli_epi16(u, 2)); /* -4 * (u - 32) */
    __m512i acc = _mm512_dpwssd_epi32(zero, _mm512_zextsi256_si512(gk_kq_ld256(ba + 260)), S4n);
    const __m512i hm = _mm512_broadcast_i64x4(gk_kq_ld256(bw));
    for (int nn = 0; nn < 2; ++nn) {
        const __m512i qs = _mm512_broadcast_i64x4(gk_kq_ld256(bw + 32 + 32 * nn));
        /* q = (qs >> shift) & 3 | 4 * hbit */
        const __m512i h0 = _mm512_and_si512(nn ? _mm512_srlv_epi16(hm, hb[2]) : _mm512_sllv_epi16(hm, hb[0]), four);
        const __m512i h1 = _mm512_and_si512(_mm512_srlv_epi16(hm, hb[2 * nn + 1]), four);
        const __m512i q0 = _mm512_ternarylogic_epi32(_mm512_srlv_epi16(qs, sh0), m3, h0, 0xEA);
        const __m512i q1 = _mm512_ternarylogic_epi32(_mm512_srlv_epi16(qs, sh1), m3, h1, 0xEA);
        const __m512i s0 = _mm512_dpbusd_epi32(zero, q0, _mm512_loadu_si512((const void *)(ba + 4 + 128 * nn)));
        const __m512i s1 = _mm512_dpbusd_epi32(zero, q1, _mm512_loadu_si512((const void *)(ba + 68 + 128 * nn)));
        acc = _mm512_dpwssd_epi32(acc, _mm512_packs_epi32(s0, s1), _mm512_permutexvar_epi16(nn ? sidx1 : sidx0, S5));
    }
    return acc;
}
/* AVX-512: two super-blocks per iteration, one float FMA per super-block. */
GK_TARGET_AVX512 static float q3_K_dot_avx512(int64_t n, const void *vw, const void *va) {
    const uint8_t *w = (const uint8_t *)vw, *a = (const uint8_t *)va;
    /* vector (nn, p): low half j = 2p (shift 4p), high half j = 2p + 1 (shift 4p + 2) */
    const __m512i sh0 = _mm512_inserti64x4(_mm512_setzero_si512(), _mm256_set1_epi16(2), 1);
    const __m512i sh1 = _mm512_add_epi16(sh0, _mm512_set1_epi16(4));
    /* hmask bit c = 4nn + j moved to bit 2 (16-bit shifts: the bytes keep their own bits): vector
     * (0, 0) left by 2 | 1, the others right by c - 2 */
#define Q3_SH(a, b) _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_set1_epi16(a)), _mm256_set1_epi16(b), 1)
    const __m512i hb[4] = {Q3_SH(2, 1), Q3_SH(0, 1), Q3_SH(2, 3), Q3_SH(4, 5)};
#undef Q3_SH
    /* packs(S[2nn], S[2nn+1]), lane k: words 0..3 sub-block 8nn+k, words 4..7 sub-block 8nn+4+k */
    const __m512i sidx0 = _mm512_set_epi16(7, 7, 7, 7, 3, 3, 3, 3, 6, 6, 6, 6, 2, 2, 2, 2,
                                           5, 5, 5, 5, 1, 1, 1, 1, 4, 4, 4, 4, 0, 0, 0, 0);
    const __m512i sidx1 = _mm512_add_epi16(sidx0, _mm512_set1_epi16(8));
    __m512 accf0 = _mm512_setzero_ps(), accf1 = _mm512_setzero_ps();
    const int64_t nb = n / 256;
    int64_t i = 0;
    for (; i + 1 < nb; i += 2) {
        const uint8_t *bw = w + i * QB, *ba = a + i * 292;
        /* software prefetch of the weight stream 16 KiB ahead (a hint: never faults) */
        for (int l = 0; l < 2 * QB; l += 64) _mm_prefetch((const char *)(bw + 16384 + l), _MM_HINT_T0);
        const __m512i c0 = q3_K_blk512(bw, ba, sh0, sh1, hb, sidx0, sidx1);
        const __m512i c1 = q3_K_blk512(bw + QB, ba + 292, sh0, sh1, hb, sidx0, sidx1);
        accf0 = _mm512_fmadd_ps(_mm512_set1_ps(gk_ldf(ba) * gk_kq_h2f(bw + 108)), _mm512_cvtepi32_ps(c0), accf0);
        accf1 = _mm512_fmadd_ps(_mm512_set1_ps(gk_ldf(ba + 292) * gk_kq_h2f(bw + QB + 108)), _mm512_cvtepi32_ps(c1), accf1);
    }
    if (i < nb) {
        const uint8_t *bw = w + i * QB, *ba = a + i * 292;
        const __m512i c0 = q3_K_blk512(bw, ba, sh0, sh1, hb, sidx0, sidx1);
        accf0 = _mm512_fmadd_ps(_mm512_set1_ps(gk_ldf(ba) * gk_kq_h2f(bw + 108)), _mm512_cvtepi32_ps(c0), accf0);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(accf0, accf1));
}
#endif
static float q3_K_dot_scalar GK_KQ_P_DOT { return q3_K_dot_body GK_KQ_A_DOT; }
#if GK_X86
GK_TARGET_AVX2 static float q3_K_dot_avx2 GK_KQ_P_DOT { return q3_K_dot_simd GK_KQ_A_DOT; }
#endif

static int64_t q3_K_validate(const void *data, size_t nbytes) {
    return gk_kq_validate_f16(data, nbytes, QB, 108, -1);
}
static void q3_K_byteswap(void *blocks, size_t n) {
    for (size_t i = 0; i < n; i++) gk_kq_swap16((uint8_t *)blocks + i * QB + 108);
}

const gk_kernel_row gk_krow_q3_K = {
    .type = GK_TYPE_Q3_K,
    .vec_dot_type = GK_TYPE_Q8_K,
    .to_float = GK_KQ_ISA3(q3_K_tof),
    .quantize = GK_KQ_ISA3(q3_K_quant),
    .vec_dot = GK_KQ_ISA3(q3_K_dot),
    .validate = q3_K_validate,
    .byteswap = q3_K_byteswap,
    .uses_imatrix = 1,
    .dot_tol = 2e-5,
};
