/* Shared scale searches of the K-quants (format-facts §3.3) and the helpers every K-quant /
 * ternary kernel file uses: per-ISA instantiation, Q4_K/Q5_K scale packing, validation.
 *
 * API (all static inline, so that a kernel body inlined into an AVX2 / AVX-512 wrapper is
 * compiled for that ISA; the arithmetic is ggml's, in ggml's source order, which with
 * -ffp-contract=off gives the same bits on every ISA):
 *
 *   float gk_kq_make_qx_quants(n, nmax, x, L, rmse_type, qw)
 *       symmetric signed scale; L[i] in [0, 2*nmax) holds l + nmax (all-zero input: L = 0,
 *       returns 0). qw may be NULL (weights then from rmse_type: 1 x^2, 2 one, 3 |x|, 4 sqrt|x|).
 *   float gk_kq_make_q3_quants(n, nmax, x, L, do_rmse)
 *       as above with weights x^2 plus up to 5 coordinate-descent passes (Q3_K reference).
 *   float gk_kq_make_qkx2_quants(n, nmax, x, w, L, &the_min, Laux, rmin, rdelta, nstep, use_mad)
 *       affine code x ~ scale*L - the_min, L in [0, nmax]; w must not be NULL; Laux is n bytes
 *       of scratch. Returns scale, the_min >= 0 in *the_min.
 *   float gk_kq_make_qkx3_quants(same parameters)
 *       the imatrix variant: w may be NULL (then x^2), early exit when max <= min.
 *   float gk_kq_make_qp_quants(n, nmax, x, L, qw)
 *       non-negative sub-block scales x -> L in [0, nmax] with one super-scale (returned);
 *       qw (weights, not NULL).
 *
 * Every routine uses gk_nearest_int (round half to even), exactly as ggml's quants.c. */
#ifndef GK_KQUANT_UTIL_H
#define GK_KQUANT_UTIL_H

#include "kernels_int.h"

#define GK_KQ_INLINE static inline __attribute__((always_inline))
#define GK_KQ_EPS 1e-15f

/* One body, three ISA instances (the same shape as xxHash's dispatch): NAME##_body must be a
 * GK_KQ_INLINE function. GK_KQ_FN / GK_KQ_FNV define NAME_scalar / NAME_avx2 / NAME_avx512,
 * GK_KQ_ISA3(NAME) is the per-ISA initializer of a gk_kernel_row array. */
#if GK_X86
#define GK_KQ_FN(ret, name, params, args)                                              \
    static ret name##_scalar params { return name##_body args; }                       \
    GK_TARGET_AVX2 static ret name##_avx2 params { return name##_body args; }          \
    GK_TARGET_AVX512 static ret name##_avx512 params { return name##_body args; }
#define GK_KQ_ISA3(name) {name##_scalar, name##_avx2, name##_avx512}
/* As GK_KQ_FN, with the x86 instances calling NAME##_simd (an AVX2-intrinsics body). */
#define GK_KQ_FN_SIMD(ret, name, params, args)                                         \
    static ret name##_scalar params { return name##_body args; }                       \
    GK_TARGET_AVX2 static ret name##_avx2 params { return name##_simd args; }          \
    GK_TARGET_AVX512 static ret name##_avx512 params { return name##_simd args; }
#else
#define GK_KQ_FN_SIMD(ret, name, params, args) \
    static ret name##_scalar params { return name##_body args; }
#define GK_KQ_FN(ret, name, params, args) \
    static ret name##_scalar params { return name##_body args; }
#define GK_KQ_ISA3(name) {name##_scalar, NULL, NULL}
#endif

/* quantize entries NAME_quant_scalar / _avx2 / _avx512 over the per-super-block functions
 * NAME_block (scalar reference) and NAME_block_simd (x86, identical bytes). */
#if GK_X86
#define GK_KQ_QUANT_ISA(name, qb)                                                        \
    static size_t name##_quant_scalar GK_KQ_P_QUANT {                                  \
        return gk_kq_quant_rows(x, vy, nrows, n_per_row, imatrix, qb, name##_block);   \
    }                                                                                  \
    GK_TARGET_AVX2 static size_t name##_quant_avx2 GK_KQ_P_QUANT {                     \
        return gk_kq_quant_rows(x, vy, nrows, n_per_row, imatrix, qb, name##_block_simd); \
    }                                                                                  \
    GK_TARGET_AVX512 static size_t name##_quant_avx512 GK_KQ_P_QUANT {                 \
        return gk_kq_quant_rows(x, vy, nrows, n_per_row, imatrix, qb, name##_block_simd); \
    }
#else
#define GK_KQ_QUANT_ISA(name, qb)                                                        \
    static size_t name##_quant_scalar GK_KQ_P_QUANT {                                  \
        return gk_kq_quant_rows(x, vy, nrows, n_per_row, imatrix, qb, name##_block);   \
    }
#endif

#define GK_KQ_P_TOF (const void *vx, float *y, int64_t k)
#define GK_KQ_A_TOF (vx, y, k)
#define GK_KQ_P_QUANT \
    (const float *x, void *vy, int64_t nrows, int64_t n_per_row, const float *imatrix)
#define GK_KQ_A_QUANT (x, vy, nrows, n_per_row, imatrix)
#define GK_KQ_P_DOT (int64_t n, const void *vw, const void *va)
#define GK_KQ_A_DOT (n, vw, va)

GK_KQ_INLINE int gk_kq_clampi(int v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : v; }

/* ---- make_qx_quants ------------------------------------------------------------------------ */
GK_KQ_INLINE float gk_kq_qx_w(const float *x, int i, int rmse_type, const float *qw) {
    if (qw) return qw[i];
    if (rmse_type == 1) return x[i] * x[i];
    if (rmse_type == 2) return 1.0f;
    if (rmse_type == 3) return fabsf(x[i]);
    return sqrtf(fabsf(x[i]));
}

GK_KQ_INLINE float gk_kq_make_qx_quants(int n, int nmax, const float *x, int8_t *L,
                                        int rmse_type, const float *qw) {
    float max = 0, amax = 0;
    for (int i = 0; i < n; ++i) {
        float ax = fabsf(x[i]);
        if (ax > amax) { amax = ax; max = x[i]; }
    }
    if (amax < GK_KQ_EPS) {
        for (int i = 0; i < n; ++i) L[i] = 0;
        return 0.f;
    }
    float iscale = -nmax / max;
    if (rmse_type == 0) {
        for (int i = 0; i < n; ++i) {
            int l = gk_kq_clampi(gk_nearest_int(iscale * x[i]), -nmax, nmax - 1);
            L[i] = (int8_t)(nmax + l);
        }
        return 1 / iscale;
    }
    int return_early = 0;
    if (rmse_type < 0) { rmse_type = -rmse_type; return_early = 1; }
    float sumlx = 0, suml2 = 0;
    for (int i = 0; i < n; ++i) {
        int l = gk_kq_clampi(gk_nearest_int(iscale * x[i]), -nmax, nmax - 1);
        L[i] = (int8_t)(l + nmax);
        float w = gk_kq_qx_w(x, i, rmse_type, qw);
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
            int l = gk_kq_clampi(gk_nearest_int(iscale * x[i]), -nmax, nmax - 1);
            float w = gk_kq_qx_w(x, i, rmse_type, qw);
            sumlx += w * x[i] * (float)l;
            suml2 += w * (float)l * (float)l;
        }
        if (suml2 > 0 && sumlx * sumlx > best * suml2) {
            for (int i = 0; i < n; ++i) {
                int l = gk_kq_clampi(gk_nearest_int(iscale * x[i]), -nmax, nmax - 1);
                L[i] = (int8_t)(nmax + l);
            }
            scale = sumlx / suml2;
            best = scale * sumlx;
        }
    }
    return scale;
}

/* ---- make_q3_quants ------------------------------------------------------------------------ */
GK_KQ_INLINE float gk_kq_make_q3_quants(int n, int nmax, const float *x, int8_t *L, int do_rmse) {
    float max = 0, amax = 0;
    for (int i = 0; i < n; ++i) {
        float ax = fabsf(x[i]);
        if (ax > amax) { amax = ax; max = x[i]; }
    }
    if (amax < GK_KQ_EPS) {
        for (int i = 0; i < n; ++i) L[i] = 0;
        return 0.f;
    }
    float iscale = -nmax / max;
    if (do_rmse) {
        float sumlx = 0, suml2 = 0;
        for (int i = 0; i < n; ++i) {
            int l = gk_kq_clampi(gk_nearest_int(iscale * x[i]), -nmax, nmax - 1);
            L[i] = (int8_t)l;
            float w = x[i] * x[i];
            sumlx += w * x[i] * (float)l;
            suml2 += w * (float)l * (float)l;
        }
        for (int itry = 0; itry < 5; ++itry) {
            int n_changed = 0;
            for (int i = 0; i < n; ++i) {
                float w = x[i] * x[i];
                float slx = sumlx - w * x[i] * (float)L[i];
                if (slx > 0) {
                    float sl2 = suml2 - w * (float)L[i] * (float)L[i];
                    int new_l = gk_kq_clampi(gk_nearest_int(x[i] * sl2 / slx), -nmax, nmax - 1);
                    if (new_l != L[i]) {
                        slx += w * x[i] * (float)new_l;
                        sl2 += w * (float)new_l * (float)new_l;
                        if (sl2 > 0 && slx * slx * suml2 > sumlx * sumlx * sl2) {
                            L[i] = (int8_t)new_l;
                            sumlx = slx;
                            suml2 = sl2;
                            ++n_changed;
                        }
                    }
                }
            }
            if (!n_changed) break;
        }
        for (int i = 0; i < n; ++i) L[i] = (int8_t)(L[i] + nmax);
        return sumlx / suml2;
    }
    for (int i = 0; i < n; ++i) {
        int l = gk_kq_clampi(gk_nearest_int(iscale * x[i]), -nmax, nmax - 1);
        L[i] = (int8_t)(l + nmax);
    }
    return 1 / iscale;
}

/* ---- make_qkx2_quants / make_qkx3_quants --------------------------------------------------- */
/* qkx3 = 1: NULL weights mean x^2 and the early exit is max <= min (else max == min). */
GK_KQ_INLINE float gk_kq_qkx_common(int n, int nmax, const float *x, const float *weights,
                                    uint8_t *L, float *the_min, uint8_t *Laux, float rmin,
                                    float rdelta, int nstep, int use_mad, int qkx3) {
#define GK_KQ_W(i) (weights ? weights[i] : x[i] * x[i])
    float min = x[0], max = x[0];
    float sum_w = GK_KQ_W(0);
    float sum_x = sum_w * x[0];
    for (int i = 1; i < n; ++i) {
        if (x[i] < min) min = x[i];
        if (x[i] > max) max = x[i];
        float w = GK_KQ_W(i);
        sum_w += w;
        sum_x += w * x[i];
    }
    if (min > 0) min = 0;
    if (qkx3 ? max <= min : max == min) {
        for (int i = 0; i < n; ++i) L[i] = 0;
        *the_min = -min;
        return 0.f;
    }
    float iscale = nmax / (max - min);
    float scale = 1 / iscale;
    float best_error = 0;
    for (int i = 0; i < n; ++i) {
        int l = gk_nearest_int(iscale * (x[i] - min));
        L[i] = (uint8_t)gk_kq_clampi(l, 0, nmax);
        float diff = scale * (float)L[i] + min - x[i];
        diff = use_mad ? fabsf(diff) : diff * diff;
        best_error += GK_KQ_W(i) * diff;
    }
    if (nstep < 1) {
        *the_min = -min;
        return scale;
    }
    for (int is = 0; is <= nstep; ++is) {
        iscale = (rmin + rdelta * (float)is + (float)nmax) / (max - min);
        float sum_l = 0, sum_l2 = 0, sum_xl = 0;
        for (int i = 0; i < n; ++i) {
            int l = gk_kq_clampi(gk_nearest_int(iscale * (x[i] - min)), 0, nmax);
            Laux[i] = (uint8_t)l;
            float w = GK_KQ_W(i);
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
            float cur_error = 0;
            for (int i = 0; i < n; ++i) {
                float diff = this_scale * (float)Laux[i] + this_min - x[i];
                diff = use_mad ? fabsf(diff) : diff * diff;
                cur_error += GK_KQ_W(i) * diff;
            }
            if (cur_error < best_error) {
                for (int i = 0; i < n; ++i) L[i] = Laux[i];
                best_error = cur_error;
                scale = this_scale;
                min = this_min;
            }
        }
    }
    *the_min = -min;
    return scale;
#undef GK_KQ_W
}

GK_KQ_INLINE float gk_kq_make_qkx2_quants(int n, int nmax, const float *x, const float *w,
                                          uint8_t *L, float *the_min, uint8_t *Laux, float rmin,
                                          float rdelta, int nstep, int use_mad) {
    return gk_kq_qkx_common(n, nmax, x, w, L, the_min, Laux, rmin, rdelta, nstep, use_mad, 0);
}

GK_KQ_INLINE float gk_kq_make_qkx3_quants(int n, int nmax, const float *x, const float *w,
                                          uint8_t *L, float *the_min, uint8_t *Laux, float rmin,
                                          float rdelta, int nstep, int use_mad) {
    return gk_kq_qkx_common(n, nmax, x, w, L, the_min, Laux, rmin, rdelta, nstep, use_mad, 1);
}

/* ---- make_qp_quants ------------------------------------------------------------------------ */
GK_KQ_INLINE float gk_kq_make_qp_quants(int n, int nmax, const float *x, uint8_t *L,
                                        const float *qw) {
    float max = 0;
    for (int i = 0; i < n; ++i) max = max > x[i] ? max : x[i];
    if (max < GK_KQ_EPS) {
        for (int i = 0; i < n; ++i) L[i] = 0;
        return 0.f;
    }
    float iscale = nmax / max;
    for (int i = 0; i < n; ++i) L[i] = (uint8_t)gk_nearest_int(iscale * x[i]);
    float scale = 1 / iscale;
    float best_mse = 0;
    for (int i = 0; i < n; ++i) {
        float diff = x[i] - scale * (float)L[i];
        best_mse += qw[i] * diff * diff;
    }
    for (int is = -4; is <= 4; ++is) {
        if (is == 0) continue;
        float iscale_is = (0.1f * (float)is + (float)nmax) / max;
        float scale_is = 1 / iscale_is;
        float mse = 0;
        for (int i = 0; i < n; ++i) {
            int l = gk_nearest_int(iscale_is * x[i]);
            l = l < nmax ? l : nmax;
            float diff = x[i] - scale_is * (float)l;
            mse += qw[i] * diff * diff;
        }
        if (mse < best_mse) {
            best_mse = mse;
            iscale = iscale_is;
        }
    }
    float sumlx = 0, suml2 = 0;
    for (int i = 0; i < n; ++i) {
        int l = gk_nearest_int(iscale * x[i]);
        l = l < nmax ? l : nmax;
        L[i] = (uint8_t)l;
        float w = qw[i];
        sumlx += w * x[i] * (float)l;
        suml2 += w * (float)l * (float)l;
    }
    for (int itry = 0; itry < 5; ++itry) {
        int n_changed = 0;
        for (int i = 0; i < n; ++i) {
            float w = qw[i];
            float slx = sumlx - w * x[i] * (float)L[i];
            float sl2 = suml2 - w * (float)L[i] * (float)L[i];
            if (slx > 0 && sl2 > 0) {
                int new_l = gk_nearest_int(x[i] * sl2 / slx);
                new_l = new_l < nmax ? new_l : nmax;
                if (new_l != L[i]) {
                    slx += w * x[i] * (float)new_l;
                    sl2 += w * (float)new_l * (float)new_l;
                    if (slx * slx * suml2 > sumlx * sumlx * sl2) {
                        L[i] = (uint8_t)new_l;
                        sumlx = slx;
                        suml2 = sl2;
                        ++n_changed;
                    }
                }
            }
        }
        if (!n_changed) break;
    }
    /* ggml returns 0 unless suml2 > 0: NaN or zero sums give a zero super-scale, and the
     * sub-block codes found earlier are kept (the caller skips requantizing d == 0 blocks) */
    return suml2 > 0 ? sumlx / suml2 : 0.f;
}

/* ---- Q4_K / Q5_K scale packing (format-facts §3.4, T6) --------------------------------------- */
GK_KQ_INLINE void gk_kq_get_scale_min_k4(int j, const uint8_t *q, uint8_t *d, uint8_t *m) {
    if (j < 4) {
        *d = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *d = (uint8_t)((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
        *m = (uint8_t)((q[j + 4] >> 4) | ((q[j - 0] >> 6) << 4));
    }
}

/* Packs eight 6-bit (ls, lm) pairs into scales[12] as ggml's writers do. */
GK_KQ_INLINE void gk_kq_pack_scale_min_k4(const uint8_t *ls, const uint8_t *lm, uint8_t *s) {
    for (int j = 0; j < 8; ++j) {
        if (j < 4) {
            s[j] = ls[j];
            s[j + 4] = lm[j];
        } else {
            s[j + 4] = (uint8_t)((ls[j] & 0xF) | ((lm[j] & 0xF) << 4));
            s[j - 4] |= (uint8_t)((ls[j] >> 4) << 6);
            s[j - 0] |= (uint8_t)((lm[j] >> 4) << 6);
        }
    }
}

/* The reference Q4_K/Q5_K scale quantization: ls, lm = min(63, nearest(63/max * v)) as uint8,
 * packed into o+4; d = fp16(max_scale/63), dmin = fp16(max_min/63) at o, o+2. */
GK_KQ_INLINE void gk_kq_q4k_pack_scales(uint8_t *o, const float *scales, const float *mins,
                                        float max_scale, float max_min) {
    uint8_t ls[8], lm[8];
    float inv_scale = max_scale > 0 ? 63.f / max_scale : 0.f;
    float inv_min = max_min > 0 ? 63.f / max_min : 0.f;
    for (int j = 0; j < 8; ++j) {
        uint8_t a = (uint8_t)gk_nearest_int(inv_scale * scales[j]);
        uint8_t b = (uint8_t)gk_nearest_int(inv_min * mins[j]);
        ls[j] = a < 63 ? a : 63;
        lm[j] = b < 63 ? b : 63;
    }
    memset(o + 4, 0, 12);
    gk_kq_pack_scale_min_k4(ls, lm, o + 4);
    gk_st16(o, gk_f32_to_f16(max_scale / 63.f));
    gk_st16(o + 2, gk_f32_to_f16(max_min / 63.f));
}

/* Q4_K / Q5_K scale search of one super-block (scalar reference): qw NULL -> ggml's reference
 * path (av = sqrt(sum x^2/32), w = av + |x|, make_qkx2_quants(32, nmax, .., rmin, rdelta,
 * nstep), 6-bit scales by 63/max); else the imatrix path (sigma2 = 2 sum x^2/256,
 * w = qw sqrt(sigma2 + x^2), make_qkx3_quants(-0.9, 0.05, 36), make_qp_quants(8, 63)).
 * Writes d, dmin, scales[12] at o and the codes to L[256]; the caller requantizes. */
GK_KQ_INLINE void gk_kq_q45_scales(const float *x, const float *qw, uint8_t *o, uint8_t *L,
                                   int nmax, float rmin, float rdelta, int nstep) {
    uint8_t Laux[32], Ls[8], Lm[8];
    float weights[32], sw[8], mins[8], scales[8];
    if (!qw) {
        float max_scale = 0, max_min = 0;
        for (int j = 0; j < 8; ++j) {
            float sum_x2 = 0;
            for (int l = 0; l < 32; ++l) sum_x2 += x[32 * j + l] * x[32 * j + l];
            float av_x = sqrtf(sum_x2 / 32);
            for (int l = 0; l < 32; ++l) weights[l] = av_x + fabsf(x[32 * j + l]);
            scales[j] = gk_kq_make_qkx2_quants(32, nmax, x + 32 * j, weights, L + 32 * j, &mins[j],
                                               Laux, rmin, rdelta, nstep, 0);
            if (scales[j] > max_scale) max_scale = scales[j];
            if (mins[j] > max_min) max_min = mins[j];
        }
        gk_kq_q4k_pack_scales(o, scales, mins, max_scale, max_min);
        return;
    }
    float sum_x2 = 0;
    for (int l = 0; l < 256; ++l) sum_x2 += x[l] * x[l];
    float sigma2 = 2 * sum_x2 / 256;
    for (int j = 0; j < 8; ++j) {
        for (int l = 0; l < 32; ++l)
            weights[l] = qw[32 * j + l] * sqrtf(sigma2 + x[32 * j + l] * x[32 * j + l]);
        float sumw = 0;
        for (int l = 0; l < 32; ++l) sumw += weights[l];
        sw[j] = sumw;
        scales[j] = gk_kq_make_qkx3_quants(32, nmax, x + 32 * j, weights, L + 32 * j, &mins[j],
                                           Laux, -0.9f, 0.05f, 36, 0);
    }
    float d_block = gk_kq_make_qp_quants(8, 63, scales, Ls, sw);
    float m_block = gk_kq_make_qp_quants(8, 63, mins, Lm, sw);
    memset(o + 4, 0, 12);
    gk_kq_pack_scale_min_k4(Ls, Lm, o + 4);
    gk_st16(o, gk_f32_to_f16(d_block));
    gk_st16(o + 2, gk_f32_to_f16(m_block));
}

/* ggml_quantize_chunk over rows of 256-value super-blocks: blk(x, out, imatrix slice or NULL)
 * per super-block. n_per_row must be a positive multiple of 256 (else nothing is written, 0). */
typedef void (*gk_kq_block_fn)(const float *x, uint8_t *o, const float *qw);
GK_KQ_INLINE size_t gk_kq_quant_rows(const float *x, void *vy, int64_t nrows, int64_t n_per_row,
                                     const float *imatrix, size_t qb, gk_kq_block_fn blk) {
    if (n_per_row <= 0 || nrows < 0 || n_per_row % 256) return 0;
    const int64_t nb = n_per_row / 256;
    uint8_t *y = (uint8_t *)vy;
    for (int64_t r = 0; r < nrows; r++)
        for (int64_t i = 0; i < nb; i++)
            blk(x + r * n_per_row + i * 256, y + (size_t)(r * nb + i) * qb,
                imatrix ? imatrix + i * 256 : NULL);
    return (size_t)nrows * (size_t)nb * qb;
}

/* Q3_K: the sixteen signed 6-bit scales (stored value - 32) of scales[12]. */
GK_KQ_INLINE void gk_kq_q3_scales(const uint8_t *s, int8_t *out) {
    for (int j = 0; j < 16; ++j) {
        int lo = j < 8 ? (s[j] & 0xF) : (s[j - 8] >> 4);
        int hi = (s[8 + j % 4] >> (2 * (j / 4))) & 3;
        out[j] = (int8_t)((lo | (hi << 4)) - 32);
    }
}

/* ---- AVX2 helpers (x86 only; callable from AVX2 and AVX-512 instances) -------------------- */
#if GK_X86
#include <immintrin.h>
#define GK_KQ_AVX2 GK_TARGET_AVX2 static inline __attribute__((always_inline))

GK_KQ_AVX2 int32_t gk_kq_hsum_i32(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
    return _mm_cvtsi128_si32(s);
}
GK_KQ_AVX2 __m256i gk_kq_ld256(const void *p) { return _mm256_loadu_si256((const __m256i *)p); }
/* sum over 32 bytes of u8 q * s8 a, each 16-element half weighted by an int16 scale:
 * returns 8 int32 lanes (exact: |pair| <= 2*63*128, scale <= 128). */
GK_KQ_AVX2 __m256i gk_kq_dot32_sc(__m256i q, __m256i a, int s0, int s1) {
    const __m256i p = _mm256_maddubs_epi16(q, a);
    return _mm256_madd_epi16(p, _mm256_setr_epi16((short)s0, (short)s0, (short)s0, (short)s0,
                                                  (short)s0, (short)s0, (short)s0, (short)s0,
                                                  (short)s1, (short)s1, (short)s1, (short)s1,
                                                  (short)s1, (short)s1, (short)s1, (short)s1));
}
/* 2-bit field k of every byte of v */
GK_KQ_AVX2 __m256i gk_kq_bits2(__m256i v, int k) {
    return _mm256_and_si256(_mm256_srli_epi16(v, 2 * k), _mm256_set1_epi8(3));
}
/* float vector of 8 bytes (u8) at p */
GK_KQ_AVX2 __m256 gk_kq_u8_to_ps(__m128i b8) { return _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(b8)); }
/* fp16 -> fp32 with F16C (exact, the same value as gk_f16_to_f32 for non-NaN inputs) */
GK_KQ_AVX2 float gk_kq_h2f(const uint8_t *p) { return _cvtsh_ss(gk_ld16(p)); }
/* sum of 16 int16 lanes of v times 16 int16 lanes of m (exact in int32) */
GK_KQ_AVX2 int32_t gk_kq_dot16_i16(__m256i v, __m256i m) { return gk_kq_hsum_i32(_mm256_madd_epi16(v, m)); }
/* [s[k] x8 | s[k+1] x8] from 8 int16 scales broadcast in both halves of s8 (k even, 0..6) */
GK_KQ_AVX2 __m256i gk_kq_scale_pair(__m256i s8, int k) {
    const __m256i ctl = _mm256_setr_epi8(
        (char)(2 * k), (char)(2 * k + 1), (char)(2 * k), (char)(2 * k + 1), (char)(2 * k), (char)(2 * k + 1),
        (char)(2 * k), (char)(2 * k + 1), (char)(2 * k), (char)(2 * k + 1), (char)(2 * k), (char)(2 * k + 1),
        (char)(2 * k), (char)(2 * k + 1), (char)(2 * k), (char)(2 * k + 1), (char)(2 * k + 2), (char)(2 * k + 3),
        (char)(2 * k + 2), (char)(2 * k + 3), (char)(2 * k + 2), (char)(2 * k + 3), (char)(2 * k + 2),
        (char)(2 * k + 3), (char)(2 * k + 2), (char)(2 * k + 3), (char)(2 * k + 2), (char)(2 * k + 3),
        (char)(2 * k + 2), (char)(2 * k + 3), (char)(2 * k + 2), (char)(2 * k + 3));
    return _mm256_shuffle_epi8(s8, ctl);
}
/* [s[k] x16] from 8 int16 scales broadcast in both halves of s8 */
GK_KQ_AVX2 __m256i gk_kq_scale_bcast(__m256i s8, int k) {
    return _mm256_shuffle_epi8(s8, _mm256_set1_epi16((short)((2 * k) | ((2 * k + 1) << 8))));
}
/* y[0..31] = s * (float)(q - off) per byte of q, s = s0 for the first 16 bytes, s1 after
 * (one IEEE multiply per value, as the scalar code). */
GK_KQ_AVX2 void gk_kq_store32(float *y, __m256i q, int off, float s0, float s1) {
    const __m128i lo = _mm256_castsi256_si128(q), hi = _mm256_extracti128_si256(q, 1);
    const __m256i o = _mm256_set1_epi32(off);
    const __m256 v0 = _mm256_set1_ps(s0), v1 = _mm256_set1_ps(s1);
    _mm256_storeu_ps(y, _mm256_mul_ps(v0, _mm256_cvtepi32_ps(_mm256_sub_epi32(_mm256_cvtepu8_epi32(lo), o))));
    _mm256_storeu_ps(y + 8, _mm256_mul_ps(v0, _mm256_cvtepi32_ps(_mm256_sub_epi32(_mm256_cvtepu8_epi32(_mm_srli_si128(lo, 8)), o))));
    _mm256_storeu_ps(y + 16, _mm256_mul_ps(v1, _mm256_cvtepi32_ps(_mm256_sub_epi32(_mm256_cvtepu8_epi32(hi), o))));
    _mm256_storeu_ps(y + 24, _mm256_mul_ps(v1, _mm256_cvtepi32_ps(_mm256_sub_epi32(_mm256_cvtepu8_epi32(_mm_srli_si128(hi, 8)), o))));
}
/* Q4_K/Q5_K scales[12] -> 8 scales (bytes 0..7) and 8 mins (bytes 8..15), by 32-bit masks */
GK_KQ_AVX2 __m128i gk_kq_q4k_scales16(const uint8_t *s) {
    uint32_t u[3];
    memcpy(u, s, 12);
    const uint32_t k1 = 0x3f3f3f3fu, k2 = 0x0f0f0f0fu, k3 = 0x03030303u;
    const uint32_t m_hi = ((u[2] >> 4) & k2) | (((u[1] >> 6) & k3) << 4);
    const uint32_t m_lo = u[1] & k1;
    const uint32_t s_hi = (u[2] & k2) | (((u[0] >> 6) & k3) << 4);
    return _mm_setr_epi32((int)(u[0] & k1), (int)s_hi, (int)m_lo, (int)m_hi);
}
/* horizontal sum of a float vector (order: halves, then pairs) */
GK_KQ_AVX2 float gk_kq_hsum_ps(__m256 v) {
    __m128 r = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    r = _mm_add_ps(r, _mm_movehl_ps(r, r));
    r = _mm_add_ss(r, _mm_movehdup_ps(r));
    return _mm_cvtss_f32(r);
}
#endif

#if GK_X86
/* ---- lane-parallel searches: 8 sub-blocks at once, lane j = sub-block j ---------------------
 * Each lane performs exactly the scalar routine's arithmetic in the same order (IEEE single
 * adds / muls / divs / sqrt, no FMA), so the bytes equal the scalar reference's. Inputs are
 * transposed: xt[8*i + j] is element i of sub-block j (wt likewise); L[n*j + i] gets the codes. */
GK_KQ_AVX2 __m256i gk_kq_nearest8(__m256 f) {
    const __m256i i = _mm256_castps_si256(_mm256_add_ps(f, _mm256_set1_ps(12582912.0f)));
    return _mm256_sub_epi32(_mm256_and_si256(i, _mm256_set1_epi32(0x007fffff)), _mm256_set1_epi32(0x00400000));
}
GK_KQ_AVX2 __m256i gk_kq_clamp8(__m256i v, int lo, int hi) {
    return _mm256_min_epi32(_mm256_max_epi32(v, _mm256_set1_epi32(lo)), _mm256_set1_epi32(hi));
}
GK_KQ_AVX2 __m256 gk_kq_abs8(__m256 v) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), v); }
GK_KQ_AVX2 void gk_kq_store_L8(int n, const __m256i *Lv, uint8_t *L, int bias) {
    int32_t t[8];
    for (int i = 0; i < n; ++i) {
        _mm256_storeu_si256((__m256i *)t, Lv[i]);
        for (int j = 0; j < 8; ++j) L[n * j + i] = (uint8_t)(t[j] + bias);
    }
}

/* make_qkx2_quants (qkx3 = 0) / make_qkx3_quants (qkx3 = 1) with weights, n <= 32. */
GK_KQ_AVX2 void gk_kq_qkx_x8(int n, int nmax, const float *xt, const float *wt, uint8_t *L,
                             float *scale_out, float *min_out, float rmin, float rdelta, int nstep,
                             int use_mad, int qkx3) {
    __m256i Lv[32], La[32];
    const __m256 zero = _mm256_setzero_ps();
    __m256 min = _mm256_loadu_ps(xt), max = min;
    __m256 sum_w = _mm256_loadu_ps(wt);
    __m256 sum_x = _mm256_mul_ps(sum_w, min);
    for (int i = 1; i < n; ++i) {
        const __m256 x = _mm256_loadu_ps(xt + 8 * i), w = _mm256_loadu_ps(wt + 8 * i);
        min = _mm256_blendv_ps(min, x, _mm256_cmp_ps(x, min, _CMP_LT_OQ));
        max = _mm256_blendv_ps(max, x, _mm256_cmp_ps(x, max, _CMP_GT_OQ));
        sum_w = _mm256_add_ps(sum_w, w);
        sum_x = _mm256_add_ps(sum_x, _mm256_mul_ps(w, x));
    }
    min = _mm256_blendv_ps(min, zero, _mm256_cmp_ps(min, zero, _CMP_GT_OQ));
    const __m256 min0 = min;
    const __m256 flat = qkx3 ? _mm256_cmp_ps(max, min, _CMP_LE_OQ) : _mm256_cmp_ps(max, min, _CMP_EQ_OQ);
    __m256 iscale = _mm256_div_ps(_mm256_set1_ps((float)nmax), _mm256_sub_ps(max, min));
    __m256 scale = _mm256_div_ps(_mm256_set1_ps(1.0f), iscale);
    __m256 best = zero;
    for (int i = 0; i < n; ++i) {
        const __m256 x = _mm256_loadu_ps(xt + 8 * i), w = _mm256_loadu_ps(wt + 8 * i);
        Lv[i] = gk_kq_clamp8(gk_kq_nearest8(_mm256_mul_ps(iscale, _mm256_sub_ps(x, min))), 0, nmax);
        __m256 diff = _mm256_sub_ps(_mm256_add_ps(_mm256_mul_ps(scale, _mm256_cvtepi32_ps(Lv[i])), min), x);
        diff = use_mad ? gk_kq_abs8(diff) : _mm256_mul_ps(diff, diff);
        best = _mm256_add_ps(best, _mm256_mul_ps(w, diff));
    }
    for (int is = 0; is <= nstep; ++is) {
        const float t = rmin + rdelta * (float)is + (float)nmax;
        iscale = _mm256_div_ps(_mm256_set1_ps(t), _mm256_sub_ps(max, min)); /* min moves */
        __m256 sum_l = zero, sum_l2 = zero, sum_xl = zero;
        for (int i = 0; i < n; ++i) {
            const __m256 x = _mm256_loadu_ps(xt + 8 * i), w = _mm256_loadu_ps(wt + 8 * i);
            La[i] = gk_kq_clamp8(gk_kq_nearest8(_mm256_mul_ps(iscale, _mm256_sub_ps(x, min))), 0, nmax);
            const __m256 lf = _mm256_cvtepi32_ps(La[i]);
            const __m256 wl = _mm256_mul_ps(w, lf);
            sum_l = _mm256_add_ps(sum_l, wl);
            sum_l2 = _mm256_add_ps(sum_l2, _mm256_mul_ps(wl, lf));
            sum_xl = _mm256_add_ps(sum_xl, _mm256_mul_ps(wl, x));
        }
        const __m256 D = _mm256_sub_ps(_mm256_mul_ps(sum_w, sum_l2), _mm256_mul_ps(sum_l, sum_l));
        const __m256 dpos = _mm256_cmp_ps(D, zero, _CMP_GT_OQ);
        if (_mm256_movemask_ps(dpos) == 0) continue;
        __m256 this_scale = _mm256_div_ps(_mm256_sub_ps(_mm256_mul_ps(sum_w, sum_xl), _mm256_mul_ps(sum_x, sum_l)), D);
        __m256 this_min = _mm256_div_ps(_mm256_sub_ps(_mm256_mul_ps(sum_l2, sum_x), _mm256_mul_ps(sum_l, sum_xl)), D);
        const __m256 mpos = _mm256_cmp_ps(this_min, zero, _CMP_GT_OQ);
        this_min = _mm256_blendv_ps(this_min, zero, mpos);
        this_scale = _mm256_blendv_ps(this_scale, _mm256_div_ps(sum_xl, sum_l2), mpos);
        __m256 cur = zero;
        for (int i = 0; i < n; ++i) {
            const __m256 x = _mm256_loadu_ps(xt + 8 * i), w = _mm256_loadu_ps(wt + 8 * i);
            __m256 diff = _mm256_sub_ps(_mm256_add_ps(_mm256_mul_ps(this_scale, _mm256_cvtepi32_ps(La[i])), this_min), x);
            diff = use_mad ? gk_kq_abs8(diff) : _mm256_mul_ps(diff, diff);
            cur = _mm256_add_ps(cur, _mm256_mul_ps(w, diff));
        }
        const __m256 acc = _mm256_and_ps(dpos, _mm256_cmp_ps(cur, best, _CMP_LT_OQ));
        if (_mm256_movemask_ps(acc) == 0) continue;
        const __m256i acci = _mm256_castps_si256(acc);
        for (int i = 0; i < n; ++i) Lv[i] = _mm256_blendv_epi8(Lv[i], La[i], acci);
        best = _mm256_blendv_ps(best, cur, acc);
        scale = _mm256_blendv_ps(scale, this_scale, acc);
        min = _mm256_blendv_ps(min, this_min, acc);
    }
    const __m256i flati = _mm256_castps_si256(flat);
    for (int i = 0; i < n; ++i) Lv[i] = _mm256_andnot_si256(flati, Lv[i]);
    scale = _mm256_blendv_ps(scale, zero, flat);
    min = _mm256_blendv_ps(min, min0, flat);
    _mm256_storeu_ps(scale_out, scale);
    _mm256_storeu_ps(min_out, _mm256_xor_ps(min, _mm256_set1_ps(-0.0f)));
    gk_kq_store_L8(n, Lv, L, 0);
}

/* make_qx_quants(n, nmax, x, L, rmse_type 1, qw) for 8 sub-blocks (qwt NULL: weights x^2);
 * L[n*j + i] as int8 codes (l + nmax, or 0 for an all-zero sub-block). */
GK_KQ_AVX2 void gk_kq_qx_x8(int n, int nmax, const float *xt, const float *qwt, int8_t *L,
                            float *scale_out) {
    __m256i Lv[32], La[32];
    const __m256 zero = _mm256_setzero_ps();
    __m256 amax = zero, max = zero;
    for (int i = 0; i < n; ++i) {
        const __m256 x = _mm256_loadu_ps(xt + 8 * i), ax = gk_kq_abs8(x);
        const __m256 m = _mm256_cmp_ps(ax, amax, _CMP_GT_OQ);
        amax = _mm256_blendv_ps(amax, ax, m);
        max = _mm256_blendv_ps(max, x, m);
    }
    const __m256 small = _mm256_cmp_ps(amax, _mm256_set1_ps(GK_KQ_EPS), _CMP_LT_OQ);
    __m256 iscale = _mm256_div_ps(_mm256_set1_ps((float)-nmax), max);
    __m256 sumlx = zero, suml2 = zero;
    for (int i = 0; i < n; ++i) {
        const __m256 x = _mm256_loadu_ps(xt + 8 * i);
        const __m256 w = qwt ? _mm256_loadu_ps(qwt + 8 * i) : _mm256_mul_ps(x, x);
        Lv[i] = gk_kq_clamp8(gk_kq_nearest8(_mm256_mul_ps(iscale, x)), -nmax, nmax - 1);
        const __m256 lf = _mm256_cvtepi32_ps(Lv[i]);
        sumlx = _mm256_add_ps(sumlx, _mm256_mul_ps(_mm256_mul_ps(w, x), lf));
        suml2 = _mm256_add_ps(suml2, _mm256_mul_ps(_mm256_mul_ps(w, lf), lf));
    }
    __m256 scale = _mm256_and_ps(_mm256_cmp_ps(suml2, zero, _CMP_NEQ_UQ), _mm256_div_ps(sumlx, suml2));
    __m256 best = _mm256_mul_ps(scale, sumlx);
    for (int is = -9; is <= 9; ++is) {
        if (is == 0) continue;
        iscale = _mm256_div_ps(_mm256_set1_ps(-((float)nmax + 0.1f * (float)is)), max);
        sumlx = suml2 = zero;
        for (int i = 0; i < n; ++i) {
            const __m256 x = _mm256_loadu_ps(xt + 8 * i);
            const __m256 w = qwt ? _mm256_loadu_ps(qwt + 8 * i) : _mm256_mul_ps(x, x);
            La[i] = gk_kq_clamp8(gk_kq_nearest8(_mm256_mul_ps(iscale, x)), -nmax, nmax - 1);
            const __m256 lf = _mm256_cvtepi32_ps(La[i]);
            sumlx = _mm256_add_ps(sumlx, _mm256_mul_ps(_mm256_mul_ps(w, x), lf));
            suml2 = _mm256_add_ps(suml2, _mm256_mul_ps(_mm256_mul_ps(w, lf), lf));
        }
        const __m256 c = _mm256_and_ps(_mm256_cmp_ps(suml2, zero, _CMP_GT_OQ),
                                       _mm256_cmp_ps(_mm256_mul_ps(sumlx, sumlx), _mm256_mul_ps(best, suml2), _CMP_GT_OQ));
        if (_mm256_movemask_ps(c) == 0) continue;
        const __m256i ci = _mm256_castps_si256(c);
        for (int i = 0; i < n; ++i) Lv[i] = _mm256_blendv_epi8(Lv[i], La[i], ci);
        scale = _mm256_blendv_ps(scale, _mm256_div_ps(sumlx, suml2), c);
        best = _mm256_blendv_ps(best, _mm256_mul_ps(scale, sumlx), c);
    }
    const __m256i smalli = _mm256_castps_si256(small);
    for (int i = 0; i < n; ++i) Lv[i] = _mm256_blendv_epi8(Lv[i], _mm256_set1_epi32(-nmax), smalli);
    _mm256_storeu_ps(scale_out, _mm256_andnot_ps(small, scale));
    gk_kq_store_L8(n, Lv, (uint8_t *)L, nmax);
}

/* make_q3_quants(n, nmax, x, L, do_rmse = 1) for 8 sub-blocks; lanes whose scalar loop would
 * have stopped repeat a pass without changes, which leaves their state as it is. */
GK_KQ_AVX2 void gk_kq_q3_x8(int n, int nmax, const float *xt, int8_t *L, float *scale_out) {
    __m256i Lv[32];
    const __m256 zero = _mm256_setzero_ps();
    __m256 amax = zero, max = zero;
    for (int i = 0; i < n; ++i) {
        const __m256 x = _mm256_loadu_ps(xt + 8 * i), ax = gk_kq_abs8(x);
        const __m256 m = _mm256_cmp_ps(ax, amax, _CMP_GT_OQ);
        amax = _mm256_blendv_ps(amax, ax, m);
        max = _mm256_blendv_ps(max, x, m);
    }
    const __m256 small = _mm256_cmp_ps(amax, _mm256_set1_ps(GK_KQ_EPS), _CMP_LT_OQ);
    const __m256 iscale = _mm256_div_ps(_mm256_set1_ps((float)-nmax), max);
    __m256 sumlx = zero, suml2 = zero;
    for (int i = 0; i < n; ++i) {
        const __m256 x = _mm256_loadu_ps(xt + 8 * i), w = _mm256_mul_ps(x, x);
        Lv[i] = gk_kq_clamp8(gk_kq_nearest8(_mm256_mul_ps(iscale, x)), -nmax, nmax - 1);
        const __m256 lf = _mm256_cvtepi32_ps(Lv[i]);
        sumlx = _mm256_add_ps(sumlx, _mm256_mul_ps(_mm256_mul_ps(w, x), lf));
        suml2 = _mm256_add_ps(suml2, _mm256_mul_ps(_mm256_mul_ps(w, lf), lf));
    }
    for (int itry = 0; itry < 5; ++itry) {
        __m256 changed = zero;
        for (int i = 0; i < n; ++i) {
            const __m256 x = _mm256_loadu_ps(xt + 8 * i), w = _mm256_mul_ps(x, x);
            const __m256 wx = _mm256_mul_ps(w, x);
            const __m256 lf = _mm256_cvtepi32_ps(Lv[i]);
            __m256 slx = _mm256_sub_ps(sumlx, _mm256_mul_ps(wx, lf));
            const __m256 c1 = _mm256_cmp_ps(slx, zero, _CMP_GT_OQ);
            __m256 sl2 = _mm256_sub_ps(suml2, _mm256_mul_ps(_mm256_mul_ps(w, lf), lf));
            const __m256i nl = gk_kq_clamp8(gk_kq_nearest8(_mm256_div_ps(_mm256_mul_ps(x, sl2), slx)), -nmax, nmax - 1);
            const __m256 c2 = _mm256_castsi256_ps(_mm256_xor_si256(_mm256_cmpeq_epi32(nl, Lv[i]), _mm256_set1_epi32(-1)));
            const __m256 nlf = _mm256_cvtepi32_ps(nl);
            slx = _mm256_add_ps(slx, _mm256_mul_ps(wx, nlf));
            sl2 = _mm256_add_ps(sl2, _mm256_mul_ps(_mm256_mul_ps(w, nlf), nlf));
            const __m256 c3 = _mm256_and_ps(
                _mm256_cmp_ps(sl2, zero, _CMP_GT_OQ),
                _mm256_cmp_ps(_mm256_mul_ps(_mm256_mul_ps(slx, slx), suml2),
                              _mm256_mul_ps(_mm256_mul_ps(sumlx, sumlx), sl2), _CMP_GT_OQ));
            const __m256 upd = _mm256_and_ps(_mm256_and_ps(c1, c2), c3);
            /* a branch, not a blend: without changes (the common case) the next element does
             * not wait for this one */
            if (_mm256_movemask_ps(upd)) {
                Lv[i] = _mm256_blendv_epi8(Lv[i], nl, _mm256_castps_si256(upd));
                sumlx = _mm256_blendv_ps(sumlx, slx, upd);
                suml2 = _mm256_blendv_ps(suml2, sl2, upd);
                changed = _mm256_or_ps(changed, upd);
            }
        }
        if (_mm256_movemask_ps(changed) == 0) break;
    }
    const __m256i smalli = _mm256_castps_si256(small);
    for (int i = 0; i < n; ++i) Lv[i] = _mm256_blendv_epi8(Lv[i], _mm256_set1_epi32(-nmax), smalli);
    _mm256_storeu_ps(scale_out, _mm256_andnot_ps(small, _mm256_div_ps(sumlx, suml2)));
    gk_kq_store_L8(n, Lv, (uint8_t *)L, nmax);
}

/* Requantization with decoded scales, 8 values at a time: L[i] = clamp(nearest((x[i] (+ add)) / d),
 * lo, hi) + bias, the scalar formula per value (n a multiple of 8). */
GK_TARGET_AVX2 __attribute__((unused)) static void gk_kq_requant_simd(const float *x, int n, int use_add,
                                                                   float add, float d, int lo, int hi,
                                                                   int bias, uint8_t *L) {
    const __m256 vd = _mm256_set1_ps(d), va = _mm256_set1_ps(add);
    for (int i = 0; i < n; i += 8) {
        __m256 v = _mm256_loadu_ps(x + i);
        if (use_add) v = _mm256_add_ps(v, va);
        const __m256i q = _mm256_add_epi32(gk_kq_clamp8(gk_kq_nearest8(_mm256_div_ps(v, vd)), lo, hi),
                                           _mm256_set1_epi32(bias));
        const __m128i p16 = _mm_packs_epi32(_mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1));
        _mm_storel_epi64((__m128i *)(L + i), _mm_packus_epi16(p16, p16));
    }
}

/* TQ1_0 / TQ2_0 helpers: 1 if the 256 values hold a NaN (the SIMD paths then use the scalar
 * code, whose running max is order-dependent with NaNs), the max |x| otherwise. */
GK_KQ_AVX2 int gk_kq_amax256(const float *x, float *amax) {
    __m256 m = _mm256_setzero_ps(), nan = _mm256_setzero_ps();
    for (int i = 0; i < 256; i += 8) {
        const __m256 v = _mm256_loadu_ps(x + i);
        m = _mm256_max_ps(m, gk_kq_abs8(v));
        nan = _mm256_or_ps(nan, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
    }
    if (_mm256_movemask_ps(nan)) return 1;
    __m128 r = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
    r = _mm_max_ps(r, _mm_movehl_ps(r, r));
    r = _mm_max_ss(r, _mm_movehdup_ps(r));
    *amax = _mm_cvtss_f32(r);
    return 0;
}
/* lroundf(x*id) + 1 per lane (half away from zero; outside (-1e9, 1e9): 0 + 1, as the scalar) */
GK_KQ_AVX2 __m256i gk_kq_tq_round8(const float *x, __m256 id) {
    const __m256 v = _mm256_mul_ps(_mm256_loadu_ps(x), id);
    const __m256 t = _mm256_round_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    const __m256 f = gk_kq_abs8(_mm256_sub_ps(v, t));
    const __m256 one = _mm256_or_ps(_mm256_set1_ps(1.0f), _mm256_and_ps(v, _mm256_set1_ps(-0.0f)));
    __m256 r = _mm256_add_ps(t, _mm256_and_ps(_mm256_cmp_ps(f, _mm256_set1_ps(0.5f), _CMP_GE_OQ), one));
    const __m256 in = _mm256_cmp_ps(gk_kq_abs8(v), _mm256_set1_ps(1e9f), _CMP_LT_OQ);
    r = _mm256_and_ps(r, in);
    return _mm256_add_epi32(_mm256_cvttps_epi32(r), _mm256_set1_epi32(1));
}

/* Transpose 8 sub-blocks of n (at x + n*j) into xt[8*i + j]. */
GK_KQ_AVX2 void gk_kq_transpose8(int n, const float *x, float *xt) {
    for (int i = 0; i < n; ++i)
        _mm256_storeu_ps(xt + 8 * i, _mm256_i32gather_ps(x + i, _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_epi32(n)), 4));
}
/* Q4_K / Q5_K scale search of one super-block with the 8 sub-block searches lane-parallel:
 * qw NULL -> the reference path (make_qkx2_quants(32, nmax, .., rmin, rdelta, nstep), 6-bit
 * scales by 63/max), else the imatrix path (make_qkx3_quants(-0.9, 0.05, 36) and make_qp_quants).
 * Writes d, dmin, scales[12] at o and the codes to L[256]; the caller requantizes. */
GK_TARGET_AVX2 __attribute__((unused)) static void gk_kq_q45_scales_simd(
    const float *x, const float *qw, uint8_t *o, uint8_t *L, int nmax, float rmin, float rdelta,
    int nstep) {
    uint8_t Ls[8], Lm[8];
    float xt[256], wt[256], mins[8], scales[8];
    gk_kq_transpose8(32, x, xt);
    if (qw) {
        float sum_x2 = 0;
        for (int l = 0; l < 256; ++l) sum_x2 += x[l] * x[l];
        const __m256 sigma2 = _mm256_set1_ps(2 * sum_x2 / 256);
        float qwt[256];
        gk_kq_transpose8(32, qw, qwt);
        __m256 sw = _mm256_setzero_ps();
        for (int l = 0; l < 32; ++l) {
            const __m256 xv = _mm256_loadu_ps(xt + 8 * l);
            const __m256 w = _mm256_mul_ps(_mm256_loadu_ps(qwt + 8 * l),
                                           _mm256_sqrt_ps(_mm256_add_ps(sigma2, _mm256_mul_ps(xv, xv))));
            _mm256_storeu_ps(wt + 8 * l, w);
            sw = _mm256_add_ps(sw, w);
        }
        float swa[8];
        _mm256_storeu_ps(swa, sw);
        gk_kq_qkx_x8(32, nmax, xt, wt, L, scales, mins, -0.9f, 0.05f, 36, 0, 1);
        float d_block = gk_kq_make_qp_quants(8, 63, scales, Ls, swa);
        float m_block = gk_kq_make_qp_quants(8, 63, mins, Lm, swa);
        memset(o + 4, 0, 12);
        gk_kq_pack_scale_min_k4(Ls, Lm, o + 4);
        gk_st16(o, gk_f32_to_f16(d_block));
        gk_st16(o + 2, gk_f32_to_f16(m_block));
    } else {
        __m256 sum_x2 = _mm256_setzero_ps();
        for (int l = 0; l < 32; ++l) {
            const __m256 xv = _mm256_loadu_ps(xt + 8 * l);
            sum_x2 = _mm256_add_ps(sum_x2, _mm256_mul_ps(xv, xv));
        }
        const __m256 av_x = _mm256_sqrt_ps(_mm256_div_ps(sum_x2, _mm256_set1_ps(32.0f)));
        for (int l = 0; l < 32; ++l)
            _mm256_storeu_ps(wt + 8 * l, _mm256_add_ps(av_x, gk_kq_abs8(_mm256_loadu_ps(xt + 8 * l))));
        gk_kq_qkx_x8(32, nmax, xt, wt, L, scales, mins, rmin, rdelta, nstep, 0, 0);
        float max_scale = 0, max_min = 0;
        for (int j = 0; j < 8; ++j) {
            if (scales[j] > max_scale) max_scale = scales[j];
            if (mins[j] > max_min) max_min = mins[j];
        }
        gk_kq_q4k_pack_scales(o, scales, mins, max_scale, max_min);
    }
}

#endif

/* Q4_K / Q5_K after the scale search: requantize each sub-block with the decoded 6-bit scale
 * and min (l = nearest((x + dmin*m) / (d*sc)) clamped to 0..nmax; a sub-block with d*sc == 0
 * keeps the search's codes); simd: the AVX2 loop (the same values). */
GK_KQ_INLINE void gk_kq_q45_requant(const float *x, const uint8_t *o, uint8_t *L, int nmax, int simd) {
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
            gk_kq_requant_simd(x + 32 * j, 32, 1, dm, dd, 0, nmax, 0, L + 32 * j);
            continue;
        }
#endif
        for (int ii = 0; ii < 32; ++ii) {
            int l = gk_nearest_int((x[32 * j + ii] + dm) / dd);
            L[32 * j + ii] = (uint8_t)gk_kq_clampi(l, 0, nmax);
        }
    }
}

/* TQ1_0 / TQ2_0 (§3.6): lroundf as the int ggml keeps (NaN / huge: glibc returns LONG_MIN,
 * whose low 32 bits are 0; only the low bits of t + 1 matter downstream). */
GK_KQ_INLINE int gk_kq_tq_lround(float v) {
    if (v > -1e9f && v < 1e9f) return (int)lroundf(v);
    return 0;
}

/* TQ1_0 / TQ2_0 quantize (ggml's quantize_row_tq*_0_ref; no imatrix): per 256-value block
 * d = amax, the codes from pack(x, 1/d, o), d as f16 in the last two bytes of the qb-byte block.
 * pack is a compile-time constant at every call (the wrappers inline it). */
typedef void (*gk_kq_tq_pack_fn)(const float *x, float id, uint8_t *o);
GK_KQ_INLINE size_t gk_kq_tq_quant_rows(const float *x, void *vy, int64_t nrows, int64_t n_per_row,
                                        size_t qb, gk_kq_tq_pack_fn pack) {
    if (n_per_row <= 0 || nrows < 0 || n_per_row % 256) return 0;
    const int64_t nb = nrows * (n_per_row / 256);
    uint8_t *y = (uint8_t *)vy;
    for (int64_t i = 0; i < nb; i++, x += 256) {
        uint8_t *o = y + i * qb;
        float amax = 0.0f;
        for (int j = 0; j < 256; j++) {
            float a = fabsf(x[j]);
            amax = amax > a ? amax : a;
        }
        const float d = amax, id = d ? 1.0f / d : 0.0f;
        pack(x, id, o);
        gk_st16(o + qb - 2, gk_f32_to_f16(d));
    }
    return (size_t)(nb * qb);
}
#if GK_X86
/* The same with the AVX2 amax and pack_simd(x, 1/d, its broadcast, o); a block whose amax the
 * vector reduction cannot stand for (gk_kq_amax256) takes the scalar path. */
typedef void (*gk_kq_tq_pack_simd_fn)(const float *x, float idf, __m256 id, uint8_t *o);
GK_KQ_AVX2 size_t gk_kq_tq_quant_rows_simd(const float *x, void *vy, int64_t nrows, int64_t n_per_row,
                                           size_t qb, gk_kq_tq_pack_fn pack,
                                           gk_kq_tq_pack_simd_fn pack_simd) {
    if (n_per_row <= 0 || nrows < 0 || n_per_row % 256) return 0;
    const int64_t nb = nrows * (n_per_row / 256);
    uint8_t *y = (uint8_t *)vy;
    for (int64_t i = 0; i < nb; i++) {
        const float *xb = x + i * 256;
        uint8_t *o = y + i * qb;
        float amax;
        if (gk_kq_amax256(xb, &amax)) {
            gk_kq_tq_quant_rows(xb, o, 1, 256, qb, pack);
            continue;
        }
        const float d = amax, idf = d ? 1.0f / d : 0.0f;
        pack_simd(xb, idf, _mm256_set1_ps(idf), o);
        gk_st16(o + qb - 2, gk_f32_to_f16(d));
    }
    return (size_t)(nb * qb);
}
#endif

/* NAME_block (reference search) and NAME_block_simd (lane-parallel search) of Q4_K / Q5_K with
 * make_qkx2_quants(nmax, rmin, rdelta, nstep), then the requantization and NAME_pack(o, L); and
 * the quantize instances (GK_KQ_QUANT_ISA). */
#define GK_KQ_Q45_BLOCK_FN(name, suffix, tgt, search, simd, nmax, rmin, rdelta, nstep) \
    tgt static void name##_block##suffix(const float *x, uint8_t *o, const float *qw) { \
        uint8_t L[256];                                                                  \
        search(x, qw, o, L, nmax, rmin, rdelta, nstep);                                  \
        gk_kq_q45_requant(x, o, L, nmax, simd);                                          \
        name##_pack(o, L);                                                               \
    }
#if GK_X86
#define GK_KQ_Q45_QUANT(name, qb, nmax, rmin, rdelta, nstep)                                                  \
    GK_KQ_Q45_BLOCK_FN(name, , , gk_kq_q45_scales, 0, nmax, rmin, rdelta, nstep)                              \
    GK_KQ_Q45_BLOCK_FN(name, _simd, GK_TARGET_AVX2, gk_kq_q45_scales_simd, 1, nmax, rmin, rdelta, nstep)      \
    GK_KQ_QUANT_ISA(name, qb)
#else
#define GK_KQ_Q45_QUANT(name, qb, nmax, rmin, rdelta, nstep)                     \
    GK_KQ_Q45_BLOCK_FN(name, , , gk_kq_q45_scales, 0, nmax, rmin, rdelta, nstep) \
    GK_KQ_QUANT_ISA(name, qb)
#endif

/* Validation: fp16 fields at off0 (and off1 if >= 0) of every block finite; a trailing partial
 * block is bad. */
static inline int64_t gk_kq_validate_f16(const void *data, size_t nbytes, size_t bsize, int off0,
                                         int off1) {
    const uint8_t *p = (const uint8_t *)data;
    size_t nb = nbytes / bsize;
    for (size_t i = 0; i < nb; i++) {
        const uint8_t *b = p + i * bsize;
        if ((gk_ld16(b + off0) & 0x7C00u) == 0x7C00u) return (int64_t)i;
        if (off1 >= 0 && (gk_ld16(b + off1) & 0x7C00u) == 0x7C00u) return (int64_t)i;
    }
    return nbytes % bsize ? (int64_t)nb : -1;
}

static inline void gk_kq_swap16(uint8_t *p) { uint8_t t = p[0]; p[0] = p[1]; p[1] = t; }

#endif
