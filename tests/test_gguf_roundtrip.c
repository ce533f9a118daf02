/* Synthetic round trips: every metadata value type, arrays of every type, nested arrays, empty
 * arrays; versions 1/2/3; both byte orders; alignments 1/8/32/64; write -> read -> write is
 * byte-identical. Also the file writer's temp-file behaviour, positional writes (threads) and the
 * per-tensor XXH3-128 hashes. With GGUFKIT_WRITE_SEEDS=dir it also writes fuzz seeds there. */
#include "test_gguf_util.h"

#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

enum { NT = 11 };

typedef struct synth {
    gk_kv kv[32];
    uint64_t n_kv;
    gk_tensor t[NT];
    uint8_t *data[NT];
    gk_value inner[3], inner2[2];
    gk_str strs[3];
    uint8_t  a_u8[3];  int8_t a_i8[3];  uint16_t a_u16[3]; int16_t a_i16[3];
    uint32_t a_u32[3]; int32_t a_i32[3]; float a_f32[3];   uint8_t a_b[3];
    uint64_t a_u64[3]; int64_t a_i64[3]; double a_f64[3];
} synth;

static void add_kv(synth *s, const char *key, gk_value v) {
    s->kv[s->n_kv].key = (gk_str){key, strlen(key)};
    s->kv[s->n_kv].val = v;
    s->n_kv++;
}

static gk_value arr(uint32_t et, uint64_t n, const void *d) {
    gk_value v = {.type = GK_V_ARR};
    v.arr.type = et;
    v.arr.n = n;
    v.arr.data = d;
    return v;
}

/* q8_0 block swap for big-endian tests: the f16 scale. */
static void swap_q8_0(void *blocks, size_t n) {
    uint8_t *p = blocks;
    for (size_t i = 0; i < n; i++, p += 34) { uint8_t t = p[0]; p[0] = p[1]; p[1] = t; }
}

static void synth_build(synth *s, int v1, uint32_t align) {
    memset(s, 0, sizeof *s);
    gk_value v;
    add_kv(s, "general.architecture", (gk_value){.type = GK_V_STR, .str = {"llama", 5}});
    if (align != 32) { v = (gk_value){.type = GK_V_U32}; v.v.u32 = align; add_kv(s, "general.alignment", v); }
    v = (gk_value){.type = GK_V_U8}; v.v.u8 = 200; add_kv(s, "t.u8", v);
    v = (gk_value){.type = GK_V_I8}; v.v.i8 = -100; add_kv(s, "t.i8", v);
    v = (gk_value){.type = GK_V_U16}; v.v.u16 = 60000; add_kv(s, "t.u16", v);
    v = (gk_value){.type = GK_V_I16}; v.v.i16 = -30000; add_kv(s, "t.i16", v);
    v = (gk_value){.type = GK_V_U32}; v.v.u32 = 4000000000u; add_kv(s, "t.u32", v);
    v = (gk_value){.type = GK_V_I32}; v.v.i32 = -2000000000; add_kv(s, "t.i32", v);
    v = (gk_value){.type = GK_V_F32}; v.v.f32 = 1.5e-3f; add_kv(s, "t.f32", v);
    v = (gk_value){.type = GK_V_BOOL}; v.v.b = 1; add_kv(s, "t.bool", v);
    add_kv(s, "t.str", (gk_value){.type = GK_V_STR, .str = {"h\xc3\xa9llo", 6}});
    add_kv(s, "t.empty_str", (gk_value){.type = GK_V_STR, .str = {"", 0}});
    if (!v1) {
        v = (gk_value){.type = GK_V_U64}; v.v.u64 = 0xFEDCBA9876543210ull; add_kv(s, "t.u64", v);
        v = (gk_value){.type = GK_V_I64}; v.v.i64 = -0x123456789ll; add_kv(s, "t.i64", v);
        v = (gk_value){.type = GK_V_F64}; v.v.f64 = -2.5e300; add_kv(s, "t.f64", v);
    }
    for (int i = 0; i < 3; i++) {
        s->a_u8[i] = (uint8_t)(250 + i); s->a_i8[i] = (int8_t)(-i - 1);
        s->a_u16[i] = (uint16_t)(0x1234 + i); s->a_i16[i] = (int16_t)(-0x1234 - i);
        s->a_u32[i] = 0x89ABCDEFu + (uint32_t)i; s->a_i32[i] = -0x1234567 - i;
        s->a_f32[i] = 0.25f * (float)(i + 1); s->a_b[i] = (uint8_t)(i & 1);
        s->a_u64[i] = 0x0102030405060708ull * (uint64_t)(i + 1); s->a_i64[i] = -(int64_t)i - 5;
        s->a_f64[i] = 1e-300 * (i + 1);
    }
    s->strs[0] = (gk_str){"<s>", 3};
    s->strs[1] = (gk_str){"", 0};
    s->strs[2] = (gk_str){"\xe2\x96\x81the", 6};
    add_kv(s, "a.u8", arr(GK_V_U8, 3, s->a_u8));
    add_kv(s, "a.i8", arr(GK_V_I8, 3, s->a_i8));
    add_kv(s, "a.u16", arr(GK_V_U16, 3, s->a_u16));
    add_kv(s, "a.i16", arr(GK_V_I16, 3, s->a_i16));
    add_kv(s, "a.u32", arr(GK_V_U32, 3, s->a_u32));
    add_kv(s, "a.i32", arr(GK_V_I32, 3, s->a_i32));
    add_kv(s, "a.f32", arr(GK_V_F32, 3, s->a_f32));
    add_kv(s, "a.bool", arr(GK_V_BOOL, 3, s->a_b));
    add_kv(s, "a.str", arr(GK_V_STR, 3, s->strs));
    add_kv(s, "a.empty", arr(GK_V_I32, 0, NULL));
    add_kv(s, "a.empty_u8", arr(GK_V_U8, 0, NULL));
    add_kv(s, "a.empty_str", arr(GK_V_STR, 0, NULL));
    if (!v1) {
        add_kv(s, "a.u64", arr(GK_V_U64, 3, s->a_u64));
        add_kv(s, "a.i64", arr(GK_V_I64, 3, s->a_i64));
        add_kv(s, "a.f64", arr(GK_V_F64, 3, s->a_f64));
    }
    /* nested: [[1,2,3 as u16], ["<s>","","_the"], [[i32 x3], []]] */
    s->inner2[0] = arr(GK_V_I32, 3, s->a_i32);
    s->inner2[1] = arr(GK_V_F32, 0, NULL);
    s->inner[0] = arr(GK_V_U16, 3, s->a_u16);
    s->inner[1] = arr(GK_V_STR, 3, s->strs);
    s->inner[2] = arr(GK_V_ARR, 2, s->inner2);
    add_kv(s, "a.nested", arr(GK_V_ARR, 3, s->inner));

    static const struct { const char *name; uint32_t type; uint32_t nd; uint64_t ne[4]; } T[NT] = {
        {"f32", GK_TYPE_F32, 2, {3, 5, 1, 1}},   {"f16", GK_TYPE_F16, 1, {7, 1, 1, 1}},
        {"bf16", GK_TYPE_BF16, 1, {9, 1, 1, 1}}, {"f64", GK_TYPE_F64, 3, {2, 2, 2, 1}},
        {"i8", GK_TYPE_I8, 1, {13, 1, 1, 1}},   {"i16", GK_TYPE_I16, 1, {5, 1, 1, 1}},
        {"i32", GK_TYPE_I32, 4, {1, 2, 1, 3}},  {"i64", GK_TYPE_I64, 1, {3, 1, 1, 1}},
        {"q8_0", GK_TYPE_Q8_0, 2, {64, 2, 1, 1}}, {"empty", GK_TYPE_F32, 2, {0, 4, 1, 1}},
        {"scalar0", GK_TYPE_F32, 0, {1, 1, 1, 1}},
    };
    uint32_t seed = 12345;
    for (int i = 0; i < NT; i++) {
        gk_tensor *t = &s->t[i];
        t->name = (gk_str){T[i].name, strlen(T[i].name)};
        t->type = T[i].type;
        t->n_dims = T[i].nd;
        memcpy(t->ne, T[i].ne, sizeof t->ne);
        const gk_type_info *ti = gk_type_info_get(t->type);
        uint64_t nel = t->ne[0] * t->ne[1] * t->ne[2] * t->ne[3];
        size_t nb = (size_t)(nel / ti->blck_size * ti->type_size);
        s->data[i] = malloc(nb + 1);
        for (size_t j = 0; j < nb; j++) { seed = seed * 1664525u + 1013904223u; s->data[i][j] = (uint8_t)(seed >> 24); }
    }
}

static void synth_free(synth *s) { for (int i = 0; i < NT; i++) free(s->data[i]); }

static uint64_t tbytes(const gk_tensor *t) {
    const gk_type_info *ti = gk_type_info_get(t->type);
    uint64_t nel = t->ne[0] * t->ne[1] * t->ne[2] * t->ne[3];
    return nel / ti->blck_size * ti->type_size;
}

static int value_eq(const gk_value *a, const gk_value *b) {
    if (a->type != b->type) return 0;
    if (a->type == GK_V_STR) return a->str.len == b->str.len && !memcmp(a->str.ptr, b->str.ptr, a->str.len) && a->str.ptr[a->str.len] == 0;
    if (a->type != GK_V_ARR) return !memcmp(&a->v, &b->v, gk_vtype_size(a->type));
    if (a->arr.type != b->arr.type || a->arr.n != b->arr.n) return 0;
    if (!a->arr.n) return 1;
    if (a->arr.type == GK_V_STR) {
        const gk_str *x = a->arr.data, *y = b->arr.data;
        for (uint64_t i = 0; i < a->arr.n; i++)
            if (x[i].len != y[i].len || memcmp(x[i].ptr, y[i].ptr, x[i].len)) return 0;
        return 1;
    }
    if (a->arr.type == GK_V_ARR) {
        const gk_value *x = a->arr.data, *y = b->arr.data;
        for (uint64_t i = 0; i < a->arr.n; i++) if (!value_eq(&x[i], &y[i])) return 0;
        return 1;
    }
    return !memcmp(a->arr.data, b->arr.data, a->arr.n * gk_vtype_size(a->arr.type));
}

static gk_byteswap_fn swaps[GK_TYPE_COUNT];

/* Writes the synthetic model with opts to memory; returns malloc'd bytes. */
static uint8_t *synth_write(const synth *s, const gk_write_opts *o, size_t *n, int chunk) {
    gk_writer *w = NULL;
    gk_err e = {0};
    gk_status st = gk_writer_open_memory(o, &w, &e);
    if (!st) st = gk_writer_begin(w, s->kv, s->n_kv, s->t, NT, &e);
    for (int i = 0; i < NT && !st; i++) {
        uint64_t nb = tbytes(&s->t[i]);
        for (uint64_t off = 0; off < nb && !st; off += (uint64_t)chunk) {
            size_t k = nb - off < (uint64_t)chunk ? (size_t)(nb - off) : (size_t)chunk;
            st = gk_writer_write(w, s->data[i] + off, k, &e);
        }
        uint64_t hi, lo;
        if (!st) {
            XXH128_hash_t h = XXH3_128bits(s->data[i], (size_t)nb);
            CHECK(gk_writer_tensor_hash(w, (uint64_t)i, &hi, &lo) && hi == h.high64 && lo == h.low64);
        }
    }
    if (!st) st = gk_writer_finish(w, &e);
    CHECKF(st == GK_OK, "synth_write: %s", e.msg);
    uint8_t *r = NULL;
    if (!st) {
        const uint8_t *m = gk_writer_memory(w, n);
        r = malloc(*n);
        memcpy(r, m, *n);
    }
    gk_writer_free(w);
    return r;
}

static void check_read(const synth *s, const uint8_t *buf, size_t n, const gk_write_opts *o) {
    gk_gguf *g = NULL;
    gk_err e = {0};
    gk_status st = gk_gguf_from_memory(buf, n, 0, &g, &e);
    CHECKF(st == GK_OK, "read back: %s", e.msg);
    if (!g) return;
    CHECK(g->version == (o->version ? o->version : 3));
    CHECK(g->big_endian == o->big_endian);
    CHECK(g->alignment == (o->alignment ? o->alignment : 32));
    CHECK(g->n_kv == s->n_kv && g->n_tensors == NT);
    CHECK(g->contiguous && g->final_padding && g->trailing_bytes == 0 && g->has_nested_arrays);
    for (uint64_t i = 0; i < g->n_kv && i < s->n_kv; i++) {
        CHECKF(value_eq(&g->kv[i].val, &s->kv[i].val), "kv %s", s->kv[i].key.ptr);
        CHECK(g->kv[i].key.len == s->kv[i].key.len && !memcmp(g->kv[i].key.ptr, s->kv[i].key.ptr, g->kv[i].key.len));
    }
    for (int i = 0; i < NT && (uint64_t)i < g->n_tensors; i++) {
        const gk_tensor *t = &g->tensors[i];
        uint64_t nb = tbytes(&s->t[i]);
        CHECK(t->nbytes == nb && t->type == s->t[i].type && t->n_dims == s->t[i].n_dims);
        CHECK(t->offset % g->alignment == 0);
        uint8_t *d = malloc(nb + 1);
        if (nb) memcpy(d, t->data, nb);
        if (o->big_endian) {
            const gk_type_info *ti = gk_type_info_get(t->type);
            if (t->type == GK_TYPE_Q8_0) swap_q8_0(d, nb / 34);
            else {
                for (uint64_t j = 0; j + ti->type_size <= nb; j += ti->type_size)
                    for (uint32_t a = 0, b = ti->type_size - 1; a < b; a++, b--) { uint8_t x = d[j + a]; d[j + a] = d[j + b]; d[j + b] = x; }
            }
        }
        CHECKF(nb == 0 || memcmp(d, s->data[i], nb) == 0, "tensor %s data", s->t[i].name.ptr);
        free(d);
    }
    /* write_copy to memory: byte-identical */
    gk_write_opts co;
    gk_gguf_copy_opts(g, &co);
    gk_writer *w = NULL;
    st = gk_writer_open_memory(&co, &w, &e);
    if (!st) st = gk_gguf_write_copy_to(g, w, &e);
    CHECKF(st == GK_OK, "write_copy_to: %s", e.msg);
    size_t m = 0;
    const uint8_t *c = gk_writer_memory(w, &m);
    CHECK(c && m == n && memcmp(c, buf, n) == 0);
    gk_writer_free(w);
    gk_gguf_close(g);
}

static void test_matrix(void) {
    swaps[GK_TYPE_Q8_0] = swap_q8_0;
    const uint32_t aligns[] = {1, 8, 32, 64};
    for (uint32_t ver = 1; ver <= 3; ver++)
        for (int be = 0; be < 2; be++)
            for (size_t a = 0; a < 4; a++) {
                synth s;
                synth_build(&s, ver == 1, aligns[a]);
                gk_write_opts o = {.version = ver, .big_endian = be, .alignment = aligns[a], .byteswap = swaps};
                size_t n1 = 0, n2 = 0;
                uint8_t *b1 = synth_write(&s, &o, &n1, 1 << 20);
                uint8_t *b2 = synth_write(&s, &o, &n2, 3); /* tiny chunks crossing elements */
                CHECKF(b1 && b2 && n1 == n2 && !memcmp(b1, b2, n1), "v%u be%d a%u chunked", ver, be, aligns[a]);
                if (b1) check_read(&s, b1, n1, &o);
                free(b1);
                free(b2);
                synth_free(&s);
            }
    /* big-endian without a swap for q8_0: refused */
    synth s;
    synth_build(&s, 0, 32);
    gk_write_opts o = {.big_endian = 1};
    gk_writer *w = NULL;
    gk_err e;
    CHECK(gk_writer_open_memory(&o, &w, &e) == GK_OK);
    CHECK(gk_writer_begin(w, s.kv, s.n_kv, s.t, NT, &e) == GK_E_UNSUPPORTED);
    gk_writer_free(w);
    /* alignment disagreeing with general.alignment: refused */
    synth_free(&s);
    synth_build(&s, 0, 64);
    o = (gk_write_opts){.alignment = 32};
    CHECK(gk_writer_open_memory(&o, &w, &e) == GK_OK);
    CHECK(gk_writer_begin(w, s.kv, s.n_kv, s.t, NT, &e) == GK_E_INVALID_ARG);
    gk_writer_free(w);
    /* ... and taken from the key when the option is 0 */
    o = (gk_write_opts){0};
    size_t n = 0;
    uint8_t *b = synth_write(&s, &o, &n, 4096);
    o.alignment = 64;
    if (b) check_read(&s, b, n, &o);
    free(b);
    synth_free(&s);
    /* v1 cannot hold u64 values */
    synth_build(&s, 0, 32);
    o = (gk_write_opts){.version = 1};
    CHECK(gk_writer_open_memory(&o, &w, &e) == GK_OK);
    CHECK(gk_writer_begin(w, s.kv, s.n_kv, s.t, NT, &e) == GK_E_INVALID_ARG);
    gk_writer_free(w);
    synth_free(&s);
}

/* Tensorless files: with and without the padding after the infos. */
static void test_tensorless(void) {
    gk_kv kv = {.key = {"general.architecture", 20}, .val = {.type = GK_V_STR, .str = {"x", 1}}};
    for (int nopad = 0; nopad < 2; nopad++) {
        gk_write_opts o = {.no_empty_padding = nopad};
        gk_writer *w = NULL;
        gk_err e;
        CHECK(gk_writer_open_memory(&o, &w, &e) == GK_OK);
        CHECK(gk_writer_begin(w, &kv, 1, NULL, 0, &e) == GK_OK);
        CHECK(gk_writer_finish(w, &e) == GK_OK);
        size_t n = 0;
        const uint8_t *m = gk_writer_memory(w, &n);
        CHECK(n == (nopad ? 24u + 8 + 20 + 4 + 8 + 1 : 96u));
        gk_gguf *g = NULL;
        CHECK(gk_gguf_from_memory(m, n, 0, &g, &e) == GK_OK);
        CHECK(g && g->final_padding == !nopad && g->trailing_bytes == 0);
        gk_write_opts co;
        gk_gguf_copy_opts(g, &co);
        CHECK(co.no_empty_padding == nopad);
        gk_writer *w2 = NULL;
        CHECK(gk_writer_open_memory(&co, &w2, &e) == GK_OK);
        CHECK(gk_gguf_write_copy_to(g, w2, &e) == GK_OK);
        size_t n2 = 0;
        const uint8_t *m2 = gk_writer_memory(w2, &n2);
        CHECK(n2 == n && m2 && !memcmp(m, m2, n));
        gk_writer_free(w2);
        gk_gguf_close(g);
        gk_writer_free(w);
    }
}

static int count_tmp(const char *dir) {
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "ls %s | grep -c '\\.tmp\\.' > /dev/null", dir);
    return system(cmd) == 0;
}

typedef struct at_job {
    gk_writer *w;
    const synth *s;
    int part;     /* 0: even chunks, 1: odd chunks */
    gk_status st;
} at_job;

static void *at_worker(void *arg) {
    at_job *j = arg;
    gk_err e;
    for (int i = NT - 1; i >= 0; i--) {
        uint64_t nb = tbytes(&j->s->t[i]);
        const uint64_t chunk = 8; /* multiple of every unit but q8_0's... */
        uint64_t unit = j->s->t[i].type == GK_TYPE_Q8_0 ? 34 : chunk;
        int c = 0;
        for (uint64_t off = 0; off < nb; off += unit, c++) {
            if ((c & 1) != j->part) continue;
            size_t k = nb - off < unit ? (size_t)(nb - off) : (size_t)unit;
            gk_status st = gk_writer_write_at(j->w, (uint64_t)i, off, j->s->data[i] + off, k, &e);
            if (st) { j->st = st; return NULL; }
        }
    }
    return NULL;
}

static void test_files(void) {
    const char *dir = gk_test_tmpdir();
    CHECK(dir != NULL);
    if (!dir) return;
    char dst[4200], dst2[4200];
    snprintf(dst, sizeof dst, "%s/out.gguf", dir);
    snprintf(dst2, sizeof dst2, "%s/out-at.gguf", dir);
    synth s;
    synth_build(&s, 0, 32);
    struct stat sb;
    gk_err e;
    for (int be = 0; be < 2; be++) {
        gk_write_opts o = {.big_endian = be, .byteswap = swaps};
        /* abandoned writer: no file under dst, temp removed */
        gk_writer *w = NULL;
        CHECK(gk_writer_open(dst, &o, &w, &e) == GK_OK);
        CHECK(gk_writer_begin(w, s.kv, s.n_kv, s.t, NT, &e) == GK_OK);
        CHECK(count_tmp(dir));
        CHECK(stat(dst, &sb) != 0);
        CHECK(gk_writer_finish(w, &e) == GK_E_INVALID_ARG); /* no data */
        CHECK(stat(dst, &sb) != 0);
        gk_writer_free(w);
        CHECK(!count_tmp(dir));
        /* sequential */
        CHECK(gk_writer_open(dst, &o, &w, &e) == GK_OK);
        CHECK(gk_writer_begin(w, s.kv, s.n_kv, s.t, NT, &e) == GK_OK);
        for (int i = 0; i < NT; i++) CHECK(gk_writer_write(w, s.data[i], (size_t)tbytes(&s.t[i]), &e) == GK_OK);
        CHECK(gk_writer_write_at(w, 0, 0, s.data[0], 4, &e) == GK_E_INVALID_ARG); /* mixing */
        CHECK(gk_writer_finish(w, &e) == GK_OK);
        uint64_t h1[NT][2];
        for (int i = 0; i < NT; i++) CHECK(gk_writer_tensor_hash(w, (uint64_t)i, &h1[i][0], &h1[i][1]));
        gk_writer_free(w);
        CHECK(stat(dst, &sb) == 0 && (sb.st_mode & 0777) == 0644);
        CHECK(!count_tmp(dir));
        /* positional, two threads, reverse order */
        CHECK(gk_writer_open(dst2, &o, &w, &e) == GK_OK);
        CHECK(gk_writer_begin(w, s.kv, s.n_kv, s.t, NT, &e) == GK_OK);
        at_job j[2] = {{w, &s, 0, GK_OK}, {w, &s, 1, GK_OK}};
        pthread_t th[2];
        for (int k = 0; k < 2; k++) pthread_create(&th[k], NULL, at_worker, &j[k]);
        for (int k = 0; k < 2; k++) pthread_join(th[k], NULL);
        CHECK(j[0].st == GK_OK && j[1].st == GK_OK);
        CHECK(gk_writer_write(w, s.data[0], 4, &e) == GK_E_INVALID_ARG); /* mixing */
        CHECK(gk_writer_write_at(w, 0, 56, s.data[0], 8, &e) == GK_E_INVALID_ARG); /* past end */
        CHECK(gk_writer_finish(w, &e) == GK_OK);
        for (int i = 0; i < NT; i++) {
            uint64_t hi = 0, lo = 0;
            CHECK(gk_writer_tensor_hash(w, (uint64_t)i, &hi, &lo) && hi == h1[i][0] && lo == h1[i][1]);
        }
        gk_writer_free(w);
        size_t n1 = 0, n2 = 0;
        uint8_t *a = gk_test_read_file(dst, &n1), *b = gk_test_read_file(dst2, &n2);
        CHECKF(a && b && n1 == n2 && !memcmp(a, b, n1), "positional == sequential (be %d)", be);
        /* the file reader and gk_gguf_write_copy */
        gk_gguf *g = NULL;
        CHECK(gk_gguf_open(dst, 0, &g, &e) == GK_OK);
        char cp[4300];
        snprintf(cp, sizeof cp, "%s/copy.gguf", dir);
        CHECK(g && gk_gguf_write_copy(g, cp, &e) == GK_OK);
        size_t n3 = 0;
        uint8_t *c = gk_test_read_file(cp, &n3);
        CHECK(c && n3 == n1 && a && !memcmp(a, c, n1));
        free(c);
        gk_gguf_close(g);
        unlink(cp);
        free(a);
        free(b);
        /* an incomplete positional write is refused at finish */
        CHECK(gk_writer_open(dst2, &o, &w, &e) == GK_OK);
        CHECK(gk_writer_begin(w, s.kv, s.n_kv, s.t, NT, &e) == GK_OK);
        CHECK(gk_writer_write_at(w, 0, 0, s.data[0], 8, &e) == GK_OK);
        CHECK(gk_writer_finish(w, &e) == GK_E_INVALID_ARG);
        gk_writer_free(w);
        CHECK(!count_tmp(dir));
        unlink(dst);
        unlink(dst2);
    }
    /* memory writers do not do positional writes */
    gk_writer *w = NULL;
    CHECK(gk_writer_open_memory(NULL, &w, &e) == GK_OK);
    CHECK(gk_writer_begin(w, s.kv, s.n_kv, s.t, NT, &e) == GK_OK);
    CHECK(gk_writer_write_at(w, 0, 0, s.data[0], 4, &e) == GK_E_UNSUPPORTED);
    gk_writer_free(w);
    /* a destination in a missing directory */
    char bad[4300];
    snprintf(bad, sizeof bad, "%s/nope/x.gguf", dir);
    CHECK(gk_writer_open(bad, NULL, &w, &e) == GK_E_IO && w == NULL);
    synth_free(&s);
    rmdir(dir);
}

/* Fuzz seeds (run by hand: GGUFKIT_WRITE_SEEDS=tests/fuzz/corpus/gguf). */
static void write_seeds(const char *dir) {
    char p[4200];
    size_t n;
    uint8_t *b;
    /* valid forms, then a few rejected ones (overlap, duplicate key, nesting 9, alignment 48,
     * q8_0 with ne0 30, and T1 cut at 240 bytes) */
    t1opt variants[] = {{0}, {.be = 1}, {.v1 = 1}, {.nested_depth = 3}, {.align_kind = 4, .align_val = 1},
                        {.h_off_set = 1, .h_off = 0}, {.t_ndims = 4}, {.dup_key = 1},
                        {.nested_depth = 9}, {.align_kind = 3},
                        {.t_type_set = 1, .t_type = 8, .t_ne0 = 30}, {0}};
    size_t nv = sizeof variants / sizeof variants[0];
    for (size_t i = 0; i < nv; i++) {
        n = t1_build(&variants[i], &b);
        if (i == nv - 1) n = 240;
        snprintf(p, sizeof p, "%s/t1-%zu.gguf", dir, i);
        gk_test_write_file(p, b, n);
        free(b);
    }
    synth s;
    synth_build(&s, 0, 8);
    gk_write_opts o = {.alignment = 8};
    b = synth_write(&s, &o, &n, 1 << 20);
    snprintf(p, sizeof p, "%s/synth-a8.gguf", dir);
    if (b) gk_test_write_file(p, b, n);
    free(b);
    synth_free(&s);
    synth_build(&s, 1, 32);
    o = (gk_write_opts){.version = 1, .big_endian = 1, .byteswap = swaps};
    b = synth_write(&s, &o, &n, 1 << 20);
    snprintf(p, sizeof p, "%s/synth-v1-be.gguf", dir);
    if (b) gk_test_write_file(p, b, n);
    free(b);
    synth_free(&s);
}

static void test_values(void) {
    CHECK(strcmp(gk_vtype_name(GK_V_STR), "str") == 0 && strcmp(gk_vtype_name(GK_V_F64), "f64") == 0);
    CHECK(gk_vtype_name(13) == NULL && gk_vtype_size(13) == 0);
    CHECK(gk_vtype_size(GK_V_U16) == 2 && gk_vtype_size(GK_V_STR) == 0 && gk_vtype_size(GK_V_I64) == 8);
    int ok = -1;
    gk_value v = {.type = GK_V_U64};
    v.v.u64 = UINT64_MAX;
    CHECK(gk_value_as_u64(&v, &ok) == UINT64_MAX && ok == 1);
    gk_value_as_i64(&v, &ok);
    CHECK(ok == 0);
    v = (gk_value){.type = GK_V_I8};
    v.v.i8 = -5;
    CHECK(gk_value_as_i64(&v, &ok) == -5 && ok);
    gk_value_as_u64(&v, &ok);
    CHECK(!ok);
    CHECK(gk_value_as_f64(&v, &ok) == -5.0 && ok);
    v = (gk_value){.type = GK_V_F32};
    v.v.f32 = 2.5f;
    CHECK(gk_value_as_f64(&v, &ok) == 2.5 && ok);
    gk_value_as_i64(&v, &ok);
    CHECK(!ok);
    v = (gk_value){.type = GK_V_BOOL};
    v.v.b = 1;
    CHECK(gk_value_as_i64(&v, &ok) == 1 && ok);
    v = (gk_value){.type = GK_V_STR};
    gk_value_as_f64(&v, &ok);
    CHECK(!ok);
    const int16_t a[3] = {-1, 2, -3};
    gk_value arr_v = arr(GK_V_I16, 3, a);
    CHECK(gk_array_get_i64(&arr_v, 2, &ok) == -3 && ok);
    CHECK(gk_array_get_f64(&arr_v, 1, &ok) == 2.0 && ok);
    gk_array_get_i64(&arr_v, 3, &ok);
    CHECK(!ok);
    const double d[1] = {0.5};
    arr_v = arr(GK_V_F64, 1, d);
    CHECK(gk_array_get_f64(&arr_v, 0, &ok) == 0.5 && ok);
    gk_array_get_i64(&arr_v, 0, &ok);
    CHECK(!ok);
    gk_array_get_f64(&v, 0, &ok);
    CHECK(!ok);
}

int main(void) {
    test_values();
    test_matrix();
    test_tensorless();
    test_files();
    const char *seeds = getenv("GGUFKIT_WRITE_SEEDS");
    if (seeds && *seeds) write_seeds(seeds);
    return gk_test_result("test_gguf_roundtrip");
}
