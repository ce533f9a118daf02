/* Helpers for the GGUF tests: a byte builder and the T1 file of format-facts §10 with knobs for
 * its negative variants. Header-only (static functions) so each test stays one source file. */
#ifndef GK_TEST_GGUF_UTIL_H
#define GK_TEST_GGUF_UTIL_H

#include "testutil.h"

#include <stdint.h>
#include <string.h>

typedef struct bb {
    uint8_t *p;
    size_t n, cap;
    int be, v1;
} bb;

static inline void bb_raw(bb *b, const void *d, size_t n) {
    if (b->n + n > b->cap) {
        size_t c = b->cap ? b->cap : 256;
        while (c < b->n + n) c *= 2;
        b->p = realloc(b->p, c);
        b->cap = c;
    }
    if (n) memcpy(b->p + b->n, d, n);
    b->n += n;
}
static inline void bb_uint(bb *b, uint64_t v, int sz) {
    uint8_t t[8];
    for (int i = 0; i < sz; i++) t[b->be ? sz - 1 - i : i] = (uint8_t)(v >> (8 * i));
    bb_raw(b, t, (size_t)sz);
}
static inline void bb_u8(bb *b, uint8_t v) { bb_uint(b, v, 1); }
static inline void bb_u32(bb *b, uint32_t v) { bb_uint(b, v, 4); }
static inline void bb_u64(bb *b, uint64_t v) { bb_uint(b, v, 8); }
static inline void bb_cnt(bb *b, uint64_t v) { bb_uint(b, v, b->v1 ? 4 : 8); }
static inline void bb_str(bb *b, const char *s) { bb_cnt(b, strlen(s)); bb_raw(b, s, strlen(s)); }
static inline void bb_pad(bb *b, size_t a) { while (b->n % a) bb_u8(b, 0); }

/* T1 knobs; zero means "as in T1". */
typedef struct t1opt {
    const char *magic;
    uint32_t version;          /* stored version (0: 3) */
    int be, v1;                /* encoding */
    int dup_key;               /* append a second general.architecture */
    int align_kind;            /* 1: u64 32, 2: u32 0, 3: u32 48, 4: u32 align_val */
    uint32_t align_val;
    int nested_depth;          /* append "test.nested": arrays nested this deep (>=2) */
    uint64_t arch_len;         /* stored length of "llama" (string beyond end) */
    const char *t_name;
    uint32_t t_ndims;          /* 5: writes dims 4,2,1,1,1 */
    int t_type_set; uint32_t t_type;
    uint64_t t_ne0;
    int h_type_set; uint32_t h_type;
    int h_off_set; uint64_t h_off;
    const char *h_name;
    const char *key2;          /* name of the second key (default test.u32) */
    uint32_t kv2_type;         /* value type of the second kv (default u32) */
} t1opt;

static inline void t1_nested(bb *b, int depth) {
    if (depth <= 1) { bb_u32(b, 4); bb_cnt(b, 2); bb_u32(b, 1); bb_u32(b, 2); return; }
    bb_u32(b, 9);
    bb_cnt(b, 1);
    t1_nested(b, depth - 1);
}

/* Builds T1 (or a variant) into *out (malloc'd); returns its size. */
static inline size_t t1_build(const t1opt *o, uint8_t **out) {
    bb b = {.be = o->be, .v1 = o->v1};
    uint32_t align = 32;
    bb_raw(&b, o->magic ? o->magic : "GGUF", 4);
    bb_u32(&b, o->version ? o->version : (o->v1 ? 1 : 3));
    int nkv = 2 + (o->dup_key != 0) + (o->align_kind != 0) + (o->nested_depth != 0);
    bb_cnt(&b, 2);
    bb_cnt(&b, (uint64_t)nkv);
    bb_str(&b, "general.architecture");
    bb_u32(&b, 8);
    bb_cnt(&b, o->arch_len ? o->arch_len : 5);
    bb_raw(&b, "llama", 5);
    bb_str(&b, o->key2 ? o->key2 : "test.u32");
    bb_u32(&b, o->kv2_type ? o->kv2_type : 4);
    bb_u32(&b, 7);
    if (o->dup_key) { bb_str(&b, "general.architecture"); bb_u32(&b, 8); bb_str(&b, "x"); }
    if (o->align_kind) {
        bb_str(&b, "general.alignment");
        if (o->align_kind == 1) { bb_u32(&b, 10); bb_u64(&b, 32); }
        else {
            uint32_t a = o->align_kind == 2 ? 0 : o->align_kind == 3 ? 48 : o->align_val;
            bb_u32(&b, 4);
            bb_u32(&b, a);
            if (o->align_kind == 4) align = a;
        }
    }
    if (o->nested_depth) {
        bb_str(&b, "test.nested");
        bb_u32(&b, 9);
        t1_nested(&b, o->nested_depth);
    }
    uint32_t tdims = o->t_ndims ? o->t_ndims : 2;
    bb_str(&b, o->t_name ? o->t_name : "t");
    bb_u32(&b, tdims);
    bb_cnt(&b, o->t_ne0 ? o->t_ne0 : 4);
    if (tdims >= 2) bb_cnt(&b, 2);
    for (uint32_t d = 2; d < tdims; d++) bb_cnt(&b, 1);
    bb_u32(&b, o->t_type_set ? o->t_type : 0);
    bb_u64(&b, 0);
    bb_str(&b, o->h_name ? o->h_name : "h");
    bb_u32(&b, 1);
    bb_cnt(&b, 3);
    bb_u32(&b, o->h_type_set ? o->h_type : 1);
    bb_u64(&b, o->h_off_set ? o->h_off : (align > 32 ? align : 32));
    bb_pad(&b, align);
    for (int i = 0; i < 8; i++) {
        float f = (float)i;
        uint32_t u;
        memcpy(&u, &f, 4);
        bb_u32(&b, u);
    }
    bb_pad(&b, align);
    bb_uint(&b, 0x3C00, 2);
    bb_uint(&b, 0xC000, 2);
    bb_uint(&b, 0x3800, 2);
    bb_pad(&b, align);
    *out = b.p;
    return b.n;
}

/* The T1 metadata and tensors as writer input. */
typedef struct t1_src {
    gk_kv kv[2];
    gk_tensor t[2];
    uint8_t data_t[32], data_h[6];
} t1_src;

static inline void t1_source(t1_src *s) {
    memset(s, 0, sizeof *s);
    s->kv[0].key = (gk_str){"general.architecture", 20};
    s->kv[0].val.type = GK_V_STR;
    s->kv[0].val.str = (gk_str){"llama", 5};
    s->kv[1].key = (gk_str){"test.u32", 8};
    s->kv[1].val.type = GK_V_U32;
    s->kv[1].val.v.u32 = 7;
    s->t[0].name = (gk_str){"t", 1};
    s->t[0].n_dims = 2;
    s->t[0].ne[0] = 4; s->t[0].ne[1] = 2; s->t[0].ne[2] = 1; s->t[0].ne[3] = 1;
    s->t[0].type = GK_TYPE_F32;
    s->t[1].name = (gk_str){"h", 1};
    s->t[1].n_dims = 1;
    s->t[1].ne[0] = 3; s->t[1].ne[1] = 1; s->t[1].ne[2] = 1; s->t[1].ne[3] = 1;
    s->t[1].type = GK_TYPE_F16;
    for (int i = 0; i < 8; i++) { float f = (float)i; memcpy(s->data_t + 4 * i, &f, 4); }
    const uint16_t h[3] = {0x3C00, 0xC000, 0x3800};
    memcpy(s->data_h, h, 6);
}

/* Writes T1 with opts to memory; returns a malloc'd copy of the bytes. */
static inline uint8_t *t1_write(const gk_write_opts *o, size_t *size, gk_status *st_out) {
    t1_src s;
    t1_source(&s);
    gk_writer *w = NULL;
    gk_err e = {0};
    gk_status st = gk_writer_open_memory(o, &w, &e);
    if (!st) st = gk_writer_begin(w, s.kv, 2, s.t, 2, &e);
    if (!st) st = gk_writer_write(w, s.data_t, 32, &e);
    if (!st) st = gk_writer_write(w, s.data_h, 6, &e);
    if (!st) st = gk_writer_finish(w, &e);
    uint8_t *r = NULL;
    if (!st) {
        const uint8_t *m = gk_writer_memory(w, size);
        r = malloc(*size);
        memcpy(r, m, *size);
    } else {
        fprintf(stderr, "t1_write: %s\n", e.msg);
    }
    if (st_out) *st_out = st;
    gk_writer_free(w);
    return r;
}

/* A gk_read_fn over memory that returns pieces of pseudo-random size 1..max_piece. */
typedef struct memrd {
    const uint8_t *p;
    size_t n, pos;
    uint32_t seed, max_piece;
} memrd;

static inline int64_t memrd_read(void *ctx, void *buf, size_t n) {
    memrd *m = ctx;
    m->seed = m->seed * 1664525u + 1013904223u;
    size_t k = 1 + (m->seed >> 8) % (m->max_piece ? m->max_piece : 1);
    if (k > n) k = n;
    if (k > m->n - m->pos) k = m->n - m->pos;
    memcpy(buf, m->p + m->pos, k);
    m->pos += k;
    return (int64_t)k;
}

/* Walks everything a parsed file exposes (for sanitizers): every value, every tensor byte. */
static inline uint64_t walk_value(const gk_value *v) {
    uint64_t h = v->type;
    int ok;
    if (v->type == GK_V_STR) { for (uint64_t i = 0; i < v->str.len; i++) h += (uint8_t)v->str.ptr[i]; h += (uint8_t)v->str.ptr[v->str.len]; }
    else if (v->type == GK_V_ARR) {
        if (v->arr.type == GK_V_STR) {
            const gk_str *s = v->arr.data;
            for (uint64_t i = 0; i < v->arr.n; i++) h += s[i].len + (uint8_t)s[i].ptr[s[i].len];
        } else if (v->arr.type == GK_V_ARR) {
            const gk_value *e = v->arr.data;
            for (uint64_t i = 0; i < v->arr.n; i++) h += walk_value(&e[i]);
        } else {
            for (uint64_t i = 0; i < v->arr.n; i++) h += (uint64_t)gk_array_get_f64(v, i, &ok);
        }
    } else {
        h += (uint64_t)gk_value_as_f64(v, &ok) + (uint64_t)gk_value_as_i64(v, &ok);
    }
    return h;
}

/* Metadata and tensor infos only (no tensor bytes): comparable between readers. */
static inline uint64_t walk_meta(const gk_gguf *g) {
    uint64_t h = 0;
    for (uint64_t i = 0; i < g->n_kv; i++) {
        h += walk_value(&g->kv[i].val) + g->kv[i].key.len;
        h += (uint64_t)gk_gguf_find_kv(g, g->kv[i].key.ptr);
    }
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        const gk_tensor *t = &g->tensors[i];
        h += (uint64_t)gk_gguf_find_tensor(g, t->name.ptr) + t->offset + t->nbytes + t->type;
    }
    return h;
}

static inline uint64_t walk_gguf(const gk_gguf *g) {
    uint64_t h = walk_meta(g);
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        const gk_tensor *t = &g->tensors[i];
        if (t->data)
            for (uint64_t j = 0; j < t->nbytes; j += 61) h += t->data[j];
        if (t->data && t->nbytes) h += t->data[t->nbytes - 1];
    }
    return h;
}

#endif
