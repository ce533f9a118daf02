/* `ggufkit pack` / `ggufkit unpack`: deterministic tar + zstd bundles of a model with its
 * manifest (spec/hash.md "Bundles"). */
#include "cli.h"
#include "gk_inspect.h"

#include <stdlib.h>
#include <string.h>

static void pack_usage(FILE *f) {
    fprintf(f, "usage: ggufkit pack MODEL.gguf|SPLIT-PART [--add FILE]... -o BUNDLE.tar.zst\n"
               "\n"
               "Writes the model file(s), a manifest (%s: per-tensor and model XXH3-128, file\n"
               "SHA-256) and the extra files into a deterministic tar + zstd bundle (sorted names,\n"
               "mtime 0, uid/gid 0, mode 0644).\n", GK_MANIFEST_NAME);
}

static void unpack_usage(FILE *f) {
    fprintf(f, "usage: ggufkit unpack BUNDLE -C DIR\n"
               "\n"
               "Extracts a bundle into DIR, verifying every tensor and file hash against the\n"
               "bundled manifest while extracting. Refuses absolute paths, '..', links, devices\n"
               "and nested paths; files appear only complete and verified (temp + rename).\n");
}

int gk_cmd_pack(int argc, char **argv) {
    const char *out = NULL, *model = NULL;
    const char **extra = calloc((size_t)argc + 1, sizeof *extra);
    size_t n_extra = 0;
    if (!extra) return GK_EXIT_IO;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { pack_usage(stdout); free(extra); return 0; }
        else if (!strcmp(a, "-o") && i + 1 < argc) out = argv[++i];
        else if (!strcmp(a, "--add") && i + 1 < argc) extra[n_extra++] = argv[++i];
        else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "ggufkit pack: unknown or incomplete option '%s'\n", a);
            pack_usage(stderr);
            free(extra);
            return GK_EXIT_USAGE;
        } else if (!model) model = a;
        else {
            fprintf(stderr, "ggufkit pack: one model per bundle ('%s' is extra; use --add)\n", a);
            free(extra);
            return GK_EXIT_USAGE;
        }
    }
    if (!model || !out) {
        fprintf(stderr, "ggufkit pack: %s\n", !model ? "no MODEL given" : "no -o BUNDLE given");
        pack_usage(stderr);
        free(extra);
        return GK_EXIT_USAGE;
    }
    gk_pack_opts po = {extra, n_extra};
    gk_err err = {0};
    gk_status st = gk_bundle_pack(model, &po, out, &err);
    free(extra);
    if (st != GK_OK) return gk_cli_fail(&err);
    fprintf(stderr, "%s: written\n", out);
    return GK_EXIT_OK;
}

int gk_cmd_unpack(int argc, char **argv) {
    const char *dir = NULL, *bundle = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { unpack_usage(stdout); return 0; }
        else if (!strcmp(a, "-C") && i + 1 < argc) dir = argv[++i];
        else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "ggufkit unpack: unknown or incomplete option '%s'\n", a);
            unpack_usage(stderr);
            return GK_EXIT_USAGE;
        } else if (!bundle) bundle = a;
        else {
            fprintf(stderr, "ggufkit unpack: one BUNDLE at a time\n");
            return GK_EXIT_USAGE;
        }
    }
    if (!bundle || !dir) {
        fprintf(stderr, "ggufkit unpack: %s\n", !bundle ? "no BUNDLE given" : "no -C DIR given");
        unpack_usage(stderr);
        return GK_EXIT_USAGE;
    }
    gk_err err = {0};
    gk_status st = gk_bundle_unpack(bundle, dir, &err);
    if (st != GK_OK) return gk_cli_fail(&err);
    fprintf(stderr, "%s: extracted into %s, every hash verified\n", bundle, dir);
    return GK_EXIT_OK;
}
