/* Q8_K (format-facts §3.4): the activation type of the K-quant and TQ dot products; 256 values,
 * d: f32, qs[256] int8, bsums[16] int16 (sums of 16 consecutive qs). Never stored in files.
 * from_float / quantize: ggml's quantize_row_q8_K_ref, which ggml's x86 CPU backend also uses
 * as from_float (it has no SIMD variant): max = the signed value of largest |x|,
 * iscale = -127/max, q = min(127, nearest_int(iscale*x)), d = 1/iscale. When all values are 0
 * the block is all zeros (ggml leaves bsums unwritten; ours are 0). */
#include "kquant_util.h"

#define QB 292

GK_KQ_INLINE void q8_K_block(const float *x, uint8_t *o) {
    float max = 0, amax = 0;
    for (int j = 0; j < 256; ++j) {
        float ax = fabsf(x[j]);
        if (ax > amax) { amax = ax; max = x[j]; }
    }
    if (!amax) {
        memset(o, 0, QB);
        return;
    }
    const float iscale = -127.f / max;
    int8_t *qs = (int8_t *)(o + 4);
    for (int j = 0; j < 256; ++j) {
        int v = gk_nearest_int(iscale * x[j]);
        qs[j] = (int8_t)(v < 127 ? v : 127);
    }
    for (int j = 0; j < 16; ++j) {
        int sum = 0;
        for (int ii = 0; ii < 16; ++ii) sum += qs[16 * j + ii];
        gk_st16(o + 260 + 2 * j, (uint16_t)(int16_t)sum);
    }
    const float d = 1 / iscale;
    memcpy(o, &d, 4);
}

GK_KQ_INLINE void q8_K_fromf_body(const float *x, void *vy, int64_t k) {
    uint8_t *y = (uint8_t *)vy;
    for (int64_t i = 0; i < k / 256; i++) q8_K_block(x + 256 * i, y + QB * i);
}
GK_KQ_FN(void, q8_K_fromf, (const float *x, void *vy, int64_t k), (x, vy, k))

GK_KQ_INLINE size_t q8_K_quant_body(const float *x, void *vy, int64_t nrows, int64_t n_per_row,
                                    const float *imatrix) {
    (void)imatrix;
    if (n_per_row <= 0 || nrows < 0 || n_per_row % 256) return 0;
    q8_K_fromf_body(x, vy, nrows * n_per_row);
    return (size_t)(nrows * (n_per_row / 256) * QB);
}
GK_KQ_FN(size_t, q8_K_quant, GK_KQ_P_QUANT, GK_KQ_A_QUANT)

static int64_t q8_K_validate(const void *data, size_t nbytes) {
    const uint8_t *p = (const uint8_t *)data;
    size_t nb = nbytes / QB;
    for (size_t i = 0; i < nb; i++)
        if ((gk_ld32(p + i * QB) & 0x7F800000u) == 0x7F800000u) return (int64_t)i;
    return nbytes % QB ? (int64_t)nb : -1;
}
static void q8_K_byteswap(void *blocks, size_t n) {
    for (size_t i = 0; i < n; i++) {
        uint8_t *b = (uint8_t *)blocks + i * QB;
        uint8_t t = b[0]; b[0] = b[3]; b[3] = t;
        t = b[1]; b[1] = b[2]; b[2] = t;
        for (int j = 0; j < 16; j++) gk_kq_swap16(b + 260 + 2 * j);
    }
}

const gk_kernel_row gk_krow_q8_K = {
    .type = GK_TYPE_Q8_K,
    .vec_dot_type = GK_TYPE_Q8_K,
    .quantize = GK_KQ_ISA3(q8_K_quant),
    .from_float = GK_KQ_ISA3(q8_K_fromf),
    .validate = q8_K_validate,
    .byteswap = q8_K_byteswap,
    .uses_imatrix = 0,
    .dot_tol = 0,
};
