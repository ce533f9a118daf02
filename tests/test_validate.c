/* validate: a corruption corpus built here from valid files (the T1 file, and copies of
 * ../shared/data files in a temp dir): each case must produce its finding (code, severity,
 * tensor); the real files validate without errors. */
#include "test_hash_util.h"

#include <unistd.h>

static const char *dir;

/* Validates path; returns the first report (caller frees all via vfree). */
typedef struct vres {
    gk_vreport *r;
    size_t n;
} vres;

static vres run(const char *path) {
    vres v = {NULL, 0};
    gk_err e = {0};
    gk_validate_opts o = {0};
    gk_status st = gk_validate_path(path, &o, &v.r, &v.n, &e);
    CHECKF(st == GK_OK, "%s: %s", path, e.msg);
    return v;
}
static void vfree(vres *v) {
    for (size_t i = 0; i < v->n; i++) gk_vreport_free(&v->r[i]);
    free(v->r);
}
static uint64_t errors(const vres *v) {
    uint64_t n = 0;
    for (size_t i = 0; i < v->n; i++) n += v->r[i].n_errors;
    return n;
}
static int has(const vres *v, const char *code, const char *tensor) {
    for (size_t i = 0; i < v->n; i++)
        if (hu_has(&v->r[i], code, tensor)) return 1;
    return 0;
}
static const gk_finding *get(const vres *v, const char *code) {
    for (size_t i = 0; i < v->n; i++)
        for (size_t k = 0; k < v->r[i].n; k++)
            if (!strcmp(v->r[i].f[k].code, code)) return &v->r[i].f[k];
    return NULL;
}

static void expect_at(const char *path, const char *code, const char *tensor, int line) {
    vres v = run(path);
    int ok = has(&v, code, tensor);
    if (!ok) {
        fprintf(stderr, "test_validate.c:%d: %s: expected finding %s%s%s\n", line, path, code,
                tensor ? " on " : "", tensor ? tensor : "");
        gk_test_failures++;
        for (size_t i = 0; i < v.n; i++) hu_dump(&v.r[i]);
    }
    vfree(&v);
}
#define EXPECT(path, code, tensor) expect_at(path, code, tensor, __LINE__)

static void write_t1(const char *name, const t1opt *o, size_t cut, const void *extra, size_t en) {
    uint8_t *b = NULL;
    size_t n = t1_build(o, &b);
    if (cut < n) n = cut;
    uint8_t *full = malloc(n + en);
    memcpy(full, b, n);
    if (en) memcpy(full + n, extra, en);
    CHECK(gk_test_write_file(hu_path(dir, name), full, n + en) == 0);
    free(full);
    free(b);
}

static void t1_cases(void) {
    char name64[65];
    memset(name64, 'n', 64);
    name64[64] = 0;
    write_t1("magic.gguf", &(t1opt){.magic = "GGUG"}, (size_t)-1, NULL, 0);
    EXPECT(hu_path(dir, "magic.gguf"), "bad_magic", NULL);
    write_t1("version.gguf", &(t1opt){.version = 4}, (size_t)-1, NULL, 0);
    EXPECT(hu_path(dir, "version.gguf"), "bad_version", NULL);
    write_t1("overlap.gguf", &(t1opt){.h_off_set = 1, .h_off = 0}, (size_t)-1, NULL, 0);
    {
        vres v = run(hu_path(dir, "overlap.gguf"));
        CHECKF(errors(&v) > 0 && v.r[0].n && v.r[0].f[0].sev == GK_SEV_ERROR, "overlapping offsets");
        vfree(&v);
    }
    write_t1("removed.gguf", &(t1opt){.h_type_set = 1, .h_type = 4}, (size_t)-1, NULL, 0);
    EXPECT(hu_path(dir, "removed.gguf"), "removed_type", NULL);
    write_t1("hdr_cut.gguf", &(t1opt){0}, 100, NULL, 0);
    {
        vres v = run(hu_path(dir, "hdr_cut.gguf"));
        CHECK(errors(&v) > 0);
        vfree(&v);
    }
    write_t1("cut200.gguf", &(t1opt){0}, 200, NULL, 0);
    EXPECT(hu_path(dir, "cut200.gguf"), "truncated", NULL);
    EXPECT(hu_path(dir, "cut200.gguf"), "incomplete_tensor", "t");
    EXPECT(hu_path(dir, "cut200.gguf"), "incomplete_tensor", "h");
    {
        vres v = run(hu_path(dir, "cut200.gguf"));
        const gk_finding *f = get(&v, "truncated");
        CHECK(f && strstr(f->message, "30 bytes missing") && f->has_offset && f->offset == 200);
        vfree(&v);
    }
    write_t1("cut240.gguf", &(t1opt){0}, 240, NULL, 0);
    EXPECT(hu_path(dir, "cut240.gguf"), "no_final_padding", NULL);
    write_t1("trailing.gguf", &(t1opt){0}, (size_t)-1, "0123456789", 10);
    EXPECT(hu_path(dir, "trailing.gguf"), "trailing_bytes", NULL);
    write_t1("gap.gguf", &(t1opt){.h_off_set = 1, .h_off = 64}, (size_t)-1, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 32);
    EXPECT(hu_path(dir, "gap.gguf"), "not_contiguous", "h");
    write_t1("v1.gguf", &(t1opt){.v1 = 1}, (size_t)-1, NULL, 0);
    EXPECT(hu_path(dir, "v1.gguf"), "gguf_v1", NULL);
    write_t1("be.gguf", &(t1opt){.be = 1}, (size_t)-1, NULL, 0);
    EXPECT(hu_path(dir, "be.gguf"), "big_endian", NULL);
    write_t1("nested.gguf", &(t1opt){.nested_depth = 2}, (size_t)-1, NULL, 0);
    EXPECT(hu_path(dir, "nested.gguf"), "nested_array", NULL);
    write_t1("long.gguf", &(t1opt){.t_name = name64}, (size_t)-1, NULL, 0);
    EXPECT(hu_path(dir, "long.gguf"), "long_name", name64);
    /* T1 says llama but has no hyperparameters */
    write_t1("t1.gguf", &(t1opt){0}, (size_t)-1, NULL, 0);
    EXPECT(hu_path(dir, "t1.gguf"), "missing_key", NULL);
    /* a Git LFS pointer */
    const char *lfs = "version https://git-lfs.github.com/spec/v1\n"
                      "oid sha256:59b687b6000000000000000000000000000000000000000000000000000000\n"
                      "size 1185376\n";
    CHECK(gk_test_write_file(hu_path(dir, "lfs.gguf"), lfs, strlen(lfs)) == 0);
    {
        vres v = run(hu_path(dir, "lfs.gguf"));
        const gk_finding *f = get(&v, "lfs_pointer");
        CHECK(f && f->sev == GK_SEV_ERROR && strstr(f->message, "git lfs pull"));
        vfree(&v);
    }
    /* a type llama.cpp (node-llama-cpp 3.22.1) lacks: q1_0 */
    {
        gk_tensor t;
        memset(&t, 0, sizeof t);
        t.name = (gk_str){"w", 1};
        t.n_dims = 1;
        t.ne[0] = 128; t.ne[1] = t.ne[2] = t.ne[3] = 1;
        t.type = GK_TYPE_Q1_0;
        uint8_t blk[18] = {0x00, 0x3c};
        const uint8_t *dp[1] = {blk};
        gk_kv kv = {.key = {"general.architecture", 20}, .val = {.type = GK_V_STR, .str = {"test", 4}}};
        gk_err e = {0};
        CHECKF(hu_write(hu_path(dir, "q1.gguf"), &kv, 1, &t, 1, dp, &e) == GK_OK, "%s", e.msg);
        EXPECT(hu_path(dir, "q1.gguf"), "type_not_in_llama", "w");
    }
}

/* Patches a scalar KV value in place (the value follows key string and type). */
static int64_t kv_value_off(const char *path, const char *key) {
    gk_gguf *g = NULL;
    if (gk_gguf_open(path, GK_READ_NO_BOUNDS, &g, NULL) != GK_OK) return -1;
    int64_t i = gk_gguf_find_kv(g, key), r = -1;
    if (i >= 0) r = (int64_t)(g->kv[i].offset + 8 + g->kv[i].key.len + 4);
    gk_gguf_close(g);
    return r;
}

static void data_cases(void) {
    char q8[2048], f32[2048], tiny[2048];
    snprintf(q8, sizeof q8, "%s", gk_test_data("gguf-py-written/stories260K-q8_0.gguf"));
    snprintf(f32, sizeof f32, "%s", gk_test_data("gguf-py-written/stories260K-f32.gguf"));
    snprintf(tiny, sizeof tiny, "%s", gk_test_data("tiny-random-llama/llama-2-tiny-random.gguf"));
    gk_err e = {0};
    /* every shared file: no errors */
    static const char *const clean[] = {
        "gguf-py-written/stories260K-f32.gguf", "gguf-py-written/stories260K-f16.gguf",
        "gguf-py-written/stories260K-q8_0.gguf", "gguf-py-written/stories260K-q4_0.gguf",
        "vocab/ggml-vocab-llama-spm.gguf", "vocab/ggml-vocab-gpt-2.gguf",
        "tiny-random-llama/llama-2-tiny-random.gguf"};
    for (size_t i = 0; i < sizeof clean / sizeof *clean; i++) {
        vres v = run(gk_test_data(clean[i]));
        CHECKF(errors(&v) == 0, "%s should validate without errors", clean[i]);
        if (errors(&v))
            for (size_t k = 0; k < v.n; k++) hu_dump(&v.r[k]);
        vfree(&v);
    }
    /* inf in a q8_0 block scale: tensor, block index and file offset */
    uint64_t nb = 0;
    int64_t off = hu_tensor_off(q8, "blk.1.attn_q.weight", &nb, NULL);
    CHECK(off > 0);
    const uint8_t inf16[2] = {0x00, 0x7c};
    hu_copy_edit(q8, hu_path(dir, "scale_inf.gguf"), (size_t)off + 3 * 34, inf16, 2, (size_t)-1);
    {
        vres v = run(hu_path(dir, "scale_inf.gguf"));
        const gk_finding *f = get(&v, "nan_inf");
        CHECKF(f && f->tensor && !strcmp(f->tensor, "blk.1.attn_q.weight") && f->has_offset &&
                   f->offset == (uint64_t)off + 3 * 34 && strstr(f->message, "block 3"),
               "q8_0 scale inf: %s", f ? f->message : "(none)");
        vfree(&v);
    }
    /* NaN in an f32 tensor, element 5 */
    off = hu_tensor_off(f32, "blk.0.ffn_up.weight", &nb, NULL);
    const uint8_t nan32[4] = {0x00, 0x00, 0xc0, 0x7f};
    hu_copy_edit(f32, hu_path(dir, "nan.gguf"), (size_t)off + 20, nan32, 4, (size_t)-1);
    {
        vres v = run(hu_path(dir, "nan.gguf"));
        const gk_finding *f = get(&v, "nan_inf");
        CHECKF(f && !strcmp(f->tensor, "blk.0.ffn_up.weight") && f->offset == (uint64_t)off + 20 &&
                   strstr(f->message, "element 5"), "f32 NaN: %s", f ? f->message : "(none)");
        vfree(&v);
    }
    /* Inf in an f16 tensor (real llama.cpp-loadable file) */
    {
        gk_gguf *g = NULL;
        CHECK(gk_gguf_open(tiny, 0, &g, &e) == GK_OK);
        int64_t ti = -1;
        for (uint64_t i = 0; g && i < g->n_tensors; i++)
            if (g->tensors[i].type == GK_TYPE_F16) { ti = (int64_t)i; break; }
        CHECK(ti >= 0);
        if (ti >= 0) {
            char tname[128];
            snprintf(tname, sizeof tname, "%.*s", (int)g->tensors[ti].name.len, g->tensors[ti].name.ptr);
            off = (int64_t)(g->data_start + g->tensors[ti].offset);
            hu_copy_edit(tiny, hu_path(dir, "f16inf.gguf"), (size_t)off + 2, inf16, 2, (size_t)-1);
            EXPECT(hu_path(dir, "f16inf.gguf"), "nan_inf", tname);
        }
        gk_gguf_close(g);
    }
    /* an all-zero tensor (warning only) */
    off = hu_tensor_off(f32, "output_norm.weight", &nb, NULL);
    {
        uint8_t *z = calloc(1, (size_t)nb);
        hu_copy_edit(f32, hu_path(dir, "zero.gguf"), (size_t)off, z, (size_t)nb, (size_t)-1);
        free(z);
        vres v = run(hu_path(dir, "zero.gguf"));
        CHECK(has(&v, "all_zero", "output_norm.weight") && errors(&v) == 0);
        vfree(&v);
    }
    /* a truncated download: bytes missing, which tensors */
    {
        size_t n = 0;
        unsigned char *b = gk_test_read_file(q8, &n);
        free(b);
        hu_copy_edit(q8, hu_path(dir, "cut.gguf"), 0, NULL, 0, n - 5000);
        vres v = run(hu_path(dir, "cut.gguf"));
        const gk_finding *f = get(&v, "truncated");
        CHECK(f && strstr(f->message, "5000 bytes missing"));
        CHECK(has(&v, "incomplete_tensor", "output_norm.weight") &&
              has(&v, "incomplete_tensor", "blk.4.ffn_up.weight"));
        vfree(&v);
    }
    /* a renamed (so missing) tensor the architecture needs */
    {
        uint64_t info = 0;
        CHECK(hu_tensor_off(q8, "blk.0.ffn_up.weight", NULL, &info) > 0);
        hu_copy_edit(q8, hu_path(dir, "missing.gguf"), (size_t)info + 8 + 11, "q", 1, (size_t)-1);
        EXPECT(hu_path(dir, "missing.gguf"), "missing_tensor", "blk.0.ffn_up.weight");
    }
    /* hyperparameters that disagree with the shapes */
    {
        int64_t vo = kv_value_off(q8, "llama.embedding_length");
        CHECK(vo > 0);
        const uint8_t v65[4] = {72, 0, 0, 0};
        hu_copy_edit(q8, hu_path(dir, "shape.gguf"), (size_t)vo, v65, 4, (size_t)-1);
        EXPECT(hu_path(dir, "shape.gguf"), "bad_tensor_shape", "token_embd.weight");
        EXPECT(hu_path(dir, "shape.gguf"), "bad_tensor_shape", "blk.0.attn_q.weight");
    }
    /* a special token id outside the vocabulary */
    {
        int64_t vo = kv_value_off(q8, "tokenizer.ggml.bos_token_id");
        CHECK(vo > 0);
        const uint8_t big[4] = {0x10, 0x27, 0, 0}; /* 10000 */
        hu_copy_edit(q8, hu_path(dir, "bos.gguf"), (size_t)vo, big, 4, (size_t)-1);
        EXPECT(hu_path(dir, "bos.gguf"), "special_token_range", NULL);
    }
    /* general.file_type naming a type no 2-D tensor has */
    {
        int64_t vo = kv_value_off(f32, "general.file_type");
        CHECK(vo > 0);
        const uint8_t q8ft[4] = {7, 0, 0, 0};
        hu_copy_edit(f32, hu_path(dir, "ftype.gguf"), (size_t)vo, q8ft, 4, (size_t)-1);
        vres v = run(hu_path(dir, "ftype.gguf"));
        CHECK(has(&v, "file_type_mismatch", NULL) && errors(&v) == 0);
        vfree(&v);
    }
    /* a removed type id in a tensor info */
    {
        uint64_t info = 0;
        CHECK(hu_tensor_off(q8, "token_embd.weight", NULL, &info) > 0);
        /* name (8 + 17), n_dims (4), 2 dims (16), then the type */
        const uint8_t four[4] = {4, 0, 0, 0};
        hu_copy_edit(q8, hu_path(dir, "rtype.gguf"), (size_t)info + 8 + 17 + 4 + 16, four, 4, (size_t)-1);
        EXPECT(hu_path(dir, "rtype.gguf"), "removed_type", NULL);
    }
    /* tokenizer arrays of unequal length (rewritten with one score fewer) */
    {
        gk_gguf *g = NULL;
        CHECK(gk_gguf_open(q8, 0, &g, &e) == GK_OK);
        int64_t k = g ? gk_gguf_find_kv(g, "tokenizer.ggml.scores") : -1;
        CHECK(k >= 0);
        if (k >= 0) {
            g->kv[k].val.arr.n--;
            CHECKF(gk_gguf_write_copy(g, hu_path(dir, "toklen.gguf"), &e) == GK_OK, "%s", e.msg);
            EXPECT(hu_path(dir, "toklen.gguf"), "tokenizer_length", NULL);
        }
        gk_gguf_close(g);
    }
    /* split sets: whole is clean; a shortened set and inconsistent split keys are errors */
    CHECKF(hu_write_split(f32, dir, "sp", 3, &e) == GK_OK, "%s", e.msg);
    {
        vres v = run(hu_path(dir, "sp-00001-of-00003.gguf"));
        CHECKF(v.n == 3 && errors(&v) == 0, "split set: %zu reports, %llu errors", v.n,
               (unsigned long long)errors(&v));
        vfree(&v);
    }
    CHECKF(hu_write_split(f32, dir, "short", 3, &e) == GK_OK, "%s", e.msg);
    unlink(hu_path(dir, "short-00003-of-00003.gguf"));
    EXPECT(hu_path(dir, "short-00001-of-00003.gguf"), "split", NULL);
    CHECKF(hu_write_split(f32, dir, "inc", 2, &e) == GK_OK, "%s", e.msg);
    {
        const char *p2 = hu_path(dir, "inc-00002-of-00002.gguf");
        int64_t vo = kv_value_off(p2, "split.tensors.count");
        CHECK(vo > 0);
        const uint8_t v9[4] = {9, 0, 0, 0};
        char tmp[1024];
        snprintf(tmp, sizeof tmp, "%s.x", p2);
        hu_copy_edit(p2, tmp, (size_t)vo, v9, 4, (size_t)-1);
        rename(tmp, p2);
        EXPECT(hu_path(dir, "inc-00001-of-00002.gguf"), "split", NULL);
    }
}

int main(void) {
    dir = gk_test_tmpdir();
    t1_cases();
    if (gk_test_failures) return gk_test_result("test_validate");
    gk_test_data_dir(); /* skip (77) without ../shared/data, fail in CI */
    data_cases();
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (!gk_test_failures && system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    return gk_test_result("test_validate");
}
