#include "cli.h"
int gk_cmd_inspect(int argc, char **argv) {
    (void)argc; (void)argv;
    fprintf(stderr, "ggufkit inspect: not built yet\n");
    return GK_EXIT_IO;
}
