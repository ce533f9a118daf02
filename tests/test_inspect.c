/* ggufkit inspect: the summary and precision layout of a model written here with mixed types,
 * the JSON document (parsed back with jansson), and the CLI's exit codes on good, malformed and
 * missing files. */
#include "testutil.h"
#include "report.h"

#include <jansson.h>
#include <string.h>
#include <sys/wait.h>

static const char *tmp;

/* A 2-layer "model": token_embd (q8_0), per layer attn_q (q4_K in layer 0, q6_K in layer 1),
 * attn_norm (f32), ffn_down (q8_0); output_norm f32. */
static void write_model(const char *path) {
    gk_kv kv[2];
    memset(kv, 0, sizeof kv);
    kv[0].key = (gk_str){"general.architecture", 20};
    kv[0].val.type = GK_V_STR;
    kv[0].val.str = (gk_str){"llama", 5};
    kv[1].key = (gk_str){"general.file_type", 17};
    kv[1].val.type = GK_V_U32;
    kv[1].val.v.u32 = 15;
    struct { const char *name; uint32_t type; uint64_t ne0, ne1; } spec[] = {
        {"token_embd.weight", GK_TYPE_Q8_0, 256, 4},
        {"blk.0.attn_norm.weight", GK_TYPE_F32, 256, 1},
        {"blk.0.attn_q.weight", GK_TYPE_Q4_K, 256, 2},
        {"blk.0.ffn_down.weight", GK_TYPE_Q8_0, 256, 2},
        {"blk.1.attn_norm.weight", GK_TYPE_F32, 256, 1},
        {"blk.1.attn_q.weight", GK_TYPE_Q6_K, 256, 2},
        {"blk.1.ffn_down.weight", GK_TYPE_Q8_0, 256, 2},
        {"output_norm.weight", GK_TYPE_F32, 256, 1},
    };
    enum { N = sizeof spec / sizeof spec[0] };
    gk_tensor t[N];
    memset(t, 0, sizeof t);
    uint64_t total = 0;
    for (int i = 0; i < N; i++) {
        t[i].name = (gk_str){spec[i].name, strlen(spec[i].name)};
        t[i].n_dims = spec[i].ne1 > 1 ? 2 : 1;
        t[i].ne[0] = spec[i].ne0;
        t[i].ne[1] = spec[i].ne1;
        t[i].ne[2] = t[i].ne[3] = 1;
        t[i].type = spec[i].type;
        int ok;
        total += gk_type_nbytes(spec[i].type, spec[i].ne0 * spec[i].ne1, &ok);
    }
    gk_err err = {0};
    gk_writer *w = NULL;
    CHECK(gk_writer_open(path, NULL, &w, &err) == GK_OK);
    CHECKF(gk_writer_begin(w, kv, 2, t, N, &err) == GK_OK, "%s", err.msg);
    unsigned char *zeros = calloc(1, total);
    CHECK(gk_writer_write(w, zeros, total, &err) == GK_OK);
    CHECKF(gk_writer_finish(w, &err) == GK_OK, "%s", err.msg);
    gk_writer_free(w);
    free(zeros);
}

static int run(const char *cmd) {
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

int main(void) {
    tmp = gk_test_tmpdir();
    CHECK(tmp != NULL);
    char path[4096], cmd[16384];
    snprintf(path, sizeof path, "%s/mixed.gguf", tmp);
    write_model(path);

    gk_err err = {0};
    gk_model *m = NULL;
    CHECKF(gk_model_open(path, 0, &m, &err) == GK_OK, "%s", err.msg);
    if (!m) return gk_test_result("test_inspect");
    gk_summary s;
    CHECK(gk_summary_build(m, &s, &err) == GK_OK);
    CHECK(s.params == 256 * 4 + 2 * (256 + 512 + 512) + 256);
    CHECK(s.layout.n_layers == 2);
    CHECK(s.layout.n_roles == 3);
    CHECK(!strcmp(s.layout.roles[0], "attn_norm") && !strcmp(s.layout.roles[1], "attn_q") &&
          !strcmp(s.layout.roles[2], "ffn_down"));
    CHECK(s.layout.cell[1] == GK_TYPE_Q4_K && s.layout.cell[3 + 1] == GK_TYPE_Q6_K);
    CHECK(s.layout.n_other == 2);
    CHECK(s.n_types == 4);
    /* sorted by bytes: f32 (3 x 1 KiB) first, then q8_0 (1088 + 2 x 544) */
    CHECK(s.types[0].type == GK_TYPE_F32 && s.types[0].tensors == 3 && s.types[0].bytes == 3072);
    CHECK(s.types[1].type == GK_TYPE_Q8_0 && s.types[1].tensors == 3 && s.types[1].bytes == 2176);
    gk_summary_free(&s);
    gk_model_close(m);

    const char *bin = getenv("GGUFKIT_BIN");
    if (bin) {
        char jpath[4200];
        snprintf(jpath, sizeof jpath, "%s/out.json", tmp);
        snprintf(cmd, sizeof cmd, "'%s' inspect --json '%s' > '%s'", bin, path, jpath);
        CHECK(run(cmd) == 0);
        json_error_t je;
        json_t *doc = json_load_file(jpath, 0, &je);
        CHECKF(doc != NULL, "%s", je.text);
        if (doc) {
            CHECK(json_integer_value(json_object_get(doc, "version")) == 3);
            CHECK(!strcmp(json_string_value(json_object_get(doc, "byte_order")), "little"));
            json_t *ft = json_object_get(doc, "file_type");
            CHECK(!strcmp(json_string_value(json_object_get(ft, "name")), "Q4_K_M"));
            json_t *tensors = json_object_get(doc, "tensors");
            CHECK(json_array_size(tensors) == 8);
            json_t *t2 = json_array_get(tensors, 2);
            CHECK(!strcmp(json_string_value(json_object_get(t2, "type")), "q4_K"));
            CHECK(json_array_size(json_object_get(t2, "shape")) == 2);
            json_t *t1 = json_array_get(tensors, 1);
            CHECK(json_array_size(json_object_get(t1, "shape")) == 1);
            json_t *layers = json_object_get(doc, "layers");
            CHECK(json_array_size(layers) == 2);
            json_t *l1 = json_object_get(json_array_get(layers, 1), "types");
            CHECK(!strcmp(json_string_value(json_object_get(l1, "attn_q")), "q6_K"));
            json_t *md = json_object_get(doc, "metadata");
            json_t *arch = json_object_get(md, "general.architecture");
            CHECK(!strcmp(json_string_value(json_object_get(arch, "type")), "str"));
            CHECK(!strcmp(json_string_value(json_object_get(arch, "value")), "llama"));
            json_decref(doc);
        }
        snprintf(cmd, sizeof cmd, "'%s' inspect --kv --tensors '%s' > /dev/null", bin, path);
        CHECK(run(cmd) == 0);
        /* malformed: truncate the header */
        size_t n;
        unsigned char *bytes = gk_test_read_file(path, &n);
        CHECK(bytes != NULL);
        char bad[4200];
        snprintf(bad, sizeof bad, "%s/bad.gguf", tmp);
        if (bytes) gk_test_write_file(bad, bytes, 40);
        free(bytes);
        snprintf(cmd, sizeof cmd, "'%s' inspect '%s' 2> '%s/err.txt'", bin, bad, tmp);
        CHECK(run(cmd) == 1);
        snprintf(cmd, sizeof cmd, "grep -q 'ggufkit: ' '%s/err.txt'", tmp);
        CHECK(run(cmd) == 0);
        snprintf(cmd, sizeof cmd, "'%s' inspect '%s/missing.gguf' 2>/dev/null", bin, tmp);
        CHECK(run(cmd) == 3);
        snprintf(cmd, sizeof cmd, "'%s' inspect --bogus '%s' 2>/dev/null", bin, path);
        CHECK(run(cmd) == 2);
    }
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    run(cmd);
    return gk_test_result("test_inspect");
}
