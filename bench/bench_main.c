/* ggufkit-bench: reproducible benchmarks. Subcommands: kernels. */
#include <stdio.h>
#include <string.h>

int gk_bench_kernels(int argc, char **argv);
int gk_bench_hash(int argc, char **argv);

static void usage(FILE *o) {
    fprintf(o, "usage: ggufkit-bench kernels [--types q4_K,...] [--json] [--runs N] [--mib N] "
               "[--threads N]\n"
               "       ggufkit-bench hash FILE [--runs N] [--cold] [--no-sha256] [--json]\n"
               "       ggufkit-bench hash --make FILE [--gib G]\n");
}

int main(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "kernels")) return gk_bench_kernels(argc - 1, argv + 1);
    if (!strcmp(argv[1], "hash")) return gk_bench_hash(argc - 1, argv + 1);
    fprintf(stderr, "ggufkit-bench: unknown benchmark '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
