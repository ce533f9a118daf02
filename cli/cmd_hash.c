/* `ggufkit hash`: per-tensor and model hashes, manifests, and checking against a manifest
 * (ggufkit's or llama-gguf-hash's). spec/hash.md. */
#include "cli.h"
#include "gk_inspect.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *f) {
    fprintf(f,
            "usage: ggufkit hash FILE... [--manifest OUT] [--sha256] [--xxh64] [--json]\n"
            "       ggufkit hash --check MANIFEST FILE... [--json]\n"
            "\n"
            "Hashes every tensor (its exact bytes, no padding) with XXH3-128 and the model (XXH3-128\n"
            "of the tensor hashes in order); FILE may be a split set (any part) or a bundle.\n"
            "  --manifest OUT  write the manifest to OUT instead of stdout (one model only)\n"
            "  --sha256        also the whole-file SHA-256 (what the Hugging Face Hub shows)\n"
            "  --xxh64         also XXH64 per tensor and model (llama-gguf-hash's default)\n"
            "  --check M       compare with manifest M (ggufkit's or llama-gguf-hash's), by\n"
            "                  tensor name; exit 1 on any mismatching, missing or extra tensor\n"
            "  --json          one JSON document on stdout\n");
}

static const char *base_of(const char *p) {
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

static gk_status hash_any(const char *path, const gk_hash_opts *o, gk_hash_result *r,
                          gk_err *err) {
    int b = gk_bundle_sniff(path);
    if (b > 0) return gk_bundle_hash(path, o, r, NULL, NULL, err);
    return gk_hash_model(path, o, r, err);
}

static void json_digests(gk_json *j, const gk_digest *d, unsigned algos) {
    char hex[2 * GK_HASH_MAX + 1];
    for (int a = 0; a < GK_H_COUNT; a++)
        if (algos & (1u << a)) {
            gk_json_key(j, gk_halgo_name((gk_halgo)a));
            gk_json_str(j, gk_digest_hex(&d[a], (gk_halgo)a, hex));
        }
}

static void json_result(gk_json *j, const char *path, const gk_hash_result *r) {
    gk_json_obj(j);
    gk_json_key(j, "path");
    gk_json_str(j, path);
    gk_json_key(j, "tensors");
    gk_json_arr(j);
    for (uint64_t i = 0; i < r->n_tensors; i++) {
        gk_json_obj(j);
        gk_json_key(j, "name");
        gk_json_strn(j, r->tensors[i].name, r->tensors[i].name_len);
        gk_json_key(j, "nbytes");
        gk_json_u64(j, r->tensors[i].nbytes);
        json_digests(j, r->tensors[i].d, r->tensor_algos);
        gk_json_obj_end(j);
    }
    gk_json_arr_end(j);
    gk_json_key(j, "model");
    gk_json_obj(j);
    json_digests(j, r->model, r->model_algos);
    gk_json_obj_end(j);
    gk_json_key(j, "parts");
    gk_json_arr(j);
    for (uint32_t p = 0; p < r->n_parts; p++) {
        gk_json_obj(j);
        gk_json_key(j, "path");
        gk_json_str(j, r->parts[p].path);
        gk_json_key(j, "size");
        gk_json_u64(j, r->parts[p].size);
        json_digests(j, r->parts[p].d, r->file_algos);
        gk_json_obj_end(j);
    }
    gk_json_arr_end(j);
    gk_json_obj_end(j);
}

/* Writes the manifest to out atomically (temp beside it, rename). */
static gk_status write_manifest_file(const char *out, const gk_hash_result *r, gk_err *err) {
    size_t n = strlen(out) + 16;
    char *tmp = malloc(n);
    if (!tmp) return gk_err_set(err, GK_E_NOMEM, "out of memory");
    snprintf(tmp, n, "%s.tmp.XXXXXX", out);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        gk_status st = gk_err_set(err, GK_E_IO, "%s: %s", out, strerror(errno));
        free(tmp);
        return st;
    }
    FILE *f = fdopen(fd, "w");
    gk_status st = f ? gk_manifest_write(f, r, err) : gk_err_set(err, GK_E_IO, "%s: %s", out, strerror(errno));
    if (st == GK_OK && fsync(fd) != 0) st = gk_err_set(err, GK_E_IO, "%s: fsync: %s", out, strerror(errno));
    if (f) { if (fclose(f) != 0 && st == GK_OK) st = gk_err_set(err, GK_E_IO, "%s: %s", out, strerror(errno)); }
    else close(fd);
    if (st == GK_OK && rename(tmp, out) != 0) st = gk_err_set(err, GK_E_IO, "%s: %s", out, strerror(errno));
    if (st != GK_OK) unlink(tmp);
    free(tmp);
    return st;
}

static void print_finding(FILE *f, const char *path, const gk_cfinding *x) {
    const char *an = gk_halgo_name(x->algo);
    if (x->scope == GK_MS_TENSOR) {
        if (x->kind == GK_CK_MISMATCH)
            fprintf(f, "%s: tensor '%s': %s mismatch: manifest %s, file %s\n", path, x->name, an,
                    x->expected, x->got);
        else if (x->kind == GK_CK_MISSING)
            fprintf(f, "%s: tensor '%s': in the manifest, missing from the file\n", path, x->name);
        else
            fprintf(f, "%s: tensor '%s': in the file, not in the manifest\n", path, x->name);
    } else if (x->scope == GK_MS_MODEL) {
        fprintf(f, "%s: model %s mismatch: manifest %s, file %s%s\n", path, an, x->expected, x->got,
                x->kind == GK_CK_ORDER ? " (every tensor matches: the tensor order differs)" : "");
    } else {
        if (x->kind == GK_CK_MISSING)
            fprintf(f, "%s: file '%s' (%s in the manifest) was not checked: no such part\n", path,
                    x->name, an);
        else
            fprintf(f, "%s: file '%s': %s mismatch: manifest %s, file %s\n", path, x->name, an,
                    x->expected, x->got);
    }
}

static int run_check(const char *manifest, char **files, int n_files, int json) {
    int rc = GK_EXIT_OK;
    gk_json j;
    if (json) {
        gk_json_init(&j, stdout, 1);
        gk_json_obj(&j);
        gk_json_key(&j, "manifest");
        gk_json_str(&j, manifest);
        gk_json_key(&j, "files");
        gk_json_arr(&j);
    }
    for (int i = 0; i < n_files; i++) {
        gk_err err = {0};
        gk_manifest m;
        gk_hash_result r;
        gk_check c;
        memset(&r, 0, sizeof r);
        memset(&c, 0, sizeof c);
        gk_status st = gk_manifest_load(manifest, base_of(files[i]), &m, &err);
        if (st == GK_OK) {
            gk_hash_opts o = {0};
            gk_check_opts(&m, &o);
            st = hash_any(files[i], &o, &r, &err);
            if (st == GK_OK) st = gk_check_compare(&m, &r, &c, &err);
            gk_manifest_free(&m);
        }
        int frc = st != GK_OK ? gk_status_exit_code(st) : (c.n ? GK_EXIT_FINDING : GK_EXIT_OK);
        if (frc > rc) rc = frc;
        if (json) {
            gk_json_obj(&j);
            gk_json_key(&j, "path");
            gk_json_str(&j, files[i]);
            gk_json_key(&j, "ok");
            gk_json_bool(&j, frc == 0);
            gk_json_key(&j, "error");
            if (st != GK_OK) gk_json_str(&j, err.msg);
            else gk_json_null(&j);
            gk_json_key(&j, "checked");
            gk_json_u64(&j, c.n_checked);
            gk_json_key(&j, "tensors_ok");
            gk_json_u64(&j, c.n_tensors_ok);
            gk_json_key(&j, "v1_model_unchecked");
            gk_json_u64(&j, c.n_v1_model);
            gk_json_key(&j, "findings");
            gk_json_arr(&j);
            for (size_t k = 0; k < c.n; k++) {
                const gk_cfinding *x = &c.f[k];
                gk_json_obj(&j);
                gk_json_key(&j, "kind");
                gk_json_str(&j, gk_ckind_name(x->kind));
                gk_json_key(&j, "scope");
                gk_json_str(&j, x->scope == GK_MS_TENSOR ? "tensor" : x->scope == GK_MS_MODEL ? "model" : "file");
                gk_json_key(&j, "name");
                gk_json_str(&j, x->name);
                gk_json_key(&j, "algorithm");
                gk_json_str(&j, gk_halgo_name(x->algo));
                gk_json_key(&j, "expected");
                if (x->expected[0]) gk_json_str(&j, x->expected); else gk_json_null(&j);
                gk_json_key(&j, "got");
                if (x->got[0]) gk_json_str(&j, x->got); else gk_json_null(&j);
                gk_json_obj_end(&j);
            }
            gk_json_arr_end(&j);
            gk_json_obj_end(&j);
        } else if (st != GK_OK) {
            fprintf(stderr, "ggufkit: %s\n", err.msg);
            printf("%s: FAILED (%s)\n", files[i], gk_status_name(st));
        } else {
            for (size_t k = 0; k < c.n; k++) print_finding(stdout, files[i], &c.f[k]);
            if (c.n_v1_model)
                printf("%s: manifest version 1: model line not checked (it hashed the concatenated "
                       "tensor bytes; version 2 hashes the tensor digests), tensors checked\n",
                       files[i]);
            if (c.n)
                printf("%s: FAILED (%zu problem%s)\n", files[i], c.n, c.n == 1 ? "" : "s");
            else
                printf("%s: OK (%llu tensors, %llu hashes compared)\n", files[i],
                       (unsigned long long)r.n_tensors, (unsigned long long)c.n_checked);
        }
        gk_check_free(&c);
        gk_hash_result_free(&r);
    }
    if (json) {
        gk_json_arr_end(&j);
        gk_json_obj_end(&j);
    }
    return rc;
}

int gk_cmd_hash(int argc, char **argv) {
    const char *manifest_out = NULL, *check = NULL;
    int json = 0, sha256 = 0, xxh64 = 0;
    size_t chunk = 0;
    char **files = calloc((size_t)argc + 1, sizeof *files);
    int n_files = 0;
    if (!files) return GK_EXIT_IO;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { usage(stdout); free(files); return 0; }
        else if (!strcmp(a, "--json")) json = 1;
        else if (!strcmp(a, "--sha256")) sha256 = 1;
        else if (!strcmp(a, "--xxh64")) xxh64 = 1;
        else if ((!strcmp(a, "--manifest") || !strcmp(a, "-o")) && i + 1 < argc) manifest_out = argv[++i];
        else if ((!strcmp(a, "--check") || !strcmp(a, "-c")) && i + 1 < argc) check = argv[++i];
        else if (!strcmp(a, "--chunk-mib") && i + 1 < argc) chunk = (size_t)strtoul(argv[++i], NULL, 10) << 20;
        else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "ggufkit hash: unknown or incomplete option '%s'\n", a);
            usage(stderr);
            free(files);
            return GK_EXIT_USAGE;
        } else files[n_files++] = argv[i];
    }
    if (!n_files || (check && manifest_out) || (manifest_out && n_files > 1)) {
        if (!n_files) fprintf(stderr, "ggufkit hash: no FILE given\n");
        else if (check) fprintf(stderr, "ggufkit hash: --check and --manifest exclude each other\n");
        else fprintf(stderr, "ggufkit hash: --manifest takes one model (a file or a split set)\n");
        usage(stderr);
        free(files);
        return GK_EXIT_USAGE;
    }
    if (check) {
        int rc = run_check(check, files, n_files, json);
        free(files);
        return rc;
    }
    gk_hash_opts o = {0};
    o.tensor_algos = (1u << GK_H_XXH3_128) | (xxh64 ? 1u << GK_H_XXH64 : 0);
    o.model_algos = o.tensor_algos;
    o.file_algos = sha256 ? 1u << GK_H_SHA256 : 0;
    o.chunk = chunk;
    int rc = GK_EXIT_OK;
    gk_json j;
    if (json) {
        gk_json_init(&j, stdout, 1);
        gk_json_obj(&j);
        gk_json_key(&j, "files");
        gk_json_arr(&j);
    }
    for (int i = 0; i < n_files; i++) {
        gk_err err = {0};
        gk_hash_result r;
        gk_status st = hash_any(files[i], &o, &r, &err);
        if (st != GK_OK) {
            int e = gk_cli_fail(&err);
            if (e > rc) rc = e;
            continue;
        }
        if (manifest_out) {
            st = write_manifest_file(manifest_out, &r, &err);
            if (st != GK_OK) {
                int e = gk_cli_fail(&err);
                if (e > rc) rc = e;
            }
        }
        if (json) json_result(&j, files[i], &r);
        else if (!manifest_out) {
            if (n_files > 1) printf("# %s\n", files[i]);
            st = gk_manifest_write(stdout, &r, &err);
            if (st != GK_OK) rc = GK_EXIT_IO;
        } else {
            fprintf(stderr, "%s: %llu tensors hashed, manifest written to %s\n", files[i],
                    (unsigned long long)r.n_tensors, manifest_out);
        }
        gk_hash_result_free(&r);
    }
    if (json) {
        gk_json_arr_end(&j);
        gk_json_obj_end(&j);
    }
    free(files);
    return rc;
}
