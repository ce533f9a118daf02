/* Helpers shared by test_hash.c, test_validate.c and test_bundle.c: copying files, patching
 * bytes, writing split sets and small custom GGUF files with the library's writer. Header-only
 * (static functions) so that each test stays one source file. */
#ifndef GK_TEST_HASH_UTIL_H
#define GK_TEST_HASH_UTIL_H

#include "gk_inspect.h"
#include "test_gguf_util.h"
#include "testutil.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "<dir>/<name>" in a rotation of 64 static buffers. */
static inline char *hu_path(const char *dir, const char *name) {
    static char buf[64][2048];
    static int k;
    char d[512];
    snprintf(d, sizeof d, "%s", dir);
    char *p = buf[k++ % 64];
    snprintf(p, 2048, "%s/%s", d, name);
    return p;
}

/* Copies src to dst with an optional edit: bytes [at, at+n) replaced by rep (n may grow the
 * file), then the result cut to `cut` bytes if cut != (size_t)-1. */
static inline int hu_copy_edit(const char *src, const char *dst, size_t at, const void *rep, size_t n,
                        size_t cut) {
    size_t sz = 0;
    unsigned char *b = gk_test_read_file(src, &sz);
    if (!b) return -1;
    if (rep && n) {
        if (at + n > sz) {
            unsigned char *nb = realloc(b, at + n);
            if (!nb) { free(b); return -1; }
            b = nb;
            memset(b + sz, 0, at + n - sz);
            sz = at + n;
        }
        memcpy(b + at, rep, n);
    }
    if (cut != (size_t)-1 && cut < sz) sz = cut;
    int rc = gk_test_write_file(dst, b, sz);
    free(b);
    return rc;
}

/* Absolute file offset of a tensor's data and its info record; -1 if absent. */
static inline int64_t hu_tensor_off(const char *path, const char *name, uint64_t *nbytes,
                             uint64_t *info_off) {
    gk_gguf *g = NULL;
    if (gk_gguf_open(path, GK_READ_NO_BOUNDS, &g, NULL) != GK_OK) return -1;
    int64_t i = gk_gguf_find_tensor(g, name);
    int64_t r = -1;
    if (i >= 0) {
        r = (int64_t)(g->data_start + g->tensors[i].offset);
        if (nbytes) *nbytes = g->tensors[i].nbytes;
        if (info_off) *info_off = g->tensors[i].info_offset;
    }
    gk_gguf_close(g);
    return r;
}

/* Writes a GGUF with the given kvs and tensors (data in order) to path. */
static inline gk_status hu_write(const char *path, const gk_kv *kv, uint64_t n_kv, const gk_tensor *ts,
                          uint64_t n_t, const uint8_t *const *data, gk_err *e) {
    gk_writer *w = NULL;
    gk_status st = gk_writer_open(path, NULL, &w, e);
    if (!st) st = gk_writer_begin(w, kv, n_kv, ts, n_t, e);
    for (uint64_t i = 0; i < n_t && !st; i++) {
        const gk_type_info *ti = gk_type_info_get(ts[i].type);
        int ok = 1;
        uint64_t ne = ts[i].ne[0] * ts[i].ne[1] * ts[i].ne[2] * ts[i].ne[3];
        uint64_t nb = gk_type_nbytes(ts[i].type, ne, &ok);
        (void)ti;
        st = gk_writer_write(w, data[i], (size_t)nb, e);
    }
    if (!st) st = gk_writer_finish(w, e);
    gk_writer_free(w);
    return st;
}

/* Splits src into n_parts files "<dir>/<prefix>-0000k-of-0000n.gguf" as gguf-split does: part 0
 * carries every KV plus split.*, the others only split.*. */
static inline gk_status hu_write_split(const char *src, const char *dir, const char *prefix,
                                uint32_t n_parts, gk_err *e) {
    gk_gguf *g = NULL;
    gk_status st = gk_gguf_open(src, 0, &g, e);
    if (st) return st;
    uint64_t per = (g->n_tensors + n_parts - 1) / n_parts;
    gk_kv *kv = calloc((size_t)g->n_kv + 3, sizeof *kv);
    const uint8_t **data = calloc((size_t)g->n_tensors + 1, sizeof *data);
    for (uint64_t i = 0; i < g->n_tensors; i++) data[i] = g->tensors[i].data;
    for (uint32_t p = 0; p < n_parts && !st; p++) {
        uint64_t nk = 0;
        if (p == 0)
            for (uint64_t i = 0; i < g->n_kv; i++) kv[nk++] = g->kv[i];
        gk_kv *s = &kv[nk];
        memset(s, 0, 3 * sizeof *s);
        s[0].key = (gk_str){"split.no", 8};
        s[0].val.type = GK_V_U16;
        s[0].val.v.u16 = (uint16_t)p;
        s[1].key = (gk_str){"split.count", 11};
        s[1].val.type = GK_V_U16;
        s[1].val.v.u16 = (uint16_t)n_parts;
        s[2].key = (gk_str){"split.tensors.count", 19};
        s[2].val.type = GK_V_I32;
        s[2].val.v.i32 = (int32_t)g->n_tensors;
        nk += 3;
        uint64_t a = p * per, b = a + per < g->n_tensors ? a + per : g->n_tensors;
        if (a > b) a = b;
        char name[512], path[1024];
        gk_split_path(name, sizeof name, prefix, p, n_parts);
        snprintf(path, sizeof path, "%s/%s", dir, name);
        st = hu_write(path, kv, nk, g->tensors + a, b - a, data + a, e);
    }
    free(kv);
    free(data);
    gk_gguf_close(g);
    return st;
}

/* 1 if the report has a finding with this code (and tensor, if given). */
static inline int hu_has(const gk_vreport *r, const char *code, const char *tensor) {
    for (size_t i = 0; i < r->n; i++)
        if (!strcmp(r->f[i].code, code) &&
            (!tensor || (r->f[i].tensor && !strcmp(r->f[i].tensor, tensor))))
            return 1;
    return 0;
}

static inline void hu_dump(const gk_vreport *r) {
    for (size_t i = 0; i < r->n; i++)
        fprintf(stderr, "    %s: %s [%s] %s\n", r->path, gk_sev_name(r->f[i].sev), r->f[i].code,
                r->f[i].message);
}

#endif
