/* ggufkit inspect FILE [--kv] [--full] [--tensors] [--json] */
#include "cli.h"
#include "report.h"

#include <string.h>

static void inspect_usage(FILE *f) {
    fprintf(f,
            "usage: ggufkit inspect FILE [--kv] [--full] [--tensors] [--json]\n"
            "\n"
            "Summarises a GGUF file (or a split set, given any part named\n"
            "<prefix>-NNNNN-of-MMMMM.gguf): size, version, byte order, alignment, architecture,\n"
            "file type, parameters, bits per weight, a table of tensor types, and the precision\n"
            "layout: one row per layer, one column per tensor role, each cell the type.\n"
            "\n"
            "  --kv       all metadata (long arrays abbreviated; --full for everything)\n"
            "  --full     do not abbreviate arrays and long strings\n"
            "  --tensors  per-tensor table: name, type, shape, offset, bytes, bits per weight\n"
            "  --json     everything, complete, as one JSON document on stdout\n"
            "\n"
            "exit: 0 ok, 1 the file is malformed (message on stderr), 2 usage, 3 I/O\n");
}

int gk_cmd_inspect(int argc, char **argv) {
    gk_report_opts o = {0};
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--kv")) o.kv = 1;
        else if (!strcmp(a, "--full")) o.full = 1;
        else if (!strcmp(a, "--tensors")) o.tensors = 1;
        else if (!strcmp(a, "--json")) o.json = 1;
        else if (!strcmp(a, "--help") || !strcmp(a, "-h")) { inspect_usage(stdout); return GK_EXIT_OK; }
        else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "ggufkit inspect: unknown option '%s'\n", a);
            inspect_usage(stderr);
            return GK_EXIT_USAGE;
        } else if (!path) path = a;
        else {
            fprintf(stderr, "ggufkit inspect: one file at a time ('%s' and '%s')\n", path, a);
            return GK_EXIT_USAGE;
        }
    }
    if (!path) {
        inspect_usage(stderr);
        return GK_EXIT_USAGE;
    }
    gk_err err = {0};
    gk_model *m = NULL;
    gk_status st = gk_model_open(path, 0, &m, &err);
    if (st != GK_OK) return gk_cli_fail(&err);
    st = gk_report_print(stdout, m, path, &o, &err);
    gk_model_close(m);
    if (st != GK_OK) return gk_cli_fail(&err);
    return GK_EXIT_OK;
}
