/* Helper for the interop tests (not a test by itself): reads each GGUF given and writes it back
 * with ggufkit's writer into OUTDIR under the same base name.
 * Usage: interop_rewrite OUTDIR FILE... */
#include "ggufkit.h"

#include <libgen.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: interop_rewrite OUTDIR FILE...\n");
        return 2;
    }
    for (int i = 2; i < argc; i++) {
        gk_err err = {0};
        gk_gguf *g = NULL;
        if (gk_gguf_open(argv[i], 0, &g, &err) != GK_OK) {
            fprintf(stderr, "%s: %s\n", argv[i], err.msg);
            return 1;
        }
        char tmp[4096], dst[8192];
        snprintf(tmp, sizeof tmp, "%s", argv[i]);
        snprintf(dst, sizeof dst, "%s/%s", argv[1], basename(tmp));
        gk_status st = gk_gguf_write_copy(g, dst, &err);
        gk_gguf_close(g);
        if (st != GK_OK) {
            fprintf(stderr, "%s: %s\n", dst, err.msg);
            return 1;
        }
        printf("%s\n", dst);
    }
    return 0;
}
