/* Kernel rows: nvfp4 NVFP4 Q8_0. (Filled in by the kernels work; placeholder rows have no functions.) */
#include "kernels_int.h"

const gk_kernel_row gk_krow_nvfp4 = {.type = GK_TYPE_NVFP4, .vec_dot_type = GK_TYPE_Q8_0};
