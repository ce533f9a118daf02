/* Kernel rows: iq2_xxs IQ2_XXS Q8_K iq2_xs IQ2_XS Q8_K iq2_s IQ2_S Q8_K iq3_xxs IQ3_XXS Q8_K iq3_s IQ3_S Q8_K iq1_s IQ1_S Q8_K iq1_m IQ1_M Q8_K. (Filled in by the kernels work; placeholder rows have no functions.) */
#include "kernels_int.h"

const gk_kernel_row gk_krow_iq2_xxs = {.type = GK_TYPE_IQ2_XXS, .vec_dot_type = GK_TYPE_Q8_K};
const gk_kernel_row gk_krow_iq2_xs = {.type = GK_TYPE_IQ2_XS, .vec_dot_type = GK_TYPE_Q8_K};
const gk_kernel_row gk_krow_iq2_s = {.type = GK_TYPE_IQ2_S, .vec_dot_type = GK_TYPE_Q8_K};
const gk_kernel_row gk_krow_iq3_xxs = {.type = GK_TYPE_IQ3_XXS, .vec_dot_type = GK_TYPE_Q8_K};
const gk_kernel_row gk_krow_iq3_s = {.type = GK_TYPE_IQ3_S, .vec_dot_type = GK_TYPE_Q8_K};
const gk_kernel_row gk_krow_iq1_s = {.type = GK_TYPE_IQ1_S, .vec_dot_type = GK_TYPE_Q8_K};
const gk_kernel_row gk_krow_iq1_m = {.type = GK_TYPE_IQ1_M, .vec_dot_type = GK_TYPE_Q8_K};
