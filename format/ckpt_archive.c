/* Checkpoint in an archive (.tar, .tar.gz, .tar.zst, .zip, ...), read forward-only through
 * libarchive, never unpacked to disk. Plan pass (gk_ckpt_archive_scan): small root files are
 * read into memory, each safetensors member's header only; data is skipped. Write pass
 * (gk_ckpt_archive_stream): a second forward pass streams every part's tensor bytes in archive
 * order through one bounded buffer. Entries that could escape or alias (absolute paths, "..",
 * symlinks, hard links, devices, fifos) are rejected, never followed. */
#include "ckpt_internal.h"

#include <archive.h>
#include <archive_entry.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define SMALL_BUDGET (256ull * 1024 * 1024) /* total bytes of small files kept from an archive */

static gk_status ar_open(const char *path, struct archive **out, gk_err *err) {
    struct archive *a = archive_read_new();
    if (!a) return gk_err_set(err, GK_E_NOMEM, "out of memory");
    archive_read_support_filter_all(a);
    archive_read_support_format_tar(a);
    archive_read_support_format_zip(a);
    if (archive_read_open_filename(a, path, 65536) != ARCHIVE_OK) {
        gk_status rc = gk_err_set(err, GK_E_BAD_ARCHIVE, "%s: cannot read as an archive: %s", path,
                                  archive_error_string(a) ? archive_error_string(a) : "?");
        archive_read_free(a);
        return rc;
    }
    *out = a;
    return GK_OK;
}

/* Reads up to n bytes of the current entry; returns the count, or -1 on error. */
static int64_t read_full(struct archive *a, void *buf, size_t n) {
    size_t got = 0;
    while (got < n) {
        la_ssize_t r = archive_read_data(a, (uint8_t *)buf + got, n - got);
        if (r < 0) return -1;
        if (r == 0) break;
        got += (size_t)r;
    }
    return (int64_t)got;
}

static gk_status ar_fail(struct archive *a, const char *path, const char *what, gk_err *err) {
    return gk_err_set(err, GK_E_BAD_ARCHIVE, "%s: %s: %s", path, what,
                      archive_error_string(a) ? archive_error_string(a) : "read error");
}

/* Normalizes an entry path ("./a//b/" -> "a/b") into *out (malloc'd) with its component count.
 * Absolute paths (also "C:" and "\\") and ".." components (also between backslashes) are
 * GK_E_UNSAFE_PATH. */
static gk_status norm_path(const char *raw, char **out, int *depth, gk_err *err) {
    *out = NULL;
    *depth = 0;
    if (raw[0] == '/' || raw[0] == '\\' ||
        (((raw[0] | 32) >= 'a' && (raw[0] | 32) <= 'z') && raw[1] == ':'))
        return gk_err_set(err, GK_E_UNSAFE_PATH, "archive entry '%s': absolute path", raw);
    for (const char *s = raw; *s;) {
        size_t len = strcspn(s, "/\\");
        if (len == 2 && s[0] == '.' && s[1] == '.')
            return gk_err_set(err, GK_E_UNSAFE_PATH, "archive entry '%s': \"..\" component", raw);
        s += len;
        if (*s) s++;
    }
    char *r = malloc(strlen(raw) + 1);
    if (!r) return gk_err_set(err, GK_E_NOMEM, "out of memory");
    size_t o = 0;
    for (const char *s = raw; *s;) {
        size_t len = strcspn(s, "/");
        if (len && !(len == 1 && s[0] == '.')) {
            if (o) r[o++] = '/';
            memcpy(r + o, s, len);
            o += len;
            (*depth)++;
        }
        s += len;
        if (*s) s++;
    }
    r[o] = 0;
    *out = r;
    return GK_OK;
}

/* Checks an entry's type; *regular is 1 for a regular file, 0 for a directory. */
static gk_status entry_kind(struct archive_entry *e, const char *path, int *regular,
                            gk_err *err) {
    if (archive_entry_hardlink(e))
        return gk_err_set(err, GK_E_UNSAFE_PATH, "archive entry '%s': hard link to '%s'", path,
                          archive_entry_hardlink(e));
    mode_t t = archive_entry_filetype(e);
    if (t == AE_IFLNK || archive_entry_symlink(e))
        return gk_err_set(err, GK_E_UNSAFE_PATH, "archive entry '%s': symbolic link", path);
    if (t == AE_IFDIR) {
        *regular = 0;
        return GK_OK;
    }
    if (t != AE_IFREG)
        return gk_err_set(err, GK_E_UNSAFE_PATH, "archive entry '%s': not a regular file "
                          "(device, fifo or socket)", path);
    *regular = 1;
    return GK_OK;
}

/* Length of the first component of a normalized path. */
static size_t first_len(const char *p) {
    const char *s = strchr(p, '/');
    return s ? (size_t)(s - p) : strlen(p);
}

static int ends_with(const char *s, const char *suf) {
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && memcmp(s + a - b, suf, b) == 0;
}

/* The archive's name without its extensions. */
static char *archive_stem(const char *path) {
    const char *b = strrchr(path, '/');
    char *r = strdup(b ? b + 1 : path);
    if (!r) return NULL;
    static const char *const EXT[] = {".gz", ".zst", ".xz", ".bz2", ".tgz", ".tzst",
                                      ".txz", ".tar", ".zip"};
    for (int again = 1; again;) {
        again = 0;
        for (size_t i = 0; i < sizeof EXT / sizeof EXT[0]; i++)
            if (ends_with(r, EXT[i]) && strlen(r) > strlen(EXT[i])) {
                r[strlen(r) - strlen(EXT[i])] = 0;
                again = 1;
            }
    }
    return r;
}

/* Reads the current member's start (8 + N bytes at most, as available) into f->hdr and leaves
 * the rest unread. */
static gk_status read_st_header(struct archive *a, const char *path, gk_cfile *f, int size_set,
                                gk_err *err) {
    uint8_t h8[8];
    int64_t got = read_full(a, h8, 8);
    if (got < 0) return ar_fail(a, path, f->member, err);
    uint64_t n = 0;
    for (int i = 0; i < 8; i++) n |= (uint64_t)h8[i] << (8 * i);
    size_t want = (size_t)got;
    if (got == 8 && n <= GK_ST_MAX_HEADER && (!size_set || 8 + n <= f->size)) want = 8 + (size_t)n;
    f->hdr = malloc(want ? want : 1);
    if (!f->hdr) return gk_err_set(err, GK_E_NOMEM, "out of memory");
    memcpy(f->hdr, h8, (size_t)got);
    if (want > 8) {
        int64_t g2 = read_full(a, f->hdr + 8, want - 8);
        if (g2 < 0) return ar_fail(a, path, f->member, err);
        want = 8 + (size_t)g2;
    }
    f->hdr_len = want;
    return GK_OK;
}

/* Reads a small member fully (if it fits the limits) into f->data. *consumed: bytes read. */
static gk_status read_small(struct archive *a, const char *path, gk_cfile *f, int size_set,
                            uint64_t *budget, uint64_t *consumed, gk_err *err) {
    *consumed = 0;
    if (size_set && (f->size > GK_CKPT_SMALL_MAX || f->size > *budget)) {
        f->too_big = 1;
        return GK_OK;
    }
    size_t cap = size_set ? (size_t)f->size + 1 : 65536, n = 0;
    uint8_t *buf = malloc(cap);
    if (!buf) return gk_err_set(err, GK_E_NOMEM, "out of memory");
    for (;;) {
        if (n + 1 >= cap) {
            if (cap > GK_CKPT_SMALL_MAX + 1 || cap > *budget) {
                free(buf);
                f->too_big = 1;
                *consumed = n;
                return GK_OK;
            }
            uint8_t *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                return gk_err_set(err, GK_E_NOMEM, "out of memory");
            }
            buf = nb;
            cap *= 2;
        }
        la_ssize_t r = archive_read_data(a, buf + n, cap - 1 - n);
        if (r < 0) {
            free(buf);
            return ar_fail(a, path, f->member, err);
        }
        if (r == 0) break;
        n += (size_t)r;
    }
    if (n > GK_CKPT_SMALL_MAX || n > *budget) {
        free(buf);
        f->too_big = 1;
        *consumed = n;
        return GK_OK;
    }
    buf[n] = 0;
    f->data = buf;
    f->len = n;
    *budget -= n;
    *consumed = n;
    return GK_OK;
}

/* Skips the rest of the member; when its size is not in the header, counts it into f->size. */
static gk_status finish_member(struct archive *a, const char *path, gk_cfile *f, int size_set,
                               uint64_t consumed, gk_err *err) {
    if (size_set) {
        if (archive_read_data_skip(a) != ARCHIVE_OK) return ar_fail(a, path, f->member, err);
        return GK_OK;
    }
    uint8_t tmp[65536];
    uint64_t total = consumed;
    int64_t r;
    while ((r = read_full(a, tmp, sizeof tmp)) > 0) total += (uint64_t)r;
    if (r < 0) return ar_fail(a, path, f->member, err);
    f->size = total;
    return GK_OK;
}

/* Advances to the next entry: *eof at the end, else its normalized path (*np, malloc'd), depth
 * and kind (1 regular file, 0 directory); unsafe entries are errors. */
static gk_status next_entry(struct archive *a, const char *path, struct archive_entry **ep,
                            char **np, int *depth, int *regular, int *eof, gk_err *err) {
    *np = NULL;
    *eof = 0;
    int r = archive_read_next_header(a, ep);
    if (r == ARCHIVE_EOF) {
        *eof = 1;
        return GK_OK;
    }
    if (r != ARCHIVE_OK && r != ARCHIVE_WARN) return ar_fail(a, path, "bad entry header", err);
    const char *raw = archive_entry_pathname(*ep);
    if (!raw) return gk_err_set(err, GK_E_BAD_ARCHIVE, "%s: entry without a usable path", path);
    gk_status rc = norm_path(raw, np, depth, err);
    if (rc == GK_OK) rc = entry_kind(*ep, raw, regular, err);
    if (rc != GK_OK) {
        free(*np);
        *np = NULL;
    }
    return rc;
}

gk_status gk_ckpt_archive_scan(gk_ckpt *c, gk_err *err) {
    gk_ckpt_priv *p = c->priv;
    struct archive *a;
    gk_status rc = ar_open(p->path, &a, err);
    if (rc != GK_OK) return rc;
    uint64_t cap = 0, budget = SMALL_BUDGET, n_files = 0;
    char *first = NULL; /* first component of the first file */
    int root_file = 0, mixed = 0;
    for (;;) {
        struct archive_entry *e;
        char *np;
        int depth = 0, regular = 0, eof;
        rc = next_entry(a, p->path, &e, &np, &depth, &regular, &eof, err);
        if (rc != GK_OK || eof) break;
        /* Directories, and the resource-fork folder macOS zip tools add, are not files of it. */
        if (!regular || depth == 0 || (first_len(np) == 8 && strncmp(np, "__MACOSX", 8) == 0)) {
            free(np);
            continue;
        }
        n_files++;
        if (depth == 1) root_file = 1;
        if (!first) first = strndup(np, first_len(np));
        else if (first_len(np) != strlen(first) || strncmp(np, first, strlen(first)) != 0) mixed = 1;
        if (depth > 2) { /* deeper than any root file can be */
            free(np);
            continue;
        }
        /* (a member twice is found after sorting, in ckpt.c, without a quadratic search) */
        if (p->n_cf == cap) {
            cap = cap ? cap * 2 : 16;
            gk_cfile *nc = realloc(p->cf, cap * sizeof *nc);
            if (!nc) {
                free(np);
                rc = gk_err_set(err, GK_E_NOMEM, "out of memory");
                break;
            }
            p->cf = nc;
        }
        gk_cfile *f = &p->cf[p->n_cf++];
        memset(f, 0, sizeof *f);
        f->member = np;
        int size_set = archive_entry_size_is_set(e);
        f->size = size_set ? (uint64_t)archive_entry_size(e) : 0;
        uint64_t consumed = 0;
        if (ends_with(np, ".safetensors")) {
            rc = read_st_header(a, p->path, f, size_set, err);
            consumed = f->hdr_len;
        } else {
            rc = read_small(a, p->path, f, size_set, &budget, &consumed, err);
        }
        if (rc == GK_OK) rc = finish_member(a, p->path, f, size_set, consumed, err);
        if (rc != GK_OK) break;
    }
    archive_read_free(a);
    if (rc == GK_OK && n_files == 0)
        rc = gk_err_set(err, GK_E_BAD_ARCHIVE, "%s: the archive holds no files", p->path);
    /* One top folder (every file below the same first component) is the checkpoint's name. */
    const char *prefix = rc == GK_OK && !root_file && !mixed ? first : NULL;
    if (rc == GK_OK) {
        p->name = prefix ? strdup(prefix) : archive_stem(p->path);
        uint64_t k = 0;
        for (uint64_t i = 0; i < p->n_cf; i++) {
            gk_cfile *f = &p->cf[i];
            const char *rest = NULL;
            if (!prefix && !strchr(f->member, '/')) rest = f->member;
            else if (prefix && first_len(f->member) == strlen(prefix) &&
                     strncmp(f->member, prefix, strlen(prefix)) == 0 &&
                     !strchr(f->member + strlen(prefix) + 1, '/'))
                rest = f->member + strlen(prefix) + 1;
            if (rest && !f->name) f->name = strdup(rest);
            if (!rest || !f->name) {
                if (rest) rc = gk_err_set(err, GK_E_NOMEM, "out of memory");
                free(f->member);
                free(f->data);
                free(f->hdr);
                free(f->name);
                continue;
            }
            p->cf[k++] = *f;
        }
        p->n_cf = k;
    }
    free(first);
    return rc;
}

/* ---- the write pass --------------------------------------------------------------------- */

typedef struct rd {
    struct archive *a;
    const char *path;
    const char *member;
    uint64_t pos; /* offset within the member */
} rd;

static gk_status ar_fill(void *rctx, uint8_t *buf, size_t n, uint64_t file_off, gk_err *err) {
    rd *r = rctx;
    while (r->pos < file_off) { /* not reached for valid files: the tensors tile the data */
        uint8_t tmp[4096];
        uint64_t k = file_off - r->pos < sizeof tmp ? file_off - r->pos : sizeof tmp;
        int64_t g = read_full(r->a, tmp, (size_t)k);
        if (g <= 0) break;
        r->pos += (uint64_t)g;
    }
    int64_t g = r->pos == file_off ? read_full(r->a, buf, n) : -1;
    if (g < 0) return ar_fail(r->a, r->path, r->member, err);
    if ((size_t)g != n)
        return gk_err_set_at(err, GK_E_TRUNCATED, r->pos + (uint64_t)g,
                             "%s: member '%s' ends at offset %" PRIu64 " (data expected up to %"
                             PRIu64 ")",
                             r->path, r->member, r->pos + (uint64_t)g, file_off + n);
    r->pos += n;
    return GK_OK;
}

gk_status gk_ckpt_archive_stream(gk_ckpt *c, size_t chunk, gk_ckpt_chunk_fn fn, void *ctx,
                                 gk_err *err) {
    gk_ckpt_priv *p = c->priv;
    struct archive *a;
    gk_status rc = ar_open(p->path, &a, err);
    if (rc != GK_OK) return rc;
    uint8_t *buf = malloc(chunk);
    uint8_t *seen = calloc(c->n_parts ? c->n_parts : 1, 1);
    uint8_t *hdr = NULL;
    if (!buf || !seen) rc = gk_err_set(err, GK_E_NOMEM, "out of memory");
    while (rc == GK_OK) {
        struct archive_entry *e;
        char *np;
        int depth = 0, regular = 0, eof;
        rc = next_entry(a, p->path, &e, &np, &depth, &regular, &eof, err);
        if (rc != GK_OK || eof) break;
        /* Parts are sorted by name and share one prefix, so their members are sorted too. */
        int64_t part = -1;
        uint32_t lo = 0, hi = regular ? c->n_parts : 0;
        while (lo < hi) {
            uint32_t mid = lo + (hi - lo) / 2;
            int d = strcmp(p->cf[p->part_file[mid]].member, np);
            if (d == 0) {
                part = mid;
                break;
            }
            if (d < 0) lo = mid + 1;
            else hi = mid;
        }
        free(np);
        if (rc != GK_OK) break;
        if (part < 0) continue;
        const gk_cfile *f = &p->cf[p->part_file[part]];
        if (seen[part]) {
            rc = gk_err_set(err, GK_E_BAD_ARCHIVE, "%s: member '%s' appears twice", p->path,
                            f->member);
            break;
        }
        seen[part] = 1;
        hdr = malloc(f->hdr_len);
        int64_t g = hdr ? read_full(a, hdr, f->hdr_len) : -1;
        if (g != (int64_t)f->hdr_len || memcmp(hdr, f->hdr, f->hdr_len) != 0) {
            rc = gk_err_set(err, GK_E_BAD_ARCHIVE, "%s: member '%s' changed since the plan pass "
                            "(its safetensors header differs)", p->path, f->member);
            break;
        }
        free(hdr);
        hdr = NULL;
        rd rr = {a, p->path, f->member, f->hdr_len};
        rc = gk_ckpt_stream_part(c, (uint32_t)part, chunk, ar_fill, &rr, buf, fn, ctx, err);
    }
    for (uint32_t i = 0; rc == GK_OK && i < c->n_parts; i++)
        if (!seen[i])
            rc = gk_err_set(err, GK_E_BAD_ARCHIVE, "%s: member '%s' not found in the write pass",
                            p->path, p->cf[p->part_file[i]].member);
    free(hdr);
    free(buf);
    free(seen);
    archive_read_free(a);
    return rc;
}
