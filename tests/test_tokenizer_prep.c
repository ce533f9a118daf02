/* test_tokenizer_prep OUTDIR: prepares the tokenization parity test (tests/interop/
 * tokenizer_parity.mjs). It writes, into OUTDIR:
 *   - stories.gguf: a vocab-only llama GGUF whose tokenizer KVs come from stories260K's
 *     tokenizer.json through gk_tokenizer_build (scores derived from merge ranks);
 *   - gpt2/, llama3/, qwen2/: tokenizer.json files built from ggml-vocab-gpt-2.gguf's tokens and
 *     merges with the GPT-2, Llama-3 and Qwen2 pre-tokenizer configurations, and for each a
 *     vocab-only gpt2 GGUF (pre identified by fingerprint for gpt2; forced llama-bpe / qwen2 for
 *     the other two, whose fingerprints are not in the table for this vocabulary);
 *   - cases.json: the strings (the 47 vocab test strings + our own), and per case the ids our own
 *     encoder (convert/tok_hf.c) gives, the pre and fingerprint we computed, and the check text.
 * Exit 0 on success, 77 when the shared data is absent (outside CI). */
#include "gk_tokenizer.h"
#include "testutil.h"
#include "tok_hf.h"
#include "tok_internal.h"
#include "unicode_table.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const own_strings[] = {
    "Once upon a time",
    "Lily wanted to play in the park.",
    ("Once upon a time, there was a little girl named Lily. She loved to play outside in the park. One day, "
     "she saw a big, red ball. \"Can I play?\" asked Tom. They laughed and played until the sun went down."),
    "The little dog was sad because he could not find his friend. Mom said: don't worry, we will look together!",
    "Hello, y'all! How're you doing? I'm FINE, they'll SEE.",
    "tabs\tand\r\nwindows\r\nlines   \n\n  trailing   ",
    "numbers 1234567 12 3.14159 1,000,000 and 2024-01-01",
    "émigré naïve façade Ångström — “quotes” ‘single’ …",
    "日本語のテキストと中文文本，还有한국어 문장。",
    "Ünïcödé ǅ ﬁ ß ẞ ſt ΣΑΣ σας",
    "emoji 🤖🦙👨‍👩‍👧‍👦 🇫🇷 ❤️ ✨",
    "code: def f(x):\n    return x**2  # square\n\tprint(f(3))",
    "<|endoftext|> in the middle <|endoftext|>",
    "    leading spaces",
    "'s 't 're 've 'm 'll 'd 'S 'T 'RE 'VE 'M 'LL 'D",
    "a",
    " ",
    "x  y   z    ",
    "\xd8\xa7\xd9\x84\xd8\xb9\xd8\xb1\xd8\xa8\xd9\x8a\xd8\xa9 \xe0\xa4\xb9\xe0\xa4\xbf\xe0\xa4\x82\xe0\xa4\xa6\xe0\xa5\x80",
};

static size_t pb_varint(unsigned char *o, uint64_t v) {
    size_t n = 0;
    do {
        o[n] = (unsigned char)(v & 0x7F);
        v >>= 7;
        if (v) o[n] |= 0x80;
        n++;
    } while (v);
    return n;
}

/* rm -r of the temporary directory (when run as a plain ctest) */
static void remove_tree(const char *p) {
    DIR *d = opendir(p);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
            char sub[4096];
            snprintf(sub, sizeof sub, "%s/%s", p, e->d_name);
            remove_tree(sub);
        }
        closedir(d);
        rmdir(p);
    } else {
        unlink(p);
    }
}

static gk_status write_gguf(const char *path, const gk_gguf *arch_src, const char *arch, const gk_tok_result *tok,
                            gk_err *err) {
    size_t cap = arch_src->n_kv + tok->n_kv + 2, n = 0;
    gk_kv *kv = calloc(cap, sizeof *kv);
    if (!kv) return gk_err_set(err, GK_E_NOMEM, "oom");
    kv[n].key.ptr = "general.architecture";
    kv[n].key.len = strlen(kv[n].key.ptr);
    kv[n].val.type = GK_V_STR;
    kv[n].val.str.ptr = arch;
    kv[n].val.str.len = strlen(arch);
    n++;
    size_t al = strlen(arch);
    for (uint64_t i = 0; i < arch_src->n_kv; i++) {
        const gk_kv *s = &arch_src->kv[i];
        if (s->key.len > al && !memcmp(s->key.ptr, arch, al) && s->key.ptr[al] == '.') kv[n++] = *s;
    }
    for (uint64_t i = 0; i < tok->n_kv; i++) kv[n++] = tok->kv[i];
    gk_writer *w = NULL;
    gk_status st = gk_writer_open(path, NULL, &w, err);
    if (!st) st = gk_writer_begin(w, kv, n, NULL, 0, err);
    if (!st) st = gk_writer_finish(w, err);
    gk_writer_free(w);
    free(kv);
    return st;
}

/* tokenizer.json for the GPT-2 vocabulary with a given pre-tokenizer. */
static json_t *gpt2_tokenizer_json(const gk_gguf *g, json_t *pre_tokenizer, int ignore_merges) {
    const gk_value *toks = gk_gguf_get(g, "tokenizer.ggml.tokens", GK_V_ARR);
    const gk_value *merges = gk_gguf_get(g, "tokenizer.ggml.merges", GK_V_ARR);
    if (!toks || !merges || toks->arr.type != GK_V_STR || merges->arr.type != GK_V_STR) return NULL;
    const gk_str *t = toks->arr.data, *m = merges->arr.data;
    json_t *vocab = json_object(), *jm = json_array(), *added = json_array();
    for (uint64_t i = 0; i < toks->arr.n; i++) {
        char *k = strndup(t[i].ptr, t[i].len);
        json_object_set_new(vocab, k, json_integer((json_int_t)i));
        free(k);
    }
    for (uint64_t i = 0; i < merges->arr.n; i++) json_array_append_new(jm, json_stringn(m[i].ptr, m[i].len));
    json_array_append_new(added, json_pack("{s:i, s:s, s:b, s:b, s:b, s:b, s:b}", "id", 50256, "content",
                                           "<|endoftext|>", "single_word", 0, "lstrip", 0, "rstrip", 0,
                                           "normalized", 1, "special", 1));
    json_t *model = json_pack("{s:s, s:n, s:n, s:s, s:s, s:b, s:b, s:b, s:o, s:o}", "type", "BPE", "dropout",
                              "unk_token", "continuing_subword_prefix", "", "end_of_word_suffix", "", "fuse_unk", 0,
                              "byte_fallback", 0, "ignore_merges", ignore_merges, "vocab", vocab, "merges", jm);
    json_t *bl = json_pack("{s:s, s:b, s:b, s:b}", "type", "ByteLevel", "add_prefix_space", 0, "trim_offsets", 1,
                           "use_regex", 1);
    return json_pack("{s:s, s:n, s:n, s:o, s:n, s:o, s:o, s:O, s:o}", "version", "1.0", "truncation", "padding",
                     "added_tokens", added, "normalizer", "pre_tokenizer", pre_tokenizer, "post_processor", bl,
                     "decoder", bl, "model", model);
}

static json_t *split_bytelevel(const char *pattern) {
    return json_pack("{s:s, s:[{s:s, s:{s:s}, s:s, s:b}, {s:s, s:b, s:b, s:b}]}", "type", "Sequence", "pretokenizers",
                     "type", "Split", "pattern", "Regex", pattern, "behavior", "Isolated", "invert", 0, "type",
                     "ByteLevel", "add_prefix_space", 0, "trim_offsets", 1, "use_regex", 0);
}

static const unsigned char *find_bytes(const unsigned char *h, size_t hn, const char *nd, size_t nn) {
    for (size_t i = 0; i + nn <= hn; i++)
        if (!memcmp(h + i, nd, nn)) return h + i;
    return NULL;
}

int main(int argc, char **argv) {
    if (argc > 2) {
        fprintf(stderr, "usage: test_tokenizer_prep [OUTDIR]\n");
        return 2;
    }
    /* without OUTDIR it runs as a plain ctest (the C-side checks only) */
    const char *out = argc == 2 ? argv[1] : gk_test_tmpdir();
    gk_test_data_dir();
    gk_err err = {0};
    char path[4096];

    /* strings */
    json_t *strings = json_array();
    const char *inps[] = {"vocab/ggml-vocab-gpt-2.gguf.inp", "vocab/ggml-vocab-llama-spm.gguf.inp"};
    for (int f = 0; f < 2; f++) {
        size_t sz;
        unsigned char *d = gk_test_read_file(gk_test_data(inps[f]), &sz);
        CHECKF(d != NULL, "%s", inps[f]);
        if (!d) continue;
        const char *sep = "\n__ggml_vocab_test__\n";
        size_t sl = strlen(sep), pos = 0;
        while (pos < sz) {
            const unsigned char *hit = find_bytes(d + pos, sz - pos, sep, sl);
            size_t end = hit ? (size_t)(hit - d) : sz;
            json_t *s = json_stringn((const char *)d + pos, end - pos);
            int dup = 0;
            for (size_t i = 0; s && i < json_array_size(strings); i++) dup |= json_equal(json_array_get(strings, i), s);
            if (s && !dup) json_array_append(strings, s);
            json_decref(s);
            if (!hit) break;
            pos = end + sl;
        }
        free(d);
    }
    size_t n_vocab_strings = json_array_size(strings);
    for (size_t i = 0; i < sizeof own_strings / sizeof own_strings[0]; i++)
        json_array_append_new(strings, json_string(own_strings[i]));

    json_t *cases = json_array();

    /* 1. stories260K (SPM-style from tokenizer.json) */
    gk_gguf *stories = NULL;
    CHECK(gk_gguf_open(gk_test_data("gguf-py-written/stories260K-f32.gguf"), 0, &stories, &err) == GK_OK);
    gk_tok_dir *dir = NULL;
    gk_tok_dir_open(gk_test_data("stories260K-hf-f32"), &dir, &err);
    gk_tok_inputs in = {gk_tok_dir_get, dir, 0, GK_TOK_LLAMA_SPACE_PREFIX};
    gk_tok_result *r = NULL;
    gk_status st = gk_tokenizer_build(&in, NULL, &r, &err);
    CHECKF(st == GK_OK, "stories260K: %s", err.msg);
    if (st == GK_OK && stories) {
        snprintf(path, sizeof path, "%s/stories.gguf", out);
        st = write_gguf(path, stories, "llama", r, &err);
        CHECKF(st == GK_OK, "write %s: %s", path, err.msg);
        json_array_append_new(cases, json_pack("{s:s, s:s, s:s, s:s, s:b}", "name", "stories260K", "gguf", path,
                                               "tokenizer", gk_test_data("stories260K-hf-f32/tokenizer.json"),
                                               "pre", r->pre, "add_bos", 1));
        /* control: the same vocabulary with every score -1000 (what gguf-py writes for an HF-only
         * SPM-style BPE) must tokenize differently, which shows the merge-rank scores matter */
        for (uint64_t i = 0; i < r->n_kv; i++)
            if (r->kv[i].key.len == 21 && !memcmp(r->kv[i].key.ptr, "tokenizer.ggml.scores", 21)) {
                float *sc = (float *)r->kv[i].val.arr.data;
                for (uint64_t k = 0; k < r->kv[i].val.arr.n; k++) sc[k] = -1000.0f;
            }
        snprintf(path, sizeof path, "%s/stories-constant.gguf", out);
        st = write_gguf(path, stories, "llama", r, &err);
        CHECKF(st == GK_OK, "write %s: %s", path, err.msg);
        json_array_append_new(cases, json_pack("{s:s, s:s, s:s, s:s, s:b, s:b}", "name", "stories260K-constant-scores",
                                               "gguf", path, "tokenizer",
                                               gk_test_data("stories260K-hf-f32/tokenizer.json"), "pre", r->pre,
                                               "add_bos", 1, "expect_mismatch", 1));
    }
    gk_tok_result_free(r);
    gk_tok_dir_free(dir);
    gk_gguf_close(stories);

    /* 2. byte-level BPE from the GPT-2 vocabulary, three pre-tokenizer configurations */
    gk_gguf *g2 = NULL;
    CHECK(gk_gguf_open(gk_test_data("vocab/ggml-vocab-gpt-2.gguf"), 0, &g2, &err) == GK_OK);
    static const char llama3_pat[] =
        "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|"
        "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    static const char qwen2_pat[] =
        "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|"
        "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    /* the last two are checked against HF only (llama.cpp has no pre-tokenizer like them) */
    struct { const char *name, *force; json_t *pre; } variants[] = {
        {"gpt2", NULL, NULL},
        {"llama3", "llama-bpe", NULL},
        {"qwen2", "qwen2", NULL},
        {"digits-punct", "gpt-2", NULL},
        {"wssplit-digits", "gpt-2", NULL},
    };
    enum { N_VARIANTS = sizeof variants / sizeof variants[0] };
    variants[0].pre = json_pack("{s:s, s:b, s:b, s:b}", "type", "ByteLevel", "add_prefix_space", 0, "trim_offsets", 1,
                                "use_regex", 1);
    variants[1].pre = split_bytelevel(llama3_pat);
    variants[2].pre = split_bytelevel(qwen2_pat);
    variants[3].pre = json_pack("{s:s, s:[{s:s, s:b}, {s:s, s:s}, {s:s, s:b, s:b, s:b}]}", "type", "Sequence",
                                "pretokenizers", "type", "Digits", "individual_digits", 1, "type", "Punctuation",
                                "behavior", "Isolated", "type", "ByteLevel", "add_prefix_space", 0, "trim_offsets", 1,
                                "use_regex", 1);
    variants[4].pre = json_pack("{s:s, s:[{s:s}, {s:s, s:b}, {s:s, s:b, s:b, s:b}]}", "type", "Sequence",
                                "pretokenizers", "type", "WhitespaceSplit", "type", "Digits", "individual_digits", 0,
                                "type", "ByteLevel", "add_prefix_space", 1, "trim_offsets", 1, "use_regex", 1);
    for (int v = 0; v < N_VARIANTS && g2; v++) {
        /* Llama 3's tokenizer.json sets ignore_merges (and llama.cpp's llama-bpe does the same) */
        json_t *tj = gpt2_tokenizer_json(g2, variants[v].pre, v == 1);
        variants[v].pre = NULL;
        CHECK(tj != NULL);
        if (!tj) continue;
        snprintf(path, sizeof path, "%s/%s", out, variants[v].name);
        mkdir(path, 0777);
        char tjp[4200], tcp[4200];
        snprintf(tjp, sizeof tjp, "%s/tokenizer.json", path);
        snprintf(tcp, sizeof tcp, "%s/tokenizer_config.json", path);
        CHECK(json_dump_file(tj, tjp, JSON_COMPACT) == 0);
        json_t *tc = json_pack("{s:s, s:s, s:s, s:b, s:i}", "bos_token", "<|endoftext|>", "eos_token", "<|endoftext|>",
                               "unk_token", "<|endoftext|>", "add_bos_token", 0, "model_max_length", 1024);
        CHECK(json_dump_file(tc, tcp, JSON_COMPACT) == 0);
        json_decref(tc);

        gk_tok_dir *d = NULL;
        gk_tok_dir_open(path, &d, &err);
        gk_tok_inputs ti = {gk_tok_dir_get, d, 0, 0};
        gk_tok_result *res = NULL;
        st = gk_tokenizer_build(&ti, variants[v].force, &res, &err);
        CHECKF(st == GK_OK, "%s: %s", variants[v].name, err.msg);
        if (v == 0 && st == GK_OK) {
            CHECKF(!strcmp(res->pre, "gpt-2"), "GPT-2 fingerprint gave pre '%s' (hash %s)", res->pre, res->pre_hash);
            CHECK(!strcmp(res->pre_hash, "3ce83efda5659b07b1ad37ca97ca5797ea4285d9b9ab0dc679e4a720c9da7454"));
        }
        /* our own encoder's ids for every string, and for the check text */
        gk_hf_tok *hf = NULL;
        st = gk_hf_tok_load(tj, &hf, &err);
        CHECKF(st == GK_OK, "%s: encoder: %s", variants[v].name, err.msg);
        json_t *ours = json_array();
        for (size_t i = 0; hf && i < json_array_size(strings); i++) {
            json_t *s = json_array_get(strings, i);
            int32_t *ids = NULL;
            size_t nid = 0;
            st = gk_hf_tok_encode(hf, json_string_value(s), json_string_length(s), 1, &ids, &nid, &err);
            json_t *a = json_array();
            for (size_t k = 0; k < nid; k++) json_array_append_new(a, json_integer(ids[k]));
            json_array_append_new(ours, a);
            free(ids);
        }
        int32_t *cids = NULL;
        size_t ncid = 0;
        json_t *chk = json_array();
        if (hf && gk_hf_tok_encode(hf, gk_tok_chktxt, gk_tok_chktxt_len, 1, &cids, &ncid, &err) == GK_OK)
            for (size_t k = 0; k < ncid; k++) json_array_append_new(chk, json_integer(cids[k]));
        free(cids);
        gk_hf_tok_free(hf);
        if (res) {
            char gp[4200];
            snprintf(gp, sizeof gp, "%s/%s.gguf", out, variants[v].name);
            st = write_gguf(gp, g2, "gpt2", res, &err);
            CHECKF(st == GK_OK, "write %s: %s", gp, err.msg);
            json_t *c = json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:o, s:o}", "name", variants[v].name, "gguf", gp,
                                  "tokenizer", tjp, "pre", res->pre, "pre_hash", res->pre_hash, "add_bos", 0, "ours",
                                  ours, "ours_chktxt", chk);
            if (v >= 3) json_object_set_new(c, "hf_only", json_true());
            if (v == 0) { /* also llama.cpp's own expected ids for the original GPT-2 vocab file */
                json_object_set_new(c, "inp", json_string(gk_test_data("vocab/ggml-vocab-gpt-2.gguf.inp")));
                json_object_set_new(c, "out", json_string(gk_test_data("vocab/ggml-vocab-gpt-2.gguf.out")));
            }
            json_array_append_new(cases, c);
        } else {
            json_decref(ours);
            json_decref(chk);
        }
        gk_tok_result_free(res);
        gk_tok_dir_free(d);
        json_decref(tj);
    }
    gk_gguf_close(g2);

    /* 3. SentencePiece: a tokenizer.model rebuilt (protobuf) from ggml-vocab-llama-spm.gguf's
     * pieces; the result must reproduce that file's tokens, scores and types exactly, and
     * llama.cpp must tokenize with it as the .out file says */
    gk_gguf *spm = NULL;
    CHECK(gk_gguf_open(gk_test_data("vocab/ggml-vocab-llama-spm.gguf"), 0, &spm, &err) == GK_OK);
    const gk_value *st_toks = spm ? gk_gguf_get(spm, "tokenizer.ggml.tokens", GK_V_ARR) : NULL;
    const gk_value *st_sc = spm ? gk_gguf_get(spm, "tokenizer.ggml.scores", GK_V_ARR) : NULL;
    const gk_value *st_ty = spm ? gk_gguf_get(spm, "tokenizer.ggml.token_type", GK_V_ARR) : NULL;
    if (st_toks && st_sc && st_ty && st_toks->arr.n == st_sc->arr.n && st_toks->arr.n == st_ty->arr.n) {
        size_t cap = 1 << 20, len = 0;
        unsigned char *pbuf = malloc(cap);
        const gk_str *t = st_toks->arr.data;
        const float *sc = st_sc->arr.data;
        const int32_t *ty = st_ty->arr.data;
        for (uint64_t i = 0; pbuf && i < st_toks->arr.n; i++) {
            if (cap - len < t[i].len + 64) {
                cap *= 2;
                unsigned char *nb = realloc(pbuf, cap);
                if (!nb) { free(pbuf); pbuf = NULL; break; }
                pbuf = nb;
            }
            unsigned char body[600];
            size_t bl = 0;
            body[bl++] = 0x0A;
            bl += pb_varint(body + bl, t[i].len);
            memcpy(body + bl, t[i].ptr, t[i].len);
            bl += t[i].len;
            body[bl++] = 0x15;
            memcpy(body + bl, &sc[i], 4);
            bl += 4;
            if (ty[i] != 1) { body[bl++] = 0x18; bl += pb_varint(body + bl, (uint64_t)ty[i]); }
            pbuf[len++] = 0x0A;
            len += pb_varint(pbuf + len, bl);
            memcpy(pbuf + len, body, bl);
            len += bl;
        }
        snprintf(path, sizeof path, "%s/spm", out);
        mkdir(path, 0777);
        char mp[4200], cp[4200];
        snprintf(mp, sizeof mp, "%s/tokenizer.model", path);
        snprintf(cp, sizeof cp, "%s/config.json", path);
        CHECK(pbuf && gk_test_write_file(mp, pbuf, len) == 0);
        const char cfg[] = "{\"bos_token_id\": 1, \"eos_token_id\": 2}";
        CHECK(gk_test_write_file(cp, cfg, sizeof cfg - 1) == 0);
        free(pbuf);
        gk_tok_dir *d = NULL;
        gk_tok_dir_open(path, &d, &err);
        gk_tok_inputs ti = {gk_tok_dir_get, d, 0, GK_TOK_LLAMA_SPACE_PREFIX};
        gk_tok_result *res = NULL;
        st = gk_tokenizer_build(&ti, NULL, &res, &err);
        CHECKF(st == GK_OK, "spm: %s", err.msg);
        if (res) {
            CHECK(!strcmp(res->model, "llama") && res->n_tokens == st_toks->arr.n);
            size_t diff = 0;
            for (uint64_t i = 0; i < res->n_kv; i++) {
                const gk_kv *kv = &res->kv[i];
                if (kv->val.type != GK_V_ARR || kv->val.arr.n != st_toks->arr.n) continue;
                for (uint64_t k = 0; k < kv->val.arr.n; k++) {
                    if (kv->val.arr.type == GK_V_STR) {
                        const gk_str *a = (const gk_str *)kv->val.arr.data + k;
                        diff += a->len != t[k].len || memcmp(a->ptr, t[k].ptr, a->len);
                    } else if (kv->val.arr.type == GK_V_F32) {
                        diff += memcmp((const float *)kv->val.arr.data + k, &sc[k], 4) != 0;
                    } else if (kv->val.arr.type == GK_V_I32) {
                        diff += ((const int32_t *)kv->val.arr.data)[k] != ty[k];
                    }
                }
            }
            CHECKF(diff == 0, "tokenizer.model round trip: %zu entries differ from ggml-vocab-llama-spm.gguf", diff);
            char gp[4200];
            snprintf(gp, sizeof gp, "%s/spm.gguf", out);
            st = write_gguf(gp, spm, "llama", res, &err);
            CHECKF(st == GK_OK, "write %s: %s", gp, err.msg);
            json_array_append_new(cases, json_pack("{s:s, s:s, s:s, s:s, s:s}", "name", "llama-spm (tokenizer.model)",
                                                   "gguf", gp, "pre", res->pre, "inp",
                                                   gk_test_data("vocab/ggml-vocab-llama-spm.gguf.inp"), "out",
                                                   gk_test_data("vocab/ggml-vocab-llama-spm.gguf.out")));
        }
        gk_tok_result_free(res);
        gk_tok_dir_free(d);
    } else {
        CHECKF(0, "ggml-vocab-llama-spm.gguf lacks tokens/scores/token_type");
    }
    gk_gguf_close(spm);

    /* the generated Unicode table, for a cross-check against the JS engine's ICU data */
    json_t *uni = json_array();
    for (unsigned i = 0; i < gk_uni_n_ranges; i++)
        json_array_append_new(uni, json_pack("[I, I, i]", (json_int_t)gk_uni_ranges[i].lo, (json_int_t)gk_uni_ranges[i].hi,
                                             (int)gk_uni_ranges[i].cls));

    json_t *doc = json_pack("{s:o, s:I, s:o, s:s%, s:o, s:s}", "strings", strings, "n_vocab_strings",
                            (json_int_t)n_vocab_strings, "cases", cases, "chktxt", gk_tok_chktxt, gk_tok_chktxt_len,
                            "unicode", uni, "unicode_version", gk_uni_version);
    snprintf(path, sizeof path, "%s/cases.json", out);
    CHECK(doc && json_dump_file(doc, path, JSON_INDENT(1)) == 0);
    json_decref(doc);
    if (argc == 1) remove_tree(out);
    return gk_test_result("test_tokenizer_prep");
}
