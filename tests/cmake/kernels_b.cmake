# K-quant and ternary kernels (q2_K..q6_K, q8_K, tq1_0, tq2_0): known answers, ISA agreement.
gk_test(test_kernels_b test_kernels_b.c)
