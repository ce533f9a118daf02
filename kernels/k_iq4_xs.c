/* Kernel rows: iq4_xs IQ4_XS Q8_K. (Filled in by the kernels work; placeholder rows have no functions.) */
#include "kernels_int.h"

const gk_kernel_row gk_krow_iq4_xs = {.type = GK_TYPE_IQ4_XS, .vec_dot_type = GK_TYPE_Q8_K};
