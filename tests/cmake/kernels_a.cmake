# Kernels A: float/int, legacy 32-blocks, IQ4_NL/IQ4_XS, MXFP4/NVFP4 (tests/test_kernels_a*.c).
gk_test(test_kernels_a test_kernels_a.c)
gk_test(test_kernels_a_known test_kernels_a_known.c)
gk_test(test_kernels_a_isa test_kernels_a_isa.c)
gk_test(test_kernels_bounds test_kernels_bounds.c)
