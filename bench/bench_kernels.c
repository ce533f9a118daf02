/* ggufkit-bench kernels: placeholder while the benchmark is written. */
#include <stdio.h>

int gk_bench_kernels(int argc, char **argv);
int gk_bench_kernels(int argc, char **argv) {
    (void)argc; (void)argv;
    fprintf(stderr, "ggufkit-bench kernels: not implemented yet\n");
    return 3;
}
