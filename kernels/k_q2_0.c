/* Kernel rows: q2_0 Q2_0 Q8_0. (Filled in by the kernels work; placeholder rows have no functions.) */
#include "kernels_int.h"

const gk_kernel_row gk_krow_q2_0 = {.type = GK_TYPE_Q2_0, .vec_dot_type = GK_TYPE_Q8_0};
