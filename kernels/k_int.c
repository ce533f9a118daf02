/* Kernel rows: i8 I8 I8 i16 I16 I16 i32 I32 I32 i64 I64 I64. (Filled in by the kernels work; placeholder rows have no functions.) */
#include "kernels_int.h"

const gk_kernel_row gk_krow_i8 = {.type = GK_TYPE_I8, .vec_dot_type = GK_TYPE_I8};
const gk_kernel_row gk_krow_i16 = {.type = GK_TYPE_I16, .vec_dot_type = GK_TYPE_I16};
const gk_kernel_row gk_krow_i32 = {.type = GK_TYPE_I32, .vec_dot_type = GK_TYPE_I32};
const gk_kernel_row gk_krow_i64 = {.type = GK_TYPE_I64, .vec_dot_type = GK_TYPE_I64};
