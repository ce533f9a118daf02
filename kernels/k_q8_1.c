/* Kernel rows: q8_1 Q8_1 Q8_1. (Filled in by the kernels work; placeholder rows have no functions.) */
#include "kernels_int.h"

const gk_kernel_row gk_krow_q8_1 = {.type = GK_TYPE_Q8_1, .vec_dot_type = GK_TYPE_Q8_1};
