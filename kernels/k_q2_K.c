/* Kernel rows: q2_K Q2_K Q8_K. (Filled in by the kernels work; placeholder rows have no functions.) */
#include "kernels_int.h"

const gk_kernel_row gk_krow_q2_K = {.type = GK_TYPE_Q2_K, .vec_dot_type = GK_TYPE_Q8_K};
