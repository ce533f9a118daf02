/* The compute traits table: one row per ggml type id, defined in the type's kernel file.
 * Removed ids and types without compute support are NULL. A test asserts that every row agrees
 * with the format library's type table (block size, bytes per block). */
#include "kernels_int.h"

static const gk_kernel_row *const kernel_table[GK_TYPE_COUNT] = {
    [GK_TYPE_F32] = &gk_krow_f32,         [GK_TYPE_F16] = &gk_krow_f16,
    [GK_TYPE_Q4_0] = &gk_krow_q4_0,       [GK_TYPE_Q4_1] = &gk_krow_q4_1,
    [GK_TYPE_Q5_0] = &gk_krow_q5_0,       [GK_TYPE_Q5_1] = &gk_krow_q5_1,
    [GK_TYPE_Q8_0] = &gk_krow_q8_0,       [GK_TYPE_Q8_1] = &gk_krow_q8_1,
    [GK_TYPE_Q2_K] = &gk_krow_q2_K,       [GK_TYPE_Q3_K] = &gk_krow_q3_K,
    [GK_TYPE_Q4_K] = &gk_krow_q4_K,       [GK_TYPE_Q5_K] = &gk_krow_q5_K,
    [GK_TYPE_Q6_K] = &gk_krow_q6_K,       [GK_TYPE_Q8_K] = &gk_krow_q8_K,
    [GK_TYPE_IQ2_XXS] = &gk_krow_iq2_xxs, [GK_TYPE_IQ2_XS] = &gk_krow_iq2_xs,
    [GK_TYPE_IQ3_XXS] = &gk_krow_iq3_xxs, [GK_TYPE_IQ1_S] = &gk_krow_iq1_s,
    [GK_TYPE_IQ4_NL] = &gk_krow_iq4_nl,   [GK_TYPE_IQ3_S] = &gk_krow_iq3_s,
    [GK_TYPE_IQ2_S] = &gk_krow_iq2_s,     [GK_TYPE_IQ4_XS] = &gk_krow_iq4_xs,
    [GK_TYPE_I8] = &gk_krow_i8,           [GK_TYPE_I16] = &gk_krow_i16,
    [GK_TYPE_I32] = &gk_krow_i32,         [GK_TYPE_I64] = &gk_krow_i64,
    [GK_TYPE_F64] = &gk_krow_f64,         [GK_TYPE_IQ1_M] = &gk_krow_iq1_m,
    [GK_TYPE_BF16] = &gk_krow_bf16,       [GK_TYPE_TQ1_0] = &gk_krow_tq1_0,
    [GK_TYPE_TQ2_0] = &gk_krow_tq2_0,     [GK_TYPE_MXFP4] = &gk_krow_mxfp4,
    [GK_TYPE_NVFP4] = &gk_krow_nvfp4,     [GK_TYPE_Q1_0] = &gk_krow_q1_0,
    [GK_TYPE_Q2_0] = &gk_krow_q2_0,
};

const gk_kernel_row *gk_kernel_row_get(uint32_t type) {
    return type < GK_TYPE_COUNT ? kernel_table[type] : NULL;
}

uint16_t gk_fp32_to_fp16(float f) { return gk_f32_to_f16(f); }
float gk_fp16_to_fp32(uint16_t h) { return gk_f16_to_f32(h); }
uint16_t gk_fp32_to_bf16(float f) { return gk_f32_to_bf16(f); }
float gk_bf16_to_fp32(uint16_t h) { return gk_bf16_to_f32(h); }
