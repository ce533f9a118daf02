/* A small streaming safetensors writer (format-facts §8): u64 header length, the JSON header
 * (__metadata__ first, then the tensors in the caller's order with contiguous data_offsets,
 * padded with spaces to a multiple of 8), then the data. Used by `ggufkit example-checkpoint`
 * and the tests to build HF-layout checkpoints. Names are JSON-escaped. */
#include "gk_convert.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct gk_stw {
    FILE *f;
    char *path;
    uint64_t expect, written;
};

typedef struct sbuf {
    char *p;
    size_t n, cap;
    int oom;
} sbuf;

static void sb_put(sbuf *b, const char *s, size_t n) {
    if (b->oom) return;
    if (b->n + n + 1 > b->cap) {
        size_t nc = b->cap ? b->cap : 256;
        while (nc < b->n + n + 1) nc *= 2;
        char *np = realloc(b->p, nc);
        if (!np) {
            b->oom = 1;
            return;
        }
        b->p = np;
        b->cap = nc;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
}
static void sb_str(sbuf *b, const char *s) { sb_put(b, s, strlen(s)); }
static void sb_json(sbuf *b, const char *s) {
    sb_put(b, "\"", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        char e[8];
        if (c == '"' || c == '\\') {
            e[0] = '\\';
            e[1] = (char)c;
            sb_put(b, e, 2);
        } else if (c < 0x20) {
            snprintf(e, sizeof e, "\\u%04x", c);
            sb_put(b, e, 6);
        } else {
            sb_put(b, (const char *)&c, 1);
        }
    }
    sb_put(b, "\"", 1);
}

static size_t dtype_size(const char *d) {
    if (!strcmp(d, "F32") || !strcmp(d, "I32") || !strcmp(d, "U32")) return 4;
    if (!strcmp(d, "F16") || !strcmp(d, "BF16") || !strcmp(d, "I16") || !strcmp(d, "U16")) return 2;
    if (!strcmp(d, "F64") || !strcmp(d, "I64") || !strcmp(d, "U64")) return 8;
    if (!strcmp(d, "U8") || !strcmp(d, "I8") || !strcmp(d, "BOOL")) return 1;
    return 0;
}

gk_status gk_stw_open(const char *path, const gk_stw_tensor *t, size_t n, const char *const *meta,
                      gk_stw **out, gk_err *err) {
    if (!path || !out || (!t && n)) return gk_err_set(err, GK_E_INVALID_ARG, "safetensors writer: NULL");
    *out = NULL;
    sbuf b = {0};
    sb_str(&b, "{");
    int first = 1;
    if (meta && meta[0]) {
        sb_str(&b, "\"__metadata__\":{");
        for (size_t i = 0; meta[i] && meta[i + 1]; i += 2) {
            if (i) sb_str(&b, ",");
            sb_json(&b, meta[i]);
            sb_str(&b, ":");
            sb_json(&b, meta[i + 1]);
        }
        sb_str(&b, "}");
        first = 0;
    }
    uint64_t off = 0;
    for (size_t i = 0; i < n; i++) {
        size_t es = dtype_size(t[i].dtype);
        if (!es || t[i].n_dims > GK_MAX_DIMS) {
            free(b.p);
            return gk_err_set(err, GK_E_INVALID_ARG, "safetensors writer: tensor '%s': bad dtype/dims",
                              t[i].name);
        }
        uint64_t ne = 1;
        char num[64];
        if (!first) sb_str(&b, ",");
        first = 0;
        sb_json(&b, t[i].name);
        sb_str(&b, ":{\"dtype\":\"");
        sb_str(&b, t[i].dtype);
        sb_str(&b, "\",\"shape\":[");
        for (uint32_t d = 0; d < t[i].n_dims; d++) {
            snprintf(num, sizeof num, "%s%llu", d ? "," : "", (unsigned long long)t[i].shape[d]);
            sb_str(&b, num);
            ne *= t[i].shape[d];
        }
        uint64_t end = off + ne * es;
        snprintf(num, sizeof num, "],\"data_offsets\":[%llu,%llu]}", (unsigned long long)off,
                 (unsigned long long)end);
        sb_str(&b, num);
        off = end;
    }
    sb_str(&b, "}");
    while (!b.oom && b.n % 8) sb_str(&b, " ");
    if (b.oom) {
        free(b.p);
        return gk_err_set(err, GK_E_NOMEM, "safetensors writer: out of memory");
    }
    gk_stw *w = calloc(1, sizeof *w);
    if (!w || !(w->path = strdup(path))) {
        free(w);
        free(b.p);
        return gk_err_set(err, GK_E_NOMEM, "safetensors writer: out of memory");
    }
    w->f = fopen(path, "wb");
    if (!w->f) {
        int e = errno;
        free(b.p);
        gk_stw_free(w);
        return gk_err_set(err, GK_E_IO, "%s: %s", path, strerror(e));
    }
    uint8_t len8[8];
    for (int i = 0; i < 8; i++) len8[i] = (uint8_t)((uint64_t)b.n >> (8 * i));
    int ok = fwrite(len8, 1, 8, w->f) == 8 && fwrite(b.p, 1, b.n, w->f) == b.n;
    free(b.p);
    if (!ok) {
        gk_stw_free(w);
        return gk_err_set(err, GK_E_IO, "%s: write failed", path);
    }
    w->expect = off;
    *out = w;
    return GK_OK;
}

gk_status gk_stw_write(gk_stw *w, const void *data, size_t n, gk_err *err) {
    if (!w || (!data && n)) return gk_err_set(err, GK_E_INVALID_ARG, "safetensors writer: NULL");
    if (n > w->expect - w->written)
        return gk_err_set(err, GK_E_INVALID_ARG, "%s: more data than the header declares", w->path);
    if (fwrite(data, 1, n, w->f) != n) return gk_err_set(err, GK_E_IO, "%s: write failed", w->path);
    w->written += n;
    return GK_OK;
}

gk_status gk_stw_finish(gk_stw *w, gk_err *err) {
    if (!w) return gk_err_set(err, GK_E_INVALID_ARG, "safetensors writer: NULL");
    if (w->written != w->expect)
        return gk_err_set(err, GK_E_INVALID_ARG, "%s: %llu of %llu data bytes written", w->path,
                          (unsigned long long)w->written, (unsigned long long)w->expect);
    int rc = fflush(w->f) | fclose(w->f);
    w->f = NULL;
    if (rc) return gk_err_set(err, GK_E_IO, "%s: close failed", w->path);
    return GK_OK;
}

void gk_stw_free(gk_stw *w) {
    if (!w) return;
    if (w->f) fclose(w->f);
    free(w->path);
    free(w);
}
