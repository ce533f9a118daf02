/* Kernel rows: iq4_nl IQ4_NL Q8_0. (Filled in by the kernels work; placeholder rows have no functions.) */
#include "kernels_int.h"

const gk_kernel_row gk_krow_iq4_nl = {.type = GK_TYPE_IQ4_NL, .vec_dot_type = GK_TYPE_Q8_0};
