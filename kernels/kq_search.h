/* Shared helpers of the legacy / IQ4 / FP4 kernels (format-facts §3.0, §3.3, §3.5, §3.7):
 * the ISA instantiation macros, the non-linear value tables, best-index searches, E8M0/UE4M3
 * scale conversions and the IQ4 scale search. The weighted searches make_qx_quants /
 * make_qkx3_quants of the legacy imatrix paths come from kquant_util.h.
 *
 * Everything here is static inline so that a kernel body inlined into an AVX2/AVX-512 wrapper is
 * compiled for that ISA. Float arithmetic follows ggml's source order (no FMA contraction: the
 * build uses -ffp-contract=off), so every ISA instance yields identical bytes. */
#ifndef GK_KQ_SEARCH_H
#define GK_KQ_SEARCH_H

#include "kernels_int.h"
#include "kquant_util.h" /* make_qx_quants / make_qkx3_quants (shared with the K-quants) */

#define GK_INLINE static inline __attribute__((always_inline))

/* One kernel body, three ISA instances: NAME##_impl must be a GK_INLINE function.
 * GK_KFN(ret, NAME, (params), (args)) defines NAME_scalar / NAME_avx2 / NAME_avx512 and
 * GK_ISA3(NAME) is the initializer of a per-ISA array. GK_KFNV is the same for void results. */
#if GK_X86
#define GK_KFN(ret, name, params, args)                                               \
    static ret name##_scalar params { return name##_impl args; }                      \
    GK_TARGET_AVX2 static ret name##_avx2 params { return name##_impl args; }         \
    GK_TARGET_AVX512 static ret name##_avx512 params { return name##_impl args; }
#define GK_KFNV(name, params, args)                                                    \
    static void name##_scalar params { name##_impl args; }                             \
    GK_TARGET_AVX2 static void name##_avx2 params { name##_impl args; }                \
    GK_TARGET_AVX512 static void name##_avx512 params { name##_impl args; }
#define GK_ISA3(name) {name##_scalar, name##_avx2, name##_avx512}
/* NAME##_impl(quantize params..., int simd): simd = 0 in the scalar instance, 1 in the others */
#define GK_KFN_QSIMD(name)                                                                    \
    static size_t name##_scalar GK_P_QUANT { return name##_impl(x, vy, nrows, n_per_row, imatrix, 0); } \
    GK_TARGET_AVX2 static size_t name##_avx2 GK_P_QUANT {                                    \
        return name##_impl(x, vy, nrows, n_per_row, imatrix, 1);                              \
    }                                                                                         \
    GK_TARGET_AVX512 static size_t name##_avx512 GK_P_QUANT {                                \
        return name##_impl(x, vy, nrows, n_per_row, imatrix, 1);                              \
    }
/* The same with NAME_scalar / NAME_avx2 only (the AVX-512 entry of GK_DOT2 uses the AVX2 one). */
#define GK_KFN_QSIMD2(name)                                                                   \
    static size_t name##_scalar GK_P_QUANT { return name##_impl(x, vy, nrows, n_per_row, imatrix, 0); } \
    GK_TARGET_AVX2 static size_t name##_avx2 GK_P_QUANT {                                    \
        return name##_impl(x, vy, nrows, n_per_row, imatrix, 1);                              \
    }
#define GK_DOT2(name) {name##_scalar, name##_avx2, NULL} /* AVX-512 uses the AVX2 kernel */
#define GK_DOT3(name) {name##_scalar, name##_avx2, name##_avx512}
#else
#define GK_KFN(ret, name, params, args) \
    static ret name##_scalar params { return name##_impl args; }
#define GK_KFNV(name, params, args) \
    static void name##_scalar params { name##_impl args; }
#define GK_ISA3(name) {name##_scalar, NULL, NULL}
#define GK_KFN_QSIMD(name) \
    static size_t name##_scalar GK_P_QUANT { return name##_impl(x, vy, nrows, n_per_row, imatrix, 0); }
#define GK_KFN_QSIMD2(name) GK_KFN_QSIMD(name)
#define GK_DOT2(name) {name##_scalar, NULL, NULL}
#define GK_DOT3(name) {name##_scalar, NULL, NULL}
#endif

/* Standard parameter lists of the row function types (ggufkit.h "Kernels"). */
#define GK_P_TOF (const void *vx, float *y, int64_t k)
#define GK_A_TOF (vx, y, k)
#define GK_P_QUANT (const float *x, void *vy, int64_t nrows, int64_t n_per_row, const float *imatrix)
#define GK_A_QUANT (x, vy, nrows, n_per_row, imatrix)
#define GK_P_FROMF (const float *x, void *vy, int64_t k)
#define GK_A_FROMF (x, vy, k)
#define GK_P_DOT (int64_t n, const void *vw, const void *va)
#define GK_A_DOT (n, vw, va)

#define GROUP_MAX_EPS_GK 1e-15f

static const int8_t gk_kvalues_iq4nl[16] = {-127, -104, -83, -65, -49, -35, -22, -10,
                                            1,    13,   25,  38,  53,  69,  89,  113};
static const int8_t gk_kvalues_fp4[16] = {0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12};

/* Index of the nearest of n ascending values; ties go to the upper index (§3.5). */
GK_INLINE int gk_best_index_int8(int n, const int8_t *val, float x) {
    if (x <= val[0]) return 0;
    if (x >= val[n - 1]) return n - 1;
    int ml = 0, mu = n - 1;
    while (mu - ml > 1) {
        int mav = (ml + mu) / 2;
        if (x < val[mav]) mu = mav;
        else ml = mav;
    }
    return x - val[mu - 1] < val[mu] - x ? mu - 1 : mu;
}

/* Nearest kvalues_fp4 entry scaled by e; the first (lowest index) wins ties (§3.7). */
GK_INLINE int gk_best_index_fp4(float x, float e) {
    int best = 0;
    float best_err = fabsf(gk_kvalues_fp4[0] * e - x);
    for (int i = 1; i < 16; i++) {
        float err = fabsf(gk_kvalues_fp4[i] * e - x);
        if (err < best_err) {
            best = i;
            best_err = err;
        }
    }
    return best;
}

/* max|x| of n values, NaN ignored (`if (amax < fabsf(v))`, as the FP4 reference quantizers). */
GK_INLINE float gk_amax_n(const float *x, int n) {
    float amax = 0.0f;
    for (int j = 0; j < n; j++)
        if (amax < fabsf(x[j])) amax = fabsf(x[j]);
    return amax;
}

/* FP4 codes of 2*half values at scale d: byte j = code(x[j]) | code(x[half + j]) << 4 (MXFP4
 * block: half 16; NVFP4 sub-block: half 8). */
GK_INLINE void gk_fp4_pack_pairs(const float *x, int half, float d, uint8_t *qs) {
    for (int j = 0; j < half; ++j) {
        const int x0 = gk_best_index_fp4(x[j], d);
        const int x1 = gk_best_index_fp4(x[half + j], d);
        qs[j] = (uint8_t)(x0 | (x1 << 4));
    }
}

/* E8M0 "half" value 2^(e-128) (§3.0). */
GK_INLINE float gk_e8m0_half(uint8_t e) {
    uint32_t bits = e < 2 ? (0x00200000u << e) : ((uint32_t)(e - 1) << 23);
    return gk_u2f(bits);
}

/* UE4M3 decode, halved (kvalues are doubled): 0x00 and 0x7F give 0 (§3.0). */
GK_INLINE float gk_ue4m3_half(uint8_t x) {
    if (x == 0 || x == 0x7F) return 0.0f;
    const uint32_t ex = (x >> 3) & 0xF, man = x & 7;
    if (ex == 0) return (float)man * 0x1p-10f;                   /* man * 2^-9, halved */
    return gk_u2f(((ex + 119u) << 23) | (man << 20));            /* (1+man/8)*2^(ex-7), halved */
}

/* UE4M3 encode as ggml: clamp to 448, mantissa rounded with fp32 bit 19, max code 0x7E. */
GK_INLINE uint8_t gk_fp32_to_ue4m3(float x) {
    if (!(x > 0)) return 0;
    if (x > 448.0f) x = 448.0f;
    uint32_t bits = gk_f2u(x);
    int fexp = (int)((bits >> 23) & 0xFF) - 127;
    int fman = (int)((bits >> 20) & 7);
    int e = fexp + 7;
    if (e <= 0) {
        int man = (int)(x * 512.0f + 0.5f);
        return (uint8_t)(man < 1 ? 0 : man > 7 ? 7 : man);
    }
    if (e >= 15) return 0x7E;
    int m = fman + (int)((bits >> 19) & 1);
    if (m > 7) {
        m = 0;
        e++;
        if (e >= 15) return 0x7E;
    }
    return (uint8_t)((e << 3) | m);
}

/* IQ4_NL / IQ4_XS weights (§3.5): σ² = 2Σx²/n over the (super-)block; per 32-value
 * sub-block w = qw*sqrt(σ²+x²) with an imatrix, else x². */
GK_INLINE float gk_iq4_sigma2(const float *x, int n) {
    float sigma2 = 0;
    for (int j = 0; j < n; ++j) sigma2 += x[j] * x[j];
    sigma2 *= 2.f / n;
    return sigma2;
}
GK_INLINE void gk_iq4_weights(const float *xb, const float *qw, float sigma2, float *weight) {
    if (qw) {
        for (int j = 0; j < 32; ++j) weight[j] = qw[j] * sqrtf(sigma2 + xb[j] * xb[j]);
    } else {
        for (int j = 0; j < 32; ++j) weight[j] = xb[j] * xb[j];
    }
}

/* Rows of n_per_row values in blocks of bs values and qb bytes: blk(x, out, the imatrix slice or
 * NULL, simd) per block. blk is a constant at every call: it inlines. */
typedef void (*gk_qblock_fn)(const float *x, uint8_t *out, const float *qw, int simd);
GK_INLINE size_t gk_quant_block_rows(const float *x, void *vy, int64_t nrows, int64_t n_per_row,
                                     const float *imatrix, int simd, int64_t bs, int64_t qb,
                                     gk_qblock_fn blk) {
    uint8_t *y = (uint8_t *)vy;
    const int64_t nb = n_per_row / bs;
    for (int64_t r = 0; r < nrows; r++)
        for (int64_t ib = 0; ib < nb; ib++)
            blk(x + r * n_per_row + ib * bs, y + (r * nb + ib) * qb, imatrix ? imatrix + bs * ib : NULL, simd);
    return (size_t)(nrows * nb * qb);
}

/* IQ4 scale search of one sub-block of 32 (quantize_row_iq4_nl_impl with ntry = 7, §3.5):
 * returns 0 if max|x| < 1e-15, else the weighted-fit scale of the best of the 15 tries. */
GK_INLINE float gk_iq4_sub_scale(const float *xb, const float *weight) {
    const int8_t *values = gk_kvalues_iq4nl;
    float amax = 0, max = 0;
    for (int j = 0; j < 32; ++j) {
        float ax = fabsf(xb[j]);
        if (ax > amax) {
            amax = ax;
            max = xb[j];
        }
    }
    if (amax < GROUP_MAX_EPS_GK) return 0;
    float d = -max / values[0];
    float id = 1 / d;
    float sumqx = 0, sumq2 = 0;
    for (int j = 0; j < 32; ++j) {
        float al = id * xb[j];
        int l = gk_best_index_int8(16, values, al);
        float q = values[l];
        float w = weight[j];
        sumqx += w * q * xb[j];
        sumq2 += w * q * q;
    }
    d = sumq2 > 0 ? sumqx / sumq2 : 0.f; /* all-zero importance weights: scale 0 (as ggml) */
    float best = d * sumqx;
    for (int itry = -7; itry <= 7; ++itry) {
        id = (itry + values[0]) / max;
        sumqx = sumq2 = 0;
        for (int j = 0; j < 32; ++j) {
            float al = id * xb[j];
            int l = gk_best_index_int8(16, values, al);
            float q = values[l];
            float w = weight[j];
            sumqx += w * q * xb[j];
            sumq2 += w * q * q;
        }
        if (sumq2 > 0 && sumqx * sumqx > best * sumq2) {
            d = sumqx / sumq2;
            best = d * sumqx;
        }
    }
    return d;
}

/* Q5_0 / Q5_1 packing of 32 5-bit codes: low nibbles in qs (j | j+16), 5th bits in qh (u32). */
GK_INLINE void gk_q5_pack(const uint8_t *L, uint8_t *qh4, uint8_t *qs) {
    uint32_t qh = 0;
    for (int j = 0; j < 16; ++j) {
        const uint8_t xi0 = L[j], xi1 = L[j + 16];
        qs[j] = (uint8_t)((xi0 & 0x0F) | ((xi1 & 0x0F) << 4));
        qh |= ((xi0 & 0x10u) >> 4) << (j + 0);
        qh |= ((xi1 & 0x10u) >> 4) << (j + 16);
    }
    gk_st32(qh4, qh);
}

/* σ² over a whole row (Σx²/n), as the legacy imatrix paths use it (§3.9). */
GK_INLINE float gk_row_sigma2(const float *x, int64_t n) {
    float s = 0;
    for (int64_t j = 0; j < n; ++j) s += x[j] * x[j];
    return s / (float)n;
}

/* fp16 scale of a block, F16C when the ISA has it (same value, non-NaN). */
GK_INLINE float gk_h2f(uint16_t h) { return gk_f16_to_f32(h); }

/* Checks that an fp16 field is finite (exponent bits not all set). */
GK_INLINE int gk_f16_finite(uint16_t h) { return (h & 0x7C00u) != 0x7C00u; }

/* Float -> int32 truncation as x86 cvttss2si does it (out of range or NaN: INT32_MIN), so that
 * ggml's (int8_t)(float) / (uint8_t)(float) casts are reproduced without undefined behaviour:
 * the narrow cast keeps the low byte. */
GK_INLINE int32_t gk_cvtt_i32(float v) {
    if (v > -2147483648.0f && v < 2147483648.0f) return (int32_t)v;
    if (v == -2147483648.0f) return INT32_MIN;
    return INT32_MIN;
}
GK_INLINE int gk_cvtt_i8(float v) { return (int8_t)(uint8_t)(uint32_t)gk_cvtt_i32(v); }
GK_INLINE int gk_cvtt_u8(float v) { return (uint8_t)(uint32_t)gk_cvtt_i32(v); }

/* _mm256_cvtps_epi32 in the default rounding mode: round half to even; NaN or out of the int32
 * range gives INT32_MIN. Then the saturating int32 -> int8 pack of the x86 activation paths. */
GK_INLINE int32_t gk_cvtps_i32(float v) {
    if (v > -4194303.0f && v < 4194303.0f) return gk_nearest_int(v);
    if (v >= -2147483648.0f && v < 2147483648.0f) return (int32_t)rintf(v);
    return INT32_MIN;
}
GK_INLINE int gk_sat_i8(int32_t q) { return q < -128 ? -128 : q > 127 ? 127 : q; }

/* In-place byte swap of a 16/32-bit field at an unaligned address. */
GK_INLINE void gk_swap16_at(uint8_t *p) { uint8_t t = p[0]; p[0] = p[1]; p[1] = t; }
GK_INLINE void gk_swap32_at(uint8_t *p) {
    uint8_t t = p[0]; p[0] = p[3]; p[3] = t;
    t = p[1]; p[1] = p[2]; p[2] = t;
}

/* Validation of blocks whose fp16 fields at the given offsets must be finite; a trailing partial
 * block counts as bad. */
GK_INLINE int64_t gk_validate_f16_fields(const void *data, size_t nbytes, size_t bsize, int off0,
                                         int off1) {
    const uint8_t *p = (const uint8_t *)data;
    size_t nb = nbytes / bsize;
    for (size_t i = 0; i < nb; i++) {
        const uint8_t *b = p + i * bsize;
        if (!gk_f16_finite(gk_ld16(b + off0))) return (int64_t)i;
        if (off1 >= 0 && !gk_f16_finite(gk_ld16(b + off1))) return (int64_t)i;
    }
    return nbytes % bsize ? (int64_t)nb : -1;
}

/* ---- AVX2 building blocks of the dot products (tolerance paths: FMA allowed here) ------------- */
#if GK_X86
#include <immintrin.h>

GK_TARGET_AVX2 static inline float gk_h2f_f16c(const uint8_t *p) {
    return _cvtsh_ss(gk_ld16(p));
}
GK_TARGET_AVX2 static inline float gk_hsum_ps(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}
/* fp16(pw) * fp16(pa) broadcast: both conversions in one vcvtph2ps. */
GK_TARGET_AVX2 static inline __m256 gk_dprod_bcast(const uint8_t *pw, const uint8_t *pa) {
    const uint32_t u = (uint32_t)gk_ld16(pw) | ((uint32_t)gk_ld16(pa) << 16);
    const __m128 v = _mm_cvtph_ps(_mm_cvtsi32_si128((int)u));
    return _mm256_broadcastss_ps(_mm_mul_ss(v, _mm_movehdup_ps(v)));
}
/* 16 bytes -> 32 nibbles: low 16 lanes the low nibbles, high 16 lanes the high nibbles. */
GK_TARGET_AVX2 static inline __m256i gk_nibbles32(const uint8_t *p) {
    const __m128i t = _mm_loadu_si128((const __m128i *)p);
    const __m256i v = _mm256_inserti128_si256(_mm256_castsi128_si256(t), _mm_srli_epi16(t, 4), 1);
    return _mm256_and_si256(v, _mm256_set1_epi8(0x0F));
}
/* u32 of bits -> 32 bytes, 0xFF where bit j is set (byte j). */
GK_TARGET_AVX2 static inline __m256i gk_bits32(uint32_t x32) {
    const __m256i shuf = _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202,
                                           0x0101010101010101, 0x0000000000000000);
    __m256i b = _mm256_shuffle_epi8(_mm256_set1_epi32((int)x32), shuf);
    b = _mm256_or_si256(b, _mm256_set1_epi64x(0x7fbfdfeff7fbfdfe));
    return _mm256_cmpeq_epi8(b, _mm256_set1_epi64x(-1));
}
/* Σ of signed int8 products in groups of 4 -> 8 int32 lanes. */
GK_TARGET_AVX2 static inline __m256i gk_dot_i8_i32(__m256i x, __m256i y) {
    const __m256i ax = _mm256_sign_epi8(x, x), sy = _mm256_sign_epi8(y, x);
    return _mm256_madd_epi16(_mm256_maddubs_epi16(ax, sy), _mm256_set1_epi16(1));
}
/* unsigned x (0..127) times signed y. */
GK_TARGET_AVX2 static inline __m256i gk_dot_u8_i32(__m256i x, __m256i y) {
    return _mm256_madd_epi16(_mm256_maddubs_epi16(x, y), _mm256_set1_epi16(1));
}
/* A dot product over 32-blocks from a per-block step NAME##_blk(bw, ba, acc, &summs):
 * two blocks per iteration into two accumulators (vector and scalar), NAME_avx2. */
#define GK_DOT_BLOCKS(name, QBW, QBA)                                                        \
    GK_TARGET_AVX2 GK_INLINE float name##_loop(int64_t n, const void *vw, const void *va) { \
        const uint8_t *w = (const uint8_t *)vw, *a = (const uint8_t *)va;                   \
        __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();                      \
        float summs0 = 0, summs1 = 0;                                                       \
        const int64_t nb = n / 32;                                                          \
        int64_t ib = 0;                                                                     \
        for (; ib + 1 < nb; ib += 2) {                                                      \
            acc0 = name##_blk(w + ib * (QBW), a + ib * (QBA), acc0, &summs0);                \
            acc1 = name##_blk(w + (ib + 1) * (QBW), a + (ib + 1) * (QBA), acc1, &summs1);    \
        }                                                                                   \
        if (ib < nb) acc0 = name##_blk(w + ib * (QBW), a + ib * (QBA), acc0, &summs0);       \
        return gk_hsum_ps(_mm256_add_ps(acc0, acc1)) + (summs0 + summs1);                   \
    }                                                                                       \
    GK_TARGET_AVX2 static float name##_avx2(int64_t n, const void *vw, const void *va) {    \
        return name##_loop(n, vw, va);                                                      \
    }                                                                                       \
    GK_TARGET_AVX512 static float name##_avx512(int64_t n, const void *vw, const void *va) {\
        return name##_loop(n, vw, va);                                                      \
    }

/* AVX2 only: NAME_avx2 over 32-blocks from the per-block step NAME##_blk, four blocks per
 * iteration into four accumulators (the per-block tails of the AVX2 tiles, kdot256.h). */
#define GK_DOT_BLOCKS_AVX2(name, QBW, QBA)                                                   \
    GK_TARGET_AVX2 static float name##_avx2(int64_t n, const void *vw, const void *va) {     \
        const uint8_t *w = (const uint8_t *)vw, *a = (const uint8_t *)va;                   \
        __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();                      \
        __m256 acc2 = _mm256_setzero_ps(), acc3 = _mm256_setzero_ps();                      \
        float summs0 = 0, summs1 = 0;                                                       \
        const int64_t nb = n / 32;                                                          \
        int64_t ib = 0;                                                                     \
        for (; ib + 3 < nb; ib += 4) {                                                      \
            acc0 = name##_blk(w + ib * (QBW), a + ib * (QBA), acc0, &summs0);                \
            acc1 = name##_blk(w + (ib + 1) * (QBW), a + (ib + 1) * (QBA), acc1, &summs1);    \
            acc2 = name##_blk(w + (ib + 2) * (QBW), a + (ib + 2) * (QBA), acc2, &summs0);    \
            acc3 = name##_blk(w + (ib + 3) * (QBW), a + (ib + 3) * (QBA), acc3, &summs1);    \
        }                                                                                   \
        for (; ib < nb; ib++) acc0 = name##_blk(w + ib * (QBW), a + ib * (QBA), acc0, &summs0); \
        acc0 = _mm256_add_ps(acc0, acc2);                                                   \
        acc1 = _mm256_add_ps(acc1, acc3);                                                   \
        return gk_hsum_ps(_mm256_add_ps(acc0, acc1)) + (summs0 + summs1);                   \
    }

/* 32 int8 lanes -> 32 floats times d (one multiply per value, as the scalar code). */
GK_TARGET_AVX2 static inline void gk_store_i8x32_mul(__m256i q, __m256 d, float *y) {
    const __m128i lo = _mm256_castsi256_si128(q), hi = _mm256_extracti128_si256(q, 1);
    _mm256_storeu_ps(y, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(lo)), d));
    _mm256_storeu_ps(y + 8, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(lo, 8))), d));
    _mm256_storeu_ps(y + 16, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(hi)), d));
    _mm256_storeu_ps(y + 24, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(hi, 8))), d));
}
/* One Q4_1/Q5_1 block against its Q8_1 block, given the codes x (0..31): (d_w, m_w) x (d_a, s_a)
 * in one multiply; lane 0 scales the integer sum into acc, lane 1 (m_w*s_a) adds up in *ms. */
GK_TARGET_AVX2 static inline __m256 gk_dot_dm_blk(const uint8_t *bw, const uint8_t *ba, __m256i x, __m256 acc,
                                                  __m128 *ms) {
    const __m128 p = _mm_mul_ps(_mm_cvtph_ps(_mm_cvtsi32_si128((int)gk_ld32(bw))),
                                _mm_cvtph_ps(_mm_cvtsi32_si128((int)gk_ld32(ba))));
    *ms = _mm_add_ps(*ms, p);
    const __m256i y = _mm256_loadu_si256((const __m256i *)(ba + 4));
    return _mm256_fmadd_ps(_mm256_broadcastss_ps(p), _mm256_cvtepi32_ps(gk_dot_u8_i32(x, y)), acc);
}
/* The same for types with a min term carried as lane 1 of a __m128 (Q4_1, Q5_1 x Q8_1). */
#define GK_DOT_BLOCKS_MS(name, QBW, QBA)                                                     \
    GK_TARGET_AVX2 GK_INLINE float name##_loop(int64_t n, const void *vw, const void *va) { \
        const uint8_t *w = (const uint8_t *)vw, *a = (const uint8_t *)va;                   \
        __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();                      \
        __m128 ms0 = _mm_setzero_ps(), ms1 = _mm_setzero_ps();                              \
        const int64_t nb = n / 32;                                                          \
        int64_t ib = 0;                                                                     \
        for (; ib + 1 < nb; ib += 2) {                                                      \
            acc0 = name##_blk(w + ib * (QBW), a + ib * (QBA), acc0, &ms0);                   \
            acc1 = name##_blk(w + (ib + 1) * (QBW), a + (ib + 1) * (QBA), acc1, &ms1);       \
        }                                                                                   \
        if (ib < nb) acc0 = name##_blk(w + ib * (QBW), a + ib * (QBA), acc0, &ms0);          \
        const __m128 ms = _mm_add_ps(ms0, ms1);                                             \
        return gk_hsum_ps(_mm256_add_ps(acc0, acc1)) + _mm_cvtss_f32(_mm_shuffle_ps(ms, ms, 1)); \
    }                                                                                       \
    GK_TARGET_AVX2 static float name##_avx2(int64_t n, const void *vw, const void *va) {    \
        return name##_loop(n, vw, va);                                                      \
    }                                                                                       \
    GK_TARGET_AVX512 static float name##_avx512(int64_t n, const void *vw, const void *va) {\
        return name##_loop(n, vw, va);                                                      \
    }
/* A 16-entry int8 table in both 128-bit lanes, for _mm256_shuffle_epi8 lookups. */
GK_TARGET_AVX2 static inline __m256i gk_table16(const int8_t *t) {
    const __m128i v = _mm_loadu_si128((const __m128i *)t);
    return _mm256_inserti128_si256(_mm256_castsi128_si256(v), v, 1);
}

/* ---- IQ4 scale search, vectorised across the 16 tries (exact) --------------------------------
 * Lane t of a vector is one try of gk_iq4_sub_scale; for each try the 32 elements are taken in
 * order and summed in order, exactly as the scalar code does, so the result is bit-identical.
 * best_index is computed branch-free: ml = #{k in 1..14 : al >= K[k]}, then the nearer of
 * K[ml], K[ml+1] (ties up); al <= K[0] -> 0, al >= K[15] or NaN -> 15. */
GK_TARGET_AVX2 static inline __m256 gk_lut16_ps(__m256 lo, __m256 hi, __m256i idx) {
    const __m256 a = _mm256_permutevar8x32_ps(lo, idx), b = _mm256_permutevar8x32_ps(hi, idx);
    const __m256i up = _mm256_cmpgt_epi32(idx, _mm256_set1_epi32(7));
    return _mm256_blendv_ps(a, b, _mm256_castsi256_ps(up));
}
typedef struct { __m256 lo, hi; } gk_iq4_tab;
GK_TARGET_AVX2 static inline gk_iq4_tab gk_iq4_tab_load(void) {
    float t[16];
    for (int i = 0; i < 16; i++) t[i] = (float)gk_kvalues_iq4nl[i];
    gk_iq4_tab r = {_mm256_loadu_ps(t), _mm256_loadu_ps(t + 8)};
    return r;
}
GK_TARGET_AVX2 static inline __m256i gk_iq4_best_index8(gk_iq4_tab T, __m256 al) {
    __m256i ml = _mm256_setzero_si256();
    for (int k = 1; k < 15; k++) {
        const __m256 ge = _mm256_cmp_ps(al, _mm256_set1_ps((float)gk_kvalues_iq4nl[k]), _CMP_GE_OQ);
        ml = _mm256_sub_epi32(ml, _mm256_castps_si256(ge));
    }
    const __m256i mu = _mm256_add_epi32(ml, _mm256_set1_epi32(1));
    const __m256 vml = gk_lut16_ps(T.lo, T.hi, ml), vmu = gk_lut16_ps(T.lo, T.hi, mu);
    const __m256 take_lo = _mm256_cmp_ps(_mm256_sub_ps(al, vml), _mm256_sub_ps(vmu, al), _CMP_LT_OQ);
    __m256i r = _mm256_blendv_epi8(mu, ml, _mm256_castps_si256(take_lo));
    const __m256 le0 = _mm256_cmp_ps(al, _mm256_set1_ps(-127.0f), _CMP_LE_OQ);
    const __m256 ge15 = _mm256_cmp_ps(al, _mm256_set1_ps(113.0f), _CMP_NLT_UQ); /* or NaN */
    r = _mm256_andnot_si256(_mm256_castps_si256(le0), r);
    r = _mm256_blendv_epi8(r, _mm256_set1_epi32(15), _mm256_castps_si256(ge15));
    return r;
}
GK_TARGET_AVX2 static inline float gk_iq4_sub_scale_avx2(const float *xb, const float *weight) {
    const int8_t *values = gk_kvalues_iq4nl;
    float amax = 0, max = 0;
    for (int j = 0; j < 32; ++j) {
        float ax = fabsf(xb[j]);
        if (ax > amax) {
            amax = ax;
            max = xb[j];
        }
    }
    if (amax < GROUP_MAX_EPS_GK) return 0;
    const gk_iq4_tab T = gk_iq4_tab_load();
    /* lane 0 of group A: the initial id = 1/d; lanes 1..7 and group B: itry = -7..7 */
    float ids[16];
    const float d0 = -max / values[0];
    ids[0] = 1 / d0;
    for (int itry = -7; itry <= 7; ++itry) ids[itry + 8] = (itry + values[0]) / max;
    const __m256 idA = _mm256_loadu_ps(ids), idB = _mm256_loadu_ps(ids + 8);
    __m256 sqxA = _mm256_setzero_ps(), sq2A = sqxA, sqxB = sqxA, sq2B = sqxA;
    for (int j = 0; j < 32; ++j) {
        const __m256 x = _mm256_set1_ps(xb[j]), w = _mm256_set1_ps(weight[j]);
        const __m256 qA = gk_lut16_ps(T.lo, T.hi, gk_iq4_best_index8(T, _mm256_mul_ps(idA, x)));
        const __m256 qB = gk_lut16_ps(T.lo, T.hi, gk_iq4_best_index8(T, _mm256_mul_ps(idB, x)));
        const __m256 wqA = _mm256_mul_ps(w, qA), wqB = _mm256_mul_ps(w, qB);
        sqxA = _mm256_add_ps(sqxA, _mm256_mul_ps(wqA, x));
        sq2A = _mm256_add_ps(sq2A, _mm256_mul_ps(wqA, qA));
        sqxB = _mm256_add_ps(sqxB, _mm256_mul_ps(wqB, x));
        sq2B = _mm256_add_ps(sq2B, _mm256_mul_ps(wqB, qB));
    }
    float sqx[16], sq2[16];
    _mm256_storeu_ps(sqx, sqxA);
    _mm256_storeu_ps(sqx + 8, sqxB);
    _mm256_storeu_ps(sq2, sq2A);
    _mm256_storeu_ps(sq2 + 8, sq2B);
    float d = sq2[0] > 0 ? sqx[0] / sq2[0] : 0.f;
    float best = d * sqx[0];
    for (int t = 1; t < 16; ++t) {
        if (sq2[t] > 0 && sqx[t] * sqx[t] > best * sq2[t]) {
            d = sqx[t] / sq2[t];
            best = d * sqx[t];
        }
    }
    return d;
}
/* L[j] = best_index(id * x[j]) for 32 values. */
GK_TARGET_AVX2 static inline void gk_iq4_indices32_avx2(const float *x, float id, uint8_t *L) {
    const gk_iq4_tab T = gk_iq4_tab_load();
    const __m256 vid = _mm256_set1_ps(id);
    for (int j = 0; j < 32; j += 8) {
        const __m256i r = gk_iq4_best_index8(T, _mm256_mul_ps(vid, _mm256_loadu_ps(x + j)));
        int32_t t[8];
        _mm256_storeu_si256((__m256i *)t, r);
        for (int k = 0; k < 8; k++) L[j + k] = (uint8_t)t[k];
    }
}
/* ---- AVX2 building blocks of the exact legacy quantizers ---------------------------------------
 * Elementwise IEEE operations in the scalar order (mul, then add; never FMA) and exact
 * emulations of ggml's casts, so that the bytes equal the scalar reference. */
/* max|x| of 32 values, NaN lanes ignored (as `if (amax < fabsf(v))` does). */
GK_TARGET_AVX2 static inline float gk_absmax32(const float *x, __m256 *ax) {
    const __m256 sign = _mm256_set1_ps(-0.0f);
    __m256 m = _mm256_setzero_ps();
    for (int k = 0; k < 4; k++) {
        ax[k] = _mm256_andnot_ps(sign, _mm256_loadu_ps(x + 8 * k));
        m = _mm256_max_ps(ax[k], m); /* NaN in ax -> m */
    }
    __m128 h = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
    h = _mm_max_ps(h, _mm_movehl_ps(h, h));
    h = _mm_max_ss(h, _mm_movehdup_ps(h));
    return _mm_cvtss_f32(h);
}
/* The signed value of the first element with |x| == amax (0 if amax == 0): ggml's `max`. */
GK_TARGET_AVX2 static inline float gk_first_absmax32(const float *x, float *amax_out) {
    __m256 ax[4];
    const float amax = gk_absmax32(x, ax);
    *amax_out = amax;
    if (!(amax > 0)) return 0.0f;
    const __m256 va = _mm256_set1_ps(amax);
    uint32_t mask = 0;
    for (int k = 0; k < 4; k++)
        mask |= (uint32_t)_mm256_movemask_ps(_mm256_cmp_ps(ax[k], va, _CMP_EQ_OQ)) << (8 * k);
    return x[__builtin_ctz(mask)];
}
/* (uint8)MIN(maxq, (int8)v) for 8 lanes, as int32 0..255 (cvttss2si then the low byte). */
GK_TARGET_AVX2 static inline __m256i gk_u8_of_min_i8(__m256 v, int maxq) {
    __m256i i = _mm256_cvttps_epi32(v);
    i = _mm256_srai_epi32(_mm256_slli_epi32(i, 24), 24);
    i = _mm256_min_epi32(i, _mm256_set1_epi32(maxq));
    return _mm256_and_si256(i, _mm256_set1_epi32(0xFF));
}
/* 16 int32 lanes (0..255) -> 16 bytes at out. */
GK_TARGET_AVX2 static inline void gk_store16_u8(__m256i a, __m256i b, uint8_t *out) {
    __m256i p = _mm256_packus_epi32(a, b);
    p = _mm256_permute4x64_epi64(p, 0xD8);
    _mm_storeu_si128((__m128i *)out,
                     _mm_packus_epi16(_mm256_castsi256_si128(p), _mm256_extracti128_si256(p, 1)));
}
/* Nibble pairs: byte j = (lo_j | hi_j << 4) & 0xFF, lo/hi as int32 0..255 (elements j, j+16). */
GK_TARGET_AVX2 static inline void gk_store_nibbles(const __m256i *v, uint8_t *out) {
    const __m256i ff = _mm256_set1_epi32(0xFF);
    const __m256i c0 = _mm256_and_si256(_mm256_or_si256(v[0], _mm256_slli_epi32(v[2], 4)), ff);
    const __m256i c1 = _mm256_and_si256(_mm256_or_si256(v[1], _mm256_slli_epi32(v[3], 4)), ff);
    gk_store16_u8(c0, c1, out);
}
/* qh of Q5_0/Q5_1: bit j = bit 4 of code j (codes as int32 lanes). */
GK_TARGET_AVX2 static inline uint32_t gk_bit4_mask(const __m256i *v) {
    uint32_t m = 0;
    for (int k = 0; k < 4; k++)
        m |= (uint32_t)_mm256_movemask_ps(_mm256_castsi256_ps(_mm256_slli_epi32(v[k], 27))) << (8 * k);
    return m;
}
/* gk_best_index_fp4 for 8 values at once: the same 16 candidates in the same order with the
 * same strict `<`, per lane. */
GK_TARGET_AVX2 static inline __m256i gk_fp4_index8(__m256 x, float e) {
    const __m256 sign = _mm256_set1_ps(-0.0f);
    __m256 best = _mm256_andnot_ps(sign, _mm256_sub_ps(_mm256_set1_ps(gk_kvalues_fp4[0] * e), x));
    __m256i idx = _mm256_setzero_si256();
    for (int i = 1; i < 16; i++) {
        const __m256 err = _mm256_andnot_ps(sign, _mm256_sub_ps(_mm256_set1_ps(gk_kvalues_fp4[i] * e), x));
        const __m256 lt = _mm256_cmp_ps(err, best, _CMP_LT_OQ);
        best = _mm256_blendv_ps(best, err, lt);
        idx = _mm256_blendv_epi8(idx, _mm256_set1_epi32(i), _mm256_castps_si256(lt));
    }
    return idx;
}
/* min and max of 32 values (NaN ignored), 0 if a zero of either sign could be involved: the
 * caller then uses the scalar loop, whose first-seen zero sign the lane order would not keep. */
GK_TARGET_AVX2 static inline int gk_minmax32(const float *x, float *mn, float *mx) {
    __m256 lo = _mm256_set1_ps(3.402823466e+38f), hi = _mm256_set1_ps(-3.402823466e+38f);
    for (int k = 0; k < 4; k++) {
        const __m256 v = _mm256_loadu_ps(x + 8 * k);
        lo = _mm256_min_ps(v, lo);
        hi = _mm256_max_ps(v, hi);
    }
    __m128 l = _mm_min_ps(_mm256_castps256_ps128(lo), _mm256_extractf128_ps(lo, 1));
    l = _mm_min_ps(l, _mm_movehl_ps(l, l));
    l = _mm_min_ss(l, _mm_movehdup_ps(l));
    __m128 h = _mm_max_ps(_mm256_castps256_ps128(hi), _mm256_extractf128_ps(hi, 1));
    h = _mm_max_ps(h, _mm_movehl_ps(h, h));
    h = _mm_max_ss(h, _mm_movehdup_ps(h));
    *mn = _mm_cvtss_f32(l);
    *mx = _mm_cvtss_f32(h);
    return *mn != 0.0f && *mx != 0.0f;
}
/* NaN anywhere in 32 values. */
GK_TARGET_AVX2 static inline int gk_has_nan32(const float *x) {
    int m = 0;
    for (int k = 0; k < 4; k++) {
        const __m256 v = _mm256_loadu_ps(x + 8 * k);
        m |= _mm256_movemask_ps(_mm256_cmp_ps(v, v, _CMP_UNORD_Q));
    }
    return m;
}

#define GK_IQ4_SCALE(simd, x, w) ((simd) ? gk_iq4_sub_scale_avx2(x, w) : gk_iq4_sub_scale(x, w))
#define GK_IQ4_INDICES(simd, x, id, L)                                                   \
    do {                                                                                 \
        if (simd) gk_iq4_indices32_avx2(x, id, L);                                       \
        else                                                                             \
            for (int j_ = 0; j_ < 32; ++j_)                                              \
                (L)[j_] = (uint8_t)gk_best_index_int8(16, gk_kvalues_iq4nl, (id) * (x)[j_]); \
    } while (0)
#else
#define GK_IQ4_SCALE(simd, x, w) gk_iq4_sub_scale(x, w)
#define GK_IQ4_INDICES(simd, x, id, L)                                                   \
    do {                                                                                 \
        (void)(simd);                                                                    \
        for (int j_ = 0; j_ < 32; ++j_)                                                  \
            (L)[j_] = (uint8_t)gk_best_index_int8(16, gk_kvalues_iq4nl, (id) * (x)[j_]); \
    } while (0)
#endif

#endif
