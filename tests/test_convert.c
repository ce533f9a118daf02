/* The converter: permutation (T8), config.json checks, --metadata parsing, and the known
 * answers: stories260K-hf-f32 -> F32 / F16 / Q8_0 / Q4_0 gives exactly the tensors gguf-py wrote
 * (gguf-py-written/), independent of thread count and of the order source bytes arrive in;
 * split output. The checkpoint is opened here through the safetensors reader directly (no
 * tokenizer), so these checks do not depend on the checkpoint-source and tokenizer code. */
#include "gk_convert.h"
#include "testutil.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- a test source over gk_st parts ------------------------------------------------------- */

typedef struct tsrc {
    gk_st *parts[4];
    int n_parts;
    char *cfg;
    int reverse;          /* streamed: tensors in reverse order, in odd-sized pieces */
    int bad;              /* 1: skip a tensor's first piece; 2: stop after half the tensors */
    size_t piece;
} tsrc;

static void tsrc_free(gk_cv_source *s) {
    tsrc *t = s->impl;
    for (int i = 0; i < t->n_parts; i++) gk_st_close(t->parts[i]);
    free(t->cfg);
    free(t);
}

static gk_status tsrc_stream(gk_cv_source *s, gk_cv_piece_fn fn, void *ctx, gk_err *err) {
    tsrc *t = s->impl;
    for (uint64_t k = 0; k < s->n_tensors; k++) {
        uint64_t i = t->reverse ? s->n_tensors - 1 - k : k;
        const gk_cv_src_tensor *x = &s->tensors[i];
        if (t->bad == 2 && k == s->n_tensors / 2) return GK_OK;
        for (uint64_t off = 0; off < x->nbytes;) {
            size_t n = t->piece;
            if (n > x->nbytes - off) n = (size_t)(x->nbytes - off);
            if (t->bad == 1 && off == 0 && x->nbytes > n) {
                off += n;
                continue;
            }
            gk_status st = fn(ctx, i, off, x->data + off, n, err);
            if (st) return st;
            off += n;
        }
    }
    return GK_OK;
}

static uint32_t st2type(gk_st_dtype d) {
    return d == GK_ST_F32 ? GK_TYPE_F32 : d == GK_ST_F16 ? GK_TYPE_F16 : d == GK_ST_BF16 ? GK_TYPE_BF16
                                                                                       : UINT32_MAX;
}

static gk_cv_source *open_src(const char *dir, const char *const *parts, int streamed, size_t piece) {
    gk_cv_source *s = calloc(1, sizeof *s);
    tsrc *t = calloc(1, sizeof *t);
    char path[4096];
    gk_err e = {0};
    s->impl = t;
    s->impl_free = tsrc_free;
    snprintf(path, sizeof path, "%s/config.json", dir);
    size_t n = 0;
    t->cfg = (char *)gk_test_read_file(path, &n);
    CHECK(t->cfg != NULL);
    if (!t->cfg) return s;
    t->cfg[n] = 0;
    s->config_json = t->cfg;
    s->config_len = n;
    s->name_hint = "stories260K";
    uint64_t total = 0;
    for (int i = 0; parts[i]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, parts[i]);
        gk_status st = gk_st_open(path, &t->parts[t->n_parts], &e);
        CHECKF(st == GK_OK, "%s: %s", path, e.msg);
        if (st) return s;
        total += t->parts[t->n_parts++]->n_tensors;
    }
    s->tensors = calloc(total, sizeof *s->tensors);
    for (int p = 0; p < t->n_parts; p++)
        for (uint64_t i = 0; i < t->parts[p]->n_tensors; i++) {
            const gk_st_tensor *x = &t->parts[p]->tensors[i];
            gk_cv_src_tensor *d = &s->tensors[s->n_tensors++];
            d->name = (char *)x->name;
            d->type = st2type(x->dtype);
            snprintf(d->dtype, sizeof d->dtype, "%s", gk_st_dtype_name((int)x->dtype));
            d->n_dims = x->n_dims;
            for (uint32_t k = 0; k < x->n_dims && k < GK_MAX_DIMS; k++) d->shape[k] = x->shape[k];
            d->nbytes = x->nbytes;
            d->data = x->data;
        }
    s->streamed = streamed;
    s->stream = tsrc_stream;
    t->reverse = 1;
    t->piece = piece;
    return s;
}

/* ---- helpers ------------------------------------------------------------------------------ */

static int convert_to(gk_cv_source *src, const gk_kctx *k, uint32_t type, int threads,
                      uint64_t split_t, const char *out, gk_cv_plan **plan_out) {
    gk_cv_plan_opts po = {0};
    po.outtype = type;
    po.split_max_tensors = split_t;
    gk_cv_plan *p = NULL;
    gk_err e = {0};
    gk_status st = gk_cv_plan_build(src, &po, k, &p, &e);
    CHECKF(st == GK_OK, "plan: %s", e.msg);
    if (st) return -1;
    gk_cv_write_opts wo = {out, threads, 0, 4096, NULL};
    st = gk_cv_write(p, src, k, &wo, &e);
    CHECKF(st == GK_OK, "write: %s", e.msg);
    if (plan_out) *plan_out = p;
    else gk_cv_plan_free(p);
    return st ? -1 : 0;
}

/* Every tensor of a equals the tensor of the same index in b: name, type, shape, bytes. */
static void same_tensors(const char *a_path, const char *b_path) {
    gk_gguf *a = NULL, *b = NULL;
    gk_err e = {0};
    CHECKF(gk_gguf_open(a_path, 0, &a, &e) == GK_OK, "%s: %s", a_path, e.msg);
    CHECKF(gk_gguf_open(b_path, 0, &b, &e) == GK_OK, "%s: %s", b_path, e.msg);
    if (a && b) {
        CHECKF(a->n_tensors == b->n_tensors, "%llu vs %llu tensors", (unsigned long long)a->n_tensors,
               (unsigned long long)b->n_tensors);
        for (uint64_t i = 0; i < a->n_tensors && i < b->n_tensors; i++) {
            const gk_tensor *x = &a->tensors[i], *y = &b->tensors[i];
            int ok = x->name.len == y->name.len && !memcmp(x->name.ptr, y->name.ptr, x->name.len) &&
                     x->type == y->type && x->n_dims == y->n_dims && x->nbytes == y->nbytes &&
                     !memcmp(x->ne, y->ne, sizeof x->ne) && x->data && y->data &&
                     !memcmp(x->data, y->data, x->nbytes);
            CHECKF(ok, "tensor %llu: %.*s (type %u) vs %.*s (type %u)", (unsigned long long)i,
                   (int)x->name.len, x->name.ptr, x->type, (int)y->name.len, y->name.ptr, y->type);
        }
    }
    gk_gguf_close(a);
    gk_gguf_close(b);
}

static int files_equal(const char *a, const char *b) {
    size_t na = 0, nb = 0;
    unsigned char *x = gk_test_read_file(a, &na), *y = gk_test_read_file(b, &nb);
    int eq = x && y && na == nb && !memcmp(x, y, na);
    free(x);
    free(y);
    return eq;
}

/* ---- tests -------------------------------------------------------------------------------- */

static void test_permutation(void) {
    static const uint64_t want[8] = {0, 2, 1, 3, 4, 6, 5, 7};
    for (uint64_t r = 0; r < 8; r++) CHECK(gk_cv_permute_src_row(r, 8, 2) == want[r]);
    /* a bijection for a realistic shape */
    enum { ROWS = 64 * 8 };
    static unsigned char seen[ROWS];
    for (uint64_t r = 0; r < ROWS; r++) seen[gk_cv_permute_src_row(r, ROWS, 8)]++;
    for (int r = 0; r < ROWS; r++) CHECK(seen[r] == 1);
}

static gk_status parse(const char *json, gk_cv_config *c, const gk_cv_arch **a, gk_err *e) {
    return gk_cv_config_parse(json, strlen(json), c, a, e);
}

static void test_config(void) {
    gk_cv_config c;
    const gk_cv_arch *a;
    gk_err e = {0};
    /* defaults of transformers' LlamaConfig */
    CHECK(parse("{\"architectures\":[\"LlamaForCausalLM\"]}", &c, &a, &e) == GK_OK);
    CHECK(c.vocab_size == 32000 && c.hidden_size == 4096 && c.intermediate_size == 11008);
    CHECK(c.n_layer == 32 && c.n_head == 32 && c.n_head_kv == 32 && c.head_dim == 128);
    CHECK(c.context_length == 2048 && c.rms_norm_eps == 1e-6 && c.rope_theta == 10000.0);
    CHECK(!c.tie_word_embeddings);
    CHECK(parse("{\"architectures\":[\"MistralForCausalLM\"]}", &c, &a, &e) == GK_OK);
    CHECK(!strcmp(a->gguf_arch, "llama") && c.n_head_kv == 8 && c.intermediate_size == 14336);
    CHECK(parse("{\"architectures\":[\"Qwen3ForCausalLM\"],\"hidden_size\":64}", &c, &a, &e) == GK_OK);
    CHECK(!strcmp(a->gguf_arch, "qwen3") && c.head_dim == 128);
    CHECK(parse("{\"architectures\":[\"Qwen2ForCausalLM\"]}", &c, &a, &e) == GK_OK);
    CHECK(!strcmp(a->gguf_arch, "qwen2") && !a->permute_qk);
    /* rope_theta inside rope_parameters (transformers v5) */
    CHECK(parse("{\"architectures\":[\"LlamaForCausalLM\"],\"rope_parameters\":{\"rope_type\":"
                "\"default\",\"rope_theta\":500000.0}}", &c, &a, &e) == GK_OK);
    CHECK(c.rope_theta == 500000.0);
    CHECK(parse("{\"architectures\":[\"LlamaForCausalLM\"],\"rope_scaling\":{\"rope_type\":\"llama3\","
                "\"factor\":8.0,\"low_freq_factor\":1.0,\"high_freq_factor\":4.0,"
                "\"original_max_position_embeddings\":8192}}", &c, &a, &e) == GK_OK);
    CHECK(c.rope_type == GK_ROPE_LLAMA3);
    /* rejections */
    CHECK(parse("{\"architectures\":[\"GPT2LMHeadModel\"]}", &c, &a, &e) == GK_E_UNSUPPORTED);
    CHECK(strstr(e.msg, "GPT2LMHeadModel") && strstr(e.msg, "LlamaForCausalLM") &&
          strstr(e.msg, "Qwen3ForCausalLM"));
    CHECK(parse("{}", &c, &a, &e) == GK_E_BAD_JSON);
    CHECK(parse("[1]", &c, &a, &e) == GK_E_BAD_JSON);
    CHECK(parse("{\"architectures\":[\"LlamaForCausalLM\"]", &c, &a, &e) == GK_E_BAD_JSON);
    CHECK(parse("{\"architectures\":[\"LlamaForCausalLM\"],\"hidden_size\":\"64\"}", &c, &a, &e) == GK_E_BAD_JSON);
    CHECK(parse("{\"architectures\":[\"LlamaForCausalLM\"],\"hidden_size\":64.5}", &c, &a, &e) == GK_E_BAD_JSON);
    CHECK(parse("{\"architectures\":[\"LlamaForCausalLM\"],\"hidden_size\":-64}", &c, &a, &e) == GK_E_BAD_JSON);
    CHECK(parse("{\"architectures\":[\"LlamaForCausalLM\"],\"hidden_size\":1e300}", &c, &a, &e) == GK_E_BAD_JSON);
    CHECK(parse("{\"architectures\":[\"LlamaForCausalLM\"],\"hidden_size\":true}", &c, &a, &e) == GK_E_BAD_JSON);
    CHECK(parse("{\"architectures\":[\"LlamaForCausalLM\"],\"hidden_size\":100,\"num_attention_heads\":8}",
                &c, &a, &e) == GK_E_BAD_JSON); /* heads do not divide hidden, no head_dim */
    CHECK(parse("{\"architectures\":[\"LlamaForCausalLM\"],\"num_attention_heads\":8,"
                "\"num_key_value_heads\":3}", &c, &a, &e) == GK_E_BAD_JSON);
    CHECK(parse("{\"architectures\":[\"LlamaForCausalLM\"],\"num_attention_heads\":0}", &c, &a, &e) == GK_E_BAD_JSON);
    CHECK(parse("{\"architectures\":[\"LlamaForCausalLM\"],\"rms_norm_eps\":0}", &c, &a, &e) == GK_E_BAD_JSON);
    CHECK(parse("{\"architectures\":[\"LlamaForCausalLM\"],\"tie_word_embeddings\":1}", &c, &a, &e) == GK_E_BAD_JSON);
    CHECK(parse("{\"architectures\":[\"LlamaForCausalLM\"],\"rope_scaling\":{\"rope_type\":\"dynamic\"}}",
                &c, &a, &e) == GK_E_UNSUPPORTED);
    CHECK(parse("{\"architectures\":[\"LlamaForCausalLM\"],\"head_dim\":7,\"hidden_size\":56,"
                "\"num_attention_heads\":8}", &c, &a, &e) == GK_E_BAD_JSON); /* odd head_dim */
    CHECK(parse("{\"architectures\":[\"LlamaForCausalLM\"],\"hidden_size\":64,\"hidden_size\":32}",
                &c, &a, &e) == GK_E_BAD_JSON); /* duplicate key */
}

/* Every single-byte change and every truncation of a real config.json: parsed or refused,
 * never a crash, and what parses is consistent. */
static void test_config_sweep(void) {
    size_t n = 0;
    char *cfg = (char *)gk_test_read_file(gk_test_data("stories260K-hf-f32/config.json"), &n);
    CHECK(cfg != NULL);
    if (!cfg) return;
    char *m = malloc(n + 1);
    static const char subst[] = {'0', '9', '-', '"', '}', '[', 'n', 'e', '.', ' ', '\xff'};
    unsigned parsed = 0, refused = 0;
    for (size_t cut = 0; cut <= n; cut++) {
        for (size_t k = 0; k <= sizeof subst; k++) {
            memcpy(m, cfg, n);
            size_t len = n;
            if (k == sizeof subst) len = cut;          /* truncation */
            else if (cut < n) m[cut] = subst[k];
            else continue;
            gk_cv_config c;
            const gk_cv_arch *a = NULL;
            gk_err e = {0};
            if (gk_cv_config_parse(m, len, &c, &a, &e) == GK_OK) {
                parsed++;
                CHECK(a && c.hidden_size && c.n_head && c.n_head_kv && c.head_dim && c.n_layer &&
                      c.n_head % c.n_head_kv == 0 && c.rms_norm_eps > 0 && c.rope_theta > 0);
            } else {
                refused++;
                CHECK(e.msg[0] != 0);
            }
        }
    }
    CHECK(parsed > 0 && refused > 0);
    free(m);
    free(cfg);
}

static void test_size_label(void) {
    char b[32];
    gk_cv_size_label(260032, b, sizeof b);
    CHECK(!strcmp(b, "260K"));
    gk_cv_size_label(6738415616ull, b, sizeof b);
    CHECK(!strcmp(b, "6.7B"));
    gk_cv_size_label(1100048384ull, b, sizeof b);
    CHECK(!strcmp(b, "1.1B"));
    gk_cv_size_label(134515008ull, b, sizeof b);
    CHECK(!strcmp(b, "135M"));
    gk_cv_size_label(70553706496ull, b, sizeof b);
    CHECK(!strcmp(b, "71B"));
}

static void test_overrides(void) {
    gk_kv kv;
    char buf[256];
    gk_err e = {0};
    CHECK(gk_cv_parse_kv_override("general.author=str:Jane", &kv, buf, sizeof buf, &e) == GK_OK);
    CHECK(kv.val.type == GK_V_STR && kv.val.str.len == 4 && !memcmp(kv.val.str.ptr, "Jane", 4));
    CHECK(kv.key.len == 14);
    CHECK(gk_cv_parse_kv_override("a.b=int:42", &kv, buf, sizeof buf, &e) == GK_OK);
    CHECK(kv.val.type == GK_V_U32 && kv.val.v.u32 == 42);
    CHECK(gk_cv_parse_kv_override("a.b=i32:-5", &kv, buf, sizeof buf, &e) == GK_OK);
    CHECK(kv.val.type == GK_V_I32 && kv.val.v.i32 == -5);
    CHECK(gk_cv_parse_kv_override("a.b=u64:18446744073709551615", &kv, buf, sizeof buf, &e) == GK_OK);
    CHECK(kv.val.type == GK_V_U64 && kv.val.v.u64 == UINT64_MAX);
    CHECK(gk_cv_parse_kv_override("a.b=float:0.5", &kv, buf, sizeof buf, &e) == GK_OK);
    CHECK(kv.val.type == GK_V_F32 && kv.val.v.f32 == 0.5f);
    CHECK(gk_cv_parse_kv_override("a.b=bool:true", &kv, buf, sizeof buf, &e) == GK_OK);
    CHECK(kv.val.type == GK_V_BOOL && kv.val.v.b == 1);
    CHECK(gk_cv_parse_kv_override("a.b=str:x=y:z", &kv, buf, sizeof buf, &e) == GK_OK);
    CHECK(kv.val.str.len == 5);
    CHECK(gk_cv_parse_kv_override("a.b=u8:256", &kv, buf, sizeof buf, &e) == GK_E_INVALID_ARG);
    CHECK(gk_cv_parse_kv_override("a.b=int:-1", &kv, buf, sizeof buf, &e) == GK_E_INVALID_ARG);
    CHECK(gk_cv_parse_kv_override("a.b=bool:yes", &kv, buf, sizeof buf, &e) == GK_E_INVALID_ARG);
    CHECK(gk_cv_parse_kv_override("a.b=blob:1", &kv, buf, sizeof buf, &e) == GK_E_INVALID_ARG);
    CHECK(gk_cv_parse_kv_override("a.b", &kv, buf, sizeof buf, &e) == GK_E_INVALID_ARG);
    CHECK(gk_cv_parse_kv_override("=str:x", &kv, buf, sizeof buf, &e) == GK_E_INVALID_ARG);
    CHECK(gk_cv_parse_kv_override("split.count=u16:2", &kv, buf, sizeof buf, &e) == GK_E_INVALID_ARG);
    CHECK(gk_cv_parse_kv_override("a.b=f32:abc", &kv, buf, sizeof buf, &e) == GK_E_INVALID_ARG);
}

static void test_stories(const gk_kctx *k) {
    char dir[4096], tmp[4096]; /* gk_test_data's buffers rotate: keep copies */
    snprintf(dir, sizeof dir, "%s", gk_test_data("stories260K-hf-f32"));
    static const char *const parts[] = {"model.safetensors", NULL};
    snprintf(tmp, sizeof tmp, "%s", gk_test_tmpdir());
    char out1[4200], out2[4200], out3[4200], out4[4200], split[4200];
    snprintf(out1, sizeof out1, "%s/f32.gguf", tmp);
    snprintf(out2, sizeof out2, "%s/q8_0-t1.gguf", tmp);
    snprintf(out3, sizeof out3, "%s/q8_0-t4.gguf", tmp);
    snprintf(out4, sizeof out4, "%s/q8_0-streamed.gguf", tmp);
    snprintf(split, sizeof split, "%s/split.gguf", tmp);

    gk_cv_source *src = open_src(dir, parts, 0, 0);
    gk_cv_plan *p = NULL;
    if (convert_to(src, k, GK_TYPE_F32, 2, 0, out1, NULL) == 0)
        same_tensors(out1, gk_test_data("gguf-py-written/stories260K-f32.gguf"));
    if (convert_to(src, k, GK_TYPE_Q8_0, 1, 0, out2, &p) == 0) {
        same_tensors(out2, gk_test_data("gguf-py-written/stories260K-q8_0.gguf"));
        /* the plan lists ffn_down's fallback to F16 */
        CHECK(p->n_fallbacks == 5);
        for (uint64_t i = 0; i < p->n_t; i++)
            if (strstr(p->t[i].name, "ffn_down"))
                CHECK(p->t[i].type == GK_TYPE_F16 && p->t[i].wanted == GK_TYPE_Q8_0 &&
                      strstr(p->t[i].why, "172"));
        /* KVs: order and values */
        CHECK(p->n_kv > 5 && !strncmp(p->kv[0].key.ptr, "general.architecture", p->kv[0].key.len));
        CHECK(!strncmp(p->kv[1].key.ptr, "general.type", p->kv[1].key.len));
        int saw_ft = 0, saw_qv = 0;
        for (uint64_t i = 0; i < p->n_kv; i++) {
            if (!strncmp(p->kv[i].key.ptr, "general.file_type", p->kv[i].key.len))
                saw_ft = p->kv[i].val.v.u32 == 7;
            if (!strncmp(p->kv[i].key.ptr, "general.quantization_version", p->kv[i].key.len))
                saw_qv = p->kv[i].val.v.u32 == 2;
        }
        CHECK(saw_ft && saw_qv);
        gk_cv_plan_free(p);
    }
    /* F16 and Q4_0 (ffn_down falls back to F16) as gguf-py wrote them */
    char out5[4200], out6[4200];
    snprintf(out5, sizeof out5, "%s/f16.gguf", tmp);
    snprintf(out6, sizeof out6, "%s/q4_0.gguf", tmp);
    if (convert_to(src, k, GK_TYPE_F16, 2, 0, out5, NULL) == 0)
        same_tensors(out5, gk_test_data("gguf-py-written/stories260K-f16.gguf"));
    if (convert_to(src, k, GK_TYPE_Q4_0, 2, 0, out6, NULL) == 0)
        same_tensors(out6, gk_test_data("gguf-py-written/stories260K-q4_0.gguf"));
    gk_cv_source_free(src);
    /* thread count and arrival order do not change a byte */
    src = open_src(dir, parts, 0, 0);
    convert_to(src, k, GK_TYPE_Q8_0, 4, 0, out3, NULL);
    gk_cv_source_free(src);
    CHECK(files_equal(out2, out3));
    src = open_src(dir, parts, 1, 1000); /* reverse tensor order, 1000-byte pieces */
    convert_to(src, k, GK_TYPE_Q8_0, 3, 0, out4, NULL);
    gk_cv_source_free(src);
    CHECK(files_equal(out2, out4));
    /* split output: 47 tensors, 20 per file -> 3 files */
    src = open_src(dir, parts, 0, 0);
    if (convert_to(src, k, GK_TYPE_Q8_0, 2, 20, split, NULL) == 0) {
        char first[4300];
        gk_cv_split_path(first, sizeof first, split, 0, 3);
        CHECK(strstr(first, "split-00001-of-00003.gguf") != NULL);
        gk_model *m = NULL;
        gk_err e = {0};
        CHECKF(gk_model_open(first, 0, &m, &e) == GK_OK, "%s", e.msg);
        if (m) {
            CHECK(m->n_parts == 3 && m->n_tensors == 47);
            CHECK(gk_gguf_find_kv(m->parts[0], "general.architecture") >= 0);
            CHECK(gk_gguf_find_kv(m->parts[1], "general.architecture") < 0);
            CHECK(m->parts[1]->n_kv == 3 && m->parts[2]->n_tensors == 7);
            gk_model_close(m);
        }
    }
    gk_cv_source_free(src);
    /* bf16 shards: same tensor names/shapes; plan is bf16 -> f16 where 2-D */
    static const char *const bparts[] = {"model-00001-of-00002.safetensors",
                                         "model-00002-of-00002.safetensors", NULL};
    src = open_src(gk_test_data("stories260K-hf-bf16-sharded"), bparts, 0, 0);
    p = NULL;
    gk_cv_plan_opts po = {0};
    po.outtype = GK_TYPE_BF16;
    gk_err e = {0};
    CHECKF(gk_cv_plan_build(src, &po, k, &p, &e) == GK_OK, "%s", e.msg);
    if (p) {
        CHECK(p->n_t == 47 && p->ftype == 32);
        gk_cv_plan_free(p);
    }
    gk_cv_source_free(src);
    char cmd[8600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    if (system(cmd) != 0) fprintf(stderr, "note: could not remove %s\n", tmp);
}

/* example checkpoints: deterministic; each architecture's plan has the table's tensors */
static void test_examples(const gk_kctx *k) {
    const char *tmp = gk_test_tmpdir();
    static const char *const parts[] = {"model.safetensors", NULL};
    static const char *const files[] = {"config.json", "tokenizer.json", "tokenizer_config.json",
                                        "model.safetensors", NULL};
    char a[4200], b[4200], fa[4300], fb[4300];
    static const struct { const char *cls; int tied, bias; uint64_t n_t; const char *must, *mustnot; int perm; } cases[] = {
        {"LlamaForCausalLM", 0, 0, 1 + 2 * 9 + 2, "output.weight", "blk.0.attn_q.bias", 1},
        {"LlamaForCausalLM", 1, 1, 1 + 2 * 13 + 1, "blk.1.attn_output.bias", "output.weight", 1},
        {"MistralForCausalLM", 0, 0, 1 + 2 * 9 + 2, "blk.0.attn_k.weight", "blk.0.attn_k.bias", 1},
        {"Qwen2ForCausalLM", 0, 0, 1 + 2 * 12 + 2, "blk.1.attn_v.bias", "blk.0.attn_output.bias", 0},
        {"Qwen3ForCausalLM", 1, 0, 1 + 2 * 11 + 1, "blk.0.attn_k_norm.weight", "blk.0.attn_q.bias", 0},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        gk_cv_example_opts o;
        gk_cv_example_defaults(&o);
        o.arch_class = cases[c].cls;
        o.tied = cases[c].tied;
        o.attention_bias = cases[c].bias;
        snprintf(a, sizeof a, "%s/a%zu", tmp, c);
        snprintf(b, sizeof b, "%s/b%zu", tmp, c);
        gk_err e = {0};
        CHECKF(gk_cv_example_write(a, &o, &e) == GK_OK, "%s", e.msg);
        CHECKF(gk_cv_example_write(b, &o, &e) == GK_OK, "%s", e.msg);
        for (int f = 0; files[f]; f++) {
            snprintf(fa, sizeof fa, "%s/%s", a, files[f]);
            snprintf(fb, sizeof fb, "%s/%s", b, files[f]);
            CHECKF(files_equal(fa, fb), "%s: %s differs between two runs", cases[c].cls, files[f]);
        }
        gk_cv_source *src = open_src(a, parts, 0, 0);
        gk_cv_plan_opts po = {0};
        po.outtype = GK_TYPE_Q8_0;
        gk_cv_plan *p = NULL;
        CHECKF(gk_cv_plan_build(src, &po, k, &p, &e) == GK_OK, "%s: %s", cases[c].cls, e.msg);
        if (p) {
            CHECKF(p->n_t == cases[c].n_t, "%s: %llu tensors", cases[c].cls, (unsigned long long)p->n_t);
            int must = 0, mustnot = 0, perm = 0;
            for (uint64_t i = 0; i < p->n_t; i++) {
                if (!strcmp(p->t[i].name, cases[c].must)) must = 1;
                if (!strcmp(p->t[i].name, cases[c].mustnot)) mustnot = 1;
                if (p->t[i].xform == GK_XF_PERMUTE) perm = 1;
                if (p->t[i].n_dims == 1) CHECK(p->t[i].type == GK_TYPE_F32);
            }
            CHECKF(must && !mustnot && perm == cases[c].perm, "%s: tensor set", cases[c].cls);
            gk_cv_plan_free(p);
        }
        gk_cv_source_free(src);
    }
    char cmd[8800];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    if (system(cmd) != 0) fprintf(stderr, "note: could not remove %s\n", tmp);
}

/* hostile checkpoints built in memory from stories260K's tensors */
/* a streamed source that misbehaves: refused with a message, no output file */
static void test_bad_stream(const gk_kctx *k) {
    static const char *const parts[] = {"model.safetensors", NULL};
    const char *tmp = gk_test_tmpdir();
    char out[4200];
    snprintf(out, sizeof out, "%s/bad.gguf", tmp);
    for (int mode = 1; mode <= 2; mode++) {
        gk_cv_source *src = open_src(gk_test_data("stories260K-hf-f32"), parts, 1, 4096);
        ((tsrc *)src->impl)->bad = mode;
        gk_cv_plan_opts po = {0};
        po.outtype = GK_TYPE_Q8_0;
        gk_cv_plan *p = NULL;
        gk_err e = {0};
        CHECK(gk_cv_plan_build(src, &po, k, &p, &e) == GK_OK);
        if (p) {
            gk_cv_write_opts wo = {out, 2, 0, 4096, NULL};
            gk_status st = gk_cv_write(p, src, k, &wo, &e);
            CHECKF(st != GK_OK && e.msg[0], "mode %d: %s", mode, e.msg);
            CHECK(access(out, F_OK) != 0);
            gk_cv_plan_free(p);
        }
        gk_cv_source_free(src);
    }
    char cmd[4300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    if (system(cmd) != 0) fprintf(stderr, "note: could not remove %s\n", tmp);
}

static void test_hostile(const gk_kctx *k) {
    static const char *const parts[] = {"model.safetensors", NULL};
    gk_cv_source *src = open_src(gk_test_data("stories260K-hf-f32"), parts, 0, 0);
    gk_cv_plan_opts po = {0};
    po.outtype = GK_TYPE_F16;
    gk_cv_plan *p = NULL;
    gk_err e = {0};
    /* a missing tensor */
    char *saved = src->tensors[3].name;
    src->tensors[3].name = "renamed";
    CHECK(gk_cv_plan_build(src, &po, k, &p, &e) != GK_OK && p == NULL);
    src->tensors[3].name = saved;
    /* a permuted tensor of the wrong shape */
    int64_t q = gk_cv_source_find(src, "model.layers.0.self_attn.q_proj.weight");
    CHECK(q >= 0);
    if (q >= 0) {
        src->tensors[q].shape[0] = 56;
        CHECK(gk_cv_plan_build(src, &po, k, &p, &e) == GK_E_BAD_SHAPE);
        src->tensors[q].shape[0] = 64;
        src->tensors[q].type = UINT32_MAX;
        snprintf(src->tensors[q].dtype, sizeof src->tensors[q].dtype, "I64");
        CHECK(gk_cv_plan_build(src, &po, k, &p, &e) == GK_E_BAD_DTYPE && strstr(e.msg, "I64"));
        src->tensors[q].type = GK_TYPE_F32;
    }
    /* fewer layers in config.json than in the checkpoint: the extra tensors are refused */
    char *cfg = strdup(src->config_json);
    char *at = strstr(cfg, "\"num_hidden_layers\": 5");
    CHECK(at != NULL);
    if (at) {
        at[strlen("\"num_hidden_layers\": ")] = '4';
        const char *old = src->config_json;
        src->config_json = cfg;
        CHECK(gk_cv_plan_build(src, &po, k, &p, &e) == GK_E_UNSUPPORTED && strstr(e.msg, "layers.4"));
        src->config_json = (char *)old;
    }
    free(cfg);
    /* with everything restored it plans again; --metadata overrides in place and appends */
    static const char *const md[] = {"general.name=str:renamed", "my.key=i32:-3", NULL};
    po.metadata = md;
    CHECKF(gk_cv_plan_build(src, &po, k, &p, &e) == GK_OK, "%s", e.msg);
    if (p) {
        CHECK(p->kv[2].val.type == GK_V_STR && p->kv[2].val.str.len == 7);
        CHECK(!strncmp(p->kv[3].key.ptr, "general.size_label", p->kv[3].key.len));
        CHECK(p->kv[p->n_kv - 1].val.type == GK_V_I32 && p->kv[p->n_kv - 1].val.v.i32 == -3);
        gk_cv_plan_free(p);
    }
    gk_cv_source_free(src);
}

/* The llama converter writes tokenizer.ggml.add_space_prefix from tokenizer_config.json's
 * add_prefix_space (format-facts §9.5); other architectures do not. */
static void test_space_prefix(void) {
    char dir[4200], cmd[12000];
    snprintf(dir, sizeof dir, "%s", gk_test_tmpdir());
    snprintf(cmd, sizeof cmd, "cp -r '%s' '%s/ck' && chmod -R u+w '%s/ck'",
             gk_test_data("stories260K-hf-f32"), dir, dir);
    CHECK(system(cmd) == 0);
    char path[4300];
    snprintf(path, sizeof path, "%s/ck/tokenizer_config.json", dir);
    size_t n = 0;
    unsigned char *txt = gk_test_read_file(path, &n);
    CHECK(txt != NULL);
    if (!txt) return;
    /* insert "add_prefix_space": false after the opening brace */
    char *patched = malloc(n + 64);
    const char *brace = memchr(txt, '{', n);
    CHECK(brace != NULL);
    if (!brace || !patched) { free(txt); free(patched); return; }
    size_t head = (size_t)(brace - (const char *)txt) + 1;
    int m = snprintf(patched, n + 64, "%.*s\"add_prefix_space\": false,%.*s", (int)head, txt,
                     (int)(n - head), (const char *)txt + head);
    CHECK(gk_test_write_file(path, patched, (size_t)m) == 0);
    free(txt);
    free(patched);
    snprintf(path, sizeof path, "%s/ck", dir);
    gk_cv_source *src = NULL;
    gk_err e = {0};
    CHECKF(gk_cv_source_open(path, &src, &e) == GK_OK, "%s", e.msg);
    int found = 0;
    for (uint64_t i = 0; src && i < src->n_tok_kv; i++) {
        const gk_kv *kv = &src->tok_kv[i];
        if (kv->key.len == 31 && !memcmp(kv->key.ptr, "tokenizer.ggml.add_space_prefix", 31)) {
            found = 1;
            CHECK(kv->val.type == GK_V_BOOL && kv->val.v.b == 0);
        }
    }
    CHECK(found);
    gk_cv_source_free(src);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
}

int main(void) {
    test_permutation();
    test_config();
    test_config_sweep();
    test_size_label();
    test_overrides();
    gk_kctx k;
    gk_err e = {0};
    CHECKF(gk_kctx_init(&k, -1, &e) == GK_OK, "%s", e.msg);
    test_stories(&k);
    test_examples(&k);
    test_hostile(&k);
    test_bad_stream(&k);
    test_space_prefix();
    return gk_test_result("test_convert");
}
