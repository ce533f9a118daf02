/* One quantize-row body for the legacy 32-value types Q4_0, Q4_1, Q5_0, Q5_1 (format-facts §3.2,
 * §3.9), parameterised by bits (4 or 5) and with_min (0: d only, 1: d and m):
 *   block    d:f16, [m:f16 if with_min], [qh:u32 if bits == 5], qs[16] (j low nibble, j+16 high)
 *   ref      absmax: d = max/-2^(bits-1), q = min(2^bits-1, (int8)(x*id + 2^(bits-1)+0.5))
 *            min:    d = (max-min)/(2^bits-1), q = (x-min)*id + 0.5 as ggml casts it: Q4_1
 *                    min(15, (int8)...), Q5_1 (uint8)... without a clamp
 *   imatrix  w = qw*sqrt(σ²+x²), σ² over the row; make_qx_quants(32, 2^(bits-1), ..., 1, w) or
 *            make_qkx3_quants(32, 2^bits-1, ..., -0.9, 0.05, 36), m stored as -min.
 * All parameters are compile-time constants at every call (GK_LEGACY_QUANT), so each type's
 * scalar / AVX2 / AVX-512 instance folds to its own straight-line code, as before. */
#ifndef GK_KQ_LEGACY_H
#define GK_KQ_LEGACY_H

#include "kq_search.h"

/* 32 codes (elements j and j+16 side by side) -> qs[16], with qh (u32) in front for 5 bits. */
GK_INLINE void gk_leg_pack(const uint8_t *L, uint8_t *q, int bits) {
    if (bits == 5) {
        gk_q5_pack(L, q, q + 4);
        return;
    }
    for (int j = 0; j < 16; ++j) q[j] = (uint8_t)(L[j] | (L[j + 16] << 4));
}

/* The code of one value under ggml's reference rule (see the top comment). */
GK_INLINE uint8_t gk_leg_code(float v, float min, float id, int bits, int with_min) {
    const int nmax = (1 << bits) - 1;
    if (!with_min) {
        const int a = gk_cvtt_i8(v * id + (bits == 4 ? 8.5f : 16.5f));
        return (uint8_t)(a < nmax ? a : nmax);
    }
    const float t = (v - min) * id;
    if (bits == 5) return (uint8_t)gk_cvtt_u8(t + 0.5f);
    const int a = gk_cvtt_i8(t + 0.5f);
    return (uint8_t)(a < 15 ? a : 15);
}

GK_INLINE void gk_leg_block_ref(const float *x, uint8_t *out, int bits, int with_min) {
    float min = 3.402823466e+38f, max = -3.402823466e+38f, d;
    if (with_min) {
        for (int j = 0; j < 32; j++) {
            const float v = x[j];
            if (v < min) min = v;
            if (v > max) max = v;
        }
        d = (max - min) / ((1 << bits) - 1);
    } else {
        float amax = 0.0f;
        max = 0.0f;
        for (int j = 0; j < 32; j++) {
            const float v = x[j];
            if (amax < fabsf(v)) {
                amax = fabsf(v);
                max = v;
            }
        }
        d = max / (bits == 4 ? -8 : -16);
    }
    const float id = d ? 1.0f / d : 0.0f;
    gk_st16(out, gk_f32_to_f16(d));
    if (with_min) gk_st16(out + 2, gk_f32_to_f16(min));
    uint8_t *qs = out + 2 + 2 * with_min, L[32];
    for (int j = 0; j < 16; ++j) {
        const uint8_t a = gk_leg_code(x[j], min, id, bits, with_min);
        const uint8_t b = gk_leg_code(x[16 + j], min, id, bits, with_min);
        if (bits == 4) qs[j] = (uint8_t)(a | (b << 4));
        else L[j] = a, L[j + 16] = b;
    }
    if (bits == 5) gk_q5_pack(L, qs, qs + 4);
}

#if GK_X86
/* The same block, 8 lanes at a time: the same IEEE operations in the same order. */
GK_TARGET_AVX2 static inline void gk_leg_block_avx2(const float *x, uint8_t *out, int bits, int with_min) {
    float min = 0.0f, max, d;
    if (with_min) {
        if (!gk_minmax32(x, &min, &max)) {
            gk_leg_block_ref(x, out, bits, with_min);
            return;
        }
        d = (max - min) / ((1 << bits) - 1);
    } else {
        float amax;
        max = gk_first_absmax32(x, &amax);
        d = max / (bits == 4 ? -8 : -16);
    }
    const float id = d ? 1.0f / d : 0.0f;
    gk_st16(out, gk_f32_to_f16(d));
    if (with_min) gk_st16(out + 2, gk_f32_to_f16(min));
    const __m256 vid = _mm256_set1_ps(id), vmin = _mm256_set1_ps(min);
    const __m256 off = _mm256_set1_ps(with_min ? 0.5f : bits == 4 ? 8.5f : 16.5f);
    __m256i v[4];
    for (int k = 0; k < 4; k++) {
        __m256 t = _mm256_loadu_ps(x + 8 * k);
        if (with_min) t = _mm256_sub_ps(t, vmin);
        t = _mm256_add_ps(_mm256_mul_ps(t, vid), off);
        if (with_min && bits == 5) v[k] = _mm256_and_si256(_mm256_cvttps_epi32(t), _mm256_set1_epi32(0xFF));
        else v[k] = gk_u8_of_min_i8(t, (1 << bits) - 1);
    }
    uint8_t *qs = out + 2 + 2 * with_min;
    if (bits == 5) {
        gk_st32(qs, gk_bit4_mask(v));
        for (int k = 0; k < 4; k++) v[k] = _mm256_and_si256(v[k], _mm256_set1_epi32(0x0F));
        qs += 4;
    }
    gk_store_nibbles(v, qs);
}
#define GK_LEG_BLOCK(simd, x, o, bits, wm) \
    ((simd) ? gk_leg_block_avx2(x, o, bits, wm) : gk_leg_block_ref(x, o, bits, wm))
#else
#define GK_LEG_BLOCK(simd, x, o, bits, wm) ((void)(simd), gk_leg_block_ref(x, o, bits, wm))
#endif

GK_INLINE size_t gk_leg_quant_rows(const float *x, void *vy, int64_t nrows, int64_t n_per_row,
                                   const float *imatrix, int simd, int bits, int with_min) {
    const int64_t qb = 18 + 2 * with_min + (bits == 5 ? 4 : 0);
    uint8_t *y = (uint8_t *)vy;
    const int64_t nb = n_per_row / 32;
    for (int64_t r = 0; r < nrows; r++) {
        const float *xr = x + r * n_per_row;
        uint8_t *yr = y + r * nb * qb;
        if (!imatrix) {
            for (int64_t ib = 0; ib < nb; ib++) GK_LEG_BLOCK(simd, xr + ib * 32, yr + ib * qb, bits, with_min);
            continue;
        }
        const float sigma2 = gk_row_sigma2(xr, n_per_row);
        for (int64_t ib = 0; ib < nb; ib++) {
            const float *xb = xr + 32 * ib, *qw = imatrix + 32 * ib;
            float weight[32], d, min = 0.0f;
            uint8_t L[32], Laux[32];
            for (int j = 0; j < 32; ++j) weight[j] = qw[j] * sqrtf(sigma2 + xb[j] * xb[j]);
            if (with_min)
                d = gk_kq_make_qkx3_quants(32, (1 << bits) - 1, xb, weight, L, &min, Laux, -0.9f, 0.05f, 36, 0);
            else
                d = gk_kq_make_qx_quants(32, 1 << (bits - 1), xb, (int8_t *)L, 1, weight);
            uint8_t *o = yr + ib * qb;
            gk_st16(o, gk_f32_to_f16(d));
            if (with_min) gk_st16(o + 2, gk_f32_to_f16(-min));
            gk_leg_pack(L, o + 2 + 2 * with_min, bits);
        }
    }
    return (size_t)(nrows * nb * qb);
}

/* NAME_quant_impl and its three ISA instances (GK_KFN_QSIMD) for one legacy type. */
#define GK_LEGACY_QUANT(name, bits, with_min)                                                   \
    GK_INLINE size_t name##_impl(const float *x, void *vy, int64_t nrows, int64_t n_per_row,   \
                                 const float *imatrix, int simd) {                              \
        return gk_leg_quant_rows(x, vy, nrows, n_per_row, imatrix, simd, bits, with_min);       \
    }                                                                                           \
    GK_KFN_QSIMD(name)

#endif
