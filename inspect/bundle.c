/* Bundles: a model (file or split set), its manifest and extra files in one deterministic
 * tar + zstd archive (libarchive). Unpacking verifies every tensor against the bundled manifest
 * while extracting and makes each file appear only complete and verified. validate and hash
 * --check read bundles directly, streaming the GGUF members (spec/hash.md "Bundles"). */
#include "gk_inspect.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#define IO_CHUNK (1u << 20)
#define MAX_TEXT_MEMBER (64u << 20)

static const char *base_of(const char *p) {
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

static int ends_with(const char *s, const char *suf) {
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcmp(s + a - b, suf);
}

int gk_bundle_sniff(const char *path) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    unsigned char b[512];
    ssize_t k = pread(fd, b, sizeof b, 0);
    close(fd);
    if (k < 0) return -1;
    if (k >= 4 && b[0] == 0x28 && b[1] == 0xB5 && b[2] == 0x2F && b[3] == 0xFD) return 1; /* zstd */
    if (k >= 262 && !memcmp(b + 257, "ustar", 5)) return 1;                              /* tar */
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* pack                                                                                         */

typedef struct pentry {
    const char *name;      /* member name */
    const char *src;       /* file to copy, or NULL for mem */
    const char *mem;
    size_t mem_len;
    uint64_t size;
} pentry;

static int pentry_cmp(const void *a, const void *b) {
    return strcmp(((const pentry *)a)->name, ((const pentry *)b)->name);
}

static gk_status arch_err(struct archive *a, gk_err *err, gk_status s, const char *what) {
    return gk_err_set(err, s, "%s: %s", what, archive_error_string(a) ? archive_error_string(a) : "archive error");
}

gk_status gk_bundle_pack(const char *model_path, const gk_pack_opts *opts, const char *out,
                         gk_err *err) {
    gk_hash_opts ho = {0};
    ho.tensor_algos = ho.model_algos = 1u << GK_H_XXH3_128;
    ho.file_algos = 1u << GK_H_SHA256;
    gk_hash_result r;
    gk_status st = gk_hash_model(model_path, &ho, &r, err);
    if (st != GK_OK) return st;
    char *mtext = NULL;
    size_t mlen = 0;
    FILE *mf = open_memstream(&mtext, &mlen);
    if (!mf) {
        gk_hash_result_free(&r);
        return gk_err_set(err, GK_E_NOMEM, "out of memory");
    }
    st = gk_manifest_write(mf, &r, err);
    fclose(mf);
    size_t n_extra = opts ? opts->n_extra : 0;
    size_t n = r.n_parts + 1 + n_extra;
    pentry *es = calloc(n, sizeof *es);
    char *tmp = NULL;
    int fd = -1;
    struct archive *a = NULL;
    uint8_t *buf = malloc(IO_CHUNK);
    if (st == GK_OK && (!es || !buf || !mtext)) st = gk_err_set(err, GK_E_NOMEM, "out of memory");
    if (st != GK_OK) goto done;
    size_t k = 0;
    for (uint32_t p = 0; p < r.n_parts; p++) {
        es[k].name = r.parts[p].base;
        es[k].src = r.parts[p].path;
        es[k].size = r.parts[p].size;
        k++;
    }
    es[k].name = GK_MANIFEST_NAME;
    es[k].mem = mtext;
    es[k].mem_len = mlen;
    es[k].size = mlen;
    k++;
    for (size_t i = 0; i < n_extra; i++) {
        struct stat sb;
        if (stat(opts->extra[i], &sb) != 0) {
            st = gk_err_set(err, GK_E_IO, "%s: %s", opts->extra[i], strerror(errno));
            goto done;
        }
        if (!S_ISREG(sb.st_mode)) {
            st = gk_err_set(err, GK_E_INVALID_ARG, "%s: not a regular file", opts->extra[i]);
            goto done;
        }
        es[k].name = base_of(opts->extra[i]);
        es[k].src = opts->extra[i];
        es[k].size = (uint64_t)sb.st_size;
        if (ends_with(es[k].name, ".gguf")) {
            st = gk_err_set(err, GK_E_INVALID_ARG,
                            "%s: extra files cannot be GGUF files (a bundle holds one model)",
                            opts->extra[i]);
            goto done;
        }
        k++;
    }
    qsort(es, n, sizeof *es, pentry_cmp);
    for (size_t i = 1; i < n; i++)
        if (!strcmp(es[i].name, es[i - 1].name)) {
            st = gk_err_set(err, GK_E_INVALID_ARG, "two bundle members would be named '%s'", es[i].name);
            goto done;
        }
    size_t tl = strlen(out) + 16;
    tmp = malloc(tl);
    if (!tmp) { st = gk_err_set(err, GK_E_NOMEM, "out of memory"); goto done; }
    snprintf(tmp, tl, "%s.tmp.XXXXXX", out);
    fd = mkstemp(tmp);
    if (fd < 0) { st = gk_err_set(err, GK_E_IO, "%s: %s", out, strerror(errno)); free(tmp); tmp = NULL; goto done; }
    a = archive_write_new();
    if (!a) { st = gk_err_set(err, GK_E_NOMEM, "out of memory"); goto done; }
    if (archive_write_add_filter_zstd(a) != ARCHIVE_OK ||
        archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
        archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK ||
        archive_write_open_fd(a, fd) != ARCHIVE_OK) {
        st = arch_err(a, err, GK_E_IO, out);
        goto done;
    }
    for (size_t i = 0; i < n && st == GK_OK; i++) {
        struct archive_entry *e = archive_entry_new();
        if (!e) { st = gk_err_set(err, GK_E_NOMEM, "out of memory"); break; }
        archive_entry_set_pathname(e, es[i].name);
        archive_entry_set_size(e, (la_int64_t)es[i].size);
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0644);
        archive_entry_set_mtime(e, 0, 0);
        archive_entry_set_uid(e, 0);
        archive_entry_set_gid(e, 0);
        if (archive_write_header(a, e) != ARCHIVE_OK) st = arch_err(a, err, GK_E_IO, out);
        archive_entry_free(e);
        if (st != GK_OK) break;
        if (!es[i].src) {
            if (archive_write_data(a, es[i].mem, es[i].mem_len) != (la_ssize_t)es[i].mem_len)
                st = arch_err(a, err, GK_E_IO, out);
            continue;
        }
        int sfd = open(es[i].src, O_RDONLY | O_CLOEXEC);
        if (sfd < 0) { st = gk_err_set(err, GK_E_IO, "%s: %s", es[i].src, strerror(errno)); break; }
        uint64_t left = es[i].size;
        while (left && st == GK_OK) {
            ssize_t got = read(sfd, buf, left < IO_CHUNK ? (size_t)left : IO_CHUNK);
            if (got < 0 && errno == EINTR) continue;
            if (got <= 0) {
                st = gk_err_set(err, GK_E_IO, "%s: changed or unreadable while packing", es[i].src);
                break;
            }
            if (archive_write_data(a, buf, (size_t)got) != got) st = arch_err(a, err, GK_E_IO, out);
            left -= (uint64_t)got;
        }
        close(sfd);
    }
    if (st == GK_OK && archive_write_close(a) != ARCHIVE_OK) st = arch_err(a, err, GK_E_IO, out);
    if (st == GK_OK && fsync(fd) != 0) st = gk_err_set(err, GK_E_IO, "%s: fsync: %s", out, strerror(errno));
    if (st == GK_OK && rename(tmp, out) != 0) st = gk_err_set(err, GK_E_IO, "%s: %s", out, strerror(errno));
done:
    if (a) archive_write_free(a);
    if (fd >= 0) close(fd);
    if (tmp) {
        if (st != GK_OK) unlink(tmp);
        free(tmp);
    }
    free(buf);
    free(es);
    free(mtext);
    gk_hash_result_free(&r);
    return st;
}

/* ------------------------------------------------------------------------------------------ */
/* Reading bundles                                                                              */

static gk_status open_reader(const char *path, struct archive **out, gk_err *err) {
    struct archive *a = archive_read_new();
    if (!a) return gk_err_set(err, GK_E_NOMEM, "out of memory");
    archive_read_support_filter_zstd(a);
    archive_read_support_filter_gzip(a);
    archive_read_support_filter_xz(a);
    archive_read_support_format_tar(a);
    if (archive_read_open_filename(a, path, 1 << 16) != ARCHIVE_OK) {
        gk_status st = arch_err(a, err, errno == ENOENT ? GK_E_IO : GK_E_BAD_ARCHIVE, path);
        archive_read_free(a);
        return st;
    }
    *out = a;
    return GK_OK;
}

/* A member is safe if it is a regular file with a plain relative name in the bundle's top
 * level: no absolute path, no "..", no directory part, no link, no device. */
static gk_status check_member(struct archive_entry *e, const char *bundle, gk_err *err) {
    const char *nm = archive_entry_pathname(e);
    if (!nm || !*nm) return gk_err_set(err, GK_E_UNSAFE_PATH, "%s: a member has no name", bundle);
    if (nm[0] == '/')
        return gk_err_set(err, GK_E_UNSAFE_PATH, "%s: member '%s' has an absolute path", bundle, nm);
    if (!strcmp(nm, "..") || !strncmp(nm, "../", 3) || strstr(nm, "/../") || ends_with(nm, "/.."))
        return gk_err_set(err, GK_E_UNSAFE_PATH, "%s: member '%s' contains '..'", bundle, nm);
    if (archive_entry_hardlink(e) || archive_entry_filetype(e) == AE_IFLNK)
        return gk_err_set(err, GK_E_UNSAFE_PATH, "%s: member '%s' is a link", bundle, nm);
    if (archive_entry_filetype(e) != AE_IFREG)
        return gk_err_set(err, GK_E_UNSAFE_PATH,
                          "%s: member '%s' is not a regular file (directory, device or fifo)", bundle, nm);
    if (strchr(nm, '/') || !strcmp(nm, "."))
        return gk_err_set(err, GK_E_UNSAFE_PATH,
                          "%s: member '%s' is not in the top level (bundles are flat)", bundle, nm);
    for (const char *p = nm; *p; p++)
        if ((unsigned char)*p < 0x20)
            return gk_err_set(err, GK_E_UNSAFE_PATH, "%s: member name with a control character", bundle);
    return GK_OK;
}

/* The next member, checked: GK_OK with *nm set, or GK_OK with *nm NULL at the end. */
static gk_status next_member(struct archive *a, const char *bundle, struct archive_entry **e,
                             const char **nm, gk_err *err) {
    *nm = NULL;
    int rc = archive_read_next_header(a, e);
    if (rc == ARCHIVE_EOF) return GK_OK;
    if (rc != ARCHIVE_OK) return arch_err(a, err, GK_E_BAD_ARCHIVE, bundle);
    gk_status st = check_member(*e, bundle, err);
    if (st == GK_OK) *nm = archive_entry_pathname(*e);
    return st;
}

typedef struct ardata {
    struct archive *a;
    int fd;              /* tee target, or -1 */
    int failed;
} ardata;

static int64_t ar_read(void *c, void *buf, size_t n) {
    ardata *d = c;
    la_ssize_t k = archive_read_data(d->a, buf, n);
    if (k < 0) { d->failed = 1; return -1; }
    if (k > 0 && d->fd >= 0) {
        size_t done = 0;
        while (done < (size_t)k) {
            ssize_t w = write(d->fd, (const char *)buf + done, (size_t)k - done);
            if (w < 0 && errno == EINTR) continue;
            if (w <= 0) { d->failed = 2; return -1; }
            done += (size_t)w;
        }
    }
    return k;
}

static gk_status read_text_member(struct archive *a, int tee_fd, char **text, size_t *len,
                                  const char *bundle, gk_err *err) {
    size_t cap = 1 << 16, n = 0;
    char *b = malloc(cap + 1);
    ardata d = {a, tee_fd, 0};
    while (b) {
        if (n == cap) {
            if (cap >= MAX_TEXT_MEMBER) { free(b); return gk_err_set(err, GK_E_BAD_ARCHIVE, "%s: manifest too large", bundle); }
            char *nb = realloc(b, 2 * cap + 1);
            if (!nb) break;
            b = nb;
            cap *= 2;
        }
        int64_t k = ar_read(&d, b + n, cap - n);
        if (k < 0) { free(b); return gk_err_set(err, d.failed == 2 ? GK_E_IO : GK_E_BAD_ARCHIVE, "%s: cannot read the manifest member", bundle); }
        if (k == 0) break;
        n += (size_t)k;
    }
    if (!b) return gk_err_set(err, GK_E_NOMEM, "out of memory");
    b[n] = 0;
    *text = b;
    *len = n;
    return GK_OK;
}

static gk_status copy_member(struct archive *a, int fd, const char *bundle, gk_err *err) {
    uint8_t *buf = malloc(IO_CHUNK);
    if (!buf) return gk_err_set(err, GK_E_NOMEM, "out of memory");
    ardata d = {a, fd, 0};
    gk_status st = GK_OK;
    for (;;) {
        int64_t k = ar_read(&d, buf, IO_CHUNK);
        if (k < 0) { st = gk_err_set(err, d.failed == 2 ? GK_E_IO : GK_E_BAD_ARCHIVE, "%s: %s", bundle, d.failed == 2 ? strerror(errno) : archive_error_string(a)); break; }
        if (k == 0) break;
    }
    free(buf);
    return st;
}

gk_status gk_bundle_hash(const char *bundle, const gk_hash_opts *opts, gk_hash_result *out,
                         char **manifest_out, size_t *manifest_len, gk_err *err) {
    struct archive *a = NULL;
    if (manifest_out) *manifest_out = NULL;
    gk_status st = open_reader(bundle, &a, err);
    if (st != GK_OK) return st;
    st = gk_hash_stream_begin(opts, out, err);
    int n_gguf = 0;
    struct archive_entry *e;
    while (st == GK_OK) {
        const char *nm = NULL;
        st = next_member(a, bundle, &e, &nm, err);
        if (st != GK_OK || !nm) break;
        if (ends_with(nm, ".gguf")) {
            ardata d = {a, -1, 0};
            st = gk_hash_stream_part(out, nm, ar_read, &d, err);
            n_gguf++;
        } else if (manifest_out && !strcmp(nm, GK_MANIFEST_NAME)) {
            free(*manifest_out);
            *manifest_out = NULL;
            st = read_text_member(a, -1, manifest_out, manifest_len, bundle, err);
        }
    }
    if (st == GK_OK && !n_gguf) st = gk_err_set(err, GK_E_NOT_FOUND, "%s: the bundle holds no .gguf member", bundle);
    if (st == GK_OK) st = gk_hash_stream_end(out, err);
    archive_read_free(a);
    if (st != GK_OK) {
        gk_hash_result_free(out);
        if (manifest_out) { free(*manifest_out); *manifest_out = NULL; }
    }
    return st;
}

/* ------------------------------------------------------------------------------------------ */
/* unpack                                                                                       */

typedef struct outfile {
    char *name, *tmp;
} outfile;

gk_status gk_bundle_unpack(const char *bundle, const char *dir, gk_err *err) {
    struct archive *a = NULL;
    gk_status st = open_reader(bundle, &a, err);
    if (st != GK_OK) return st;
    outfile *outs = NULL;
    size_t n_out = 0;
    char *mtext = NULL;
    size_t mlen = 0;
    gk_hash_result r;
    gk_hash_opts ho = {0};
    ho.tensor_algos = ho.model_algos = 1u << GK_H_XXH3_128;
    ho.file_algos = 1u << GK_H_SHA256;
    st = gk_hash_stream_begin(&ho, &r, err);
    int n_gguf = 0;
    struct archive_entry *e;
    while (st == GK_OK) {
        const char *nm = NULL;
        st = next_member(a, bundle, &e, &nm, err);
        if (st != GK_OK || !nm) break;
        for (size_t i = 0; i < n_out; i++)
            if (!strcmp(outs[i].name, nm)) st = gk_err_set(err, GK_E_BAD_ARCHIVE, "%s: member '%s' appears twice", bundle, nm);
        if (st != GK_OK) break;
        outfile *no = realloc(outs, (n_out + 1) * sizeof *no);
        if (!no) { st = gk_err_set(err, GK_E_NOMEM, "out of memory"); break; }
        outs = no;
        outfile *o = &outs[n_out];
        o->name = strdup(nm);
        size_t tl = strlen(dir) + strlen(nm) + 32;
        o->tmp = malloc(tl);
        if (!o->name || !o->tmp) { free(o->name); free(o->tmp); st = gk_err_set(err, GK_E_NOMEM, "out of memory"); break; }
        snprintf(o->tmp, tl, "%s/.%s.tmp.XXXXXX", dir, nm);
        int fd = mkstemp(o->tmp);
        if (fd < 0) {
            st = gk_err_set(err, GK_E_IO, "%s: %s", o->tmp, strerror(errno));
            free(o->name);
            free(o->tmp);
            break;
        }
        n_out++;
        mode_t um = umask(0);
        umask(um);
        if (fchmod(fd, (archive_entry_perm(e) & 0755 ? archive_entry_perm(e) & 0755 : 0644) & ~um) != 0) {
            st = gk_err_set(err, GK_E_IO, "%s: %s", o->tmp, strerror(errno));
            close(fd);
            break;
        }
        if (ends_with(nm, ".gguf")) {
            ardata d = {a, fd, 0};
            st = gk_hash_stream_part(&r, nm, ar_read, &d, err);
            if (st != GK_OK && d.failed == 2) st = gk_err_set(err, GK_E_IO, "%s: write error: %s", o->tmp, strerror(errno));
            n_gguf++;
        } else if (!strcmp(nm, GK_MANIFEST_NAME)) {
            st = read_text_member(a, fd, &mtext, &mlen, bundle, err);
        } else {
            st = copy_member(a, fd, bundle, err);
        }
        if (st == GK_OK && fsync(fd) != 0) st = gk_err_set(err, GK_E_IO, "%s: fsync: %s", o->tmp, strerror(errno));
        if (close(fd) != 0 && st == GK_OK) st = gk_err_set(err, GK_E_IO, "%s: %s", o->tmp, strerror(errno));
    }
    if (st == GK_OK) st = gk_hash_stream_end(&r, err);
    if (st == GK_OK && !mtext)
        st = gk_err_set(err, GK_E_NOT_FOUND, "%s: no %s in the bundle: nothing to verify against", bundle, GK_MANIFEST_NAME);
    if (st == GK_OK && !n_gguf) st = gk_err_set(err, GK_E_NOT_FOUND, "%s: the bundle holds no .gguf member", bundle);
    if (st == GK_OK) {
        gk_manifest m;
        st = gk_manifest_parse(mtext, mlen, NULL, &m, err);
        if (st == GK_OK) {
            gk_check c;
            memset(&c, 0, sizeof c);
            st = gk_check_compare(&m, &r, &c, err);
            if (st == GK_OK && c.n) {
                const gk_cfinding *f = &c.f[0];
                st = gk_err_set(err, GK_E_MISMATCH,
                                "%s: %zu problem%s against the bundled manifest, first: %s %s%s%s %s; "
                                "nothing extracted", bundle, c.n, c.n == 1 ? "" : "s",
                                f->scope == GK_MS_TENSOR ? "tensor" : f->scope == GK_MS_MODEL ? "model" : "file",
                                f->name ? "'" : "", f->name ? f->name : "", f->name ? "'" : "",
                                gk_ckind_name(f->kind));
            }
            gk_check_free(&c); /* empty after a failed compare */
            gk_manifest_free(&m);
        }
    }
    for (size_t i = 0; i < n_out; i++) {
        if (st == GK_OK) {
            size_t fl = strlen(dir) + strlen(outs[i].name) + 2;
            char *final = malloc(fl);
            if (!final) st = gk_err_set(err, GK_E_NOMEM, "out of memory");
            else {
                snprintf(final, fl, "%s/%s", dir, outs[i].name);
                if (rename(outs[i].tmp, final) != 0)
                    st = gk_err_set(err, GK_E_IO, "%s: %s", final, strerror(errno));
                free(final);
            }
        }
        if (st != GK_OK) unlink(outs[i].tmp);
        free(outs[i].name);
        free(outs[i].tmp);
    }
    free(outs);
    free(mtext);
    gk_hash_result_free(&r);
    archive_read_free(a);
    return st;
}

/* ------------------------------------------------------------------------------------------ */
/* validate a bundle, streaming                                                                 */

static gk_vreport *new_rep(gk_vreport **reps, size_t *n, const char *bundle, const char *member) {
    gk_vreport *nr = realloc(*reps, (*n + 1) * sizeof *nr);
    if (!nr) return NULL;
    *reps = nr;
    gk_vreport *r = &nr[*n];
    memset(r, 0, sizeof *r);
    size_t l = strlen(bundle) + (member ? strlen(member) : 0) + 2;
    r->path = malloc(l);
    if (!r->path) return NULL;
    if (member) snprintf(r->path, l, "%s:%s", bundle, member);
    else snprintf(r->path, l, "%s", bundle);
    (*n)++;
    return r;
}

typedef struct vstate {
    gk_hash_result hr;      /* tensors and their xxh3, accumulated over members */
    size_t first_rep;
} vstate;

/* Streams one GGUF member: header checks (after the stream is finished, when padding and
 * trailing bytes are known), data checks per tensor, per-tensor XXH3-128. */
static gk_status validate_member(struct archive *a, const char *nm, gk_vreport *r, vstate *vs,
                                  const gk_kctx *k, int no_data, gk_err *err) {
    ardata d = {a, -1, 0};
    gk_gguf_stream *s = NULL;
    gk_err e = {0};
    gk_status st = gk_gguf_stream_open(ar_read, &d, 0, &s, &e);
    if (st != GK_OK) {
        gk_vreport_add(r, GK_SEV_ERROR, gk_status_name(e.status), NULL, NULL,
                       e.has_offset ? (int64_t)e.offset : -1, "%s", e.msg);
        return GK_OK;
    }
    const gk_gguf *g = gk_gguf_stream_header(s);
    uint64_t first = vs->hr.n_tensors;
    if (g->n_tensors > (SIZE_MAX / sizeof(gk_hash_tensor)) - first) { gk_gguf_stream_close(s); return gk_err_set(err, GK_E_NOMEM, "too many tensors"); }
    gk_hash_tensor *nt = realloc(vs->hr.tensors, (size_t)(first + g->n_tensors + 1) * sizeof *nt);
    if (!nt) { gk_gguf_stream_close(s); return gk_err_set(err, GK_E_NOMEM, "out of memory"); }
    vs->hr.tensors = nt;
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        gk_hash_tensor *h = &nt[first + i];
        memset(h, 0, sizeof *h);
        h->name = malloc((size_t)g->tensors[i].name.len + 1);
        if (h->name) {
            memcpy(h->name, g->tensors[i].name.ptr, (size_t)g->tensors[i].name.len);
            h->name[g->tensors[i].name.len] = 0;
        }
        h->name_len = h->name ? (size_t)g->tensors[i].name.len : 0;
        h->nbytes = g->tensors[i].nbytes;
        vs->hr.n_tensors++;
    }
    size_t cap = 4u << 20;
    uint8_t *buf = malloc(cap);
    XXH3_state_t *x3 = XXH3_createState();
    if (!buf || !x3) { free(buf); XXH3_freeState(x3); gk_gguf_stream_close(s); return gk_err_set(err, GK_E_NOMEM, "out of memory"); }
    gk_dcheck *dc = calloc(g->n_tensors ? (size_t)g->n_tensors : 1, sizeof *dc);
    int stream_bad = 0;
    while (dc) {
        int64_t idx = -1;
        st = gk_gguf_stream_next(s, &idx, &e);
        if (st != GK_OK || idx < 0) break;
        const gk_tensor *t = &g->tensors[idx];
        const gk_type_info *ti = gk_type_info_get(t->type);
        size_t ts = ti && ti->type_size ? ti->type_size : 1;
        size_t want = cap / ts * ts;
        gk_dcheck_init(&dc[idx], t, g->data_start + t->offset, k);
        XXH3_128bits_reset(x3);
        for (;;) {
            size_t fill = 0;
            while (fill < want) {
                size_t got = 0;
                st = gk_gguf_stream_read(s, buf + fill, want - fill, &got, &e);
                if (st != GK_OK || !got) break;
                fill += got;
            }
            if (fill) {
                XXH3_128bits_update(x3, buf, fill);
                if (!no_data) gk_dcheck_feed(&dc[idx], k, buf, fill);
            }
            if (st != GK_OK || fill < want) break;
        }
        if (st != GK_OK) break;
        XXH128_canonical_t c;
        XXH128_canonicalFromHash(&c, XXH3_128bits_digest(x3));
        memcpy(vs->hr.tensors[first + (uint64_t)idx].d[GK_H_XXH3_128].b, c.digest, 16);
    }
    if (!dc) st = gk_err_set(&e, GK_E_NOMEM, "out of memory");
    if (st == GK_OK) st = gk_gguf_stream_finish(s, &e);
    if (st != GK_OK) {
        stream_bad = 1;
        gk_vreport_add(r, GK_SEV_ERROR, e.status == GK_E_TRUNCATED ? "truncated" : gk_status_name(e.status),
                       NULL, NULL, e.has_offset ? (int64_t)e.offset : -1, "%s", e.msg);
    }
    gk_validate_header(r, g);
    if (dc && !no_data && !stream_bad) {
        for (uint64_t i = 0; i < g->n_tensors; i++)
            if (dc[i].t) gk_dcheck_report(r, &dc[i]);
    }
    if (!stream_bad) {
        const gk_tensor **ts = malloc((g->n_tensors ? g->n_tensors : 1) * sizeof *ts);
        uint64_t sc = 0;
        const gk_kv *kv = NULL;
        int64_t ki = gk_gguf_find_kv(g, "split.count");
        if (ki >= 0) kv = &g->kv[ki];
        int ok = 0;
        if (kv) sc = gk_value_as_u64(&kv->val, &ok);
        if (ts && (!kv || sc <= 1)) {
            for (uint64_t i = 0; i < g->n_tensors; i++) ts[i] = &g->tensors[i];
            gk_validate_model(r, g, ts, g->n_tensors);
        } else if (kv && sc > 1) {
            gk_vreport_add(r, GK_SEV_NOTE, "arch_unchecked", NULL, "split.count", -1,
                           "part of a split set inside a bundle: architecture checks need the "
                           "whole set (unpack it and validate the first part)");
        }
        free(ts);
    }
    (void)nm;
    free(dc);
    free(buf);
    XXH3_freeState(x3);
    gk_gguf_stream_close(s);
    /* drain what the stream reader left */
    uint8_t tmp[4096];
    while (ar_read(&d, tmp, sizeof tmp) > 0) {}
    return GK_OK;
}

gk_status gk_bundle_validate(const char *bundle, const gk_validate_opts *opts,
                             gk_vreport **reps, size_t *n_reps, gk_err *err) {
    struct archive *a = NULL;
    gk_status st = open_reader(bundle, &a, err);
    if (st != GK_OK) {
        if (st == GK_E_IO) return st;
        gk_vreport *r = new_rep(reps, n_reps, bundle, NULL);
        if (!r) return gk_err_set(err, GK_E_NOMEM, "out of memory");
        gk_vreport_add(r, GK_SEV_ERROR, "bad_bundle", NULL, NULL, -1, "%s", err->msg);
        return GK_OK;
    }
    gk_kctx k;
    st = gk_kctx_init(&k, -1, err);
    if (st != GK_OK) { archive_read_free(a); return st; }
    vstate vs;
    memset(&vs, 0, sizeof vs);
    vs.hr.tensor_algos = 1u << GK_H_XXH3_128;
    size_t first_rep = *n_reps;
    gk_vreport *top = new_rep(reps, n_reps, bundle, NULL);
    if (!top) { archive_read_free(a); return gk_err_set(err, GK_E_NOMEM, "out of memory"); }
    char *mtext = NULL;
    size_t mlen = 0;
    int n_gguf = 0;
    struct archive_entry *e;
    for (;;) {
        int rc = archive_read_next_header(a, &e);
        if (rc == ARCHIVE_EOF) break;
        gk_err e1 = {0};
        if (rc != ARCHIVE_OK) {
            arch_err(a, &e1, GK_E_BAD_ARCHIVE, bundle);
            gk_vreport_add(&(*reps)[first_rep], GK_SEV_ERROR, "bad_bundle", NULL, NULL, -1, "%s", e1.msg);
            break;
        }
        if (check_member(e, bundle, &e1) != GK_OK) {
            gk_vreport_add(&(*reps)[first_rep], GK_SEV_ERROR, "unsafe_member", NULL, NULL, -1, "%s", e1.msg);
            continue;
        }
        const char *nm = archive_entry_pathname(e);
        if (ends_with(nm, ".gguf")) {
            gk_vreport *r = new_rep(reps, n_reps, bundle, nm);
            if (!r) { st = gk_err_set(err, GK_E_NOMEM, "out of memory"); break; }
            st = validate_member(a, nm, r, &vs, &k, opts && opts->no_data, err);
            if (st != GK_OK) break;
            n_gguf++;
        } else if (!strcmp(nm, GK_MANIFEST_NAME)) {
            free(mtext);
            mtext = NULL;
            if (read_text_member(a, -1, &mtext, &mlen, bundle, &e1) != GK_OK)
                gk_vreport_add(&(*reps)[first_rep], GK_SEV_ERROR, "bad_bundle", NULL, NULL, -1, "%s", e1.msg);
        }
    }
    gk_vreport *top2 = &(*reps)[first_rep];
    if (st == GK_OK) {
        if (!n_gguf)
            gk_vreport_add(top2, GK_SEV_ERROR, "no_gguf", NULL, NULL, -1, "the bundle holds no .gguf member");
        if (!mtext) {
            gk_vreport_add(top2, GK_SEV_WARNING, "no_manifest", NULL, NULL, -1,
                           "the bundle has no %s: tensor hashes cannot be verified", GK_MANIFEST_NAME);
        } else if (n_gguf) {
            gk_manifest m;
            gk_err e2 = {0};
            if (gk_manifest_parse(mtext, mlen, NULL, &m, &e2) != GK_OK) {
                gk_vreport_add(top2, GK_SEV_ERROR, "bad_manifest", NULL, NULL, -1, "%s: %s", GK_MANIFEST_NAME, e2.msg);
            } else {
                gk_check c;
                /* only per-tensor lines are compared here (model and file hashes: hash --check) */
                for (size_t i = 0; i < m.n; i++)
                    if (m.e[i].scope != GK_MS_TENSOR) m.e[i].used = 1;
                gk_hash_result *hr = &vs.hr;
                if (gk_check_compare(&m, hr, &c, &e2) == GK_OK) {
                    for (size_t i = 0; i < c.n; i++) {
                        const gk_cfinding *f = &c.f[i];
                        if (f->scope != GK_MS_TENSOR) continue;
                        if (f->kind == GK_CK_MISMATCH)
                            gk_vreport_add(top2, GK_SEV_ERROR, "hash_mismatch", f->name, NULL, -1,
                                           "tensor '%s': %s %s differs from the bundled manifest's %s",
                                           f->name, gk_halgo_name(f->algo), f->got, f->expected);
                        else
                            gk_vreport_add(top2, GK_SEV_ERROR, f->kind == GK_CK_MISSING ? "hash_missing_tensor" : "hash_extra_tensor",
                                           f->name, NULL, -1,
                                           f->kind == GK_CK_MISSING ? "tensor '%s' is in the bundled manifest but not in the model"
                                                                    : "tensor '%s' is not in the bundled manifest",
                                           f->name);
                    }
                    gk_check_free(&c);
                }
                gk_manifest_free(&m);
            }
        }
    }
    free(mtext);
    gk_hash_result_free(&vs.hr);
    archive_read_free(a);
    return st;
}
