/* Q2_0 (format-facts §3.7): 64 values, d:f16, qs[16]: element j in bits 2*(j%4) of byte j/4;
 * y = (q-1)*d. Reference: d = amax, q = clamp(roundf(x/d) + 1, 0, 3); the imatrix is ignored.
 * vec_dot pairs with Q8_0 (two Q8_0 blocks per Q2_0 block). */
#include "kq_search.h"

#define QB 18

GK_INLINE size_t q2_0_quant_impl(const float *x, void *vy, int64_t nrows, int64_t n_per_row,
                                 const float *imatrix) {
    (void)imatrix;
    uint8_t *y = (uint8_t *)vy;
    const int64_t nb = nrows * (n_per_row / 64);
    for (int64_t i = 0; i < nb; i++) {
        const float *xb = x + i * 64;
        uint8_t *o = y + i * QB;
        float amax = 0.0f;
        for (int j = 0; j < 64; j++)
            if (amax < fabsf(xb[j])) amax = fabsf(xb[j]);
        const float d = amax;
        const float id = d ? 1.0f / d : 0.0f;
        gk_st16(o, gk_f32_to_f16(d));
        memset(o + 2, 0, 16);
        for (int j = 0; j < 64; j++) {
            int q = gk_cvtt_i32(roundf(xb[j] * id)) + 1;
            q = q < 0 ? 0 : q > 3 ? 3 : q;
            o[2 + j / 4] |= (uint8_t)(q << (2 * (j % 4)));
        }
    }
    return (size_t)(nb * QB);
}
GK_KFN(size_t, q2_0_quant, GK_P_QUANT, GK_A_QUANT)

GK_INLINE void q2_0_tof_impl(const void *vx, float *y, int64_t k) {
    const uint8_t *x = (const uint8_t *)vx;
    for (int64_t i = 0; i < k / 64; i++) {
        const uint8_t *b = x + i * QB;
        const float d = gk_h2f(gk_ld16(b));
        for (int j = 0; j < 64; j++)
            y[i * 64 + j] = (float)(((b[2 + j / 4] >> (2 * (j % 4))) & 3) - 1) * d;
    }
}
GK_KFNV(q2_0_tof, GK_P_TOF, GK_A_TOF)

GK_INLINE float q2_0_dot_impl(int64_t n, const void *vw, const void *va) {
    const uint8_t *w = (const uint8_t *)vw, *a = (const uint8_t *)va;
    float sumf = 0;
    for (int64_t i = 0; i < n / 64; i++) {
        const uint8_t *bw = w + i * QB;
        const float d = gk_h2f(gk_ld16(bw));
        for (int k = 0; k < 2; k++) {
            const uint8_t *ba = a + (2 * i + k) * 34;
            const int8_t *qa = (const int8_t *)(ba + 2);
            int sumi = 0;
            for (int j = 0; j < 32; j++) {
                const int e = 32 * k + j;
                sumi += (((bw[2 + e / 4] >> (2 * (e % 4))) & 3) - 1) * qa[j];
            }
            sumf += d * gk_h2f(gk_ld16(ba)) * (float)sumi;
        }
    }
    return sumf;
}
GK_KFN(float, q2_0_dot, GK_P_DOT, GK_A_DOT)

static int64_t q2_0_validate(const void *data, size_t nbytes) {
    return gk_validate_f16_fields(data, nbytes, QB, 0, -1);
}
static void q2_0_byteswap(void *blocks, size_t n) {
    for (size_t i = 0; i < n; i++) gk_swap16_at((uint8_t *)blocks + i * QB);
}

const gk_kernel_row gk_krow_q2_0 = {
    .type = GK_TYPE_Q2_0,
    .vec_dot_type = GK_TYPE_Q8_0,
    .to_float = GK_ISA3(q2_0_tof),
    .quantize = GK_ISA3(q2_0_quant),
    .vec_dot = GK_ISA3(q2_0_dot),
    .validate = q2_0_validate,
    .byteswap = q2_0_byteswap,
    .uses_imatrix = 0,
    .dot_tol = 1e-3,
};
