/* Kernel rows: f32 F32 F32 f16 F16 F16 bf16 BF16 BF16 f64 F64 F64. (Filled in by the kernels work; placeholder rows have no functions.) */
#include "kernels_int.h"

const gk_kernel_row gk_krow_f32 = {.type = GK_TYPE_F32, .vec_dot_type = GK_TYPE_F32};
const gk_kernel_row gk_krow_f16 = {.type = GK_TYPE_F16, .vec_dot_type = GK_TYPE_F16};
const gk_kernel_row gk_krow_bf16 = {.type = GK_TYPE_BF16, .vec_dot_type = GK_TYPE_BF16};
const gk_kernel_row gk_krow_f64 = {.type = GK_TYPE_F64, .vec_dot_type = GK_TYPE_F64};
