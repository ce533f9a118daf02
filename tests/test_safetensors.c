/* safetensors reader: format-facts §10 T10 known bytes, a table of rejections (each with its
 * status and a message naming what and where), dtype conversions, the real fixtures in
 * ../shared/data, a truncation sweep and deterministic random byte flips. */
#include "testutil.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

/* Builds "u64 N | header | data" in a static buffer; returns its size. */
static unsigned char g_buf[1 << 16];
static size_t mk(const char *json, size_t pad, const void *data, size_t ndata) {
    size_t n = strlen(json) + pad;
    uint64_t N = n;
    for (int i = 0; i < 8; i++) g_buf[i] = (unsigned char)(N >> (8 * i));
    memcpy(g_buf + 8, json, strlen(json));
    memset(g_buf + 8 + strlen(json), ' ', pad);
    if (ndata) {
        if (data) memcpy(g_buf + 8 + n, data, ndata);
        else memset(g_buf + 8 + n, 0, ndata);
    }
    return 8 + n + ndata;
}

static void test_known_bytes(void) {
    /* {"attn.0": F32 [1,2,3] = 0..5}: N = 64, exactly this header, then 24 bytes. */
    const char *h = "{\"attn.0\":{\"dtype\":\"F32\",\"shape\":[1,2,3],\"data_offsets\":[0,24]}}";
    CHECK(strlen(h) == 64);
    float v[6] = {0, 1, 2, 3, 4, 5};
    size_t n = mk(h, 0, v, sizeof v);
    CHECK(n == 8 + 64 + 24);
    CHECK(g_buf[0] == 64 && g_buf[1] == 0);
    gk_st *st = NULL;
    gk_err e = {0};
    CHECKF(gk_st_from_memory(g_buf, n, &st, &e) == GK_OK, "%s", e.msg);
    if (st) {
        CHECK(st->header_len == 64 && st->data_start == 72 && st->file_size == 96);
        CHECK(st->n_tensors == 1 && st->n_meta == 0);
        const gk_st_tensor *t = &st->tensors[0];
        CHECK(strcmp(t->name, "attn.0") == 0);
        CHECK(t->dtype == GK_ST_F32 && t->n_dims == 3);
        CHECK(t->shape[0] == 1 && t->shape[1] == 2 && t->shape[2] == 3 && t->shape[3] == 0);
        CHECK(t->n_elements == 6 && t->nbytes == 24 && t->begin == 0 && t->offset == 72);
        CHECK(t->data == g_buf + 72);
        float f[6];
        CHECK(gk_st_row_to_f32(t->dtype, t->data, f, 6) == GK_OK);
        for (int i = 0; i < 6; i++) CHECK(f[i] == (float)i);
        CHECK(gk_st_find(st, "attn.0") == 0 && gk_st_find(st, "attn.1") == -1);
    }
    gk_st_close(st);

    /* An empty dict: 08 00.. then "{}" and 6 spaces. */
    static const unsigned char empty[16] = {8, 0, 0, 0, 0, 0, 0, 0, '{', '}', ' ', ' ', ' ', ' ', ' ', ' '};
    CHECK(mk("{}", 6, NULL, 0) == 16 && memcmp(g_buf, empty, 16) == 0);
    st = NULL;
    CHECKF(gk_st_from_memory(empty, 16, &st, &e) == GK_OK, "%s", e.msg);
    CHECK(st && st->n_tensors == 0 && st->header_len == 8);
    gk_st_close(st);

    /* __metadata__ {"framework":"pt"}: N = 40 with 5 spaces of padding. */
    const char *m = "{\"__metadata__\":{\"framework\":\"pt\"}}";
    CHECK(strlen(m) + 5 == 40);
    n = mk(m, 5, NULL, 0);
    st = NULL;
    CHECKF(gk_st_from_memory(g_buf, n, &st, &e) == GK_OK, "%s", e.msg);
    if (st) {
        CHECK(st->header_len == 40 && st->n_meta == 1);
        CHECK(gk_st_meta_get(st, "framework") && strcmp(gk_st_meta_get(st, "framework"), "pt") == 0);
        CHECK(gk_st_meta_get(st, "format") == NULL);
    }
    gk_st_close(st);

    /* Readable but unusual: scalar shape, a zero dimension, writer order not required. */
    n = mk("{\"z\":{\"dtype\":\"I8\",\"shape\":[4,0],\"data_offsets\":[0,0]},"
           "\"s\":{\"dtype\":\"F64\",\"shape\":[],\"data_offsets\":[2,10]},"
           "\"a\":{\"dtype\":\"BF16\",\"shape\":[1],\"data_offsets\":[0,2]}}",
           0, NULL, 10);
    st = NULL;
    CHECKF(gk_st_from_memory(g_buf, n, &st, &e) == GK_OK, "%s", e.msg);
    if (st) {
        CHECK(st->n_tensors == 3);
        CHECK(strcmp(st->tensors[0].name, "a") == 0 && strcmp(st->tensors[1].name, "s") == 0);
        CHECK(st->tensors[1].n_dims == 0 && st->tensors[1].n_elements == 1);
        CHECK(st->tensors[2].n_elements == 0 && st->tensors[2].nbytes == 0);
    }
    gk_st_close(st);
}

typedef struct bad_case {
    const char *what;
    const char *json;
    size_t ndata;
    gk_status want;
    const char *needle; /* must appear in the message */
} bad_case;

static const bad_case BAD[] = {
    {"invalid JSON", "{\"a\":", 0, GK_E_BAD_JSON, "invalid JSON"},
    {"invalid UTF-8", "{\"\xff\xfe\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1,
     GK_E_BAD_JSON, "offset"},
    {"duplicate key",
     "{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]},"
     "\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[1,2]}}",
     2, GK_E_BAD_JSON, "duplicate"},
    {"not an object", "[1,2]", 0, GK_E_BAD_JSON, "not a JSON object"},
    {"entry not an object", "{\"a\":3}", 0, GK_E_BAD_JSON, "'a'"},
    {"dtype missing", "{\"a\":{\"shape\":[1],\"data_offsets\":[0,1]}}", 1, GK_E_BAD_JSON, "dtype"},
    {"dtype not a string", "{\"a\":{\"dtype\":7,\"shape\":[1],\"data_offsets\":[0,1]}}", 1,
     GK_E_BAD_JSON, "dtype"},
    {"shape missing", "{\"a\":{\"dtype\":\"U8\",\"data_offsets\":[0,1]}}", 1, GK_E_BAD_JSON, "shape"},
    {"shape not an array", "{\"a\":{\"dtype\":\"U8\",\"shape\":1,\"data_offsets\":[0,1]}}", 1,
     GK_E_BAD_JSON, "shape"},
    {"offsets missing", "{\"a\":{\"dtype\":\"U8\",\"shape\":[1]}}", 1, GK_E_BAD_JSON, "data_offsets"},
    {"offsets of 3", "{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1,2]}}", 1,
     GK_E_BAD_JSON, "data_offsets"},
    {"offset negative", "{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[-1,0]}}", 1,
     GK_E_BAD_JSON, "data_offsets"},
    {"offset a float", "{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1.0]}}", 1,
     GK_E_BAD_JSON, "data_offsets"},
    {"unknown dtype", "{\"a\":{\"dtype\":\"F12\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1,
     GK_E_BAD_DTYPE, "F12"},
    {"lower-case dtype", "{\"a\":{\"dtype\":\"f32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
     GK_E_BAD_DTYPE, "f32"},
    {"F8_E8M0 unsupported", "{\"w\":{\"dtype\":\"F8_E8M0\",\"shape\":[2],\"data_offsets\":[0,2]}}", 2,
     GK_E_UNSUPPORTED, "'w': dtype F8_E8M0"},
    {"FNUZ unsupported", "{\"w\":{\"dtype\":\"F8_E4M3FNUZ\",\"shape\":[2],\"data_offsets\":[0,2]}}",
     2, GK_E_UNSUPPORTED, "F8_E4M3FNUZ"},
    {"F4 unsupported", "{\"w\":{\"dtype\":\"F4\",\"shape\":[4],\"data_offsets\":[0,2]}}", 2,
     GK_E_UNSUPPORTED, "F4"},
    {"F6 unsupported", "{\"w\":{\"dtype\":\"F6_E3M2\",\"shape\":[4],\"data_offsets\":[0,3]}}", 3,
     GK_E_UNSUPPORTED, "F6_E3M2"},
    {"C64 unsupported", "{\"w\":{\"dtype\":\"C64\",\"shape\":[1],\"data_offsets\":[0,8]}}", 8,
     GK_E_UNSUPPORTED, "C64"},
    {"F4 [3] is 12 bits", "{\"w\":{\"dtype\":\"F4\",\"shape\":[3],\"data_offsets\":[0,2]}}", 2,
     GK_E_SIZE_MISMATCH, "12 bits"},
    {"9 dimensions",
     "{\"a\":{\"dtype\":\"U8\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,1]}}", 1,
     GK_E_BAD_NDIMS, "9 dimensions"},
    {"negative dim", "{\"a\":{\"dtype\":\"U8\",\"shape\":[-1],\"data_offsets\":[0,1]}}", 1,
     GK_E_BAD_DIM, "shape[0]"},
    {"float dim", "{\"a\":{\"dtype\":\"U8\",\"shape\":[1,2.5],\"data_offsets\":[0,1]}}", 1,
     GK_E_BAD_DIM, "shape[1]"},
    {"element count overflow",
     "{\"a\":{\"dtype\":\"U8\",\"shape\":[4294967296,4294967296,2],\"data_offsets\":[0,1]}}", 1,
     GK_E_OVERFLOW, "overflow"},
    {"byte size overflow",
     "{\"a\":{\"dtype\":\"F64\",\"shape\":[4611686018427387904],\"data_offsets\":[0,1]}}", 1,
     GK_E_OVERFLOW, "overflow"},
    {"end before begin", "{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[1,0]}}", 1,
     GK_E_OUT_OF_BOUNDS, "end before begin"},
    {"end past data", "{\"a\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,2]}}", 1,
     GK_E_OUT_OF_BOUNDS, "past the end"},
    {"size mismatch", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4,
     GK_E_SIZE_MISMATCH, "hold 4 bytes but F32 x 2 elements is 8"},
    {"gap between tensors",
     "{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]},"
     "\"b\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[2,3]}}",
     3, GK_E_SIZE_MISMATCH, "gap of 1 bytes at data offset 1"},
    {"first tensor not at 0", "{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[1,2]}}", 2,
     GK_E_SIZE_MISMATCH, "gap"},
    {"overlapping tensors",
     "{\"a\":{\"dtype\":\"U16\",\"shape\":[1],\"data_offsets\":[0,2]},"
     "\"b\":{\"dtype\":\"U16\",\"shape\":[1],\"data_offsets\":[1,3]}}",
     3, GK_E_OVERLAP, "overlaps tensor 'a'"},
    {"same region twice",
     "{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]},"
     "\"b\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}",
     1, GK_E_OVERLAP, "overlaps"},
    {"trailing bytes", "{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}", 3,
     GK_E_SIZE_MISMATCH, "2 trailing bytes"},
    {"trailing bytes, no tensors", "{}", 1, GK_E_SIZE_MISMATCH, "1 trailing bytes"},
    {"metadata not an object", "{\"__metadata__\":[\"x\"]}", 0, GK_E_BAD_JSON, "__metadata__"},
    {"metadata value not a string", "{\"__metadata__\":{\"k\":1}}", 0, GK_E_BAD_JSON, "'k'"},
    {"empty header", "", 0, GK_E_BAD_JSON, "invalid JSON"},
};

static void test_rejections(void) {
    for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++) {
        const bad_case *c = &BAD[i];
        size_t n = mk(c->json, 0, NULL, c->ndata);
        gk_st *st = (gk_st *)1;
        gk_err e = {0};
        gk_status rc = gk_st_from_memory(g_buf, n, &st, &e);
        CHECKF(rc == c->want, "%s: got %s (%s), want %s", c->what, gk_status_name(rc), e.msg,
               gk_status_name(c->want));
        CHECKF(st == NULL, "%s: handle not NULL on error", c->what);
        CHECKF(e.status == rc, "%s: err.status", c->what);
        CHECKF(strstr(e.msg, c->needle) != NULL, "%s: message '%s' lacks '%s'", c->what, e.msg,
               c->needle);
        if (rc == GK_OK) gk_st_close(st);
    }

    /* Length-prefix cases, built by hand. */
    gk_err e = {0};
    gk_st *st = NULL;
    unsigned char b[32] = {0};
    CHECK(gk_st_from_memory(b, 7, &st, &e) == GK_E_TRUNCATED && !st);
    uint64_t big = 100000001;
    for (int i = 0; i < 8; i++) b[i] = (unsigned char)(big >> (8 * i));
    CHECK(gk_st_from_memory(b, sizeof b, &st, &e) == GK_E_TOO_MANY && strstr(e.msg, "100000001"));
    big = UINT64_MAX;
    for (int i = 0; i < 8; i++) b[i] = (unsigned char)(big >> (8 * i));
    CHECK(gk_st_from_memory(b, sizeof b, &st, &e) == GK_E_TOO_MANY);
    big = 25; /* 8 + 25 > 32 */
    for (int i = 0; i < 8; i++) b[i] = (unsigned char)(big >> (8 * i));
    CHECK(gk_st_from_memory(b, sizeof b, &st, &e) == GK_E_TRUNCATED && strstr(e.msg, "25"));
    /* NUL padding instead of spaces is not JSON. */
    size_t n = mk("{}", 0, NULL, 0);
    g_buf[0] = 4;
    g_buf[10] = 0; g_buf[11] = 0;
    CHECK(gk_st_from_memory(g_buf, n + 2, &st, &e) == GK_E_BAD_JSON);
    /* Header-only parse: checks against the stated file size; data pointers NULL. */
    const char *h = "{\"a\":{\"dtype\":\"U8\",\"shape\":[5],\"data_offsets\":[0,5]}}";
    n = mk(h, 0, NULL, 5);
    CHECK(gk_st_from_header(g_buf, n - 5, n, &st, &e) == GK_OK);
    CHECK(st && st->n_tensors == 1 && st->tensors[0].data == NULL && st->base == NULL);
    gk_st_close(st);
    CHECK(gk_st_from_header(g_buf, n - 5, n + 1, &st, &e) == GK_E_SIZE_MISMATCH);
    CHECK(gk_st_from_header(g_buf, 20, n, &st, &e) == GK_E_TRUNCATED);
    CHECK(gk_st_open("/nonexistent/x.safetensors", &st, &e) == GK_E_IO && !st);
    gk_st_close(NULL);
}

static void test_dtypes(void) {
    CHECK(gk_st_dtype_from_name("BF16") == GK_ST_BF16);
    CHECK(gk_st_dtype_from_name("F8_E4M3") == GK_ST_F8_E4M3);
    CHECK(gk_st_dtype_from_name("F8_E8M0") == -2 && gk_st_dtype_from_name("C64") == -2);
    CHECK(gk_st_dtype_from_name("bf16") == -1 && gk_st_dtype_from_name("Q4") == -1);
    for (int d = 0; d < GK_ST_DTYPE_COUNT; d++) {
        CHECK(gk_st_dtype_from_name(gk_st_dtype_name(d)) == d);
        size_t s = gk_st_dtype_size(d);
        CHECK(s == 1 || s == 2 || s == 4 || s == 8);
    }
    CHECK(gk_st_dtype_name(GK_ST_DTYPE_COUNT) == NULL && gk_st_dtype_size(-1) == 0);
    CHECK(gk_st_dtype_is_float(GK_ST_F16) && !gk_st_dtype_is_float(GK_ST_I32));

    float f[8];
    /* F8_E4M3 (fn): every code against its definition. */
    for (int b = 0; b < 256; b++) {
        uint8_t x = (uint8_t)b;
        CHECK(gk_st_row_to_f32(GK_ST_F8_E4M3, &x, f, 1) == GK_OK);
        int s = b >> 7, ex = (b >> 3) & 15, m = b & 7;
        double want = ex == 0 ? m / 8.0 * ldexp(1, -6) : (1 + m / 8.0) * ldexp(1, ex - 7);
        if (s) want = -want;
        if (ex == 15 && m == 7) CHECKF(isnan(f[0]), "e4m3 %02x", b);
        else CHECKF(f[0] == (float)want, "e4m3 %02x: %g vs %g", b, f[0], want);
    }
    uint8_t e4[3] = {0x7e, 0x01, 0x38};
    gk_st_row_to_f32(GK_ST_F8_E4M3, e4, f, 3);
    CHECK(f[0] == 448.0f && f[1] == ldexpf(1, -9) && f[2] == 1.0f);
    /* F8_E5M2: IEEE-like with inf and NaN. */
    for (int b = 0; b < 256; b++) {
        uint8_t x = (uint8_t)b;
        gk_st_row_to_f32(GK_ST_F8_E5M2, &x, f, 1);
        int s = b >> 7, ex = (b >> 2) & 31, m = b & 3;
        if (ex == 31) {
            CHECKF(m ? isnan(f[0]) : isinf(f[0]) && (f[0] < 0) == s, "e5m2 %02x", b);
            continue;
        }
        double want = ex == 0 ? m / 4.0 * ldexp(1, -14) : (1 + m / 4.0) * ldexp(1, ex - 15);
        if (s) want = -want;
        CHECKF(f[0] == (float)want, "e5m2 %02x", b);
    }
    /* F16: all codes, against the definition. */
    for (uint32_t h = 0; h < 65536; h++) {
        uint8_t x[2] = {(uint8_t)h, (uint8_t)(h >> 8)};
        gk_st_row_to_f32(GK_ST_F16, x, f, 1);
        int s = h >> 15, ex = (h >> 10) & 31, m = h & 1023;
        if (ex == 31) {
            if (m) CHECKF(isnan(f[0]), "f16 %04x", h);
            else CHECKF(isinf(f[0]) && (f[0] < 0) == s, "f16 %04x", h);
            continue;
        }
        double want = ex == 0 ? m / 1024.0 * ldexp(1, -14) : (1 + m / 1024.0) * ldexp(1, ex - 15);
        if (s) want = -want;
        if (f[0] != (float)want || (want == 0 && (signbit(f[0]) != 0) != s))
            CHECKF(0, "f16 %04x: %g vs %g", h, f[0], want);
    }
    /* BF16, F64 rounding, integers, BOOL. Unaligned source. */
    unsigned char raw[1 + 8 * 4];
    uint16_t bf[2] = {0x3f80, 0xc0a0}; /* 1, -5 */
    memcpy(raw + 1, bf, 4);
    gk_st_row_to_f32(GK_ST_BF16, raw + 1, f, 2);
    CHECK(f[0] == 1.0f && f[1] == -5.0f);
    double d[3] = {0.1, 1.0 + ldexp(1, -24), 1.0 + ldexp(1, -24) + ldexp(1, -40)};
    memcpy(raw + 1, d, sizeof d);
    gk_st_row_to_f32(GK_ST_F64, raw + 1, f, 3);
    CHECK(f[0] == 0.1f && f[1] == 1.0f && f[2] == 1.0f + ldexpf(1, -23));
    int64_t i64[2] = {-3, (int64_t)1 << 40};
    memcpy(raw + 1, i64, sizeof i64);
    gk_st_row_to_f32(GK_ST_I64, raw + 1, f, 2);
    CHECK(f[0] == -3.0f && f[1] == ldexpf(1, 40));
    uint8_t u8[4] = {0, 1, 2, 255};
    gk_st_row_to_f32(GK_ST_BOOL, u8, f, 4);
    CHECK(f[0] == 0 && f[1] == 1 && f[2] == 1 && f[3] == 1);
    gk_st_row_to_f32(GK_ST_I8, u8, f, 4);
    CHECK(f[3] == -1.0f);
    gk_st_row_to_f32(GK_ST_U8, u8, f, 4);
    CHECK(f[3] == 255.0f);
    int16_t i16 = -300;
    uint32_t u32 = 4000000000u;
    gk_st_row_to_f32(GK_ST_I16, &i16, f, 1);
    gk_st_row_to_f32(GK_ST_U32, &u32, f + 1, 1);
    CHECK(f[0] == -300.0f && f[1] == 4000000000.0f);
    CHECK(gk_st_row_to_f32(GK_ST_DTYPE_COUNT, u8, f, 1) == GK_E_INVALID_ARG);
    CHECK(gk_st_row_to_f32(-1, u8, f, 1) == GK_E_INVALID_ARG);
}

static void check_shape(const gk_st *st, const char *name, int dtype, uint32_t nd, uint64_t a,
                        uint64_t b, uint64_t c) {
    int64_t i = gk_st_find(st, name);
    CHECKF(i >= 0, "tensor %s missing", name);
    if (i < 0) return;
    const gk_st_tensor *t = &st->tensors[i];
    CHECKF((int)t->dtype == dtype && t->n_dims == nd, "%s: dtype %s n_dims %u", name,
           gk_st_dtype_name(t->dtype), t->n_dims);
    uint64_t want[3] = {a, b, c};
    uint64_t ne = 1;
    for (uint32_t k = 0; k < nd && k < 3; k++) {
        CHECKF(t->shape[k] == want[k], "%s: shape[%u] = %llu", name, k,
               (unsigned long long)t->shape[k]);
        ne *= want[k];
    }
    CHECK(t->n_elements == ne && t->nbytes == ne * gk_st_dtype_size(dtype));
}

static void test_fixtures(void) {
    gk_err e = {0};
    gk_st *st = NULL;
    CHECKF(gk_st_open(gk_test_data("safetensors/voices.safetensors"), &st, &e) == GK_OK, "%s",
           e.msg);
    if (st) {
        CHECK(st->n_tensors == 2);
        check_shape(st, "tokens", GK_ST_I64, 3, 1, 982, 33);
        check_shape(st, "mask", GK_ST_U8, 3, 1, 982, 33);
        const gk_st_tensor *m = &st->tensors[gk_st_find(st, "mask")];
        int ok = 1;
        for (uint64_t i = 0; i < m->nbytes; i++) ok &= m->data[i] <= 1;
        CHECK(ok);
    }
    gk_st_close(st);
    st = NULL;
    CHECKF(gk_st_open(gk_test_data("safetensors/jfk-codes.safetensors"), &st, &e) == GK_OK, "%s",
           e.msg);
    if (st) {
        CHECK(st->n_tensors == 1 && st->n_meta == 0);
        check_shape(st, "codes", GK_ST_I64, 3, 1, 2, 828);
    }
    gk_st_close(st);

    /* stories260K as HF F32: 47 tensors, and the embedding equals llama2.c's bytes. */
    st = NULL;
    CHECKF(gk_st_open(gk_test_data("stories260K-hf-f32/model.safetensors"), &st, &e) == GK_OK,
           "%s", e.msg);
    if (!st) return;
    CHECK(st->n_tensors == 47);
    CHECK(gk_st_meta_get(st, "format") && strcmp(gk_st_meta_get(st, "format"), "pt") == 0);
    check_shape(st, "model.embed_tokens.weight", GK_ST_F32, 2, 512, 64, 0);
    check_shape(st, "model.norm.weight", GK_ST_F32, 1, 64, 0, 0);
    CHECK(gk_st_find(st, "lm_head.weight") < 0);
    static const struct { const char *suffix; uint32_t nd; uint64_t a, b; } LAYER[] = {
        {"self_attn.q_proj.weight", 2, 64, 64},  {"self_attn.k_proj.weight", 2, 32, 64},
        {"self_attn.v_proj.weight", 2, 32, 64},  {"self_attn.o_proj.weight", 2, 64, 64},
        {"mlp.gate_proj.weight", 2, 172, 64},    {"mlp.down_proj.weight", 2, 64, 172},
        {"mlp.up_proj.weight", 2, 172, 64},      {"input_layernorm.weight", 1, 64, 0},
        {"post_attention_layernorm.weight", 1, 64, 0},
    };
    char name[128];
    for (int l = 0; l < 5; l++)
        for (size_t k = 0; k < sizeof LAYER / sizeof LAYER[0]; k++) {
            snprintf(name, sizeof name, "model.layers.%d.%s", l, LAYER[k].suffix);
            check_shape(st, name, GK_ST_F32, LAYER[k].nd, LAYER[k].a, LAYER[k].b, 0);
        }
    uint64_t total = 0;
    for (uint64_t i = 0; i < st->n_tensors; i++) total += st->tensors[i].nbytes;
    CHECK(st->data_start + total == st->file_size);
    size_t bn = 0;
    unsigned char *bin = gk_test_read_file(gk_test_data("stories260K/stories260K.bin"), &bn);
    const gk_st_tensor *emb = &st->tensors[gk_st_find(st, "model.embed_tokens.weight")];
    CHECK(bin && bn >= 28 + emb->nbytes && memcmp(bin + 28, emb->data, emb->nbytes) == 0);
    free(bin);

    /* The BF16 shards are the F32 values rounded to bf16. */
    gk_st *sh[2] = {NULL, NULL};
    CHECKF(gk_st_open(gk_test_data("stories260K-hf-bf16-sharded/model-00001-of-00002.safetensors"),
                      &sh[0], &e) == GK_OK, "%s", e.msg);
    CHECKF(gk_st_open(gk_test_data("stories260K-hf-bf16-sharded/model-00002-of-00002.safetensors"),
                      &sh[1], &e) == GK_OK, "%s", e.msg);
    if (sh[0] && sh[1]) {
        CHECK(sh[0]->n_tensors + sh[1]->n_tensors == 47);
        uint64_t seen = 0;
        for (int p = 0; p < 2; p++)
            for (uint64_t i = 0; i < sh[p]->n_tensors; i++) {
                const gk_st_tensor *b = &sh[p]->tensors[i];
                int64_t j = gk_st_find(st, b->name);
                CHECKF(j >= 0 && b->dtype == GK_ST_BF16, "%s", b->name);
                if (j < 0) continue;
                const gk_st_tensor *a = &st->tensors[j];
                CHECK(a->n_dims == b->n_dims && a->n_elements == b->n_elements);
                float *fa = malloc(a->n_elements * 4), *fb = malloc(a->n_elements * 4);
                gk_st_row_to_f32(a->dtype, a->data, fa, a->n_elements);
                gk_st_row_to_f32(b->dtype, b->data, fb, b->n_elements);
                int ok = 1;
                for (uint64_t k = 0; k < a->n_elements; k++)
                    ok &= fabsf(fa[k] - fb[k]) <= fabsf(fa[k]) * (1.0f / 256);
                CHECKF(ok, "%s: bf16 far from f32", b->name);
                free(fa);
                free(fb);
                seen++;
            }
        CHECK(seen == 47);
    }
    gk_st_close(sh[0]);
    gk_st_close(sh[1]);
    gk_st_close(st);
}

/* Any input: error (with a message), or a result whose records are consistent. */
static void check_consistent(const unsigned char *buf, size_t n, const char *what) {
    gk_st *st = NULL;
    gk_err e = {0};
    gk_status rc = gk_st_from_memory(buf, n, &st, &e);
    if (rc != GK_OK) {
        CHECKF(st == NULL && e.msg[0] != 0 && e.status == rc, "%s: error without message", what);
        return;
    }
    uint64_t total = 0;
    for (uint64_t i = 0; i < st->n_tensors; i++) {
        const gk_st_tensor *t = &st->tensors[i];
        CHECKF(t->offset + t->nbytes <= n && t->data == buf + t->offset, "%s: %s", what, t->name);
        CHECK(t->nbytes == t->n_elements * gk_st_dtype_size(t->dtype));
        total += t->nbytes;
    }
    CHECKF(st->data_start + total == n, "%s: tiling", what);
    gk_st_close(st);
}

static void test_truncation_and_flips(void) {
    /* A small valid file with metadata and several dtypes. */
    unsigned char data[40];
    for (int i = 0; i < 40; i++) data[i] = (unsigned char)(i * 37 + 1);
    size_t n = mk("{\"__metadata__\":{\"format\":\"pt\"},"
                  "\"w\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]},"
                  "\"b\":{\"dtype\":\"BF16\",\"shape\":[4],\"data_offsets\":[24,32]},"
                  "\"e\":{\"dtype\":\"F8_E4M3\",\"shape\":[2,2],\"data_offsets\":[32,36]},"
                  "\"s\":{\"dtype\":\"I32\",\"shape\":[],\"data_offsets\":[36,40]}}",
                  3, data, 40);
    unsigned char *orig = malloc(n);
    memcpy(orig, g_buf, n);
    check_consistent(orig, n, "valid");
    gk_st *st = NULL;
    gk_err e = {0};
    CHECK(gk_st_from_memory(orig, n, &st, &e) == GK_OK && st->n_tensors == 4);
    gk_st_close(st);
    for (size_t k = 0; k < n; k++) {
        unsigned char *t = malloc(k ? k : 1); /* exact-size copy so ASan sees over-reads */
        memcpy(t, orig, k);
        st = NULL;
        gk_status rc = gk_st_from_memory(t, k, &st, &e);
        CHECKF(rc != GK_OK && st == NULL, "truncation to %zu accepted", k);
        free(t);
    }
    uint64_t seed = 0x9e3779b97f4a7c15ull;
    for (int iter = 0; iter < 20000; iter++) {
        unsigned char *t = malloc(n);
        memcpy(t, orig, n);
        int flips = 1 + iter % 4;
        for (int f = 0; f < flips; f++) {
            seed ^= seed << 13; seed ^= seed >> 7; seed ^= seed << 17;
            size_t pos = (size_t)(seed % n);
            if (iter % 3 == 0) pos = (size_t)(seed % (n < 64 ? n : 64)); /* favour the header */
            t[pos] ^= (unsigned char)(1u << ((seed >> 32) % 8));
        }
        check_consistent(t, n, "flip");
        free(t);
    }
    free(orig);
}

int main(void) {
    test_known_bytes();
    test_rejections();
    test_dtypes();
    test_truncation_and_flips();
    /* The fixtures need ../shared/data (a skip when absent outside CI): report failures first. */
    if (gk_test_failures) return gk_test_result("test_safetensors");
    test_fixtures();
    return gk_test_result("test_safetensors");
}
