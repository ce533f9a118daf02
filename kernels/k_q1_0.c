/* Q1_0 (format-facts §3.7): 128 values, d:f16, qs[16] sign bits (bit j%8 of byte j/8 is 1 when
 * x >= 0); y = bit ? d : -d. Reference: d = fp16(Σ|x| / 128), the imatrix is ignored.
 * vec_dot pairs with Q8_0 (four Q8_0 blocks per Q1_0 block). */
#include "kq_search.h"

#define QB 18

GK_INLINE size_t q1_0_quant_impl(const float *x, void *vy, int64_t nrows, int64_t n_per_row,
                                 const float *imatrix) {
    (void)imatrix;
    uint8_t *y = (uint8_t *)vy;
    const int64_t nb = nrows * (n_per_row / 128);
    for (int64_t i = 0; i < nb; i++) {
        const float *xb = x + i * 128;
        uint8_t *o = y + i * QB;
        float sum_abs = 0.0f;
        for (int j = 0; j < 128; j++) sum_abs += fabsf(xb[j]);
        gk_st16(o, gk_f32_to_f16(sum_abs / 128));
        memset(o + 2, 0, 16);
        for (int j = 0; j < 128; j++)
            if (xb[j] >= 0.0f) o[2 + j / 8] |= (uint8_t)(1u << (j % 8));
    }
    return (size_t)(nb * QB);
}
GK_KFN(size_t, q1_0_quant, GK_P_QUANT, GK_A_QUANT)

GK_INLINE void q1_0_tof_impl(const void *vx, float *y, int64_t k) {
    const uint8_t *x = (const uint8_t *)vx;
    for (int64_t i = 0; i < k / 128; i++) {
        const uint8_t *b = x + i * QB;
        const float d = gk_h2f(gk_ld16(b)), nd = -d;
        for (int j = 0; j < 128; j++) y[i * 128 + j] = (b[2 + j / 8] >> (j % 8)) & 1 ? d : nd;
    }
}
GK_KFNV(q1_0_tof, GK_P_TOF, GK_A_TOF)

GK_INLINE float q1_0_dot_impl(int64_t n, const void *vw, const void *va) {
    const uint8_t *w = (const uint8_t *)vw, *a = (const uint8_t *)va;
    float sumf = 0;
    for (int64_t i = 0; i < n / 128; i++) {
        const uint8_t *bw = w + i * QB;
        const float d = gk_h2f(gk_ld16(bw));
        for (int k = 0; k < 4; k++) {
            const uint8_t *ba = a + (4 * i + k) * 34;
            const int8_t *qa = (const int8_t *)(ba + 2);
            int sumi = 0;
            for (int j = 0; j < 32; j++) {
                const int e = 32 * k + j;
                sumi += ((bw[2 + e / 8] >> (e % 8)) & 1) ? qa[j] : -qa[j];
            }
            sumf += d * gk_h2f(gk_ld16(ba)) * (float)sumi;
        }
    }
    return sumf;
}
GK_KFN(float, q1_0_dot, GK_P_DOT, GK_A_DOT)

static int64_t q1_0_validate(const void *data, size_t nbytes) {
    return gk_validate_f16_fields(data, nbytes, QB, 0, -1);
}
static void q1_0_byteswap(void *blocks, size_t n) {
    for (size_t i = 0; i < n; i++) gk_swap16_at((uint8_t *)blocks + i * QB);
}

const gk_kernel_row gk_krow_q1_0 = {
    .type = GK_TYPE_Q1_0,
    .vec_dot_type = GK_TYPE_Q8_0,
    .to_float = GK_ISA3(q1_0_tof),
    .quantize = GK_ISA3(q1_0_quant),
    .vec_dot = GK_ISA3(q1_0_dot),
    .validate = q1_0_validate,
    .byteswap = q1_0_byteswap,
    .uses_imatrix = 0,
    .dot_tol = 1e-3,
};
