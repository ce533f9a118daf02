/* TQ1_0 (format-facts §3.6, T7): 256 ternary values, qs[48] and qh[4] hold 5 (qh: 4) trits per
 * byte as a base-3 fixed-point fraction, d: f16. Trit k of byte b is ((uint8)(b*3^k)*3) >> 8.
 * quantize: ggml's quantize_row_tq1_0_ref (d = amax, t = lroundf(x*(1/d)) + 1; imatrix ignored).
 * vec_dot pairs with Q8_K: integer sums per block. */
#include "kquant_util.h"

#define QB 54

/* Element index of trit k of byte j (j < 48: qs, 48..51: qh). */
GK_KQ_INLINE int tq1_elem(int j, int k) {
    if (j < 32) return 32 * k + j;
    if (j < 48) return 160 + 16 * k + (j - 32);
    return 240 + 4 * k + (j - 48);
}

/* The 52 code bytes of one block. */
static inline void tq1_0_pack(const float *x, float id, uint8_t *o) {
    for (int j = 0; j < 52; ++j) {
        const int nt = j < 48 ? 5 : 4;
        uint8_t q = 0;
        for (int k = 0; k < nt; ++k) {
            int xi = gk_kq_tq_lround(x[tq1_elem(j, k)] * id) + 1;
            q = (uint8_t)(q * 3 + xi);
        }
        if (j >= 48) q = (uint8_t)(q * 3);
        o[j] = (uint8_t)(((uint16_t)q * 256 + (243 - 1)) / 243);
    }
}
GK_KQ_INLINE size_t tq1_0_quant_body GK_KQ_P_QUANT {
    (void)imatrix;
    return gk_kq_tq_quant_rows(x, vy, nrows, n_per_row, QB, tq1_0_pack);
}
#if GK_X86
/* 8 bytes of base-3 digits t_0..t_{nt-1} (first most significant, uint8 wrap, then the qh shift
 * when nt = 4) mapped to ceil(q*256/243): the division through float is exact here. */
GK_KQ_AVX2 void tq1_pack8(const float *x, int stride, int nt, __m256 id, uint8_t *out) {
    __m256i q = _mm256_setzero_si256();
    for (int k = 0; k < nt; ++k)
        q = _mm256_add_epi32(_mm256_mullo_epi32(q, _mm256_set1_epi32(3)), gk_kq_tq_round8(x + stride * k, id));
    if (nt == 4) q = _mm256_mullo_epi32(q, _mm256_set1_epi32(3));
    q = _mm256_and_si256(q, _mm256_set1_epi32(0xFF));
    const __m256 num = _mm256_cvtepi32_ps(_mm256_add_epi32(_mm256_slli_epi32(q, 8), _mm256_set1_epi32(242)));
    const __m256i r = _mm256_cvttps_epi32(_mm256_div_ps(num, _mm256_set1_ps(243.0f)));
    const __m128i p16 = _mm_packs_epi32(_mm256_castsi256_si128(r), _mm256_extracti128_si256(r, 1));
    _mm_storel_epi64((__m128i *)out, _mm_packus_epi16(p16, p16));
}
GK_TARGET_AVX2 static inline void tq1_0_pack_simd(const float *xb, float idf, __m256 id, uint8_t *o) {
    for (int j = 0; j < 32; j += 8) tq1_pack8(xb + j, 32, 5, id, o + j);
    for (int j = 0; j < 16; j += 8) tq1_pack8(xb + 160 + j, 16, 5, id, o + 32 + j);
    for (int j = 48; j < 52; ++j) {
        uint8_t q = 0;
        for (int k = 0; k < 4; ++k) q = (uint8_t)(q * 3 + gk_kq_tq_lround(xb[tq1_elem(j, k)] * idf) + 1);
        q = (uint8_t)(q * 3);
        o[j] = (uint8_t)(((uint16_t)q * 256 + (243 - 1)) / 243);
    }
}
GK_KQ_AVX2 size_t tq1_0_quant_simd GK_KQ_P_QUANT {
    (void)imatrix;
    return gk_kq_tq_quant_rows_simd(x, vy, nrows, n_per_row, QB, tq1_0_pack, tq1_0_pack_simd);
}
#endif
GK_KQ_FN_SIMD(size_t, tq1_0_quant, GK_KQ_P_QUANT, GK_KQ_A_QUANT)

GK_KQ_INLINE int tq1_trit(uint8_t b, int k) {
    static const uint8_t pow3[5] = {1, 3, 9, 27, 81};
    uint8_t q = (uint8_t)(b * pow3[k]);
    return ((uint16_t)q * 3) >> 8;
}

GK_KQ_INLINE void tq1_0_tof_body(const void *vx, float *y, int64_t k) {
    const uint8_t *x = (const uint8_t *)vx;
    for (int64_t i = 0; i < k / 256; i++, y += 256) {
        const uint8_t *b = x + i * QB;
        const float d = gk_f16_to_f32(gk_ld16(b + 52));
        for (int j = 0; j < 52; ++j) {
            const int nt = j < 48 ? 5 : 4;
            for (int t = 0; t < nt; ++t) y[tq1_elem(j, t)] = (float)(tq1_trit(b[j], t) - 1) * d;
        }
    }
}

GK_KQ_INLINE float tq1_0_dot_body(int64_t n, const void *vw, const void *va) {
    const uint8_t *w = (const uint8_t *)vw, *a = (const uint8_t *)va;
    float sumf = 0;
    for (int64_t i = 0; i < n / 256; i++) {
        const uint8_t *bw = w + i * QB, *ba = a + i * 292;
        const int8_t *qa = (const int8_t *)(ba + 4);
        int32_t sum = 0;
        for (int j = 0; j < 52; ++j) {
            const int nt = j < 48 ? 5 : 4;
            for (int t = 0; t < nt; ++t) sum += (tq1_trit(bw[j], t) - 1) * qa[tq1_elem(j, t)];
        }
        sumf += (float)sum * (gk_f16_to_f32(gk_ld16(bw + 52)) * gk_ldf(ba));
    }
    return sumf;
}
#if GK_X86
/* trit of every byte of v times 3^k: ((uint8)(b*3^k) * 3) >> 8. Each byte is moved to the high
 * half of a 16-bit lane, so the 16-bit product keeps exactly (uint8)(b*p) * 256, and
 * mulhi(., 3) gives the trit. */
GK_KQ_AVX2 __m256i tq1_trits(__m256i v, int p) {
    const __m256i pp = _mm256_set1_epi16((short)p), three = _mm256_set1_epi16(3);
    const __m256i ev = _mm256_mulhi_epu16(_mm256_mullo_epi16(_mm256_slli_epi16(v, 8), pp), three);
    const __m256i od = _mm256_mulhi_epu16(_mm256_mullo_epi16(_mm256_and_si256(v, _mm256_set1_epi16((short)0xFF00)), pp), three);
    return _mm256_or_si256(ev, _mm256_slli_epi16(od, 8));
}
/* Byte-wise (as ggml's x86 path): v*3^k mod 256 by shifts and adds, then the trit
 * ((uint8)(b*3^k) * 3) >> 8 = avg(x, avg(x, 0)) >> 6 with x = max(b - 1, 0) (exact for all
 * 256 bytes). */
GK_KQ_AVX2 __m256i tq1_mul3(__m256i v) { return _mm256_add_epi8(v, _mm256_add_epi8(v, v)); }
GK_KQ_AVX2 __m256i tq1_mul9(__m256i v) {
    return _mm256_add_epi8(_mm256_and_si256(_mm256_slli_epi16(v, 3), _mm256_set1_epi8(-8)), v);
}
GK_KQ_AVX2 __m256i tq1_trit8(__m256i vp) {
    const __m256i x = _mm256_subs_epu8(vp, _mm256_set1_epi8(1));
    const __m256i r = _mm256_avg_epu8(x, _mm256_avg_epu8(x, _mm256_setzero_si256()));
    return _mm256_and_si256(_mm256_srli_epi16(r, 6), _mm256_set1_epi8(3));
}
/* One block: eight vectors of 32 trits, the powers of 3 by byte adds (x3 chain), int16 sums
 * (|each| <= 4 * 2 * 2 * 127). Returns the block's int32 lanes of sum (t - 1) * a. */
GK_KQ_AVX2 __m256i tq1_blk256(const uint8_t *bw, const uint8_t *ba) {
    const int8_t *qa = (const int8_t *)(ba + 4);
    /* elements 0..159: bytes 0..31 times 3^k */
    const __m256i p0 = gk_kq_ld256(bw), p1 = tq1_mul3(p0), p2 = tq1_mul9(p0), p3 = tq1_mul3(p2), p4 = tq1_mul9(p2);
    __m256i s0 = _mm256_maddubs_epi16(tq1_trit8(p0), gk_kq_ld256(qa));
    __m256i s1 = _mm256_maddubs_epi16(tq1_trit8(p1), gk_kq_ld256(qa + 32));
    s0 = _mm256_add_epi16(s0, _mm256_maddubs_epi16(tq1_trit8(p2), gk_kq_ld256(qa + 64)));
    s1 = _mm256_add_epi16(s1, _mm256_maddubs_epi16(tq1_trit8(p3), gk_kq_ld256(qa + 96)));
    s0 = _mm256_add_epi16(s0, _mm256_maddubs_epi16(tq1_trit8(p4), gk_kq_ld256(qa + 128)));
    /* elements 160..239: bytes 32..47, [1 | 3], [9 | 27], then [81 | 243] (low half used) */
    const __m256i z = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(bw + 32)));
    const __m256i r = _mm256_blend_epi32(z, tq1_mul3(z), 0xF0);
    s1 = _mm256_add_epi16(s1, _mm256_maddubs_epi16(tq1_trit8(r), gk_kq_ld256(qa + 160)));
    const __m256i r9 = tq1_mul9(r);
    s0 = _mm256_add_epi16(s0, _mm256_maddubs_epi16(tq1_trit8(r9), gk_kq_ld256(qa + 192)));
    /* elements 240..255: qh bytes times 1, 3, 9, 27 by dwords (16-bit products, low bytes), in the
     * high half beside 81 * bytes 32..47 (elements 224..239) */
    const __m256i hw = _mm256_mullo_epi16(_mm256_cvtepu8_epi16(_mm_set1_epi32((int)gk_ld32(bw + 48))),
                                          _mm256_setr_epi16(1, 1, 1, 1, 3, 3, 3, 3, 9, 9, 9, 9, 27, 27, 27, 27));
    const __m256i hb = _mm256_shuffle_epi8(hw, _mm256_setr_epi8(0, 2, 4, 6, 8, 10, 12, 14, -1, -1, -1, -1, -1, -1, -1, -1,
                                                                0, 2, 4, 6, 8, 10, 12, 14, -1, -1, -1, -1, -1, -1, -1, -1));
    const __m256i t = _mm256_blend_epi32(tq1_mul9(r9), _mm256_permute4x64_epi64(hb, 0x80), 0xF0);
    s1 = _mm256_add_epi16(s1, _mm256_maddubs_epi16(tq1_trit8(t), gk_kq_ld256(qa + 224)));
    const __m256i ones = _mm256_set1_epi16(1);
    return _mm256_madd_epi16(_mm256_sub_epi16(_mm256_add_epi16(s0, s1), gk_kq_ld256(ba + 260)), ones);
}
GK_KQ_AVX2 float tq1_0_dot_simd(int64_t n, const void *vw, const void *va) {
    const uint8_t *w = (const uint8_t *)vw, *a = (const uint8_t *)va;
    __m256 accf0 = _mm256_setzero_ps(), accf1 = _mm256_setzero_ps();
    const int64_t nb = n / 256;
    int64_t i = 0;
    for (; i + 1 < nb; i += 2) {
        const uint8_t *bw = w + i * QB, *ba = a + i * 292;
        const __m256i c0 = tq1_blk256(bw, ba), c1 = tq1_blk256(bw + QB, ba + 292);
        /* both blocks' d_w * d_a by one conversion and one multiply */
        const __m128 dw = _mm_cvtph_ps(_mm_cvtsi32_si128((int)((uint32_t)gk_ld16(bw + 52) | ((uint32_t)gk_ld16(bw + QB + 52) << 16))));
        const __m128 dd = _mm_mul_ps(dw, _mm_setr_ps(gk_ldf(ba), gk_ldf(ba + 292), 0.0f, 0.0f));
        accf0 = _mm256_fmadd_ps(_mm256_broadcastss_ps(dd), _mm256_cvtepi32_ps(c0), accf0);
        accf1 = _mm256_fmadd_ps(_mm256_broadcastss_ps(_mm_movehdup_ps(dd)), _mm256_cvtepi32_ps(c1), accf1);
    }
    if (i < nb) {
        const uint8_t *bw = w + i * QB, *ba = a + i * 292;
        accf0 = _mm256_fmadd_ps(_mm256_set1_ps(gk_kq_h2f(bw + 52) * gk_ldf(ba)), _mm256_cvtepi32_ps(tq1_blk256(bw, ba)), accf0);
    }
    return gk_kq_hsum_ps(_mm256_add_ps(accf0, accf1));
}
/* AVX-512 without trit extraction. With m_k = (uint8)(b*3^k) the trit is t_k = (3*m_k) >> 8 and
 * 3*m_k = 256*t_k + m_{k+1}, so 256 * sum t_k*a = 3 * sum m_k*a - sum m_{k+1}*a: two vpdpbusd of
 * the unsigned m bytes per vector, and the m_{k+1} vector is 3x the m_k vector (byte adds).
 * Vector k (k = 0..4) holds qs[0..47] times 3^k (bytes 48..63 zero) with the activations of
 * elements 32k.. (bytes 0..31) and 160+16k.. (bytes 32..47, a masked load); vector 4 also
 * carries the qh trits: bytes 48..63 = qh times 1, 3, 9, 27 by dwords, elements 240..255. */
#define TQ1_AVX512 GK_TARGET_AVX512 static inline __attribute__((always_inline))
TQ1_AVX512 __m512i tq1_x3_512(__m512i v) { return _mm512_add_epi8(v, _mm512_add_epi8(v, v)); }
TQ1_AVX512 __m512i tq1_blk512(const uint8_t *bw, const uint8_t *ba) {
    const int8_t *qa = (const int8_t *)(ba + 4);
    /* qh: dword k times 3^k, by 16-bit products truncated to bytes */
    const __m256i hw = _mm256_cvtepu8_epi16(_mm_set1_epi32((int)gk_ld32(bw + 48)));
    const __m128i h = _mm256_cvtepi16_epi8(_mm256_mullo_epi16(hw, _mm256_setr_epi16(1, 1, 1, 1, 3, 3, 3, 3, 9, 9, 9, 9, 27, 27, 27, 27)));
    __m512i W = _mm512_maskz_loadu_epi8(0x0000FFFFFFFFFFFFull, bw);
    /* n starts at 256 * sum(a): sum (t - 1) * a = (3p - n) / 256 */
    __m512i p = _mm512_setzero_si512();
    __m512i nn = _mm512_madd_epi16(_mm512_zextsi256_si512(gk_kq_ld256(ba + 260)), _mm512_set1_epi16(256));
    for (int k = 0; k < 5; ++k) {
        __m512i A = _mm512_zextsi256_si512(gk_kq_ld256(qa + 32 * k));
        A = _mm512_mask_loadu_epi8(A, k < 4 ? 0x0000FFFF00000000ull : 0xFFFFFFFF00000000ull, qa + 128 + 16 * k);
        if (k == 4) W = _mm512_inserti32x4(W, h, 3);
        const __m512i W3 = tq1_x3_512(W);
        p = _mm512_dpbusd_epi32(p, W, A);
        nn = _mm512_dpbusd_epi32(nn, W3, A);
        W = W3;
    }
    return _mm512_sub_epi32(_mm512_add_epi32(p, _mm512_add_epi32(p, p)), nn);
}
GK_TARGET_AVX512 static float tq1_0_dot_avx512 GK_KQ_P_DOT {
    const uint8_t *w = (const uint8_t *)vw, *a = (const uint8_t *)va;
    __m512 accf0 = _mm512_setzero_ps(), accf1 = _mm512_setzero_ps();
    const int64_t nb = n / 256;
    int64_t i = 0;
    for (; i + 1 < nb; i += 2) {
        const uint8_t *bw = w + i * QB, *ba = a + i * 292;
        const __m512i c0 = tq1_blk512(bw, ba), c1 = tq1_blk512(bw + QB, ba + 292);
        accf0 = _mm512_fmadd_ps(_mm512_set1_ps(gk_kq_h2f(bw + 52) * gk_ldf(ba)), _mm512_cvtepi32_ps(c0), accf0);
        accf1 = _mm512_fmadd_ps(_mm512_set1_ps(gk_kq_h2f(bw + QB + 52) * gk_ldf(ba + 292)), _mm512_cvtepi32_ps(c1), accf1);
    }
    if (i < nb) {
        const uint8_t *bw = w + i * QB, *ba = a + i * 292;
        accf0 = _mm512_fmadd_ps(_mm512_set1_ps(gk_kq_h2f(bw + 52) * gk_ldf(ba)), _mm512_cvtepi32_ps(tq1_blk512(bw, ba)), accf0);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(accf0, accf1)) * (1.0f / 256);
}
static float tq1_0_dot_scalar GK_KQ_P_DOT { return tq1_0_dot_body GK_KQ_A_DOT; }
GK_TARGET_AVX2 static float tq1_0_dot_avx2 GK_KQ_P_DOT { return tq1_0_dot_simd GK_KQ_A_DOT; }
#else
GK_KQ_FN_SIMD(float, tq1_0_dot, GK_KQ_P_DOT, GK_KQ_A_DOT)
#endif

#if GK_X86
GK_KQ_AVX2 void tq1_0_tof_simd(const void *vx, float *y, int64_t k) {
    const uint8_t *x = (const uint8_t *)vx;
    static const int pow3[5] = {1, 3, 9, 27, 81};
    for (int64_t i = 0; i < k / 256; i++, y += 256) {
        const uint8_t *b = x + i * QB;
        const float d = gk_kq_h2f(b + 52);
        const __m256i q0 = gk_kq_ld256(b);
        const __m256i q1 = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(b + 32)));
        for (int t = 0; t < 5; ++t) gk_kq_store32(y + 32 * t, tq1_trits(q0, pow3[t]), 1, d, d);
        for (int t = 0; t < 5; t += 2) {
            if (t < 4) {
                const __m256i v = _mm256_blend_epi32(tq1_trits(q1, pow3[t]), tq1_trits(q1, pow3[t + 1]), 0xF0);
                gk_kq_store32(y + 160 + 16 * t, v, 1, d, d);
            } else {
                float tmp[32];
                gk_kq_store32(tmp, tq1_trits(q1, pow3[t]), 1, d, d);
                memcpy(y + 224, tmp, 16 * sizeof(float));
            }
        }
        for (int t = 0; t < 4; ++t)
            for (int j = 0; j < 4; ++j) y[240 + 4 * t + j] = (float)(tq1_trit(b[48 + j], t) - 1) * d;
    }
}
#endif
GK_KQ_FN_SIMD(void, tq1_0_tof, GK_KQ_P_TOF, GK_KQ_A_TOF)

static int64_t tq1_0_validate(const void *data, size_t nbytes) {
    return gk_kq_validate_f16(data, nbytes, QB, 52, -1);
}
static void tq1_0_byteswap(void *blocks, size_t n) {
    for (size_t i = 0; i < n; i++) gk_kq_swap16((uint8_t *)blocks + i * QB + 52);
}

const gk_kernel_row gk_krow_tq1_0 = {
    .type = GK_TYPE_TQ1_0,
    .vec_dot_type = GK_TYPE_Q8_K,
    .to_float = GK_KQ_ISA3(tq1_0_tof),
    .quantize = GK_KQ_ISA3(tq1_0_quant),
    .vec_dot = GK_KQ_ISA3(tq1_0_dot),
    .validate = tq1_0_validate,
    .byteswap = tq1_0_byteswap,
    .uses_imatrix = 0,
    .dot_tol = 5e-5,
};
