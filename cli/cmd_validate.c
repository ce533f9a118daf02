/* `ggufkit validate`: errors, warnings and compatibility findings for GGUF files, split sets and
 * bundles (spec/validate.md). Exit 0 clean (warnings allowed unless --strict), 1 findings. */
#include "cli.h"
#include "gk_inspect.h"

#include <stdlib.h>
#include <string.h>

static void usage(FILE *f) {
    fprintf(f,
            "usage: ggufkit validate FILE... [--json] [--strict] [--no-data] [--threads N]\n"
            "\n"
            "Checks what a publisher should know before distributing a GGUF file: reader\n"
            "rejections, truncation, Git LFS pointers, NaN/Inf in tensor data and block scales,\n"
            "missing tensors and wrong shapes for the architecture, tokenizer consistency, split\n"
            "sets, bundles (.tar.zst), and what llama.cpp refuses. Exit 1 on errors (and on\n"
            "warnings with --strict).\n");
}

static void json_finding(gk_json *j, const gk_finding *f) {
    gk_json_obj(j);
    gk_json_key(j, "severity");
    gk_json_str(j, gk_sev_name(f->sev));
    gk_json_key(j, "code");
    gk_json_str(j, f->code);
    gk_json_key(j, "message");
    gk_json_str(j, f->message);
    gk_json_key(j, "tensor");
    gk_json_str(j, f->tensor);
    gk_json_key(j, "key");
    gk_json_str(j, f->key);
    gk_json_key(j, "offset");
    if (f->has_offset) gk_json_u64(j, f->offset);
    else gk_json_null(j);
    gk_json_obj_end(j);
}

int gk_cmd_validate(int argc, char **argv) {
    int json = 0, strict = 0;
    gk_validate_opts o = {0};
    char **files = calloc((size_t)argc + 1, sizeof *files);
    int n_files = 0;
    if (!files) return GK_EXIT_IO;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { usage(stdout); free(files); return 0; }
        else if (!strcmp(a, "--json")) json = 1;
        else if (!strcmp(a, "--strict")) strict = 1;
        else if (!strcmp(a, "--no-data")) o.no_data = 1;
        else if (!strcmp(a, "--threads") && i + 1 < argc) o.threads = atoi(argv[++i]);
        else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "ggufkit validate: unknown or incomplete option '%s'\n", a);
            usage(stderr);
            free(files);
            return GK_EXIT_USAGE;
        } else files[n_files++] = argv[i];
    }
    if (!n_files) {
        fprintf(stderr, "ggufkit validate: no FILE given\n");
        usage(stderr);
        free(files);
        return GK_EXIT_USAGE;
    }
    int rc = GK_EXIT_OK;
    gk_json j;
    if (json) {
        gk_json_init(&j, stdout, 1);
        gk_json_obj(&j);
        gk_json_key(&j, "files");
        gk_json_arr(&j);
    }
    for (int i = 0; i < n_files; i++) {
        gk_vreport *reps = NULL;
        size_t n = 0;
        gk_err err = {0};
        gk_status st = gk_validate_path(files[i], &o, &reps, &n, &err);
        if (st != GK_OK) {
            int e = gk_cli_fail(&err);
            if (e > rc) rc = e;
            if (json) {
                gk_json_obj(&j);
                gk_json_key(&j, "path");
                gk_json_str(&j, files[i]);
                gk_json_key(&j, "ok");
                gk_json_bool(&j, 0);
                gk_json_key(&j, "error");
                gk_json_str(&j, err.msg);
                gk_json_obj_end(&j);
            }
        }
        for (size_t k = 0; k < n; k++) {
            gk_vreport *r = &reps[k];
            int bad = r->n_errors || (strict && r->n_warnings);
            if (bad && rc < GK_EXIT_FINDING) rc = GK_EXIT_FINDING;
            if (json) {
                gk_json_obj(&j);
                gk_json_key(&j, "path");
                gk_json_str(&j, r->path);
                gk_json_key(&j, "ok");
                gk_json_bool(&j, !bad);
                static const char *const arr[3] = {"errors", "warnings", "notes"};
                for (int s = 0; s < 3; s++) {
                    gk_json_key(&j, arr[s]);
                    gk_json_arr(&j);
                    for (size_t f = 0; f < r->n; f++)
                        if ((int)r->f[f].sev == s) json_finding(&j, &r->f[f]);
                    gk_json_arr_end(&j);
                }
                gk_json_obj_end(&j);
            } else {
                for (size_t f = 0; f < r->n; f++) {
                    const gk_finding *x = &r->f[f];
                    printf("%s: %s [%s] %s", r->path, gk_sev_name(x->sev), x->code, x->message);
                    if (x->has_offset) printf(" (offset %llu)", (unsigned long long)x->offset);
                    putchar('\n');
                }
                printf("%s: %s (%llu error%s, %llu warning%s)\n", r->path, bad ? "FAILED" : "OK",
                       (unsigned long long)r->n_errors, r->n_errors == 1 ? "" : "s",
                       (unsigned long long)r->n_warnings, r->n_warnings == 1 ? "" : "s");
            }
            gk_vreport_free(r);
        }
        free(reps);
    }
    if (json) {
        gk_json_arr_end(&j);
        gk_json_obj_end(&j);
    }
    free(files);
    return rc;
}
