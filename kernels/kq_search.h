/* Shared helpers of the legacy / IQ4 / FP4 kernels (format-facts §3.0, §3.3, §3.5, §3.7):
 * the ISA instantiation macros, the non-linear value tables, best-index searches, E8M0/UE4M3
 * scale conversions and the weighted scale searches make_qx_quants / make_qkx3_quants.
 *
 * Everything here is static inline so that a kernel body inlined into an AVX2/AVX-512 wrapper is
 * compiled for that ISA. Float arithmetic follows ggml's source order (no FMA contraction: the
 * build uses -ffp-contract=off), so every ISA instance yields identical bytes. */
#ifndef GK_KQ_SEARCH_H
#define GK_KQ_SEARCH_H

#include "kernels_int.h"

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
#else
#define GK_KFN(ret, name, params, args) \
    static ret name##_scalar params { return name##_impl args; }
#define GK_KFNV(name, params, args) \
    static void name##_scalar params { name##_impl args; }
#define GK_ISA3(name) {name##_scalar, NULL, NULL}
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

/* E8M0 "half" value 2^(e-128) (§3.0). */
GK_INLINE float gk_e8m0_half(uint8_t e) {
    uint32_t bits = e < 2 ? (0x00200000u << e) : ((uint32_t)(e - 1) << 23);
    return gk_u2f(bits);
}

/* UE4M3 decode, halved (kvalues are doubled): 0x00 and 0x7F give 0 (§3.0). */
GK_INLINE float gk_ue4m3_half(uint8_t x) {
    if (x == 0 || x == 0x7F) return 0.0f;
    int ex = (x >> 3) & 0xF, man = x & 7;
    float raw;
    if (ex == 0) raw = (float)man * 0x1p-9f;
    else raw = ldexpf(1.0f + (float)man / 8.0f, ex - 7);
    return raw * 0.5f;
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

/* make_qx_quants (§3.3): symmetric scale for L in [0, 2*nmax), weights qw or by rmse_type. */
static inline float gk_make_qx_quants(int n, int nmax, const float *x, int8_t *L, int rmse_type,
                                      const float *qw) {
    float max = 0, amax = 0;
    for (int i = 0; i < n; ++i) {
        float ax = fabsf(x[i]);
        if (ax > amax) {
            amax = ax;
            max = x[i];
        }
    }
    if (amax < GROUP_MAX_EPS_GK) {
        for (int i = 0; i < n; ++i) L[i] = 0;
        return 0.f;
    }
    float iscale = -nmax / max;
    if (rmse_type == 0) {
        for (int i = 0; i < n; ++i) {
            int l = gk_nearest_int(iscale * x[i]);
            l = l < -nmax ? -nmax : l > nmax - 1 ? nmax - 1 : l;
            L[i] = (int8_t)(nmax + l);
        }
        return 1 / iscale;
    }
    int return_early = 0;
    if (rmse_type < 0) {
        rmse_type = -rmse_type;
        return_early = 1;
    }
#define GK_QX_W(i)                                                                          \
    (qw ? qw[i]                                                                             \
        : rmse_type == 1 ? x[i] * x[i]                                                      \
        : rmse_type == 2 ? 1.0f                                                             \
        : rmse_type == 3 ? fabsf(x[i])                                                      \
                         : sqrtf(fabsf(x[i])))
    float sumlx = 0, suml2 = 0;
    for (int i = 0; i < n; ++i) {
        int l = gk_nearest_int(iscale * x[i]);
        l = l < -nmax ? -nmax : l > nmax - 1 ? nmax - 1 : l;
        L[i] = (int8_t)(l + nmax);
        float w = GK_QX_W(i);
        sumlx += w * x[i] * (float)l;
        suml2 += w * (float)l * (float)l;
    }
    float scale = suml2 ? sumlx / suml2 : 0.0f;
    if (return_early) return suml2 > 0 ? 0.5f * (scale + 1 / iscale) : 1 / iscale;
    float best = scale * sumlx;
    for (int is = -9; is <= 9; ++is) {
        if (is == 0) continue;
        iscale = -(nmax + 0.1f * is) / max;
        sumlx = suml2 = 0;
        for (int i = 0; i < n; ++i) {
            int l = gk_nearest_int(iscale * x[i]);
            l = l < -nmax ? -nmax : l > nmax - 1 ? nmax - 1 : l;
            float w = GK_QX_W(i);
            sumlx += w * x[i] * (float)l;
            suml2 += w * (float)l * (float)l;
        }
        if (suml2 > 0 && sumlx * sumlx > best * suml2) {
            for (int i = 0; i < n; ++i) {
                int l = gk_nearest_int(iscale * x[i]);
                L[i] = (int8_t)(nmax + (l < -nmax ? -nmax : l > nmax - 1 ? nmax - 1 : l));
            }
            scale = sumlx / suml2;
            best = scale * sumlx;
        }
    }
#undef GK_QX_W
    return scale;
}

/* make_qkx3_quants (§3.3): affine x ~ scale*L - the_min, L in [0, nmax]; weights x^2 if NULL. */
static inline float gk_make_qkx3_quants(int n, int nmax, const float *x, const float *weights,
                                        uint8_t *L, float *the_min, uint8_t *Laux, float rmin,
                                        float rdelta, int nstep, int use_mad) {
    float min = x[0], max = x[0];
    float sum_w = weights ? weights[0] : x[0] * x[0];
    float sum_x = sum_w * x[0];
    for (int i = 1; i < n; ++i) {
        if (x[i] < min) min = x[i];
        if (x[i] > max) max = x[i];
        float w = weights ? weights[i] : x[i] * x[i];
        sum_w += w;
        sum_x += w * x[i];
    }
    if (min > 0) min = 0;
    if (max <= min) {
        memset(L, 0, (size_t)n);
        *the_min = -min;
        return 0.f;
    }
    float iscale = nmax / (max - min);
    float scale = 1 / iscale;
    float best_mad = 0;
    for (int i = 0; i < n; ++i) {
        int l = gk_nearest_int(iscale * (x[i] - min));
        L[i] = (uint8_t)(l < 0 ? 0 : l > nmax ? nmax : l);
        float diff = scale * L[i] + min - x[i];
        diff = use_mad ? fabsf(diff) : diff * diff;
        float w = weights ? weights[i] : x[i] * x[i];
        best_mad += w * diff;
    }
    if (nstep < 1) {
        *the_min = -min;
        return scale;
    }
    for (int is = 0; is <= nstep; ++is) {
        iscale = (rmin + rdelta * is + nmax) / (max - min);
        float sum_l = 0, sum_l2 = 0, sum_xl = 0;
        for (int i = 0; i < n; ++i) {
            int l = gk_nearest_int(iscale * (x[i] - min));
            l = l < 0 ? 0 : l > nmax ? nmax : l;
            Laux[i] = (uint8_t)l;
            float w = weights ? weights[i] : x[i] * x[i];
            sum_l += w * (float)l;
            sum_l2 += w * (float)l * (float)l;
            sum_xl += w * (float)l * x[i];
        }
        float D = sum_w * sum_l2 - sum_l * sum_l;
        if (D > 0) {
            float this_scale = (sum_w * sum_xl - sum_x * sum_l) / D;
            float this_min = (sum_l2 * sum_x - sum_l * sum_xl) / D;
            if (this_min > 0) {
                this_min = 0;
                this_scale = sum_xl / sum_l2;
            }
            float mad = 0;
            for (int i = 0; i < n; ++i) {
                float diff = this_scale * Laux[i] + this_min - x[i];
                diff = use_mad ? fabsf(diff) : diff * diff;
                float w = weights ? weights[i] : x[i] * x[i];
                mad += w * diff;
            }
            if (mad < best_mad) {
                for (int i = 0; i < n; ++i) L[i] = Laux[i];
                best_mad = mad;
                scale = this_scale;
                min = this_min;
            }
        }
    }
    *the_min = -min;
    return scale;
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

#endif
