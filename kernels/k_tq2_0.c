/* TQ2_0 (format-facts §3.6): 256 ternary values, qs[64] (2 bits each), d: f16. Element
 * 128g + 32k + m is (qs[32g + m] >> 2k) & 3, value (t - 1)*d.
 * quantize: ggml's quantize_row_tq2_0_ref (d = amax, t = lroundf(x*(1/d)) + 1; the imatrix is
 * ignored). vec_dot pairs with Q8_K: integer sums per block. */
#include "kdot512.h"

#define QB 66

/* The 64 code bytes of one block. */
static inline void tq2_0_pack(const float *x, float id, uint8_t *o) {
    for (int j = 0; j < 64; j += 32) {
        for (int m = 0; m < 32; ++m) {
            uint8_t q = 0;
            for (int n = 0; n < 4; ++n) {
                int xi = gk_kq_tq_lround(x[128 * (j / 32) + m + n * 32] * id) + 1;
                q = (uint8_t)(q + ((xi & 3) << (2 * n)));
            }
            o[j + m] = q;
        }
    }
}
GK_KQ_INLINE size_t tq2_0_quant_body GK_KQ_P_QUANT {
    (void)imatrix;
    return gk_kq_tq_quant_rows(x, vy, nrows, n_per_row, QB, tq2_0_pack);
}
#if GK_X86
GK_TARGET_AVX2 static inline void tq2_0_pack_simd(const float *xb, float idf, __m256 id, uint8_t *o) {
    (void)idf;
    for (int g = 0; g < 2; ++g)
        for (int m = 0; m < 32; m += 8) {
            __m256i q = _mm256_setzero_si256();
            for (int n = 0; n < 4; ++n) {
                const __m256i t = _mm256_and_si256(gk_kq_tq_round8(xb + 128 * g + 32 * n + m, id), _mm256_set1_epi32(3));
                q = _mm256_or_si256(q, _mm256_slli_epi32(t, 2 * n));
            }
            const __m128i p16 = _mm_packs_epi32(_mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1));
            _mm_storel_epi64((__m128i *)(o + 32 * g + m), _mm_packus_epi16(p16, p16));
        }
}
GK_KQ_AVX2 size_t tq2_0_quant_simd GK_KQ_P_QUANT {
    (void)imatrix;
    return gk_kq_tq_quant_rows_simd(x, vy, nrows, n_per_row, QB, tq2_0_pack, tq2_0_pack_simd);
}
#endif
GK_KQ_FN_SIMD(size_t, tq2_0_quant, GK_KQ_P_QUANT, GK_KQ_A_QUANT)

GK_KQ_INLINE void tq2_0_tof_body(const void *vx, float *y, int64_t k) {
    const uint8_t *x = (const uint8_t *)vx;
    for (int64_t i = 0; i < k / 256; i++) {
        const uint8_t *b = x + i * QB;
        const float d = gk_f16_to_f32(gk_ld16(b + 64));
        for (int j = 0; j < 64; j += 32)
            for (int l = 0; l < 4; ++l)
                for (int m = 0; m < 32; ++m) *y++ = (float)(((b[j + m] >> (2 * l)) & 3) - 1) * d;
    }
}
GK_KQ_FN(void, tq2_0_tof, GK_KQ_P_TOF, GK_KQ_A_TOF)

GK_KQ_INLINE float tq2_0_dot_body(int64_t n, const void *vw, const void *va) {
    const uint8_t *w = (const uint8_t *)vw, *a = (const uint8_t *)va;
    float sumf = 0;
    for (int64_t i = 0; i < n / 256; i++) {
        const uint8_t *bw = w + i * QB, *ba = a + i * 292;
        const int8_t *qa = (const int8_t *)(ba + 4);
        int32_t sum = 0;
        for (int e = 0; e < 256; ++e) {
            const int t = (bw[32 * (e / 128) + e % 32] >> (2 * ((e % 128) / 32))) & 3;
            sum += (t - 1) * qa[e];
        }
        sumf += (float)sum * (gk_f16_to_f32(gk_ld16(bw + 64)) * gk_ldf(ba));
    }
    return sumf;
}
#if GK_X86
/* sum (t-1)*a = sum t*a - sum a. Fields masked in place where the product stays in int16: field 0
 * as qs & 3, fields 1 and 3 as 4t (qs & 0x0c, (qs >> 4) & 0x0c), field 2 as 16t (qs & 0x30), each
 * group summed in 16 bits and shifted back exactly (every lane a multiple of 4 resp. 16): fewer
 * shifts than one shift per field. The activation sums enter as -bsums (only the total counts). */
GK_KQ_AVX2 float tq2_0_dot_simd(int64_t n, const void *vw, const void *va) {
    const uint8_t *w = (const uint8_t *)vw, *a = (const uint8_t *)va;
    const __m256i ones = _mm256_set1_epi16(1);
    const __m256i k03 = _mm256_set1_epi8(0x03), k0c = _mm256_set1_epi8(0x0c), k30 = _mm256_set1_epi8(0x30);
    __m256 accf = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / 256; i++) {
        const uint8_t *bw = w + i * QB, *ba = a + i * 292;
        GK_T16_PREFETCH(bw, QB, GK_T16_PF_DIST);
        /* |acc1| <= 2*2*2*128 + 16*128, |acc4| <= 4 * 2*12*128, |acc16| <= 2 * 2*48*128: int16 */
        __m256i acc1 = _mm256_sub_epi16(_mm256_setzero_si256(), gk_kq_ld256(ba + 260));
        __m256i acc4 = _mm256_setzero_si256(), acc16 = _mm256_setzero_si256();
        for (int g = 0; g < 2; ++g) {
            const __m256i qs = gk_kq_ld256(bw + 32 * g);
            const uint8_t *ag = ba + 4 + 128 * g;
            acc1 = _mm256_add_epi16(acc1, _mm256_maddubs_epi16(_mm256_and_si256(qs, k03), gk_kq_ld256(ag)));
            acc4 = _mm256_add_epi16(acc4, _mm256_maddubs_epi16(_mm256_and_si256(qs, k0c), gk_kq_ld256(ag + 32)));
            acc16 = _mm256_add_epi16(acc16, _mm256_maddubs_epi16(_mm256_and_si256(qs, k30), gk_kq_ld256(ag + 64)));
            acc4 = _mm256_add_epi16(acc4, _mm256_maddubs_epi16(_mm256_and_si256(_mm256_srli_epi16(qs, 4), k0c), gk_kq_ld256(ag + 96)));
        }
        const __m256i s = _mm256_add_epi16(_mm256_add_epi16(acc1, _mm256_srai_epi16(acc4, 2)), _mm256_srai_epi16(acc16, 4));
        accf = _mm256_fmadd_ps(_mm256_set1_ps(gk_kq_h2f(bw + 64) * gk_ldf(ba)), _mm256_cvtepi32_ps(_mm256_madd_epi16(s, ones)), accf);
    }
    return gk_kq_hsum_ps(accf);
}
/* AVX-512: 32 bytes of qs broadcast to both halves (fields 0,1 resp. 2,3), vpdpbusd into an
 * accumulator that starts at -sum(a) (the bsums). */
GK_TARGET_AVX512 static float tq2_0_dot_avx512(int64_t n, const void *vw, const void *va) {
    const uint8_t *w = (const uint8_t *)vw, *a = (const uint8_t *)va;
    const __m512i m2 = _mm512_set1_epi8(3);
    const __m512i sh23 = _mm512_inserti64x4(_mm512_set1_epi16(4), _mm256_set1_epi16(6), 1);
    const __m256i neg = _mm256_set1_epi16(-1);
    __m512 accf = _mm512_setzero_ps();
    for (int64_t i = 0; i < n / 256; i++) {
        const uint8_t *bw = w + i * QB, *ba = a + i * 292;
        GK_T16_PREFETCH(bw, QB, GK_T16_PF_DIST);
        __m512i acc = _mm512_zextsi256_si512(_mm256_madd_epi16(gk_kq_ld256(ba + 260), neg));
        for (int g = 0; g < 2; ++g) {
            const __m512i qs = _mm512_broadcast_i64x4(gk_kq_ld256(bw + 32 * g));
            const __m512i q01 = _mm512_and_si512(_mm512_mask_srli_epi16(qs, 0xFFFF0000u, qs, 2), m2);
            const __m512i q23 = _mm512_and_si512(_mm512_srlv_epi16(qs, sh23), m2);
            acc = _mm512_dpbusd_epi32(acc, q01, _mm512_loadu_si512((const void *)(ba + 4 + 128 * g)));
            acc = _mm512_dpbusd_epi32(acc, q23, _mm512_loadu_si512((const void *)(ba + 68 + 128 * g)));
        }
        accf = _mm512_fmadd_ps(_mm512_set1_ps(gk_kq_h2f(bw + 64) * gk_ldf(ba)), _mm512_cvtepi32_ps(acc), accf);
    }
    const __m256 f = _mm256_add_ps(_mm512_castps512_ps256(accf), _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(accf), 1)));
    return gk_kq_hsum_ps(f);
}
#endif
static float tq2_0_dot_scalar GK_KQ_P_DOT { return tq2_0_dot_body GK_KQ_A_DOT; }
#if GK_X86
GK_TARGET_AVX2 static float tq2_0_dot_avx2 GK_KQ_P_DOT { return tq2_0_dot_simd GK_KQ_A_DOT; }
#endif

static int64_t tq2_0_validate(const void *data, size_t nbytes) {
    return gk_kq_validate_f16(data, nbytes, QB, 64, -1);
}
static void tq2_0_byteswap(void *blocks, size_t n) {
    for (size_t i = 0; i < n; i++) gk_kq_swap16((uint8_t *)blocks + i * QB + 64);
}

const gk_kernel_row gk_krow_tq2_0 = {
    .type = GK_TYPE_TQ2_0,
    .vec_dot_type = GK_TYPE_Q8_K,
    .to_float = GK_KQ_ISA3(tq2_0_tof),
    .quantize = GK_KQ_ISA3(tq2_0_quant),
    .vec_dot = GK_KQ_ISA3(tq2_0_dot),
    .validate = tq2_0_validate,
    .byteswap = tq2_0_byteswap,
    .uses_imatrix = 0,
    .dot_tol = 5e-5,
};
