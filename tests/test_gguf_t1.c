/* T1 of format-facts §10: our writer produces it byte for byte, the reader reads it back, and
 * every negative variant (§10 T1 list and the malformed cases of §1.7) gets its own status. */
#include "test_gguf_util.h"

#include <openssl/evp.h>

static void sha256_hex(const uint8_t *p, size_t n, char out[65]) {
    unsigned char md[32];
    unsigned int len = 0;
    EVP_Digest(p, n, md, &len, EVP_sha256(), NULL);
    for (int i = 0; i < 32; i++) snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static void test_t1_exact(void) {
    size_t n = 0;
    gk_status st;
    uint8_t *w = t1_write(NULL, &n, &st);
    CHECK(st == GK_OK && w);
    if (!w) return;
    CHECK(n == 256);
    char hex[65];
    sha256_hex(w, n, hex);
    CHECKF(strcmp(hex, "ac1d7889bae6607a59b59156fa9baabfa1dd689f936333f420517571edb34c2a") == 0,
           "sha256 %s", hex);
    t1opt o = {0};
    uint8_t *ref;
    size_t rn = t1_build(&o, &ref);
    CHECK(rn == n && memcmp(ref, w, n) == 0);
    /* spot checks of the layout table */
    CHECK(memcmp(w + 0x18, "\x14\0\0\0\0\0\0\0general.architecture", 28) == 0);
    CHECK(w[0x5D] == 1 && w[0x65] == 't');
    CHECK(w[0xC0 + 4] == 0x00 && w[0xC0 + 7] == 0x3F); /* 1.0f */
    CHECK(w[0xE0] == 0x00 && w[0xE1] == 0x3C && w[0xE2] == 0x00 && w[0xE3] == 0xC0);

    gk_gguf *g = NULL;
    gk_err e = {0};
    st = gk_gguf_from_memory(w, n, 0, &g, &e);
    CHECKF(st == GK_OK, "%s", e.msg);
    if (g) {
        CHECK(g->version == 3 && !g->big_endian && g->alignment == 32);
        CHECK(g->n_kv == 2 && g->n_tensors == 2);
        CHECK(g->kv[0].offset == 0x18 && g->kv[1].offset == 0x45);
        const gk_value *a = gk_gguf_get(g, "general.architecture", GK_V_STR);
        CHECK(a && a->str.len == 5 && strcmp(a->str.ptr, "llama") == 0);
        const gk_value *u = gk_gguf_get(g, "test.u32", GK_V_U32);
        int ok = 0;
        CHECK(u && gk_value_as_u64(u, &ok) == 7 && ok);
        CHECK(gk_gguf_get(g, "test.u32", GK_V_I32) == NULL);
        CHECK(gk_gguf_find_kv(g, "nope") == -1);
        CHECK(gk_gguf_find_tensor(g, "h") == 1 && gk_gguf_find_tensor(g, "t") == 0);
        const gk_tensor *t = &g->tensors[0], *h = &g->tensors[1];
        CHECK(t->n_dims == 2 && t->ne[0] == 4 && t->ne[1] == 2 && t->ne[2] == 1 && t->nbytes == 32);
        CHECK(t->info_offset == 0x5D && h->info_offset == 0x86);
        CHECK(h->type == GK_TYPE_F16 && h->offset == 32 && h->nbytes == 6);
        CHECK(g->infos_end == 0xA7 && g->data_start == 0xC0 && g->data_end == 230);
        CHECK(t->data == w + 0xC0 && h->data == w + 0xE0);
        CHECK(g->contiguous && g->final_padding && g->trailing_bytes == 0);
        CHECK(!g->has_long_names && !g->has_nested_arrays && g->file_size == 256);
        gk_gguf_close(g);
    }
    /* trailing bytes are reported, not rejected */
    uint8_t *w2 = malloc(n + 5);
    memcpy(w2, w, n);
    memset(w2 + n, 0xAB, 5);
    st = gk_gguf_from_memory(w2, n + 5, 0, &g, &e);
    CHECK(st == GK_OK && g && g->trailing_bytes == 5 && g->final_padding);
    gk_gguf_close(g);
    free(w2);
    free(ref);
    free(w);
}

typedef struct neg {
    const char *what;
    t1opt o;
    size_t truncate;           /* 0: whole file */
    gk_status expect;
    unsigned flags;
} neg;

static void test_negatives(void) {
    char name64[65];
    memset(name64, 'n', 64);
    name64[64] = 0;
    const neg cases[] = {
        {"magic GGUG", {.magic = "GGUG"}, 0, GK_E_BAD_MAGIC, 0},
        {"version 1 (with a v3 body)", {.version = 1}, 0, GK_E_BAD_NDIMS, 0},
        {"version 4", {.version = 4}, 0, GK_E_BAD_VERSION, 0},
        {"version 0", {.version = 0x00010000}, 0, GK_E_BAD_VERSION, 0}, /* swapped 256 */
        {"version byte-swapped 0x03000000", {.version = 0x03000000}, 0, GK_E_TOO_MANY, 0},
        {"duplicate general.architecture", {.dup_key = 1}, 0, GK_E_DUP_KEY, 0},
        {"n_dims 5", {.t_ndims = 5}, 0, GK_E_BAD_NDIMS, 0},
        {"type 4 (removed)", {.h_type_set = 1, .h_type = 4}, 0, GK_E_REMOVED_TYPE, 0},
        {"type 31 (removed)", {.h_type_set = 1, .h_type = 31}, 0, GK_E_REMOVED_TYPE, 0},
        {"type 43", {.h_type_set = 1, .h_type = 43}, 0, GK_E_BAD_TYPE, 0},
        {"ne0 30 with q8_0", {.t_type_set = 1, .t_type = 8, .t_ne0 = 30}, 0, GK_E_BAD_SHAPE, 0},
        {"h offset 48", {.h_off_set = 1, .h_off = 48}, 0, GK_E_MISALIGNED, 0},
        {"h offset 0", {.h_off_set = 1, .h_off = 0}, 0, GK_E_OVERLAP, 0},
        {"h offset 64 (past end)", {.h_off_set = 1, .h_off = 64}, 0, GK_E_OUT_OF_BOUNDS, 0},
        {"alignment u64", {.align_kind = 1}, 0, GK_E_BAD_ALIGNMENT, 0},
        {"alignment 0", {.align_kind = 2}, 0, GK_E_BAD_ALIGNMENT, 0},
        {"alignment 48", {.align_kind = 3}, 0, GK_E_BAD_ALIGNMENT, 0},
        {"string length beyond end", {.arch_len = 1000}, 0, GK_E_TRUNCATED, 0},
        {"string longer than 1 GiB", {.arch_len = (1ull << 30) + 1}, 0, GK_E_BAD_STRING, 0},
        {"truncated to 240", {0}, 240, GK_E_OUT_OF_BOUNDS, 0},
        {"truncated to 229 (inside h)", {0}, 229, GK_E_OUT_OF_BOUNDS, 0},
        {"truncated to 0xB0 (inside padding)", {0}, 0xB0, GK_E_OUT_OF_BOUNDS, 0},
        {"truncated to 0x90 (inside infos)", {0}, 0x90, GK_E_TRUNCATED, 0},
        {"truncated to 3", {0}, 3, GK_E_BAD_MAGIC, 0},
        {"duplicate tensor name", {.h_name = "t"}, 0, GK_E_DUP_TENSOR, 0},
        {"empty tensor name", {.h_name = ""}, 0, GK_E_BAD_TENSOR_NAME, 0},
        {"empty key", {.key2 = ""}, 0, GK_E_EMPTY_KEY, 0},
        {"value type 13", {.kv2_type = 13}, 0, GK_E_BAD_VALUE_TYPE, 0},
        {"nesting 9 deep", {.nested_depth = 9}, 0, GK_E_NESTING, 0},
        {"v1 value type u64", {.v1 = 1, .kv2_type = 10}, 0, GK_E_BAD_VALUE_TYPE, 0},
        /* accepted */
        {"nested array (2)", {.nested_depth = 2}, 0, GK_OK, 0},
        {"nested array (8)", {.nested_depth = 8}, 0, GK_OK, 0},
        {"64-byte name", {.t_name = name64}, 0, GK_OK, 0},
        {"n_dims 4", {.t_ndims = 4}, 0, GK_OK, 0},
        {"v1", {.v1 = 1}, 0, GK_OK, 0},
        {"v2", {.version = 2}, 0, GK_OK, 0},
        {"big-endian", {.be = 1}, 0, GK_OK, 0},
        {"big-endian v1", {.be = 1, .v1 = 1}, 0, GK_OK, 0},
        {"alignment 64", {.align_kind = 4, .align_val = 64}, 0, GK_OK, 0},
        {"alignment 1", {.align_kind = 4, .align_val = 1}, 0, GK_OK, 0},
        {"alignment 8", {.align_kind = 4, .align_val = 8}, 0, GK_OK, 0},
        {"h offset 64, no bounds", {.h_off_set = 1, .h_off = 64}, 0, GK_OK, GK_READ_NO_BOUNDS},
        {"truncated to 240, no bounds", {0}, 240, GK_OK, GK_READ_NO_BOUNDS},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const neg *c = &cases[i];
        uint8_t *buf;
        size_t n = t1_build(&c->o, &buf);
        if (c->truncate) n = c->truncate;
        gk_gguf *g = NULL;
        gk_err e = {0};
        gk_status st = gk_gguf_from_memory(buf, n, c->flags, &g, &e);
        CHECKF(st == c->expect, "%s: got %s (%s), expected %s", c->what, gk_status_name(st), e.msg,
               gk_status_name(c->expect));
        if (st) {
            CHECKF(e.status == st && e.msg[0], "%s: error record", c->what);
            printf("  %-34s %-16s %s\n", c->what, gk_status_name(st), e.msg);
        }
        CHECK((st == GK_OK) == (g != NULL));
        if (g) {
            if (c->o.t_name) CHECK(g->has_long_names);
            if (c->o.nested_depth) CHECK(g->has_nested_arrays);
            if (c->o.be) CHECK(g->big_endian);
            if (c->o.be || c->o.v1) {
                const gk_value *u = gk_gguf_get(g, "test.u32", GK_V_U32);
                CHECK(u && u->v.u32 == 7);
                CHECK(g->n_tensors == 2 && g->tensors[0].ne[1] == 2 && g->tensors[1].offset == 32);
            }
            if (c->truncate == 240) CHECK(!g->final_padding && g->tensors[1].data);
            if (c->o.h_off == 64) CHECK(g->tensors[1].data == NULL && !g->contiguous);
            if (c->o.align_kind == 4) CHECK(g->alignment == c->o.align_val && g->contiguous);
            walk_gguf(g);
        }
        gk_gguf_close(g);
        free(buf);
    }
}

/* Hand-built §1.7 cases that T1's knobs do not cover. */
static gk_status parse(const bb *b, gk_err *e) {
    gk_gguf *g = NULL;
    gk_status st = gk_gguf_from_memory(b->p, b->n, 0, &g, e);
    gk_gguf_close(g);
    return st;
}

static void header(bb *b, uint64_t nt, uint64_t nk) {
    b->n = 0;
    bb_raw(b, "GGUF", 4);
    bb_u32(b, 3);
    bb_u64(b, nt);
    bb_u64(b, nk);
}

static void test_more_malformed(void) {
    bb b = {0};
    gk_err e;
    /* counts beyond the bytes */
    header(&b, 1000000, 0);
    CHECK(parse(&b, &e) == GK_E_TOO_MANY);
    header(&b, 0, 1ull << 62);
    CHECK(parse(&b, &e) == GK_E_TOO_MANY);
    header(&b, (uint64_t)-1, 0);
    CHECK(parse(&b, &e) == GK_E_TOO_MANY);
    /* array counts beyond the bytes, checked before allocating */
    static const uint32_t etypes[] = {0, 2, 4, 6, 7, 8, 9, 10, 12};
    for (size_t i = 0; i < sizeof etypes / sizeof etypes[0]; i++) {
        header(&b, 0, 1);
        bb_str(&b, "a");
        bb_u32(&b, 9);
        bb_u32(&b, etypes[i]);
        bb_u64(&b, 1ull << 40);
        bb_u64(&b, 0);
        CHECKF(parse(&b, &e) == GK_E_TOO_MANY, "array of %u: %s", etypes[i], e.msg);
    }
    header(&b, 0, 1);
    bb_str(&b, "a");
    bb_u32(&b, 9);
    bb_u32(&b, 8);
    bb_u64(&b, (uint64_t)-1);
    CHECK(parse(&b, &e) == GK_E_TOO_MANY);
    /* array element type 13 */
    header(&b, 0, 1);
    bb_str(&b, "a");
    bb_u32(&b, 9);
    bb_u32(&b, 13);
    bb_u64(&b, 0);
    CHECK(parse(&b, &e) == GK_E_BAD_VALUE_TYPE);
    /* empty arrays are fine; a tensorless file without padding too */
    header(&b, 0, 1);
    bb_str(&b, "a");
    bb_u32(&b, 9);
    bb_u32(&b, 4);
    bb_u64(&b, 0);
    gk_gguf *g = NULL;
    CHECK(gk_gguf_from_memory(b.p, b.n, 0, &g, &e) == GK_OK);
    CHECK(g && !g->final_padding && g->trailing_bytes == 0 && g->n_tensors == 0);
    CHECK(g && g->kv[0].val.arr.n == 0);
    gk_gguf_close(g);
    /* tensor dims */
    struct { uint64_t ne0, ne1; uint32_t type; gk_status st; } dims[] = {
        {1ull << 63, 1, 0, GK_E_BAD_DIM},
        {1ull << 32, 1ull << 32, 0, GK_E_BAD_DIM},
        {1ull << 62, 1, 0, GK_E_OVERFLOW},
        {0, 5, 0, GK_OK},
        {32, 0, 8, GK_OK},
    };
    for (size_t i = 0; i < sizeof dims / sizeof dims[0]; i++) {
        header(&b, 1, 0);
        bb_str(&b, "x");
        bb_u32(&b, 2);
        bb_u64(&b, dims[i].ne0);
        bb_u64(&b, dims[i].ne1);
        bb_u32(&b, dims[i].type);
        bb_u64(&b, 0);
        bb_pad(&b, 32);
        gk_status st = parse(&b, &e);
        CHECKF(st == dims[i].st, "dims case %zu: %s %s", i, gk_status_name(st), e.msg);
    }
    /* gaps between tensors are accepted (contiguous = 0) */
    header(&b, 2, 0);
    bb_str(&b, "x");
    bb_u32(&b, 1);
    bb_u64(&b, 4);
    bb_u32(&b, 0);
    bb_u64(&b, 0);
    bb_str(&b, "y");
    bb_u32(&b, 1);
    bb_u64(&b, 4);
    bb_u32(&b, 0);
    bb_u64(&b, 64);
    bb_pad(&b, 32);
    for (int i = 0; i < 96; i++) bb_u8(&b, (uint8_t)i);
    g = NULL;
    CHECK(gk_gguf_from_memory(b.p, b.n, 0, &g, &e) == GK_OK);
    CHECK(g && !g->contiguous && g->final_padding && g->tensors[1].data[0] == 64);
    gk_gguf_close(g);
    /* overlap inside another tensor's region */
    header(&b, 2, 0);
    bb_str(&b, "x");
    bb_u32(&b, 1);
    bb_u64(&b, 32);
    bb_u32(&b, 0);
    bb_u64(&b, 0);
    bb_str(&b, "y");
    bb_u32(&b, 1);
    bb_u64(&b, 4);
    bb_u32(&b, 0);
    bb_u64(&b, 96);
    bb_pad(&b, 32);
    for (int i = 0; i < 160; i++) bb_u8(&b, 0);
    CHECK(parse(&b, &e) == GK_E_OVERLAP);
    printf("  overlap: %s\n", e.msg);
    free(b.p);
}

int main(void) {
    test_t1_exact();
    test_negatives();
    test_more_malformed();
    return gk_test_result("test_gguf_t1");
}
