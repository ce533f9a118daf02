/* F32, F16, BF16, F64 (format-facts §3.0, §3.1, §3.10, §4).
 * F16: fp32->fp16 round to nearest even (NaN -> sign|0x7E00), exact back; BF16: RNE with the
 * forced quiet NaN, u<<16 back. quantize = ggml_quantize_chunk (imatrix ignored); from_float is
 * the same conversion (activations of F16/BF16 weights). vec_dot accumulates in double in the
 * scalar path, in float vector lanes with FMA in the SIMD paths (a tolerance, not bits). */
#include "kq_search.h"

#if GK_X86
#include <immintrin.h>
/* Software prefetch of the weight stream 16 KiB ahead (hints: never fault, so they may point
 * past the row). Measured here: f16/bf16 dots +45%, f32 +35% with the weights beyond the L3. */
#define GK_PF_ROW(p, size)                                                                    \
    do {                                                                                      \
        for (int l_ = 0; l_ < (size); l_ += 64)                                               \
            _mm_prefetch((const char *)((uintptr_t)(p) + 16384 + (uintptr_t)l_), _MM_HINT_T0); \
    } while (0)
#endif

/* ---- F32 ---------------------------------------------------------------------------------- */
static void f32_tof(const void *x, float *y, int64_t k) { memcpy(y, x, (size_t)k * 4); }
static size_t f32_quant(const float *x, void *y, int64_t nrows, int64_t n, const float *im) {
    (void)im;
    memcpy(y, x, (size_t)(nrows * n) * 4);
    return (size_t)(nrows * n) * 4;
}
static void f32_fromf(const float *x, void *y, int64_t k) { memcpy(y, x, (size_t)k * 4); }
static float f32_dot_scalar(int64_t n, const void *vw, const void *va) {
    const uint8_t *w = (const uint8_t *)vw, *a = (const uint8_t *)va;
    double s = 0;
    for (int64_t i = 0; i < n; i++) s += (double)(gk_ldf(w + 4 * i) * gk_ldf(a + 4 * i));
    return (float)s;
}
static int64_t f32_validate(const void *data, size_t nbytes) {
    const uint8_t *p = (const uint8_t *)data;
    size_t n = nbytes / 4;
    for (size_t i = 0; i < n; i++)
        if ((gk_ld32(p + 4 * i) & 0x7f800000u) == 0x7f800000u) return (int64_t)i;
    return nbytes % 4 ? (int64_t)n : -1;
}
static void swap2(void *b, size_t n) {
    for (size_t i = 0; i < n; i++) gk_swap16_at((uint8_t *)b + 2 * i);
}
static void swap4(void *b, size_t n) {
    for (size_t i = 0; i < n; i++) gk_swap32_at((uint8_t *)b + 4 * i);
}
static void swap8(void *b, size_t n) {
    uint8_t *p = (uint8_t *)b;
    for (size_t i = 0; i < n; i++, p += 8)
        for (int a = 0, c = 7; a < c; a++, c--) {
            uint8_t t = p[a];
            p[a] = p[c];
            p[c] = t;
        }
}

/* ---- F16 ---------------------------------------------------------------------------------- */
GK_INLINE void f16_tof_impl(const void *vx, float *y, int64_t k) {
    const uint8_t *x = (const uint8_t *)vx;
    for (int64_t i = 0; i < k; i++) y[i] = gk_f16_to_f32(gk_ld16(x + 2 * i));
}
GK_INLINE void f16_conv_impl(const float *x, void *vy, int64_t k) {
    uint8_t *y = (uint8_t *)vy;
    for (int64_t i = 0; i < k; i++) gk_st16(y + 2 * i, gk_f32_to_f16(x[i]));
}
static void f16_tof_scalar(const void *x, float *y, int64_t k) { f16_tof_impl(x, y, k); }
static void f16_conv_scalar(const float *x, void *y, int64_t k) { f16_conv_impl(x, y, k); }
static size_t f16_quant_scalar(const float *x, void *y, int64_t nr, int64_t n, const float *im) {
    (void)im;
    f16_conv_scalar(x, y, nr * n);
    return (size_t)(nr * n) * 2;
}
static float f16_dot_scalar(int64_t n, const void *vw, const void *va) {
    const uint8_t *w = (const uint8_t *)vw, *a = (const uint8_t *)va;
    double s = 0;
    for (int64_t i = 0; i < n; i++)
        s += (double)(gk_f16_to_f32(gk_ld16(w + 2 * i)) * gk_f16_to_f32(gk_ld16(a + 2 * i)));
    return (float)s;
}
static int64_t f16_validate(const void *data, size_t nbytes) {
    const uint8_t *p = (const uint8_t *)data;
    size_t n = nbytes / 2;
    for (size_t i = 0; i < n; i++)
        if (!gk_f16_finite(gk_ld16(p + 2 * i))) return (int64_t)i;
    return nbytes % 2 ? (int64_t)n : -1;
}

/* ---- BF16 --------------------------------------------------------------------------------- */
GK_INLINE uint16_t bf16_round(uint32_t u) {
    const uint16_t nan = (uint16_t)((u >> 16) | 0x40u);
    const uint16_t rne = (uint16_t)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
    return (u & 0x7fffffffu) > 0x7f800000u ? nan : rne;
}
GK_INLINE void bf16_conv_impl(const float *x, void *vy, int64_t k) {
    uint8_t *y = (uint8_t *)vy;
    for (int64_t i = 0; i < k; i++) {
        uint32_t u;
        memcpy(&u, x + i, 4);
        gk_st16(y + 2 * i, bf16_round(u));
    }
}
GK_KFNV(bf16_conv, GK_P_FROMF, GK_A_FROMF)
GK_INLINE void bf16_tof_impl(const void *vx, float *y, int64_t k) {
    const uint8_t *x = (const uint8_t *)vx;
    for (int64_t i = 0; i < k; i++) {
        uint32_t u = (uint32_t)gk_ld16(x + 2 * i) << 16;
        memcpy(y + i, &u, 4);
    }
}
GK_KFNV(bf16_tof, GK_P_TOF, GK_A_TOF)
static size_t bf16_quant_scalar(const float *x, void *y, int64_t nr, int64_t n, const float *im) {
    (void)im;
    bf16_conv_scalar(x, y, nr * n);
    return (size_t)(nr * n) * 2;
}
static float bf16_dot_scalar(int64_t n, const void *vw, const void *va) {
    const uint8_t *w = (const uint8_t *)vw, *a = (const uint8_t *)va;
    double s = 0;
    for (int64_t i = 0; i < n; i++)
        s += (double)(gk_bf16_to_f32(gk_ld16(w + 2 * i)) * gk_bf16_to_f32(gk_ld16(a + 2 * i)));
    return (float)s;
}
static int64_t bf16_validate(const void *data, size_t nbytes) {
    const uint8_t *p = (const uint8_t *)data;
    size_t n = nbytes / 2;
    for (size_t i = 0; i < n; i++)
        if ((gk_ld16(p + 2 * i) & 0x7fffu) >= 0x7f80u) return (int64_t)i;
    return nbytes % 2 ? (int64_t)n : -1;
}

/* ---- F64 ---------------------------------------------------------------------------------- */
static void f64_tof(const void *vx, float *y, int64_t k) {
    const uint8_t *x = (const uint8_t *)vx;
    for (int64_t i = 0; i < k; i++) {
        double v;
        memcpy(&v, x + 8 * i, 8);
        y[i] = (float)v;
    }
}
static size_t f64_quant(const float *x, void *vy, int64_t nr, int64_t n, const float *im) {
    (void)im;
    uint8_t *y = (uint8_t *)vy;
    for (int64_t i = 0; i < nr * n; i++) {
        double v = x[i];
        memcpy(y + 8 * i, &v, 8);
    }
    return (size_t)(nr * n) * 8;
}
static void f64_quant_from(const float *x, void *y, int64_t k) { f64_quant(x, y, 1, k, NULL); }
static float f64_dot(int64_t n, const void *vw, const void *va) {
    const uint8_t *w = (const uint8_t *)vw, *a = (const uint8_t *)va;
    double s = 0;
    for (int64_t i = 0; i < n; i++) {
        double p, q;
        memcpy(&p, w + 8 * i, 8);
        memcpy(&q, a + 8 * i, 8);
        s += p * q;
    }
    return (float)s;
}
static int64_t f64_validate(const void *data, size_t nbytes) {
    const uint8_t *p = (const uint8_t *)data;
    size_t n = nbytes / 8;
    for (size_t i = 0; i < n; i++) {
        uint64_t u;
        memcpy(&u, p + 8 * i, 8);
        if ((u & 0x7ff0000000000000ull) == 0x7ff0000000000000ull) return (int64_t)i;
    }
    return nbytes % 8 ? (int64_t)n : -1;
}

/* ---- SIMD variants ---------------------------------------------------------------------------- */
#if GK_X86
GK_TARGET_AVX2 static inline float hsum256(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}
GK_TARGET_AVX2 static float f32_dot_avx2(int64_t n, const void *vw, const void *va) {
    const uint8_t *w = (const uint8_t *)vw, *a = (const uint8_t *)va; /* unaligned: byte pointers */
    __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        GK_PF_ROW(w + 4 * i, 128);
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps((const float *)(w + 4 * i)), _mm256_loadu_ps((const float *)(a + 4 * i)), s0);
        s1 = _mm256_fmadd_ps(_mm256_loadu_ps((const float *)(w + 4 * (i + 8))), _mm256_loadu_ps((const float *)(a + 4 * (i + 8))), s1);
        s2 = _mm256_fmadd_ps(_mm256_loadu_ps((const float *)(w + 4 * (i + 16))), _mm256_loadu_ps((const float *)(a + 4 * (i + 16))), s2);
        s3 = _mm256_fmadd_ps(_mm256_loadu_ps((const float *)(w + 4 * (i + 24))), _mm256_loadu_ps((const float *)(a + 4 * (i + 24))), s3);
    }
    for (; i + 8 <= n; i += 8)
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps((const float *)(w + 4 * i)), _mm256_loadu_ps((const float *)(a + 4 * i)), s0);
    float s = hsum256(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
    for (; i < n; i++) s += gk_ldf(w + 4 * i) * gk_ldf(a + 4 * i);
    return s;
}
GK_TARGET_AVX2 static inline __m256 ld_h8(const uint8_t *p) {
    return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p));
}
GK_TARGET_AVX2 static inline __m256 ld_b8(const uint8_t *p) {
    return _mm256_castsi256_ps(
        _mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)p)), 16));
}
#define GK_DOT16(name, LD, TOF)                                                               \
    GK_TARGET_AVX2 static float name(int64_t n, const void *vw, const void *va) {             \
        const uint8_t *w = (const uint8_t *)vw, *a = (const uint8_t *)va;                     \
        __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;                           \
        int64_t i = 0;                                                                        \
        for (; i + 32 <= n; i += 32) {                                                        \
            GK_PF_ROW(w + 2 * i, 64);                                                         \
            s0 = _mm256_fmadd_ps(LD(w + 2 * i), LD(a + 2 * i), s0);                           \
            s1 = _mm256_fmadd_ps(LD(w + 2 * i + 16), LD(a + 2 * i + 16), s1);                 \
            s2 = _mm256_fmadd_ps(LD(w + 2 * i + 32), LD(a + 2 * i + 32), s2);                 \
            s3 = _mm256_fmadd_ps(LD(w + 2 * i + 48), LD(a + 2 * i + 48), s3);                 \
        }                                                                                     \
        for (; i + 8 <= n; i += 8) s0 = _mm256_fmadd_ps(LD(w + 2 * i), LD(a + 2 * i), s0);    \
        float s = hsum256(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));       \
        for (; i < n; i++) s += TOF(gk_ld16(w + 2 * i)) * TOF(gk_ld16(a + 2 * i));            \
        return s;                                                                             \
    }
GK_DOT16(f16_dot_avx2, ld_h8, gk_f16_to_f32)
GK_DOT16(bf16_dot_avx2, ld_b8, gk_bf16_to_f32)

GK_TARGET_AVX2 static void f16_tof_avx2(const void *vx, float *y, int64_t k) {
    const uint8_t *x = (const uint8_t *)vx;
    int64_t i = 0;
    for (; i + 8 <= k; i += 8) _mm256_storeu_ps(y + i, ld_h8(x + 2 * i));
    for (; i < k; i++) y[i] = gk_f16_to_f32(gk_ld16(x + 2 * i));
}
/* F16C rounds to nearest even like the software routine; only NaN lanes differ (payload), so
 * a group of 8 with a NaN goes through the scalar routine. */
GK_TARGET_AVX2 static void f16_conv_avx2(const float *x, void *vy, int64_t k) {
    uint8_t *y = (uint8_t *)vy;
    int64_t i = 0;
    for (; i + 8 <= k; i += 8) {
        __m256 v = _mm256_loadu_ps(x + i);
        if (_mm256_movemask_ps(_mm256_cmp_ps(v, v, _CMP_UNORD_Q))) {
            for (int j = 0; j < 8; j++) gk_st16(y + 2 * (i + j), gk_f32_to_f16(x[i + j]));
            continue;
        }
        _mm_storeu_si128((__m128i *)(y + 2 * i), _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT));
    }
    for (; i < k; i++) gk_st16(y + 2 * i, gk_f32_to_f16(x[i]));
}
GK_TARGET_AVX2 static size_t f16_quant_avx2(const float *x, void *y, int64_t nr, int64_t n,
                                            const float *im) {
    (void)im;
    f16_conv_avx2(x, y, nr * n);
    return (size_t)(nr * n) * 2;
}
GK_TARGET_AVX2 static size_t bf16_quant_avx2(const float *x, void *y, int64_t nr, int64_t n,
                                             const float *im) {
    (void)im;
    bf16_conv_avx2(x, y, nr * n);
    return (size_t)(nr * n) * 2;
}
GK_TARGET_AVX512 static size_t bf16_quant_avx512(const float *x, void *y, int64_t nr, int64_t n,
                                                 const float *im) {
    (void)im;
    bf16_conv_avx512(x, y, nr * n);
    return (size_t)(nr * n) * 2;
}
/* AVX-512: 16 lanes, four accumulators. */
GK_TARGET_AVX512 static inline __m512 ld_f16x16(const uint8_t *p) {
    return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)p));
}
GK_TARGET_AVX512 static inline __m512 ld_bf16x16(const uint8_t *p) {
    return _mm512_castsi512_ps(
        _mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)p)), 16));
}
GK_TARGET_AVX512 static inline __m512 ld_f32x16(const uint8_t *p) {
    return _mm512_loadu_ps((const float *)p);
}
#define GK_DOT512(name, LD, ES, TOF)                                                          \
    GK_TARGET_AVX512 static float name(int64_t n, const void *vw, const void *va) {          \
        const uint8_t *w = (const uint8_t *)vw, *a = (const uint8_t *)va;                     \
        __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;                           \
        int64_t i = 0;                                                                        \
        for (; i + 64 <= n; i += 64) {                                                        \
            GK_PF_ROW(w + (ES) * i, 64 * (ES));                                               \
            s0 = _mm512_fmadd_ps(LD(w + (ES) * i), LD(a + (ES) * i), s0);                     \
            s1 = _mm512_fmadd_ps(LD(w + (ES) * (i + 16)), LD(a + (ES) * (i + 16)), s1);       \
            s2 = _mm512_fmadd_ps(LD(w + (ES) * (i + 32)), LD(a + (ES) * (i + 32)), s2);       \
            s3 = _mm512_fmadd_ps(LD(w + (ES) * (i + 48)), LD(a + (ES) * (i + 48)), s3);       \
        }                                                                                     \
        for (; i + 16 <= n; i += 16) s0 = _mm512_fmadd_ps(LD(w + (ES) * i), LD(a + (ES) * i), s0); \
        float s = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3))); \
        for (; i < n; i++) s += TOF(w + (ES) * i) * TOF(a + (ES) * i);                        \
        return s;                                                                             \
    }
static inline float tof_f32p(const uint8_t *p) { return gk_ldf(p); }
static inline float tof_f16p(const uint8_t *p) { return gk_f16_to_f32(gk_ld16(p)); }
static inline float tof_bf16p(const uint8_t *p) { return gk_bf16_to_f32(gk_ld16(p)); }
GK_DOT512(f32_dot_avx512, ld_f32x16, 4, tof_f32p)
GK_DOT512(f16_dot_avx512, ld_f16x16, 2, tof_f16p)
GK_DOT512(bf16_dot_avx512, ld_bf16x16, 2, tof_bf16p)
#define DOT512(name) name##_avx512
#define F16_AVX2(name) name##_avx2
#define BF16_AVX512(name) name##_avx512
#else
#define F16_AVX2(name) NULL
#define DOT512(name) NULL
#define BF16_AVX512(name) NULL
#define f32_dot_avx2 NULL
#define bf16_dot_avx2 NULL
#define bf16_quant_avx2 NULL
#endif

const gk_kernel_row gk_krow_f32 = {
    .type = GK_TYPE_F32,
    .vec_dot_type = GK_TYPE_F32,
    .to_float = {f32_tof, NULL, NULL},
    .quantize = {f32_quant, NULL, NULL},
    .from_float = {f32_fromf, NULL, NULL},
    .vec_dot = {f32_dot_scalar, f32_dot_avx2, DOT512(f32_dot)},
    .validate = f32_validate,
    .byteswap = swap4,
    .dot_tol = 1e-5,
};
const gk_kernel_row gk_krow_f16 = {
    .type = GK_TYPE_F16,
    .vec_dot_type = GK_TYPE_F16,
    .to_float = {f16_tof_scalar, F16_AVX2(f16_tof), NULL},
    .quantize = {f16_quant_scalar, F16_AVX2(f16_quant), NULL},
    .from_float = {f16_conv_scalar, F16_AVX2(f16_conv), NULL},
    .vec_dot = {f16_dot_scalar, F16_AVX2(f16_dot), DOT512(f16_dot)},
    .validate = f16_validate,
    .byteswap = swap2,
    .dot_tol = 1e-5,
};
const gk_kernel_row gk_krow_bf16 = {
    .type = GK_TYPE_BF16,
    .vec_dot_type = GK_TYPE_BF16,
    .to_float = GK_ISA3(bf16_tof),
    .quantize = {bf16_quant_scalar, bf16_quant_avx2, BF16_AVX512(bf16_quant)},
    .from_float = GK_ISA3(bf16_conv),
    .vec_dot = {bf16_dot_scalar, bf16_dot_avx2, DOT512(bf16_dot)},
    .validate = bf16_validate,
    .byteswap = swap2,
    .dot_tol = 1e-5,
};
const gk_kernel_row gk_krow_f64 = {
    .type = GK_TYPE_F64,
    .vec_dot_type = GK_TYPE_F64,
    .to_float = {f64_tof, NULL, NULL},
    .quantize = {f64_quant, NULL, NULL},
    .from_float = {f64_quant_from, NULL, NULL},
    .vec_dot = {f64_dot, NULL, NULL},
    .validate = f64_validate,
    .byteswap = swap8,
    .dot_tol = 1e-6,
};
