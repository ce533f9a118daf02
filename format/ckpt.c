/* Checkpoint sources (spec/safetensors.md): a Hugging Face checkpoint is a set of named root
 * files plus the tensors of one or more safetensors parts. This file holds what every source
 * shares (choosing the parts, opening them, the tensor list, the index check, streaming) and the
 * directory and single-file sources; ckpt_archive.c reads archives forward-only. */
#include "ckpt_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define INDEX_NAME "model.safetensors.index.json"

static int ends_with(const char *s, const char *suf) {
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && memcmp(s + a - b, suf, b) == 0;
}

static int cmp_cfile(const void *a, const void *b) {
    return strcmp(((const gk_cfile *)a)->name, ((const gk_cfile *)b)->name);
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Binary search: the files are sorted by name before any lookup. */
static int64_t find_cfile(const gk_ckpt *c, const char *name) {
    uint64_t lo = 0, hi = c->priv->n_cf;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        int d = strcmp(c->priv->cf[mid].name, name);
        if (d == 0) return (int64_t)mid;
        if (d < 0) lo = mid + 1;
        else hi = mid;
    }
    return -1;
}

/* ---- directory: names ------------------------------------------------------------------ */

/* The last path component of p (trailing slashes ignored), malloc'd. */
static char *base_name(const char *p) {
    size_t n = strlen(p);
    while (n > 1 && p[n - 1] == '/') n--;
    size_t s = n;
    while (s > 0 && p[s - 1] != '/') s--;
    char *r = malloc(n - s + 1);
    if (r) {
        memcpy(r, p + s, n - s);
        r[n - s] = 0;
    }
    return r;
}

/* For .../models--ORG--NAME/snapshots/REV returns NAME (malloc'd), else NULL. */
static char *hf_snapshot_name(const char *real) {
    char *copy = strdup(real);
    if (!copy) return NULL;
    char *r = NULL;
    char *s3 = strrchr(copy, '/');
    if (s3 && s3 != copy) {
        *s3 = 0;
        char *s2 = strrchr(copy, '/');
        if (s2 && strcmp(s2 + 1, "snapshots") == 0) {
            *s2 = 0;
            char *s1 = strrchr(copy, '/');
            const char *repo = s1 ? s1 + 1 : copy;
            if (strncmp(repo, "models--", 8) == 0) {
                const char *sep = strstr(repo + 8, "--");
                const char *nm = sep ? sep + 2 : repo + 8;
                if (*nm) r = strdup(nm);
            }
        }
    }
    free(copy);
    return r;
}

static char *dir_name(const char *path) {
    char real[PATH_MAX];
    char *b = base_name(path);
    if (realpath(path, real)) {
        char *hf = hf_snapshot_name(real);
        if (hf) {
            free(b);
            return hf;
        }
        if (b && (!*b || strcmp(b, ".") == 0 || strcmp(b, "..") == 0 || strcmp(b, "/") == 0)) {
            free(b);
            b = base_name(real);
        }
    }
    return b;
}

static char *join(const char *dir, const char *name) {
    size_t a = strlen(dir), b = strlen(name);
    char *r = malloc(a + b + 2);
    if (!r) return NULL;
    memcpy(r, dir, a);
    r[a] = '/';
    memcpy(r + a + 1, name, b + 1);
    return r;
}

/* Lists the regular files (symlinks followed) of a directory. */
static gk_status dir_scan(gk_ckpt *c, gk_err *err) {
    gk_ckpt_priv *p = c->priv;
    DIR *d = opendir(p->path);
    if (!d) return gk_err_set(err, GK_E_IO, "%s: cannot open directory: %s", p->path, strerror(errno));
    gk_status rc = GK_OK;
    uint64_t cap = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) continue;
        char *full = join(p->path, de->d_name);
        struct stat sb;
        int ok = full && stat(full, &sb) == 0 && S_ISREG(sb.st_mode);
        free(full);
        if (!ok) continue; /* subfolders, broken links, devices: not part of the checkpoint */
        if (p->n_cf == cap) {
            cap = cap ? cap * 2 : 16;
            gk_cfile *n = realloc(p->cf, cap * sizeof *n);
            if (!n) { rc = gk_err_set(err, GK_E_NOMEM, "out of memory"); break; }
            p->cf = n;
        }
        gk_cfile *f = &p->cf[p->n_cf];
        memset(f, 0, sizeof *f);
        f->name = strdup(de->d_name);
        f->size = (uint64_t)sb.st_size;
        if (!f->name) { rc = gk_err_set(err, GK_E_NOMEM, "out of memory"); break; }
        p->n_cf++;
    }
    closedir(d);
    return rc;
}

/* Reads a small root file of a directory source into f->data. */
static gk_status dir_load(gk_ckpt *c, gk_cfile *f, gk_err *err) {
    char *full = join(c->priv->path, f->name);
    if (!full) return gk_err_set(err, GK_E_NOMEM, "out of memory");
    gk_status rc = GK_OK;
    int fd = open(full, O_RDONLY | O_CLOEXEC);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) != 0) {
        rc = gk_err_set(err, GK_E_IO, "%s: cannot open: %s", full, strerror(errno));
        goto out;
    }
    if ((uint64_t)sb.st_size > GK_CKPT_SMALL_MAX) {
        rc = gk_err_set(err, GK_E_UNSUPPORTED, "%s: %" PRIu64 " bytes, larger than the %llu-byte "
                        "limit for small files", full, (uint64_t)sb.st_size, GK_CKPT_SMALL_MAX);
        goto out;
    }
    size_t n = (size_t)sb.st_size, got = 0;
    uint8_t *buf = malloc(n + 1);
    if (!buf) {
        rc = gk_err_set(err, GK_E_NOMEM, "%s: out of memory", full);
        goto out;
    }
    while (got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        got += (size_t)r;
    }
    if (got != n) {
        free(buf);
        rc = gk_err_set(err, GK_E_IO, "%s: short read (%zu of %zu bytes)", full, got, n);
        goto out;
    }
    buf[n] = 0;
    f->data = buf;
    f->len = n;
out:
    if (fd >= 0) close(fd);
    free(full);
    return rc;
}

/* ---- choosing and opening the parts ---------------------------------------------------- */

/* A part name from the index must be a plain root file name. */
static int safe_member_name(const char *s) {
    return *s && strcmp(s, ".") != 0 && strcmp(s, "..") != 0 && !strchr(s, '/') &&
           !strchr(s, '\\');
}

/* Parses the index: *names (sorted weight_map keys, pointing into *root) and the sorted unique
 * part names appended as parts. */
static gk_status read_index(gk_ckpt *c, json_t **root_out, const char ***names_out,
                            size_t *n_names_out, gk_err *err) {
    const uint8_t *data;
    size_t len;
    gk_status rc = gk_ckpt_file_get(c, INDEX_NAME, &data, &len, err);
    if (rc != GK_OK) return rc;
    json_error_t je;
    json_t *root = json_loadb((const char *)data, len, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        return gk_err_set_at(err, GK_E_BAD_JSON, (uint64_t)(je.position > 0 ? je.position : 0),
                             INDEX_NAME ": invalid JSON (line %d, column %d): %s", je.line,
                             je.column, je.text);
    *root_out = root;
    json_t *wm = json_is_object(root) ? json_object_get(root, "weight_map") : NULL;
    if (!wm || !json_is_object(wm))
        return gk_err_set(err, GK_E_BAD_JSON, INDEX_NAME ": \"weight_map\" is %s",
                          wm ? "not an object" : "missing");
    size_t n = json_object_size(wm);
    const char **names = calloc(n ? n : 1, sizeof *names);
    const char **parts = calloc(n ? n : 1, sizeof *parts);
    if (!names || !parts) {
        free(names);
        free(parts);
        return gk_err_set(err, GK_E_NOMEM, "out of memory");
    }
    size_t i = 0;
    const char *k;
    json_t *v;
    json_object_foreach(wm, k, v) {
        if (!json_is_string(v)) {
            rc = gk_err_set(err, GK_E_BAD_JSON, INDEX_NAME ": weight_map value of '%s' is not a "
                            "string", k);
            break;
        }
        const char *pn = json_string_value(v);
        if (!safe_member_name(pn)) {
            rc = gk_err_set(err, GK_E_UNSAFE_PATH, INDEX_NAME ": tensor '%s' maps to '%s', which "
                            "is not a file name at the checkpoint root", k, pn);
            break;
        }
        names[i] = k;
        parts[i] = pn;
        i++;
    }
    if (rc == GK_OK) {
        qsort(names, n, sizeof *names, cmp_str);
        qsort(parts, n, sizeof *parts, cmp_str);
        c->parts = calloc(n ? n : 1, sizeof *c->parts);
        c->priv->part_file = calloc(n ? n : 1, sizeof *c->priv->part_file);
        if (!c->parts || !c->priv->part_file) rc = gk_err_set(err, GK_E_NOMEM, "out of memory");
        for (size_t j = 0; rc == GK_OK && j < n; j++) {
            if (j > 0 && strcmp(parts[j], parts[j - 1]) == 0) continue;
            int64_t f = find_cfile(c, parts[j]);
            if (f < 0) {
                rc = gk_err_set(err, GK_E_NOT_FOUND, INDEX_NAME " names the part '%s', which is "
                                "not in the checkpoint", parts[j]);
                break;
            }
            c->priv->part_file[c->n_parts] = (uint32_t)f;
            c->parts[c->n_parts++].name = c->priv->cf[f].name;
        }
    }
    free(parts);
    if (rc != GK_OK) {
        free(names);
        return rc;
    }
    *names_out = names;
    *n_names_out = n;
    return GK_OK;
}

/* Without an index: every root file model*.safetensors, sorted (the files are sorted). */
static gk_status pick_parts(gk_ckpt *c, gk_err *err) {
    gk_ckpt_priv *p = c->priv;
    c->parts = calloc(p->n_cf ? p->n_cf : 1, sizeof *c->parts);
    p->part_file = calloc(p->n_cf ? p->n_cf : 1, sizeof *p->part_file);
    if (!c->parts || !p->part_file) return gk_err_set(err, GK_E_NOMEM, "out of memory");
    for (uint64_t i = 0; i < p->n_cf; i++) {
        const char *n = p->cf[i].name;
        if (strncmp(n, "model", 5) == 0 && ends_with(n, ".safetensors")) {
            p->part_file[c->n_parts] = (uint32_t)i;
            c->parts[c->n_parts++].name = n;
        }
    }
    if (c->n_parts == 0)
        return gk_err_set(err, GK_E_NOT_FOUND, "%s: no safetensors weights (neither " INDEX_NAME
                          " nor model*.safetensors)", p->path);
    return GK_OK;
}

static gk_status open_parts(gk_ckpt *c, gk_err *err) {
    gk_ckpt_priv *p = c->priv;
    uint64_t total = 0;
    for (uint32_t i = 0; i < c->n_parts; i++) {
        gk_cfile *f = &p->cf[p->part_file[i]];
        gk_status rc;
        if (c->kind == GK_CKPT_ARCHIVE) {
            rc = gk_st_from_header(f->hdr, f->hdr_len, f->size, &c->parts[i].st, err);
            if (rc != GK_OK) gk_err_prefix(err, f->member);
        } else {
            char *full = c->kind == GK_CKPT_FILE ? strdup(p->path) : join(p->path, f->name);
            if (!full) return gk_err_set(err, GK_E_NOMEM, "out of memory");
            rc = gk_st_open(full, &c->parts[i].st, err); /* its messages name the path */
            free(full);
        }
        if (rc != GK_OK) return rc;
        total += c->parts[i].st->n_tensors;
    }
    c->tensors = calloc(total ? total : 1, sizeof *c->tensors);
    p->part_base = calloc(c->n_parts ? c->n_parts : 1, sizeof *p->part_base);
    if (!c->tensors || !p->part_base) return gk_err_set(err, GK_E_NOMEM, "out of memory");
    for (uint32_t i = 0; i < c->n_parts; i++) {
        p->part_base[i] = c->n_tensors;
        for (uint64_t j = 0; j < c->parts[i].st->n_tensors; j++) {
            c->tensors[c->n_tensors].t = &c->parts[i].st->tensors[j];
            c->tensors[c->n_tensors++].part = i;
        }
    }
    return GK_OK;
}

/* Names across parts are unique; with an index, its names equal the tensors found. */
static gk_status check_names(gk_ckpt *c, const char **idx, size_t n_idx, gk_err *err) {
    const char **all = calloc(c->n_tensors ? c->n_tensors : 1, sizeof *all);
    if (!all) return gk_err_set(err, GK_E_NOMEM, "out of memory");
    for (uint64_t i = 0; i < c->n_tensors; i++) all[i] = c->tensors[i].t->name;
    qsort(all, c->n_tensors, sizeof *all, cmp_str);
    gk_status rc = GK_OK;
    for (uint64_t i = 1; i < c->n_tensors && rc == GK_OK; i++)
        if (strcmp(all[i], all[i - 1]) == 0) {
            int64_t k = gk_ckpt_find_tensor(c, all[i]);
            rc = gk_err_set(err, GK_E_DUP_TENSOR, "tensor '%s' is in more than one part (one is "
                            "%s)", all[i], c->parts[c->tensors[k].part].name);
        }
    if (rc == GK_OK && idx) {
        size_t a = 0, b = 0;
        while (rc == GK_OK && (a < n_idx || b < c->n_tensors)) {
            int d = a == n_idx ? 1 : b == c->n_tensors ? -1 : strcmp(idx[a], all[b]);
            if (d < 0)
                rc = gk_err_set(err, GK_E_SPLIT, INDEX_NAME " lists tensor '%s', which is in "
                                "none of the %u parts", idx[a], c->n_parts);
            else if (d > 0) {
                int64_t k = gk_ckpt_find_tensor(c, all[b]);
                rc = gk_err_set(err, GK_E_SPLIT, "tensor '%s' in %s is not listed in " INDEX_NAME,
                                all[b], c->parts[c->tensors[k].part].name);
            } else {
                a++;
                b++;
            }
        }
    }
    free(all);
    return rc;
}

/* ---- open / close ---------------------------------------------------------------------- */

/* A Hugging Face cache repo folder (models--ORG--NAME with refs/main): the path of the snapshot
 * that refs/main names, malloc'd; NULL if path is not such a folder. */
static char *hf_repo_snapshot(const char *path) {
    char *b = base_name(path);
    int is_repo = b && strncmp(b, "models--", 8) == 0;
    free(b);
    if (!is_repo) return NULL;
    char *ref = join(path, "refs/main");
    FILE *f = ref ? fopen(ref, "rb") : NULL;
    free(ref);
    if (!f) return NULL;
    char rev[128];
    size_t n = fread(rev, 1, sizeof rev - 1, f);
    fclose(f);
    while (n && (rev[n - 1] == '\n' || rev[n - 1] == '\r' || rev[n - 1] == ' ')) n--;
    rev[n] = 0;
    for (size_t i = 0; i < n; i++)
        if (!((rev[i] >= '0' && rev[i] <= '9') || (rev[i] >= 'a' && rev[i] <= 'f'))) return NULL;
    if (!n) return NULL;
    char *snap = join(path, "snapshots");
    char *r = snap ? join(snap, rev) : NULL;
    free(snap);
    return r;
}

static gk_status ckpt_plan(gk_ckpt *c, gk_err *err) {
    gk_ckpt_priv *p = c->priv;
    gk_status rc;
    if (c->kind == GK_CKPT_FILE) {
        p->cf = calloc(1, sizeof *p->cf);
        if (!p->cf || !(p->cf[0].name = base_name(p->path)))
            return gk_err_set(err, GK_E_NOMEM, "out of memory");
        p->n_cf = 1;
        c->parts = calloc(1, sizeof *c->parts);
        p->part_file = calloc(1, sizeof *p->part_file);
        if (!c->parts || !p->part_file) return gk_err_set(err, GK_E_NOMEM, "out of memory");
        c->parts[0].name = p->cf[0].name;
        c->n_parts = 1;
        p->name = strdup(p->cf[0].name);
        if (p->name && ends_with(p->name, ".safetensors"))
            p->name[strlen(p->name) - strlen(".safetensors")] = 0;
    } else {
        rc = c->kind == GK_CKPT_DIR ? dir_scan(c, err) : gk_ckpt_archive_scan(c, err);
        if (rc != GK_OK) return rc;
        if (c->kind == GK_CKPT_DIR) p->name = dir_name(p->path);
    }
    if (!p->name) return gk_err_set(err, GK_E_NOMEM, "out of memory");
    c->name = p->name;
    if (p->n_cf) qsort(p->cf, p->n_cf, sizeof *p->cf, cmp_cfile);
    for (uint64_t i = 1; i < p->n_cf; i++)
        if (strcmp(p->cf[i].name, p->cf[i - 1].name) == 0)
            return gk_err_set(err, GK_E_BAD_ARCHIVE, "%s: the file '%s' appears twice", p->path,
                              p->cf[i].name);
    c->files = calloc(p->n_cf ? p->n_cf : 1, sizeof *c->files);
    if (!c->files) return gk_err_set(err, GK_E_NOMEM, "out of memory");
    for (uint64_t i = 0; i < p->n_cf; i++) {
        c->files[i].name = p->cf[i].name;
        c->files[i].size = p->cf[i].size;
        c->files[i].loaded = p->cf[i].data != NULL;
    }
    c->n_files = p->n_cf;

    json_t *iroot = NULL;
    const char **idx = NULL;
    size_t n_idx = 0;
    if (c->kind != GK_CKPT_FILE && find_cfile(c, INDEX_NAME) >= 0)
        rc = read_index(c, &iroot, &idx, &n_idx, err);
    else if (c->kind != GK_CKPT_FILE)
        rc = pick_parts(c, err);
    else
        rc = GK_OK;
    if (rc == GK_OK) rc = open_parts(c, err);
    if (rc == GK_OK) rc = check_names(c, idx, n_idx, err);
    free(idx);
    json_decref(iroot);
    return rc;
}

gk_status gk_ckpt_open(const char *path, gk_ckpt **out, gk_err *err) {
    if (!path || !out) return gk_err_set(err, GK_E_INVALID_ARG, "gk_ckpt_open: NULL argument");
    *out = NULL;
    struct stat sb;
    if (stat(path, &sb) != 0)
        return gk_err_set(err, GK_E_IO, "%s: %s", path, strerror(errno));
    gk_ckpt *c = calloc(1, sizeof *c);
    if (c) c->priv = calloc(1, sizeof *c->priv);
    if (c && c->priv) c->priv->path = strdup(path);
    if (!c || !c->priv || !c->priv->path) {
        gk_ckpt_close(c);
        return gk_err_set(err, GK_E_NOMEM, "out of memory");
    }
    if (S_ISDIR(sb.st_mode)) {
        c->kind = GK_CKPT_DIR;
        char *snap = hf_repo_snapshot(path);
        struct stat ss;
        if (snap && stat(snap, &ss) == 0 && S_ISDIR(ss.st_mode)) {
            free(c->priv->path);
            c->priv->path = snap;
        } else {
            free(snap);
        }
    }
    else if (!S_ISREG(sb.st_mode)) {
        gk_ckpt_close(c);
        return gk_err_set(err, GK_E_IO, "%s: neither a directory nor a regular file", path);
    } else if (ends_with(path, ".safetensors")) c->kind = GK_CKPT_FILE;
    else c->kind = GK_CKPT_ARCHIVE;
    gk_status rc = ckpt_plan(c, err);
    if (rc != GK_OK) {
        gk_ckpt_close(c);
        return rc;
    }
    *out = c;
    return GK_OK;
}

void gk_ckpt_close(gk_ckpt *c) {
    if (!c) return;
    for (uint32_t i = 0; i < c->n_parts; i++) gk_st_close(c->parts[i].st);
    if (c->priv) {
        gk_ckpt_priv *p = c->priv;
        for (uint64_t i = 0; i < p->n_cf; i++) {
            free(p->cf[i].name);
            free(p->cf[i].member);
            free(p->cf[i].data);
            free(p->cf[i].hdr);
        }
        free(p->cf);
        free(p->part_file);
        free(p->part_base);
        free(p->path);
        free(p->name);
        free(p);
    }
    free(c->files);
    free(c->parts);
    free(c->tensors);
    free(c);
}

gk_status gk_ckpt_file_get(gk_ckpt *c, const char *name, const uint8_t **data, size_t *len,
                           gk_err *err) {
    if (!c || !name || !data || !len)
        return gk_err_set(err, GK_E_INVALID_ARG, "gk_ckpt_file_get: NULL argument");
    *data = NULL;
    *len = 0;
    int64_t i = find_cfile(c, name);
    if (i < 0 || c->kind == GK_CKPT_FILE)
        return gk_err_set(err, GK_E_NOT_FOUND, "%s: no file '%s' in the checkpoint",
                          c->priv->path, name);
    gk_cfile *f = &c->priv->cf[i];
    if (!f->data) {
        if (c->kind == GK_CKPT_ARCHIVE || f->size > GK_CKPT_SMALL_MAX)
            return gk_err_set(err, GK_E_UNSUPPORTED, "%s: '%s' (%" PRIu64 " bytes) was not kept: "
                              "small files are at most %llu bytes", c->priv->path, name, f->size,
                              GK_CKPT_SMALL_MAX);
        gk_status rc = dir_load(c, f, err);
        if (rc != GK_OK) return rc;
        c->files[i].loaded = 1;
    }
    *data = f->data;
    *len = f->len;
    return GK_OK;
}

int64_t gk_ckpt_find_tensor(const gk_ckpt *c, const char *name) {
    if (!c || !name) return -1;
    for (uint32_t p = 0; p < c->n_parts; p++) {
        int64_t j = gk_st_find(c->parts[p].st, name);
        if (j >= 0) return (int64_t)c->priv->part_base[p] + j;
    }
    return -1;
}

const uint8_t *gk_ckpt_tensor_data(const gk_ckpt *c, uint64_t i) {
    if (!c || i >= c->n_tensors) return NULL;
    return c->tensors[i].t->data;
}

/* ---- streaming ------------------------------------------------------------------------- */

static int cmp_begin(const void *a, const void *b) {
    const gk_st_tensor *x = *(const gk_st_tensor *const *)a, *y = *(const gk_st_tensor *const *)b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    return x->nbytes < y->nbytes ? -1 : x->nbytes > y->nbytes;
}

gk_status gk_ckpt_stream_part(gk_ckpt *c, uint32_t part, size_t chunk, gk_ckpt_fill_fn fill,
                              void *rctx, uint8_t *buf, gk_ckpt_chunk_fn fn, void *ctx,
                              gk_err *err) {
    const gk_st *st = c->parts[part].st;
    const gk_st_tensor **order = calloc(st->n_tensors ? st->n_tensors : 1, sizeof *order);
    if (!order) return gk_err_set(err, GK_E_NOMEM, "out of memory");
    for (uint64_t i = 0; i < st->n_tensors; i++) order[i] = &st->tensors[i];
    qsort(order, st->n_tensors, sizeof *order, cmp_begin);
    gk_status rc = GK_OK;
    for (uint64_t k = 0; k < st->n_tensors && rc == GK_OK; k++) {
        const gk_st_tensor *t = order[k];
        if (t->nbytes == 0) continue;
        uint64_t esz = gk_st_dtype_size(t->dtype);
        uint64_t row = t->n_dims ? t->shape[t->n_dims - 1] * esz : esz;
        uint64_t unit = row <= chunk ? row : esz;
        uint64_t step = (chunk / unit) * unit;
        uint64_t idx = c->priv->part_base[part] + (uint64_t)(t - st->tensors);
        for (uint64_t off = 0; off < t->nbytes && rc == GK_OK; off += step) {
            size_t n = (size_t)(t->nbytes - off < step ? t->nbytes - off : step);
            const uint8_t *p = t->data ? t->data + off : buf;
            if (!t->data) {
                rc = fill(rctx, buf, n, t->offset + off, err);
                if (rc != GK_OK) {
                    gk_err_prefix(err, t->name);
                    break;
                }
            }
            rc = fn(ctx, idx, off, p, n, err);
        }
    }
    free(order);
    return rc;
}

gk_status gk_ckpt_stream(gk_ckpt *c, size_t chunk_bytes, gk_ckpt_chunk_fn fn, void *ctx,
                         gk_err *err) {
    if (!c || !fn) return gk_err_set(err, GK_E_INVALID_ARG, "gk_ckpt_stream: NULL argument");
    size_t chunk = chunk_bytes ? chunk_bytes : GK_CKPT_CHUNK;
    if (chunk < 64) chunk = 64;
    if (c->kind == GK_CKPT_ARCHIVE) return gk_ckpt_archive_stream(c, chunk, fn, ctx, err);
    gk_status rc = GK_OK;
    for (uint32_t p = 0; p < c->n_parts && rc == GK_OK; p++)
        rc = gk_ckpt_stream_part(c, p, chunk, NULL, NULL, NULL, fn, ctx, err);
    return rc;
}
