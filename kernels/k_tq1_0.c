/* Kernel rows: tq1_0 TQ1_0 Q8_K. (Filled in by the kernels work; placeholder rows have no functions.) */
#include "kernels_int.h"

const gk_kernel_row gk_krow_tq1_0 = {.type = GK_TYPE_TQ1_0, .vec_dot_type = GK_TYPE_Q8_K};
