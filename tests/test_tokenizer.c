/* Unit tests of convert/tokenizer.c: stories260K's tokenizer.json as a SentencePiece-style
 * vocabulary, a tokenizer.model parsed from a handcrafted protobuf, byte-level BPE from a small
 * handcrafted tokenizer.json (merges in both formats, special ids, flags, chat templates), the
 * regex matcher on the GPT-2 / Llama-3 / Qwen2 patterns, and hostile inputs. */
#include "gk_tokenizer.h"
#include "testutil.h"
#include "tok_hf.h"
#include "tok_internal.h"
#include "tok_regex.h"
#include "unicode_table.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* In-memory inputs: a NULL-terminated list of (name, text). */
typedef struct mem_files {
    const char *const *kv;
} mem_files;

static gk_status mem_get(void *ctx, const char *name, const void **data, size_t *size, gk_err *err) {
    (void)err;
    const mem_files *m = ctx;
    for (const char *const *p = m->kv; *p; p += 2)
        if (!strcmp(p[0], name)) {
            *data = p[1];
            *size = strlen(p[1]);
            return GK_OK;
        }
    return GK_E_NOT_FOUND;
}

static const gk_kv *find(const gk_tok_result *r, const char *key) {
    for (uint64_t i = 0; i < r->n_kv; i++)
        if (r->kv[i].key.len == strlen(key) && !memcmp(r->kv[i].key.ptr, key, r->kv[i].key.len)) return &r->kv[i];
    return NULL;
}

static int64_t find_index(const gk_tok_result *r, const char *key) {
    for (uint64_t i = 0; i < r->n_kv; i++)
        if (r->kv[i].key.len == strlen(key) && !memcmp(r->kv[i].key.ptr, key, r->kv[i].key.len)) return (int64_t)i;
    return -1;
}

static int str_is(const gk_str *s, const char *c) { return s->len == strlen(c) && !memcmp(s->ptr, c, s->len); }

static void test_stories(void) {
    gk_tok_dir *d = NULL;
    gk_err err = {0};
    CHECK(gk_tok_dir_open(gk_test_data("stories260K-hf-f32"), &d, &err) == GK_OK);
    gk_tok_inputs in = {gk_tok_dir_get, d, 0, GK_TOK_LLAMA_SPACE_PREFIX};
    gk_tok_result *r = NULL;
    gk_status st = gk_tokenizer_build(&in, NULL, &r, &err);
    CHECKF(st == GK_OK, "%s", err.msg);
    if (st) { gk_tok_dir_free(d); return; }
    CHECK(!strcmp(r->model, "llama") && !strcmp(r->pre, "default") && r->n_tokens == 512);
    static const char *const order[] = {"tokenizer.ggml.model", "tokenizer.ggml.pre", "tokenizer.ggml.tokens",
                                        "tokenizer.ggml.scores", "tokenizer.ggml.token_type",
                                        "tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id",
                                        "tokenizer.ggml.unknown_token_id", "tokenizer.ggml.add_bos_token",
                                        "tokenizer.ggml.add_eos_token"};
    CHECKF(r->n_kv == sizeof order / sizeof order[0], "n_kv %llu", (unsigned long long)r->n_kv);
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++)
        CHECKF(find_index(r, order[i]) == (int64_t)i, "%s at %lld", order[i], (long long)find_index(r, order[i]));
    const gk_kv *toks = find(r, "tokenizer.ggml.tokens"), *sc = find(r, "tokenizer.ggml.scores");
    const gk_kv *ty = find(r, "tokenizer.ggml.token_type");
    CHECK(toks && toks->val.type == GK_V_ARR && toks->val.arr.type == GK_V_STR && toks->val.arr.n == 512);
    CHECK(sc && sc->val.arr.type == GK_V_F32 && sc->val.arr.n == 512);
    CHECK(ty && ty->val.arr.type == GK_V_I32 && ty->val.arr.n == 512);
    if (toks && sc && ty) {
        const gk_str *t = toks->val.arr.data;
        const float *s = sc->val.arr.data;
        const int32_t *y = ty->val.arr.data;
        CHECK(str_is(&t[0], "<unk>") && str_is(&t[1], "<s>") && str_is(&t[2], "</s>"));
        CHECK(y[0] == 3 && y[1] == 3 && y[2] == 3);
        CHECK(str_is(&t[3], "<0x00>") && y[3] == 6 && str_is(&t[258], "<0xFF>") && y[258] == 6);
        int bytes = 0, normal = 0;
        for (int i = 0; i < 512; i++) { bytes += y[i] == 6; normal += y[i] == 1; }
        CHECK(bytes == 256 && normal == 253);
        /* merge ranks: the first merge "▁ t" makes "▁t" (id 259): score -1; later merges lower;
         * every token no merge produces scores below all of them */
        CHECK(str_is(&t[259], "\xe2\x96\x81t"));
        CHECKF(s[259] == -1.0f, "score[259] %g", s[259]);
        float min_merge = 0;
        int n_merged = 0;
        for (int i = 0; i < 512; i++)
            if (y[i] == 1 && s[i] > s[0]) { n_merged++; if (s[i] < min_merge) min_merge = s[i]; }
        CHECKF(s[0] < min_merge && s[3] == s[0], "non-merge score %g, lowest merge %g", s[0], min_merge);
        CHECKF(n_merged == 151, "%d merged tokens", n_merged);
        for (int i = 260; i < 512; i++)
            if (y[i] == 1 && s[i] > s[0]) CHECKF(s[i] < s[259], "id %d", i);
    }
    const gk_kv *kv;
    CHECK((kv = find(r, "tokenizer.ggml.bos_token_id")) && kv->val.type == GK_V_U32 && kv->val.v.u32 == 1);
    CHECK((kv = find(r, "tokenizer.ggml.eos_token_id")) && kv->val.v.u32 == 2);
    CHECK((kv = find(r, "tokenizer.ggml.unknown_token_id")) && kv->val.v.u32 == 0);
    CHECK((kv = find(r, "tokenizer.ggml.add_bos_token")) && kv->val.type == GK_V_BOOL && kv->val.v.b == 1);
    CHECK((kv = find(r, "tokenizer.ggml.add_eos_token")) && kv->val.v.b == 0);
    gk_tok_result_free(r);
    gk_tok_dir_free(d);
}

/* protobuf helpers for a handcrafted tokenizer.model */
static size_t pb_varint(unsigned char *o, uint64_t v) {
    size_t n = 0;
    do { o[n] = (unsigned char)(v & 0x7F); v >>= 7; if (v) o[n] |= 0x80; n++; } while (v);
    return n;
}

static size_t pb_piece(unsigned char *o, const char *piece, float score, int type) {
    unsigned char body[256];
    size_t n = 0, pl = strlen(piece);
    body[n++] = 0x0A;
    n += pb_varint(body + n, pl);
    memcpy(body + n, piece, pl);
    n += pl;
    body[n++] = 0x15;
    memcpy(body + n, &score, 4);
    n += 4;
    if (type != 1) { body[n++] = 0x18; n += pb_varint(body + n, (uint64_t)type); }
    size_t m = 0;
    o[m++] = 0x0A;
    m += pb_varint(o + m, n);
    memcpy(o + m, body, n);
    return m + n;
}

static void test_spm_model(void) {
    unsigned char model[4096];
    size_t n = 0;
    n += pb_piece(model + n, "<unk>", 0.0f, 2);
    n += pb_piece(model + n, "<s>", 0.0f, 3);
    n += pb_piece(model + n, "</s>", 0.0f, 3);
    n += pb_piece(model + n, "<0x0A>", 0.0f, 6);
    n += pb_piece(model + n, "\xe2\x96\x81the", -1.5f, 1);
    n += pb_piece(model + n, "<tool>", 0.0f, 4);
    /* a trainer_spec (field 2) to skip */
    model[n++] = 0x12; model[n++] = 0x02; model[n++] = 0x08; model[n++] = 0x01;
    char *bin = malloc(n + 1);
    memcpy(bin, model, n);
    bin[n] = 0;
    /* strlen-based mem_get cannot carry NULs: use a dedicated lookup */
    struct { const char *data; size_t n; } spm = {bin, n};
    gk_err err = {0};
    gk_spm_piece *pcs = NULL;
    size_t np = 0;
    CHECK(gk_spm_parse(model, n, &pcs, &np, &err) == GK_OK && np == 6);
    if (np == 6) {
        CHECK(pcs[4].len == 6 && !memcmp(pcs[4].piece, "\xe2\x96\x81the", 6) && pcs[4].score == -1.5f && pcs[4].type == 1);
        CHECK(pcs[0].type == 2 && pcs[3].type == 6 && pcs[5].type == 4);
    }
    free(pcs);
    /* every truncation is an error, never a crash */
    for (size_t cut = 1; cut < n; cut++) {
        gk_spm_piece *p2 = NULL;
        size_t n2 = 0;
        gk_status st = gk_spm_parse(model, cut, &p2, &n2, &err);
        if (st == GK_OK) CHECK(n2 <= 6);
        free(p2);
    }
    (void)spm;
    free(bin);
}

/* A byte-level BPE tokenizer.json small enough to write by hand: "Ġ" = space. */
static const char small_bpe[] =
    "{\"added_tokens\":[{\"id\":9,\"content\":\"<|end|>\",\"special\":true},"
    "{\"id\":10,\"content\":\"<tool>\",\"special\":false}],"
    "\"normalizer\":null,"
    "\"pre_tokenizer\":{\"type\":\"ByteLevel\",\"add_prefix_space\":false,\"use_regex\":true},"
    "\"post_processor\":{\"type\":\"TemplateProcessing\",\"single\":[{\"SpecialToken\":{\"id\":\"<|end|>\",\"type_id\":0}},"
    "{\"Sequence\":{\"id\":\"A\",\"type_id\":0}}],\"special_tokens\":{\"<|end|>\":{\"id\":\"<|end|>\",\"ids\":[9],\"tokens\":[\"<|end|>\"]}}},"
    "\"model\":{\"type\":\"BPE\",\"byte_fallback\":false,\"vocab\":{\"a\":0,\"b\":1,\"\xc4\xa0\":2,\"ab\":3,\"\xc4\xa0" "ab\":4,"
    "\"c\":5,\"abc\":6,\"\xc4\xa0" "a\":7},"
    "\"merges\":[[\"a\",\"b\"],[\"\xc4\xa0\",\"ab\"],[\"ab\",\"c\"],\"\xc4\xa0 a\"]}}";

static void test_small_bpe(void) {
    static const char *const files[] = {
        "tokenizer.json", small_bpe,
        "tokenizer_config.json",
        "{\"bos_token\":\"<|end|>\",\"eos_token\":{\"content\":\"<|end|>\"},\"add_bos_token\":true,"
        "\"chat_template\":[{\"name\":\"default\",\"template\":\"D\"},{\"name\":\"tool use\",\"template\":\"T\"}]}",
        "config.json", "{\"vocab_size\":12,\"pad_token_id\":11}",
        NULL};
    mem_files m = {files};
    gk_tok_inputs in = {mem_get, &m, 0, 0};
    gk_tok_result *r = NULL;
    gk_err err = {0};
    /* unknown fingerprint: a clear error naming --pre */
    gk_status st = gk_tokenizer_build(&in, NULL, &r, &err);
    CHECKF(st == GK_E_UNSUPPORTED && strstr(err.msg, "--pre") && strstr(err.msg, "fingerprint"), "%d %s", st, err.msg);
    CHECK(gk_tokenizer_build(&in, "no-such-pre", &r, &err) == GK_E_INVALID_ARG);
    st = gk_tokenizer_build(&in, "llama-bpe", &r, &err);
    CHECKF(st == GK_OK, "%s", err.msg);
    if (st) return;
    CHECK(!strcmp(r->model, "gpt2") && r->n_tokens == 12);
    const gk_kv *kv = find(r, "tokenizer.ggml.merges");
    CHECK(kv && kv->val.arr.n == 4);
    if (kv && kv->val.arr.n == 4) {
        const gk_str *mg = kv->val.arr.data;
        CHECK(str_is(&mg[0], "a b") && str_is(&mg[1], "\xc4\xa0 ab") && str_is(&mg[3], "\xc4\xa0 a"));
    }
    kv = find(r, "tokenizer.ggml.token_type");
    if (kv) {
        const int32_t *y = kv->val.arr.data;
        CHECK(y[0] == 1 && y[9] == 3 && y[10] == 4 && y[11] == 5);
    }
    CHECK(find(r, "tokenizer.ggml.scores") == NULL);
    CHECK((kv = find(r, "tokenizer.ggml.bos_token_id")) && kv->val.v.u32 == 9);
    CHECK((kv = find(r, "tokenizer.ggml.eos_token_id")) && kv->val.v.u32 == 9);
    CHECK((kv = find(r, "tokenizer.ggml.padding_token_id")) && kv->val.v.u32 == 11);
    CHECK((kv = find(r, "tokenizer.ggml.add_bos_token")) && kv->val.v.b == 1);
    CHECK((kv = find(r, "tokenizer.chat_template.tool_use")) && str_is(&kv->val.str, "T"));
    CHECK((kv = find(r, "tokenizer.chat_templates")) && kv->val.arr.n == 1);
    CHECK((kv = find(r, "tokenizer.chat_template")) && str_is(&kv->val.str, "D"));
    CHECK(find_index(r, "tokenizer.ggml.merges") == find_index(r, "tokenizer.ggml.token_type") + 1);
    gk_tok_result_free(r);

    /* our encoder on it: " ab" -> Ġab; "abc" -> abc; "<|end|>" matched whole */
    json_error_t je;
    json_t *tj = json_loads(small_bpe, 0, &je);
    gk_hf_tok *hf = NULL;
    CHECK(tj && gk_hf_tok_load(tj, &hf, &err) == GK_OK);
    if (hf) {
        int32_t *ids = NULL;
        size_t n = 0;
        const char *txt = "abc ab<|end|>a";
        CHECK(gk_hf_tok_encode(hf, txt, strlen(txt), 1, &ids, &n, &err) == GK_OK);
        int32_t want[] = {9, 6, 4, 9, 0};
        CHECKF(n == 5 && !memcmp(ids, want, sizeof want), "n=%zu", n);
        free(ids);
    }
    gk_hf_tok_free(hf);
    json_decref(tj);
}

static void test_hostile(void) {
    static const char *const bad_json[] = {
        "{", "[]", "{\"model\":5}", "{\"model\":{\"type\":\"BPE\",\"vocab\":[]}}",
        "{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":-1}}}",
        "{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[5]}}",
        "{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[\"a b\"]},\"added_tokens\":[{\"id\":\"x\"}]}",
        "{\"model\":{\"type\":\"Unigram\",\"vocab\":[]}}",
        "{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":99999999999}}}",
        NULL};
    for (int i = 0; bad_json[i]; i++) {
        const char *files[] = {"tokenizer.json", bad_json[i], NULL};
        mem_files m = {files};
        gk_tok_inputs in = {mem_get, &m, 0, 0};
        gk_tok_result *r = NULL;
        gk_err err = {0};
        gk_status st = gk_tokenizer_build(&in, "gpt-2", &r, &err);
        CHECKF(st != GK_OK && r == NULL && err.msg[0], "case %d: %d", i, st);
    }
    const char *none[] = {NULL};
    mem_files m = {none};
    gk_tok_inputs in = {mem_get, &m, 0, 0};
    gk_tok_result *r = NULL;
    gk_err err = {0};
    CHECK(gk_tokenizer_build(&in, NULL, &r, &err) == GK_E_NOT_FOUND);
    gk_tok_result_free(NULL);
}

/* regex: leftmost-first semantics on the three patterns that must work */
static void split_check(const char *pattern, const char *text, const char *const *want) {
    gk_regex *re = NULL;
    gk_err err = {0};
    CHECKF(gk_regex_compile(pattern, strlen(pattern), &re, &err) == GK_OK, "%s", err.msg);
    if (!re) return;
    uint32_t cps[256];
    size_t offs[257], n = 0, len = strlen(text);
    for (size_t i = 0; i < len;) {
        offs[n] = i;
        i += (size_t)gk_utf8_decode((const unsigned char *)text + i, len - i, &cps[n]);
        n++;
    }
    offs[n] = len;
    size_t pos = 0, ms, me, k = 0;
    while (gk_regex_search(re, cps, n, pos, &ms, &me) && me > ms) {
        CHECKF(ms == pos, "gap at %zu in '%s'", pos, text);
        CHECKF(want[k] && strlen(want[k]) == offs[me] - offs[ms] && !memcmp(want[k], text + offs[ms], strlen(want[k])),
               "piece %zu of '%s' is '%.*s'", k, text, (int)(offs[me] - offs[ms]), text + offs[ms]);
        if (!want[k]) break;
        k++;
        pos = me;
    }
    CHECKF(!want[k], "'%s': only %zu pieces", text, k);
    gk_regex_free(re);
}

static void test_regex(void) {
    const char *gpt2 = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";
    const char *llama3 =
        "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|"
        "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    const char *w1[] = {"Hello", " world", "'s", "   ", " x", NULL};
    split_check(gpt2, "Hello world's    x", w1);
    const char *w2[] = {"I", "'", "RE", " 123456", NULL};
    split_check(gpt2, "I'RE 123456", w2); /* gpt-2 is case-sensitive: 'R falls to punctuation */
    const char *w3[] = {"I", "'RE", " ", "123", "456", "7", "\n\n", "  ", " x", NULL};
    split_check(llama3, "I'RE 1234567\n\n   x", w3);
    gk_regex *re = NULL;
    gk_err err = {0};
    CHECK(gk_regex_compile("(a)+", 4, &re, &err) == GK_E_UNSUPPORTED);
    CHECK(gk_regex_compile("\\p{Lu}", 6, &re, &err) == GK_E_UNSUPPORTED);
    CHECK(gk_regex_compile("[a", 2, &re, &err) == GK_E_UNSUPPORTED);
    CHECK(gk_regex_compile("a)", 2, &re, &err) == GK_E_UNSUPPORTED);
    /* catastrophic backtracking is cut off by the step budget, not a hang */
    {
        char pat[200] = "";
        for (int i = 0; i < 30; i++) strcat(pat, "a?");
        for (int i = 0; i < 30; i++) strcat(pat, "a");
        strcat(pat, "b");
        CHECK(gk_regex_compile(pat, strlen(pat), &re, &err) == GK_OK);
        uint32_t as[30];
        for (int i = 0; i < 30; i++) as[i] = 'a';
        size_t ms, me;
        if (re) CHECK(gk_regex_search(re, as, 30, 0, &ms, &me) == -1);
        gk_regex_free(re);
        re = NULL;
    }
    CHECK(gk_uni_major('A') == GK_UNI_L && gk_uni_major('7') == GK_UNI_N && gk_uni_major('!') == GK_UNI_P);
    CHECK(gk_uni_is_space(0x3000) && gk_uni_is_space('\n') && !gk_uni_is_space(0x200D));
    CHECK(gk_uni_major(0x17B6) == GK_UNI_M && gk_uni_major(0x4E2D) == GK_UNI_L);
}

/* mutations of real and handcrafted inputs: every result is a status, never a crash (run under
 * ASan/UBSan in CI) */
static void test_mutations(void) {
    size_t sz = 0;
    unsigned char *stories = gk_test_read_file(gk_test_data("stories260K-hf-f32/tokenizer.json"), &sz);
    CHECK(stories != NULL);
    const char *srcs[2] = {small_bpe, (const char *)stories};
    size_t lens[2] = {strlen(small_bpe), stories ? sz : 0};
    uint32_t seed = 12345;
    int ok = 0, failed = 0;
    for (int which = 0; which < 2; which++) {
        if (!lens[which]) continue;
        char *buf = malloc(lens[which] + 1);
        for (int it = 0; it < 300; it++) {
            memcpy(buf, srcs[which], lens[which]);
            size_t len = lens[which];
            seed = seed * 1664525u + 1013904223u;
            if (it % 3 == 0) len = seed % len; /* truncation */
            else
                for (int f = 0; f < 1 + it % 4; f++) {
                    seed = seed * 1664525u + 1013904223u;
                    buf[(seed >> 8) % len] = (char)(seed >> 24);
                }
            buf[len] = 0;
            const char *files[] = {"tokenizer.json", buf, NULL};
            mem_files m = {files};
            gk_tok_inputs in = {mem_get, &m, 0, 0};
            gk_tok_result *r = NULL;
            gk_err err = {0};
            gk_status st = gk_tokenizer_build(&in, it % 2 ? "gpt-2" : NULL, &r, &err);
            if (st == GK_OK) { ok++; CHECK(r && r->n_kv > 0); }
            else { failed++; CHECKF(err.msg[0] && !r, "status %d without a message", st); }
            gk_tok_result_free(r);
        }
        free(buf);
    }
    CHECK(ok + failed == (stories ? 600 : 300));
    free(stories);
}

int main(void) {
    test_regex();
    test_spm_model();
    test_small_bpe();
    test_hostile();
    gk_test_data_dir();
    test_stories();
    test_mutations();
    return gk_test_result("test_tokenizer");
}
