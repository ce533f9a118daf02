/* GGUF reader: one parser over a contiguous view of the input's first bytes. For a mapped file
 * or a memory buffer the view is the whole input; for the streaming reader it grows as the
 * parser asks for bytes (so it never holds more than was actually read). Every count and length
 * is checked against the bytes that remain (and against overflow) before anything is allocated.
 * Keys, strings and arrays are copied into the gk_gguf's arena, host-endian, NUL after strings. */
#include "gguf_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

struct gk_gguf_priv {
    gk_arena arena;
    gk_name_index kv_ix, t_ix;
    uint64_t kv_cap, t_cap;
    uint64_t *order;          /* tensor indices sorted by (offset, nbytes) */
    void *map;                /* mmap'ed file, or NULL */
    size_t map_len;
};

/* The input view. */
typedef struct src {
    const uint8_t *buf;       /* file offsets [0, avail) */
    uint64_t avail;
    int stream;               /* 1: avail can grow by reading */
    gk_read_fn rd;
    void *ctx;
    uint8_t *own;             /* the stream's buffer */
    size_t cap;
    int eof, ioerr;
} src;

typedef struct parser {
    src *s;
    uint64_t pos;
    int be;
    uint32_t ver;
    unsigned flags;
    gk_gguf *g;
    gk_err *err;
} parser;

/* ---- input ------------------------------------------------------------------------------- */

/* Makes file offsets [0, end) available; 0 on success, -1 at end of input / error. */
static int src_ensure(src *s, uint64_t end) {
    if (end <= s->avail) return 0;
    if (!s->stream || s->eof || s->ioerr) return -1;
    if (end > (uint64_t)SIZE_MAX / 2) return -1;
    while (s->avail < end) {
        if (s->avail == s->cap) {
            /* grow geometrically and fill by reading: memory stays within twice the bytes the
             * input actually delivered, whatever length the header claims */
            size_t ncap = s->cap ? s->cap * 2 : 65536;
            uint8_t *nb = realloc(s->own, ncap);
            if (!nb) { s->ioerr = ENOMEM; return -1; }
            s->own = nb;
            s->buf = nb;
            s->cap = ncap;
        }
        int64_t r = s->rd(s->ctx, s->own + s->avail, s->cap - (size_t)s->avail);
        if (r < 0) { s->ioerr = EIO; return -1; }
        if (r == 0) { s->eof = 1; return -1; }
        s->avail += (uint64_t)r;
    }
    return 0;
}

static uint64_t remaining(const parser *p) {
    return p->s->stream ? UINT64_MAX : p->s->avail - p->pos;
}

/* Requires n more bytes at pos. st is the status to report when they are not there. */
static gk_status need(parser *p, uint64_t n, gk_status st, const char *ctx, const char *what) {
    if (n <= UINT64_MAX - p->pos && src_ensure(p->s, p->pos + n) == 0) return GK_OK;
    if (p->s->ioerr == ENOMEM)
        return gk_err_set_at(p->err, GK_E_NOMEM, p->pos, "%s: out of memory buffering %" PRIu64
                             " bytes of metadata", ctx, n);
    if (p->s->ioerr)
        return gk_err_set_at(p->err, GK_E_IO, p->pos, "%s: read error at offset 0x%" PRIx64, ctx,
                             p->pos);
    if (p->s->stream)
        return gk_err_set_at(p->err, st, p->pos, "%s at offset 0x%" PRIx64 ": %s (%" PRIu64
                             " bytes) runs past the end of the input (%" PRIu64 " bytes)",
                             ctx, p->pos, what, n, p->s->avail);
    return gk_err_set_at(p->err, st, p->pos, "%s at offset 0x%" PRIx64 ": %s (%" PRIu64
                         " bytes) exceeds the %" PRIu64 " bytes that remain", ctx, p->pos, what,
                         n, p->s->avail - p->pos);
}

static gk_status rd_u32(parser *p, uint32_t *v, const char *ctx, const char *what) {
    gk_status st = need(p, 4, GK_E_TRUNCATED, ctx, what);
    if (st) return st;
    *v = gk_ld32(p->s->buf + p->pos, p->be);
    p->pos += 4;
    return GK_OK;
}

static gk_status rd_u64(parser *p, uint64_t *v, const char *ctx, const char *what) {
    gk_status st = need(p, 8, GK_E_TRUNCATED, ctx, what);
    if (st) return st;
    *v = gk_ld64(p->s->buf + p->pos, p->be);
    p->pos += 8;
    return GK_OK;
}

/* Counts, lengths and dims: u32 in v1, u64 after. */
static unsigned count_size(const parser *p) { return p->ver == 1 ? 4 : 8; }

static gk_status rd_count(parser *p, uint64_t *v, const char *ctx, const char *what) {
    if (p->ver == 1) {
        uint32_t x = 0;
        gk_status st = rd_u32(p, &x, ctx, what);
        *v = x;
        return st;
    }
    return rd_u64(p, v, ctx, what);
}

static gk_status nomem(parser *p, const char *ctx) {
    return gk_err_set_at(p->err, GK_E_NOMEM, p->pos, "%s: out of memory at offset 0x%" PRIx64,
                         ctx, p->pos);
}

static gk_status rd_string(parser *p, gk_str *out, const char *ctx, const char *what) {
    uint64_t at = p->pos, len;
    gk_status st = rd_count(p, &len, ctx, what);
    if (st) return st;
    if (len > GK_MAX_STRING)
        return gk_err_set_at(p->err, GK_E_BAD_STRING, at, "%s at offset 0x%" PRIx64 ": %s length %"
                             PRIu64 " exceeds the limit of %llu bytes", ctx, at, what, len,
                             GK_MAX_STRING);
    if ((st = need(p, len, GK_E_TRUNCATED, ctx, what))) return st;
    char *s = gk_arena_strdup(&p->g->priv->arena, p->s->buf + p->pos, (size_t)len);
    if (!s) return nomem(p, ctx);
    out->ptr = s;
    out->len = len;
    p->pos += len;
    return GK_OK;
}

/* ---- values ------------------------------------------------------------------------------ */

static gk_status bad_vtype(parser *p, uint64_t at, uint32_t t, const char *ctx, const char *what) {
    return gk_err_set_at(p->err, GK_E_BAD_VALUE_TYPE, at, "%s at offset 0x%" PRIx64
                         ": %s type %" PRIu32 " is not a GGUF v%" PRIu32 " value type", ctx, at,
                         what, t, p->ver);
}

static int vtype_ok(const parser *p, uint32_t t) {
    return t < GK_V_COUNT && !(p->ver == 1 && t >= GK_V_U64);
}

static gk_status rd_array(parser *p, gk_value *v, int depth, const char *ctx);

static gk_status rd_scalar(parser *p, gk_value *v, uint32_t t, const char *ctx) {
    if (t == GK_V_STR) return rd_string(p, &v->str, ctx, "string");
    size_t sz = gk_vtype_size(t);
    gk_status st = need(p, sz, GK_E_TRUNCATED, ctx, gk_vtype_name(t));
    if (st) return st;
    gk_ld_elem(&v->v, p->s->buf + p->pos, sz, p->be);
    p->pos += sz;
    return GK_OK;
}

/* Reads element type, count and elements of an array value (the ARR tag is already read). */
static gk_status rd_array(parser *p, gk_value *v, int depth, const char *ctx) {
    uint64_t at = p->pos;
    gk_status st;
    uint32_t et;
    uint64_t n;
    if (depth > GK_MAX_NESTING)
        return gk_err_set_at(p->err, GK_E_NESTING, at, "%s at offset 0x%" PRIx64
                             ": arrays nested deeper than %d levels", ctx, at, GK_MAX_NESTING);
    if ((st = rd_u32(p, &et, ctx, "array element type"))) return st;
    if (!vtype_ok(p, et)) return bad_vtype(p, at, et, ctx, "array element");
    if ((st = rd_count(p, &n, ctx, "array count"))) return st;
    v->type = GK_V_ARR;
    v->arr.type = et;
    v->arr.n = n;
    uint64_t min = et == GK_V_STR ? count_size(p) : et == GK_V_ARR ? 4 + count_size(p)
                                                                    : gk_vtype_size(et);
    if (n > UINT64_MAX / min)
        return gk_err_set_at(p->err, GK_E_TOO_MANY, at, "%s at offset 0x%" PRIx64
                             ": array count %" PRIu64 " overflows", ctx, at, n);
    char w[80];
    snprintf(w, sizeof w, "array of %" PRIu64 " %s", n, gk_vtype_name(et));
    if ((st = need(p, n * min, GK_E_TOO_MANY, ctx, w))) return st;
    size_t hsz = et == GK_V_STR ? sizeof(gk_str) : et == GK_V_ARR ? sizeof(gk_value) : min;
    if (n > SIZE_MAX / hsz) return nomem(p, ctx);
    void *data = gk_arena_alloc(&p->g->priv->arena, (size_t)(n * hsz));
    if (!data) return nomem(p, ctx);
    v->arr.data = data;
    if (et == GK_V_STR) {
        gk_str *s = data;
        for (uint64_t i = 0; i < n; i++)
            if ((st = rd_string(p, &s[i], ctx, "string element"))) return st;
    } else if (et == GK_V_ARR) {
        gk_value *e = data;
        p->g->has_nested_arrays = 1;
        for (uint64_t i = 0; i < n; i++)
            if ((st = rd_array(p, &e[i], depth + 1, ctx))) return st;
    } else {
        const uint8_t *src = p->s->buf + p->pos;
        if (min == 1 || !p->be) memcpy(data, src, (size_t)(n * min));
        else
            for (uint64_t i = 0; i < n; i++) gk_ld_elem((uint8_t *)data + i * min, src + i * min, min, 1);
        p->pos += n * min;
    }
    return GK_OK;
}

/* ---- records ----------------------------------------------------------------------------- */

static gk_str kv_name(const void *ctx, uint64_t i) { return ((const gk_gguf *)ctx)->kv[i].key; }
static gk_str t_name(const void *ctx, uint64_t i) { return ((const gk_gguf *)ctx)->tensors[i].name; }

static int grow_array(void **arr, uint64_t *cap, uint64_t need_n, size_t elem) {
    if (need_n <= *cap) return 0;
    uint64_t nc = *cap ? *cap * 2 : 16;
    if (nc > SIZE_MAX / elem) return -1;
    void *na = realloc(*arr, (size_t)(nc * elem));
    if (!na) return -1;
    memset((uint8_t *)na + *cap * elem, 0, (size_t)((nc - *cap) * elem));
    *arr = na;
    *cap = nc;
    return 0;
}

static gk_status rd_kv(parser *p, uint64_t i) {
    gk_gguf *g = p->g;
    char ctx[200], nm[112];
    uint64_t at = p->pos;
    gk_status st;
    snprintf(ctx, sizeof ctx, "kv %" PRIu64, i);
    if (grow_array((void **)&g->kv, &g->priv->kv_cap, i + 1, sizeof(gk_kv))) return nomem(p, ctx);
    gk_kv *kv = &g->kv[i];
    kv->offset = at;
    if ((st = rd_string(p, &kv->key, ctx, "key"))) return st;
    if (kv->key.len == 0)
        return gk_err_set_at(p->err, GK_E_EMPTY_KEY, at, "kv %" PRIu64 " at offset 0x%" PRIx64
                             ": empty key", i, at);
    snprintf(ctx, sizeof ctx, "key '%s'", gk_name_fmt(nm, sizeof nm, kv->key.ptr, kv->key.len));
    uint64_t dup = 0;
    int r = gk_name_index_add(&g->priv->kv_ix, kv->key, i, kv_name, g, &dup);
    if (r < 0) return nomem(p, ctx);
    if (r == 0)
        return gk_err_set_at(p->err, GK_E_DUP_KEY, at, "%s at offset 0x%" PRIx64
                             ": duplicate of kv %" PRIu64 " at offset 0x%" PRIx64, ctx, at, dup,
                             g->kv[dup].offset);
    g->n_kv = i + 1;
    uint32_t t;
    uint64_t tat = p->pos;
    if ((st = rd_u32(p, &t, ctx, "value type"))) return st;
    if (!vtype_ok(p, t)) return bad_vtype(p, tat, t, ctx, "value");
    kv->val.type = t;
    if (t == GK_V_ARR) return rd_array(p, &kv->val, 1, ctx);
    return rd_scalar(p, &kv->val, t, ctx);
}

static gk_status rd_tensor_info(parser *p, uint64_t i) {
    gk_gguf *g = p->g;
    char ctx[200], nm[112];
    uint64_t at = p->pos;
    gk_status st;
    snprintf(ctx, sizeof ctx, "tensor info %" PRIu64, i);
    if (grow_array((void **)&g->tensors, &g->priv->t_cap, i + 1, sizeof(gk_tensor)))
        return nomem(p, ctx);
    gk_tensor *t = &g->tensors[i];
    t->info_offset = at;
    if ((st = rd_string(p, &t->name, ctx, "name"))) return st;
    if (t->name.len == 0)
        return gk_err_set_at(p->err, GK_E_BAD_TENSOR_NAME, at, "tensor info %" PRIu64
                             " at offset 0x%" PRIx64 ": empty tensor name", i, at);
    if (t->name.len >= 64) g->has_long_names = 1;
    snprintf(ctx, sizeof ctx, "tensor '%s'", gk_name_fmt(nm, sizeof nm, t->name.ptr, t->name.len));
    uint64_t dup = 0;
    int r = gk_name_index_add(&g->priv->t_ix, t->name, i, t_name, g, &dup);
    if (r < 0) return nomem(p, ctx);
    if (r == 0)
        return gk_err_set_at(p->err, GK_E_DUP_TENSOR, at, "%s (info at offset 0x%" PRIx64
                             "): duplicate of tensor %" PRIu64 " (info at offset 0x%" PRIx64 ")",
                             ctx, at, dup, g->tensors[dup].info_offset);
    g->n_tensors = i + 1;
    uint64_t nat = p->pos;
    if ((st = rd_u32(p, &t->n_dims, ctx, "n_dims"))) return st;
    if (t->n_dims > GK_MAX_DIMS)
        return gk_err_set_at(p->err, GK_E_BAD_NDIMS, nat, "%s (info at offset 0x%" PRIx64
                             "): n_dims %" PRIu32 " exceeds %d", ctx, at, t->n_dims, GK_MAX_DIMS);
    for (int d = 0; d < GK_MAX_DIMS; d++) t->ne[d] = 1;
    for (uint32_t d = 0; d < t->n_dims; d++) {
        uint64_t dat = p->pos;
        if ((st = rd_count(p, &t->ne[d], ctx, "dimension"))) return st;
        if (t->ne[d] > (uint64_t)INT64_MAX)
            return gk_err_set_at(p->err, GK_E_BAD_DIM, dat, "%s (info at offset 0x%" PRIx64
                                 "): ne[%" PRIu32 "] = %" PRIu64 " is negative as int64", ctx, at,
                                 d, t->ne[d]);
    }
    uint64_t nel = 1;
    int zero = 0;
    for (int d = 0; d < GK_MAX_DIMS; d++) zero |= t->ne[d] == 0;
    if (!zero)
        for (int d = 0; d < GK_MAX_DIMS; d++) {
            if (nel > (uint64_t)INT64_MAX / t->ne[d])
                return gk_err_set_at(p->err, GK_E_BAD_DIM, at, "%s (info at offset 0x%" PRIx64
                                     "): element count %" PRIu64 " x %" PRIu64 " x %" PRIu64
                                     " x %" PRIu64 " overflows int64", ctx, at, t->ne[0], t->ne[1],
                                     t->ne[2], t->ne[3]);
            nel *= t->ne[d];
        }
    else
        nel = 0;
    uint64_t tat = p->pos;
    if ((st = rd_u32(p, &t->type, ctx, "type"))) return st;
    const gk_type_info *ti = gk_type_info_get(t->type);
    if (!ti)
        return gk_err_set_at(p->err, GK_E_BAD_TYPE, tat, "%s (info at offset 0x%" PRIx64
                             "): type id %" PRIu32 " is outside the type table (0..%d)", ctx, at,
                             t->type, GK_TYPE_COUNT - 1);
    if (ti->flags & GK_TF_REMOVED)
        return gk_err_set_at(p->err, GK_E_REMOVED_TYPE, tat, "%s (info at offset 0x%" PRIx64
                             "): type id %" PRIu32 " (%s) was removed from ggml", ctx, at, t->type,
                             ti->name);
    if (t->ne[0] % ti->blck_size)
        return gk_err_set_at(p->err, GK_E_BAD_SHAPE, at, "%s (info at offset 0x%" PRIx64
                             "): ne[0] = %" PRIu64 " is not a multiple of %s's block size %" PRIu32,
                             ctx, at, t->ne[0], ti->name, ti->blck_size);
    uint64_t blocks = nel / ti->blck_size;
    if (blocks > UINT64_MAX / ti->type_size || blocks * ti->type_size > (uint64_t)INT64_MAX)
        return gk_err_set_at(p->err, GK_E_OVERFLOW, at, "%s (info at offset 0x%" PRIx64
                             "): byte size of %" PRIu64 " %s blocks overflows", ctx, at, blocks,
                             ti->name);
    t->nbytes = blocks * ti->type_size;
    uint64_t oat = p->pos;
    if ((st = rd_u64(p, &t->offset, ctx, "offset"))) return st;
    if (t->offset % g->alignment)
        return gk_err_set_at(p->err, GK_E_MISALIGNED, oat, "%s (info at offset 0x%" PRIx64
                             "): data offset %" PRIu64 " is not a multiple of the alignment %" PRIu32,
                             ctx, at, t->offset, g->alignment);
    return GK_OK;
}

static gk_status check_alignment(parser *p) {
    gk_gguf *g = p->g;
    g->alignment = GK_DEFAULT_ALIGNMENT;
    int64_t i = gk_gguf_find_kv(g, "general.alignment");
    if (i < 0) return GK_OK;
    const gk_kv *kv = &g->kv[i];
    if (kv->val.type != GK_V_U32)
        return gk_err_set_at(p->err, GK_E_BAD_ALIGNMENT, kv->offset, "key 'general.alignment' at "
                             "offset 0x%" PRIx64 ": type %s, must be u32", kv->offset,
                             gk_vtype_name(kv->val.type));
    uint32_t a = kv->val.v.u32;
    if (a == 0 || (a & (a - 1)))
        return gk_err_set_at(p->err, GK_E_BAD_ALIGNMENT, kv->offset, "key 'general.alignment' at "
                             "offset 0x%" PRIx64 ": %" PRIu32 " is not a non-zero power of two",
                             kv->offset, a);
    g->alignment = a;
    return GK_OK;
}

/* Sorts tensor indices by (offset, nbytes): insertion-friendly merge sort (stable, no qsort_r). */
static void sort_order(const gk_gguf *g, uint64_t *o, uint64_t *tmp, uint64_t n) {
    if (n < 2) return;
    uint64_t h = n / 2;
    sort_order(g, o, tmp, h);
    sort_order(g, o + h, tmp, n - h);
    uint64_t i = 0, j = h, k = 0;
    while (i < h && j < n) {
        const gk_tensor *a = &g->tensors[o[i]], *b = &g->tensors[o[j]];
        int le = a->offset < b->offset || (a->offset == b->offset && a->nbytes <= b->nbytes);
        tmp[k++] = le ? o[i++] : o[j++];
    }
    while (i < h) tmp[k++] = o[i++];
    while (j < n) tmp[k++] = o[j++];
    memcpy(o, tmp, (size_t)(n * sizeof *o));
}

/* Layout checks common to all readers, after the infos: contiguity, overlap, data_end. */
static gk_status check_layout(parser *p) {
    gk_gguf *g = p->g;
    char nm[112];
    g->infos_end = p->pos;
    g->data_start = gk_pad_to(g->infos_end, g->alignment);
    g->contiguous = 1;
    g->data_end = g->data_start;
    uint64_t expect = 0;
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        gk_tensor *t = &g->tensors[i];
        if (t->offset != expect) g->contiguous = 0;
        uint64_t padded = gk_pad_to(t->nbytes, g->alignment);
        if (padded < t->nbytes || expect > UINT64_MAX - padded) expect = UINT64_MAX; /* saturate */
        else expect += padded;
        if (t->offset > UINT64_MAX - g->data_start ||
            t->nbytes > UINT64_MAX - g->data_start - t->offset ||
            g->data_start + t->offset + t->nbytes > UINT64_MAX - g->alignment)
            return gk_err_set_at(p->err, GK_E_OVERFLOW, t->info_offset, "tensor '%s' (info at "
                                 "offset 0x%" PRIx64 "): data offset %" PRIu64 " + %" PRIu64
                                 " bytes overflows", gk_name_fmt(nm, sizeof nm, t->name.ptr,
                                 t->name.len), t->info_offset, t->offset, t->nbytes);
        uint64_t end = g->data_start + t->offset + t->nbytes;
        if (end > g->data_end) g->data_end = end;
    }
    if (g->n_tensors) {
        uint64_t n = g->n_tensors;
        if (n > SIZE_MAX / 16) return nomem(p, "tensor order");
        g->priv->order = malloc((size_t)(n * sizeof(uint64_t)));
        uint64_t *tmp = malloc((size_t)(n * sizeof(uint64_t)));
        if (!g->priv->order || !tmp) { free(tmp); return nomem(p, "tensor order"); }
        for (uint64_t i = 0; i < n; i++) g->priv->order[i] = i;
        sort_order(g, g->priv->order, tmp, n);
        free(tmp);
        uint64_t max_end = 0, prev = 0;
        for (uint64_t k = 0; k < n; k++) {
            const gk_tensor *t = &g->tensors[g->priv->order[k]];
            if (k && t->offset < max_end) {
                const gk_tensor *q = &g->tensors[prev];
                char nm2[112];
                return gk_err_set_at(p->err, GK_E_OVERLAP, t->info_offset, "tensor '%s': data "
                                     "[off 0x%" PRIx64 ", %" PRIu64 " bytes] overlaps tensor '%s' "
                                     "[off 0x%" PRIx64 ", %" PRIu64 " bytes]",
                                     gk_name_fmt(nm, sizeof nm, t->name.ptr, t->name.len),
                                     g->data_start + t->offset, t->nbytes,
                                     gk_name_fmt(nm2, sizeof nm2, q->name.ptr, q->name.len),
                                     g->data_start + q->offset, q->nbytes);
            }
            if (t->offset + t->nbytes > max_end) {
                max_end = t->offset + t->nbytes;
                prev = g->priv->order[k];
            }
        }
    }
    return GK_OK;
}

/* With the input size known: bounds, data pointers, final padding, trailing bytes. */
static gk_status check_bounds(gk_gguf *g, uint64_t size, const uint8_t *base, unsigned flags,
                              gk_err *err) {
    char nm[112];
    g->file_size = size;
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        gk_tensor *t = &g->tensors[i];
        uint64_t start = g->data_start + t->offset;
        int in = start <= size && t->nbytes <= size - start;
        if (!in && !(flags & GK_READ_NO_BOUNDS))
            return gk_err_set_at(err, GK_E_OUT_OF_BOUNDS, t->info_offset, "tensor '%s': data [off "
                                 "0x%" PRIx64 ", %" PRIu64 " bytes] runs past end of file (size %"
                                 PRIu64 ")", gk_name_fmt(nm, sizeof nm, t->name.ptr, t->name.len),
                                 start, t->nbytes, size);
        t->data = in && base ? base + start : NULL;
    }
    uint64_t end = g->n_tensors ? gk_pad_to(g->data_end, g->alignment) : g->data_start;
    if (size >= end) {
        g->final_padding = 1;
        g->trailing_bytes = size - end;
        return GK_OK;
    }
    g->final_padding = 0;
    g->trailing_bytes = (!g->n_tensors && size > g->infos_end) ? size - g->infos_end : 0;
    /* Tensor data without the padding after it is what a cut-off download looks like; ggml's
     * data-loading reader refuses it too. A tensorless file without padding is accepted. */
    if (g->n_tensors && !(flags & GK_READ_NO_BOUNDS)) {
        const gk_tensor *last = &g->tensors[0];
        for (uint64_t i = 1; i < g->n_tensors; i++)
            if (g->tensors[i].offset + g->tensors[i].nbytes >= last->offset + last->nbytes)
                last = &g->tensors[i];
        return gk_err_set_at(err, GK_E_OUT_OF_BOUNDS, size, "input ends at offset 0x%" PRIx64
                             " inside the padding after tensor '%s' (its data ends at 0x%" PRIx64
                             ", the padding at 0x%" PRIx64 ")", size,
                             gk_name_fmt(nm, sizeof nm, last->name.ptr, last->name.len),
                             g->data_end, end);
    }
    return GK_OK;
}

static gk_status parse_header(parser *p) {
    gk_gguf *g = p->g;
    gk_status st;
    if (need(p, 4, GK_E_BAD_MAGIC, "header", "magic")) {
        return gk_err_set_at(p->err, GK_E_BAD_MAGIC, 0, "input of %" PRIu64 " bytes is too short "
                             "for the GGUF magic", p->s->avail);
    }
    if (memcmp(p->s->buf, "GGUF", 4) != 0) {
        const uint8_t *m = p->s->buf;
        return gk_err_set_at(p->err, GK_E_BAD_MAGIC, 0, "bad magic %02x %02x %02x %02x at offset 0"
                             " (expected \"GGUF\")", m[0], m[1], m[2], m[3]);
    }
    p->pos = 4;
    uint32_t v;
    if ((st = rd_u32(p, &v, "header", "version"))) return st;
    if ((v & 0xFFFFu) == 0) {
        p->be = 1;
        v = gk_ld32(p->s->buf + 4, 1);
    }
    if (v < 1 || v > 3)
        return gk_err_set_at(p->err, GK_E_BAD_VERSION, 4, "unknown GGUF version %" PRIu32
                             " at offset 0x4 (%s-endian reading; known: 1, 2, 3)", v,
                             p->be ? "big" : "little");
    p->ver = v;
    g->version = v;
    g->big_endian = p->be;
    uint64_t nt, nk;
    uint64_t at_t = p->pos;
    if ((st = rd_count(p, &nt, "header", "tensor count"))) return st;
    uint64_t at_k = p->pos;
    if ((st = rd_count(p, &nk, "header", "kv count"))) return st;
    /* smallest records: kv = key length + 1-byte key + type + 1-byte value;
     * tensor info = name length + 1-byte name + n_dims + type + offset */
    uint64_t min_kv = count_size(p) + 1 + 4 + 1, min_t = count_size(p) + 1 + 4 + 4 + 8;
    uint64_t rem = remaining(p);
    if (nt > (uint64_t)INT64_MAX || nt > rem / min_t)
        return gk_err_set_at(p->err, GK_E_TOO_MANY, at_t, "header at offset 0x%" PRIx64
                             ": tensor count %" PRIu64 " exceeds what the %" PRIu64
                             " remaining bytes can hold", at_t, nt, p->s->avail - p->pos);
    if (nk > (uint64_t)INT64_MAX || nk > rem / min_kv)
        return gk_err_set_at(p->err, GK_E_TOO_MANY, at_k, "header at offset 0x%" PRIx64
                             ": kv count %" PRIu64 " exceeds what the %" PRIu64
                             " remaining bytes can hold", at_k, nk, p->s->avail - p->pos);
    for (uint64_t i = 0; i < nk; i++)
        if ((st = rd_kv(p, i))) return st;
    if ((st = check_alignment(p))) return st;
    for (uint64_t i = 0; i < nt; i++)
        if ((st = rd_tensor_info(p, i))) return st;
    return check_layout(p);
}

static gk_gguf *gguf_new(void) {
    gk_gguf *g = calloc(1, sizeof *g);
    if (!g) return NULL;
    g->priv = calloc(1, sizeof *g->priv);
    if (!g->priv) { free(g); return NULL; }
    g->alignment = GK_DEFAULT_ALIGNMENT;
    return g;
}

void gk_gguf_close(gk_gguf *g) {
    if (!g) return;
    if (g->priv) {
        gk_arena_free(&g->priv->arena);
        gk_name_index_free(&g->priv->kv_ix);
        gk_name_index_free(&g->priv->t_ix);
        free(g->priv->order);
        if (g->priv->map) munmap(g->priv->map, g->priv->map_len);
        free(g->priv);
    }
    free(g->kv);
    free(g->tensors);
    free(g);
}

static gk_status parse_memory(const uint8_t *buf, uint64_t size, unsigned flags, gk_gguf *g,
                              gk_err *err) {
    src s = {.buf = buf, .avail = size};
    parser p = {.s = &s, .flags = flags, .g = g, .err = err};
    gk_status st = parse_header(&p);
    if (st) return st;
    g->base = buf;
    return check_bounds(g, size, buf, flags, err);
}

gk_status gk_gguf_from_memory(const void *buf, size_t size, unsigned flags, gk_gguf **out,
                              gk_err *err) {
    if (!out || (!buf && size)) return gk_err_set(err, GK_E_INVALID_ARG, "gk_gguf_from_memory: "
                                                  "NULL argument");
    *out = NULL;
    static const uint8_t empty[1];
    gk_gguf *g = gguf_new();
    if (!g) return gk_err_set(err, GK_E_NOMEM, "out of memory");
    gk_status st = parse_memory(buf ? buf : empty, size, flags, g, err);
    if (st) { gk_gguf_close(g); return st; }
    *out = g;
    return GK_OK;
}

gk_status gk_gguf_open(const char *path, unsigned flags, gk_gguf **out, gk_err *err) {
    if (!out || !path) return gk_err_set(err, GK_E_INVALID_ARG, "gk_gguf_open: NULL argument");
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return gk_err_set(err, GK_E_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        int e = errno;
        close(fd);
        return gk_err_set(err, GK_E_IO, "%s: cannot stat: %s", path, strerror(e));
    }
    if (!S_ISREG(sb.st_mode)) {
        close(fd);
        return gk_err_set(err, GK_E_IO, "%s: not a regular file", path);
    }
    gk_gguf *g = gguf_new();
    if (!g) { close(fd); return gk_err_set(err, GK_E_NOMEM, "out of memory"); }
    size_t len = (size_t)sb.st_size;
    static const uint8_t empty[1];
    const uint8_t *base = empty;
    if (len) {
        void *m = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
        if (m == MAP_FAILED) {
            int e = errno;
            close(fd);
            gk_gguf_close(g);
            return gk_err_set(err, GK_E_IO, "%s: cannot mmap %zu bytes: %s", path, len, strerror(e));
        }
        g->priv->map = m;
        g->priv->map_len = len;
        base = m;
    }
    close(fd);
    gk_err e2 = {0};
    gk_status st = parse_memory(base, len, flags, g, &e2);
    if (st) {
        gk_gguf_close(g);
        if (err) {
            *err = e2;
            int n = snprintf(err->msg, sizeof err->msg, "%s: ", path);
            if (n > 0 && (size_t)n < sizeof err->msg)
                snprintf(err->msg + n, sizeof err->msg - (size_t)n, "%.*s",
                         (int)(sizeof err->msg - (size_t)n - 1), e2.msg);
        }
        return st;
    }
    *out = g;
    return GK_OK;
}

int64_t gk_gguf_find_kv(const gk_gguf *g, const char *key) {
    if (!g || !key || !g->priv) return -1;
    return gk_name_index_find(&g->priv->kv_ix, key, strlen(key), kv_name, g);
}

int64_t gk_gguf_find_tensor(const gk_gguf *g, const char *name) {
    if (!g || !name || !g->priv) return -1;
    return gk_name_index_find(&g->priv->t_ix, name, strlen(name), t_name, g);
}

const gk_value *gk_gguf_get(const gk_gguf *g, const char *key, uint32_t type) {
    int64_t i = gk_gguf_find_kv(g, key);
    if (i < 0 || g->kv[i].val.type != type) return NULL;
    return &g->kv[i].val;
}

/* ---- streaming reader -------------------------------------------------------------------- */

struct gk_gguf_stream {
    gk_gguf *g;
    src s;
    uint64_t base;            /* file offset of s.buf[0] */
    uint64_t bpos;            /* index in s.buf of the next byte */
    uint64_t next;            /* next position in g->priv->order */
    int64_t cur;              /* current tensor, -1 if none */
    unsigned flags;
    uint64_t cur_left;
    int done;
};

static uint64_t st_abs(const gk_gguf_stream *s) { return s->base + s->bpos; }

/* Moves up to n bytes to dst (or discards them when dst is NULL). Returns bytes moved; sets
 * *ioerr on a read error. */
static uint64_t st_pull(gk_gguf_stream *s, uint8_t *dst, uint64_t n, int *ioerr) {
    uint64_t got = 0;
    *ioerr = 0;
    while (got < n) {
        if (s->bpos == s->s.avail) {
            if (s->s.eof) break;
            if (s->s.cap > (1u << 20)) { /* drop a large header buffer */
                uint8_t *nb = realloc(s->s.own, 65536);
                if (nb) { s->s.own = nb; s->s.cap = 65536; }
            }
            if (!s->s.own) {
                s->s.own = malloc(65536);
                if (!s->s.own) { *ioerr = ENOMEM; break; }
                s->s.cap = 65536;
            }
            s->base += s->s.avail;
            s->bpos = 0;
            s->s.avail = 0;
            s->s.buf = s->s.own;
            int64_t r = s->s.rd(s->s.ctx, s->s.own, s->s.cap);
            if (r < 0) { *ioerr = EIO; break; }
            if (r == 0) { s->s.eof = 1; break; }
            s->s.avail = (uint64_t)r;
        }
        uint64_t k = s->s.avail - s->bpos;
        if (k > n - got) k = n - got;
        if (dst) memcpy(dst + got, s->s.buf + s->bpos, (size_t)k);
        s->bpos += k;
        got += k;
    }
    return got;
}

gk_status gk_gguf_stream_open(gk_read_fn read, void *ctx, unsigned flags, gk_gguf_stream **out,
                              gk_err *err) {
    if (!read || !out) return gk_err_set(err, GK_E_INVALID_ARG, "gk_gguf_stream_open: NULL argument");
    *out = NULL;
    gk_gguf_stream *s = calloc(1, sizeof *s);
    if (!s) return gk_err_set(err, GK_E_NOMEM, "out of memory");
    s->g = gguf_new();
    if (!s->g) { free(s); return gk_err_set(err, GK_E_NOMEM, "out of memory"); }
    s->s.stream = 1;
    s->s.rd = read;
    s->s.ctx = ctx;
    static const uint8_t empty[1];
    s->s.buf = empty;
    s->cur = -1;
    s->flags = flags;
    parser p = {.s = &s->s, .flags = flags, .g = s->g, .err = err};
    gk_status st = parse_header(&p);
    if (st) { gk_gguf_stream_close(s); return st; }
    s->bpos = p.pos;
    s->g->file_size = p.pos;
    s->g->final_padding = 0;
    *out = s;
    return GK_OK;
}

const gk_gguf *gk_gguf_stream_header(const gk_gguf_stream *s) { return s ? s->g : NULL; }

static gk_status st_fail(gk_gguf_stream *s, int ioerr, const gk_tensor *t, const char *what,
                         gk_err *err) {
    char nm[112];
    gk_gguf *g = s->g;
    uint64_t at = st_abs(s);
    g->file_size = at;
    s->done = 1;
    if (ioerr == ENOMEM) return gk_err_set(err, GK_E_NOMEM, "out of memory");
    if (ioerr)
        return gk_err_set_at(err, GK_E_IO, at, "read error at offset 0x%" PRIx64, at);
    return gk_err_set_at(err, GK_E_TRUNCATED, at, "tensor '%s': data [off 0x%" PRIx64 ", %" PRIu64
                         " bytes] truncated: input ends at offset 0x%" PRIx64 " (%s)",
                         gk_name_fmt(nm, sizeof nm, t->name.ptr, t->name.len),
                         g->data_start + t->offset, t->nbytes, at, what);
}

gk_status gk_gguf_stream_next(gk_gguf_stream *s, int64_t *index, gk_err *err) {
    if (!s || !index) return gk_err_set(err, GK_E_INVALID_ARG, "gk_gguf_stream_next: NULL argument");
    *index = -1;
    if (s->done) return gk_err_set(err, GK_E_INVALID_ARG, "stream already finished or failed");
    gk_gguf *g = s->g;
    int ioerr;
    if (s->cur >= 0 && s->cur_left) {
        const gk_tensor *t = &g->tensors[s->cur];
        uint64_t k = st_pull(s, NULL, s->cur_left, &ioerr);
        s->cur_left -= k;
        if (s->cur_left) return st_fail(s, ioerr, t, "skipping the rest of it", err);
    }
    s->cur = -1;
    if (s->next >= g->n_tensors) return GK_OK;
    uint64_t i = g->priv->order[s->next];
    const gk_tensor *t = &g->tensors[i];
    uint64_t to = g->data_start + t->offset, at = st_abs(s);
    if (to < at) return gk_err_set(err, GK_E_INTERNAL, "stream position past tensor start");
    uint64_t k = st_pull(s, NULL, to - at, &ioerr);
    if (k != to - at) return st_fail(s, ioerr, t, "before its data starts", err);
    if (st_abs(s) > g->file_size) g->file_size = st_abs(s);
    s->next++;
    s->cur = (int64_t)i;
    s->cur_left = t->nbytes;
    *index = (int64_t)i;
    return GK_OK;
}

gk_status gk_gguf_stream_read(gk_gguf_stream *s, void *buf, size_t n, size_t *got, gk_err *err) {
    if (!s || !got || (!buf && n)) return gk_err_set(err, GK_E_INVALID_ARG, "gk_gguf_stream_read: "
                                                     "NULL argument");
    *got = 0;
    if (s->cur < 0 || s->done) return GK_OK;
    uint64_t want = n < s->cur_left ? n : s->cur_left;
    int ioerr;
    uint64_t k = st_pull(s, buf, want, &ioerr);
    s->cur_left -= k;
    *got = (size_t)k;
    if (st_abs(s) > s->g->file_size) s->g->file_size = st_abs(s);
    if (k != want) return st_fail(s, ioerr, &s->g->tensors[s->cur], "while reading it", err);
    return GK_OK;
}

gk_status gk_gguf_stream_finish(gk_gguf_stream *s, gk_err *err) {
    if (!s) return gk_err_set(err, GK_E_INVALID_ARG, "gk_gguf_stream_finish: NULL argument");
    if (s->done) return gk_err_set(err, GK_E_INVALID_ARG, "stream already finished or failed");
    int64_t idx;
    gk_status st;
    do {
        if ((st = gk_gguf_stream_next(s, &idx, err))) return st;
    } while (idx >= 0);
    int ioerr = 0;
    while (!s->s.eof) {
        uint64_t k = st_pull(s, NULL, UINT64_MAX / 2, &ioerr);
        (void)k;
        if (ioerr) {
            s->done = 1;
            return gk_err_set_at(err, ioerr == ENOMEM ? GK_E_NOMEM : GK_E_IO, st_abs(s),
                                 "read error at offset 0x%" PRIx64, st_abs(s));
        }
    }
    s->done = 1;
    return check_bounds(s->g, st_abs(s), NULL, s->flags, err);
}

void gk_gguf_stream_close(gk_gguf_stream *s) {
    if (!s) return;
    gk_gguf_close(s->g);
    free(s->s.own);
    free(s);
}
