/* Kernel rows: mxfp4 MXFP4 Q8_0. (Filled in by the kernels work; placeholder rows have no functions.) */
#include "kernels_int.h"

const gk_kernel_row gk_krow_mxfp4 = {.type = GK_TYPE_MXFP4, .vec_dot_type = GK_TYPE_Q8_0};
