/* tokenizer.ggml.* metadata from a Hugging Face checkpoint's tokenizer files (gk_tokenizer.h).
 * What is written for each tokenizer kind, and why: spec/convert-tokenizer.md. */
#include "gk_tokenizer.h"

#include "arena.h"
#include "tok_hf.h"
#include "tok_internal.h"
#include "tok_map.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { TT_NORMAL = 1, TT_UNKNOWN = 2, TT_CONTROL = 3, TT_USER = 4, TT_UNUSED = 5, TT_BYTE = 6 };

/* Special token kinds in gguf-py's order; key NULL = no GGUF key (cls). */
enum { SK_BOS, SK_EOS, SK_UNK, SK_SEP, SK_PAD, SK_CLS, SK_MASK, SK_COUNT };
static const char *const sk_name[SK_COUNT] = {"bos", "eos", "unk", "sep", "pad", "cls", "mask"};
static const char *const sk_key[SK_COUNT] = {
    "tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id", "tokenizer.ggml.unknown_token_id",
    "tokenizer.ggml.seperator_token_id", "tokenizer.ggml.padding_token_id", NULL,
    "tokenizer.ggml.mask_token_id"};
static const char *const sk_add_key[SK_COUNT] = {
    "tokenizer.ggml.add_bos_token", "tokenizer.ggml.add_eos_token", NULL, "tokenizer.ggml.add_sep_token",
    NULL, NULL, NULL};

typedef struct tok_priv {
    gk_arena arena;
    gk_kv *kv;
    size_t n_kv, cap_kv;
} tok_priv;

/* Everything the build works on. */
typedef struct builder {
    const gk_tok_inputs *in;
    gk_err *err;
    tok_priv *priv;
    json_t *tj, *tc, *cfg, *stm;   /* tokenizer.json, tokenizer_config.json, config.json,
                                      special_tokens_map.json (NULL if absent) */
    uint32_t n_vocab_cfg;          /* 0 if unknown */
    /* the vocabulary being built */
    uint32_t n;
    gk_str *tokens;
    float *scores;                 /* NULL for gpt2 */
    int32_t *types;
    gk_str *merges;
    uint64_t n_merges;
    const char *model, *pre;
    char pre_hash[65];
    /* special vocab */
    int64_t sid[SK_COUNT];         /* -1 unset */
    int sid_order[SK_COUNT], n_sid_order;
    int add[SK_COUNT];             /* -1 unset, else 0/1 */
    int add_order[SK_COUNT], n_add_order;
} builder;

static gk_status oom(builder *b) { return gk_err_set(b->err, GK_E_NOMEM, "out of memory"); }

/* ---------------------------------------------------------------------------------------- */
/* inputs */

static gk_status get_file(builder *b, const char *name, const void **data, size_t *size) {
    *data = NULL;
    *size = 0;
    gk_err e = {0};
    gk_status st = b->in->get(b->in->ctx, name, data, size, &e);
    if (st == GK_E_NOT_FOUND) { *data = NULL; return GK_E_NOT_FOUND; }
    if (st) {
        if (b->err) *b->err = e;
        return st;
    }
    if (!*data && *size) return gk_err_set(b->err, GK_E_INVALID_ARG, "%s: lookup returned no bytes", name);
    return GK_OK;
}

static gk_status load_json(builder *b, const char *name, json_t **out) {
    *out = NULL;
    const void *d;
    size_t n;
    gk_status st = get_file(b, name, &d, &n);
    if (st == GK_E_NOT_FOUND) return GK_OK;
    if (st) return st;
    json_error_t je;
    json_t *j = json_loadb(d ? d : "", n, JSON_ALLOW_NUL, &je);
    if (!j) return gk_err_set(b->err, GK_E_BAD_JSON, "%s: line %d column %d: %s", name, je.line, je.column, je.text);
    if (!json_is_object(j)) {
        json_decref(j);
        return gk_err_set(b->err, GK_E_BAD_JSON, "%s: the top level is not an object", name);
    }
    *out = j;
    return GK_OK;
}

/* A positive int member as uint32, or 0. */
static uint32_t json_u32(const json_t *o, const char *key) {
    const json_t *v = json_object_get(o, key);
    if (!json_is_integer(v) || json_integer_value(v) <= 0 || json_integer_value(v) > UINT32_MAX) return 0;
    return (uint32_t)json_integer_value(v);
}

/* ---------------------------------------------------------------------------------------- */
/* output */

static gk_kv *new_kv(builder *b, const char *key, uint32_t type) {
    tok_priv *p = b->priv;
    if (p->n_kv == p->cap_kv) {
        size_t nc = p->cap_kv ? p->cap_kv * 2 : 32;
        gk_kv *nk = realloc(p->kv, nc * sizeof *nk);
        if (!nk) return NULL;
        p->kv = nk;
        p->cap_kv = nc;
    }
    char *k = gk_arena_strdup(&p->arena, key, strlen(key));
    if (!k) return NULL;
    gk_kv *kv = &p->kv[p->n_kv++];
    memset(kv, 0, sizeof *kv);
    kv->key.ptr = k;
    kv->key.len = strlen(k);
    kv->val.type = type;
    return kv;
}

static gk_status kv_str(builder *b, const char *key, const char *s, size_t len) {
    gk_kv *kv = new_kv(b, key, GK_V_STR);
    char *c = kv ? gk_arena_strdup(&b->priv->arena, s, len) : NULL;
    if (!c) return oom(b);
    kv->val.str.ptr = c;
    kv->val.str.len = len;
    return GK_OK;
}

static gk_status kv_u32(builder *b, const char *key, uint32_t v) {
    gk_kv *kv = new_kv(b, key, GK_V_U32);
    if (!kv) return oom(b);
    kv->val.v.u32 = v;
    return GK_OK;
}

static gk_status kv_bool(builder *b, const char *key, int v) {
    gk_kv *kv = new_kv(b, key, GK_V_BOOL);
    if (!kv) return oom(b);
    kv->val.v.b = v ? 1 : 0;
    return GK_OK;
}

static gk_status kv_arr(builder *b, const char *key, uint32_t etype, const void *data, uint64_t n) {
    gk_kv *kv = new_kv(b, key, GK_V_ARR);
    if (!kv) return oom(b);
    kv->val.arr.type = etype;
    kv->val.arr.n = n;
    kv->val.arr.data = data;
    return GK_OK;
}

/* An arena copy of a token text. */
static int set_token(builder *b, uint32_t id, const char *s, size_t len) {
    char *c = gk_arena_strdup(&b->priv->arena, s, len);
    if (!c) return -1;
    b->tokens[id].ptr = c;
    b->tokens[id].len = len;
    return 0;
}

static gk_status alloc_vocab(builder *b, uint32_t n, int with_scores, float pad_score) {
    if (n == 0) return gk_err_set(b->err, GK_E_BAD_JSON, "the tokenizer has no tokens");
    if (n > (1u << 26)) return gk_err_set(b->err, GK_E_TOO_MANY, "vocabulary of %u tokens is too large", n);
    b->n = n;
    b->tokens = gk_arena_alloc(&b->priv->arena, (size_t)n * sizeof *b->tokens);
    b->types = gk_arena_alloc(&b->priv->arena, (size_t)n * sizeof *b->types);
    if (with_scores) b->scores = gk_arena_alloc(&b->priv->arena, (size_t)n * sizeof *b->scores);
    if (!b->tokens || !b->types || (with_scores && !b->scores)) return oom(b);
    for (uint32_t i = 0; i < n; i++) {
        char pad[32];
        int l = snprintf(pad, sizeof pad, "[PAD%u]", i);
        if (set_token(b, i, pad, (size_t)l)) return oom(b);
        b->types[i] = TT_UNUSED;
        if (with_scores) b->scores[i] = pad_score;
    }
    return GK_OK;
}

/* does_token_look_special in gguf-py's converter. */
static int looks_special(const char *s, size_t n) {
    static const char *const exact[] = {"<pad>", "<mask>", "<2mass>", "[@BOS@]"};
    for (size_t i = 0; i < sizeof exact / sizeof exact[0]; i++)
        if (n == strlen(exact[i]) && !memcmp(s, exact[i], n)) return 1;
#define STARTS(p) (n >= sizeof(p) - 1 && !memcmp(s, p, sizeof(p) - 1))
#define ENDS(p) (n >= sizeof(p) - 1 && !memcmp(s + n - (sizeof(p) - 1), p, sizeof(p) - 1))
    if (STARTS("<|") && ENDS("|>") && n >= 4) return 1;
    if (STARTS("<\xef\xbd\x9c") && ENDS("\xef\xbd\x9c>") && n >= 8) return 1; /* <｜ ... ｜> */
    if (STARTS("<unused") && ENDS(">")) return 1;
#undef STARTS
#undef ENDS
    return 0;
}

/* A user-defined token text with U+2581 replaced by a space (arena). */
static gk_status set_user_token(builder *b, uint32_t id, const char *s, size_t n) {
    char *c = gk_arena_alloc(&b->priv->arena, n + 1);
    if (!c) return oom(b);
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        if (n - i >= 3 && !memcmp(s + i, "\xe2\x96\x81", 3)) { c[o++] = ' '; i += 3; }
        else c[o++] = s[i++];
    }
    c[o] = 0;
    b->tokens[id].ptr = c;
    b->tokens[id].len = o;
    return GK_OK;
}

/* ---------------------------------------------------------------------------------------- */
/* SentencePiece tokenizer.model */

static gk_status build_spm(builder *b, const uint8_t *data, size_t size) {
    gk_spm_piece *pc = NULL;
    size_t np = 0;
    gk_status st = gk_spm_parse(data, size, &pc, &np, b->err);
    if (st) return st;
    if (np == 0) { free(pc); return gk_err_set(b->err, GK_E_NOT_FOUND, "tokenizer.model has no pieces"); }
    uint32_t n = b->n_vocab_cfg ? b->n_vocab_cfg : (uint32_t)np;
    st = alloc_vocab(b, n, 1, -10000.0f);
    for (size_t i = 0; i < np && i < n && !st; i++) {
        if (set_token(b, (uint32_t)i, pc[i].piece, pc[i].len)) { st = oom(b); break; }
        b->scores[i] = pc[i].score;
        /* gguf-py asks IsUnknown / IsControl / IsUnused / IsByte; user-defined stays normal */
        b->types[i] = pc[i].type == 4 ? TT_NORMAL : pc[i].type;
    }
    free(pc);
    if (st) return st;
    /* added_tokens.json: {"text": id} -> score -1000, user-defined */
    json_t *atj = NULL;
    if ((st = load_json(b, "added_tokens.json", &atj))) return st;
    if (atj) {
        const char *key;
        json_t *val;
        json_object_foreach(atj, key, val) {
            if (!json_is_integer(val) || json_integer_value(val) < 0) {
                json_decref(atj);
                return gk_err_set(b->err, GK_E_BAD_JSON, "added_tokens.json: '%s' has no integer id", key);
            }
            if (json_integer_value(val) >= n) continue; /* out of range: gguf-py ignores it */
            uint32_t id = (uint32_t)json_integer_value(val);
            if (set_token(b, id, key, strlen(key))) { json_decref(atj); return oom(b); }
            b->scores[id] = -1000.0f;
            b->types[id] = TT_USER;
        }
        json_decref(atj);
    }
    /* tokenizer_config.json added_tokens_decoder */
    const json_t *atd = json_object_get(b->tc, "added_tokens_decoder");
    if (json_is_object(atd)) {
        const char *key;
        json_t *val;
        json_object_foreach((json_t *)atd, key, val) {
            char *end;
            long long id = strtoll(key, &end, 10);
            const json_t *c = json_object_get(val, "content");
            if (*end || end == key || id < 0 || !json_is_string(c))
                return gk_err_set(b->err, GK_E_BAD_JSON, "tokenizer_config.json: added_tokens_decoder entry '%s' is malformed", key);
            if (id >= n) continue;
            const char *s = json_string_value(c);
            size_t l = json_string_length(c);
            if (json_is_true(json_object_get(val, "special")) || looks_special(s, l)) {
                if (set_token(b, (uint32_t)id, s, l)) return oom(b);
                b->types[id] = TT_CONTROL;
            } else {
                if ((st = set_user_token(b, (uint32_t)id, s, l))) return st;
                b->types[id] = TT_USER;
            }
            b->scores[id] = -1000.0f;
        }
    }
    b->model = "llama";
    b->pre = "default";
    return GK_OK;
}

/* ---------------------------------------------------------------------------------------- */
/* tokenizer.json vocabularies */

typedef struct hf_vocab {
    const json_t *vocab, *added, *merges;
    uint32_t n;           /* max id + 1 over vocab and added tokens */
} hf_vocab;

static gk_status hf_scan(builder *b, hf_vocab *v) {
    const json_t *model = json_object_get(b->tj, "model");
    v->vocab = json_object_get(model, "vocab");
    v->added = json_object_get(b->tj, "added_tokens");
    v->merges = json_object_get(model, "merges");
    if (!json_is_object(v->vocab)) return gk_err_set(b->err, GK_E_BAD_JSON, "tokenizer.json: model.vocab is not an object");
    if (v->added && !json_is_array(v->added)) return gk_err_set(b->err, GK_E_BAD_JSON, "tokenizer.json: added_tokens is not an array");
    if (v->merges && !json_is_array(v->merges)) return gk_err_set(b->err, GK_E_BAD_JSON, "tokenizer.json: model.merges is not an array");
    int64_t max = -1;
    const char *key;
    const json_t *val;
    json_object_foreach((json_t *)v->vocab, key, val) {
        if (!json_is_integer(val) || json_integer_value(val) < 0 || json_integer_value(val) >= (1 << 26))
            return gk_err_set(b->err, GK_E_BAD_JSON, "tokenizer.json: vocab entry '%s' has a bad id", key);
        if (json_integer_value(val) > max) max = json_integer_value(val);
    }
    for (size_t i = 0; i < json_array_size(v->added); i++) {
        const json_t *a = json_array_get(v->added, i), *id = json_object_get(a, "id");
        if (!json_is_string(json_object_get(a, "content")) || !json_is_integer(id) || json_integer_value(id) < 0 ||
            json_integer_value(id) >= (1 << 26))
            return gk_err_set(b->err, GK_E_BAD_JSON, "tokenizer.json: added_tokens[%zu] lacks a content string or a valid id", i);
        if (json_integer_value(id) > max) max = json_integer_value(id);
    }
    if (max < 0) return gk_err_set(b->err, GK_E_BAD_JSON, "tokenizer.json: empty vocabulary");
    v->n = (uint32_t)max + 1;
    if (b->n_vocab_cfg && b->n_vocab_cfg < v->n)
        return gk_err_set(b->err, GK_E_INVALID_ARG,
                          "tokenizer.json has token id %u but the model's vocab_size is %u", v->n - 1, b->n_vocab_cfg);
    return GK_OK;
}

static int is_byte_token(const char *s, size_t n) {
    return n == 6 && !memcmp(s, "<0x", 3) && s[5] == '>' && strchr("0123456789abcdefABCDEF", s[3]) && s[3] &&
           strchr("0123456789abcdefABCDEF", s[4]) && s[4];
}

/* Fills tokens from vocab and added tokens; types via the per-kind rules. */
static gk_status hf_fill(builder *b, const hf_vocab *v, int spm_style) {
    const char *key;
    const json_t *val;
    json_object_foreach((json_t *)v->vocab, key, val) {
        uint32_t id = (uint32_t)json_integer_value(val);
        size_t l = strlen(key);
        if (set_token(b, id, key, l)) return oom(b);
        b->types[id] = spm_style && is_byte_token(key, l) ? TT_BYTE : TT_NORMAL;
    }
    for (size_t i = 0; i < json_array_size(v->added); i++) {
        const json_t *a = json_array_get(v->added, i);
        const json_t *c = json_object_get(a, "content");
        uint32_t id = (uint32_t)json_integer_value(json_object_get(a, "id"));
        const char *s = json_string_value(c);
        size_t l = json_string_length(c);
        int special = json_is_true(json_object_get(a, "special"));
        if (spm_style) {
            /* LlamaHfVocab: control for special ids, byte for <0xNN>, else user-defined */
            if (set_token(b, id, s, l)) return oom(b);
            b->types[id] = special ? TT_CONTROL : is_byte_token(s, l) ? TT_BYTE : TT_USER;
        } else if (special || looks_special(s, l)) {
            if (set_token(b, id, s, l)) return oom(b);
            b->types[id] = TT_CONTROL;
        } else {
            gk_status st = set_user_token(b, id, s, l);
            if (st) return st;
            b->types[id] = TT_USER;
        }
    }
    return GK_OK;
}

/* HF BPE with byte_fallback -> SentencePiece-style "llama" vocabulary with scores derived from
 * merge ranks (spec/convert-tokenizer.md, "Scores from merge ranks"). */
static gk_status build_hf_spm(builder *b) {
    hf_vocab v;
    gk_status st = hf_scan(b, &v);
    if (st) return st;
    uint32_t n = b->n_vocab_cfg ? b->n_vocab_cfg : v.n;
    size_t n_merges = json_array_size(v.merges);
    if (n_merges > (1u << 24))
        return gk_err_set(b->err, GK_E_TOO_MANY, "tokenizer.json: %zu merges (ranks beyond 2^24 are not exact in f32)", n_merges);
    const float base = -(float)(n_merges + 1);  /* tokens no merge produces */
    if ((st = alloc_vocab(b, n, 1, base))) return st;
    if ((st = hf_fill(b, &v, 1))) return st;
    for (uint32_t i = 0; i < n; i++) b->scores[i] = base;
    /* rank r of the first merge producing a token -> score -(r + 1) */
    gk_tok_map vm = {0};
    const char *key;
    const json_t *val;
    json_object_foreach((json_t *)v.vocab, key, val) {
        if (gk_tok_map_put(&vm, key, strlen(key), (int32_t)json_integer_value(val), 0)) { gk_tok_map_free(&vm); return oom(b); }
    }
    char *buf = NULL;
    size_t cap = 0;
    for (size_t r = 0; r < n_merges && !st; r++) {
        const json_t *m = json_array_get(v.merges, r);
        const char *pa, *pb;
        size_t la, lb;
        if (json_is_string(m)) {
            const char *s = json_string_value(m), *sp = strchr(s, ' ');
            if (!sp) { st = gk_err_set(b->err, GK_E_BAD_JSON, "tokenizer.json: merge %zu has no space", r); break; }
            pa = s; la = (size_t)(sp - s); pb = sp + 1; lb = strlen(pb);
        } else if (json_is_array(m) && json_array_size(m) == 2 && json_is_string(json_array_get(m, 0)) &&
                   json_is_string(json_array_get(m, 1))) {
            pa = json_string_value(json_array_get(m, 0)); la = json_string_length(json_array_get(m, 0));
            pb = json_string_value(json_array_get(m, 1)); lb = json_string_length(json_array_get(m, 1));
        } else { st = gk_err_set(b->err, GK_E_BAD_JSON, "tokenizer.json: merge %zu is malformed", r); break; }
        if (la + lb > cap) {
            cap = (la + lb) * 2 + 16;
            char *nb = realloc(buf, cap);
            if (!nb) { st = oom(b); break; }
            buf = nb;
        }
        memcpy(buf, pa, la);
        memcpy(buf + la, pb, lb);
        int32_t id;
        if (!gk_tok_map_get(&vm, buf, la + lb, &id) || (uint32_t)id >= n) continue;
        if (b->scores[id] == base) b->scores[id] = -(float)(r + 1);
    }
    free(buf);
    gk_tok_map_free(&vm);
    if (st) return st;
    b->model = "llama";
    b->pre = "default";
    return GK_OK;
}

/* merges as GGUF strings: "a b", or [a, b] with spaces inside parts as U+0120 */
static gk_status merges_from_json(builder *b, const json_t *merges) {
    size_t n = json_array_size(merges);
    b->merges = gk_arena_alloc(&b->priv->arena, (n ? n : 1) * sizeof *b->merges);
    if (!b->merges) return oom(b);
    for (size_t r = 0; r < n; r++) {
        const json_t *m = json_array_get(merges, r);
        if (json_is_string(m)) {
            char *c = gk_arena_strdup(&b->priv->arena, json_string_value(m), json_string_length(m));
            if (!c) return oom(b);
            b->merges[r].ptr = c;
            b->merges[r].len = json_string_length(m);
            continue;
        }
        if (!json_is_array(m) || json_array_size(m) != 2 || !json_is_string(json_array_get(m, 0)) ||
            !json_is_string(json_array_get(m, 1)))
            return gk_err_set(b->err, GK_E_BAD_JSON, "tokenizer.json: merge %zu is neither \"a b\" nor [a, b]", r);
        size_t l0 = json_string_length(json_array_get(m, 0)), l1 = json_string_length(json_array_get(m, 1));
        char *c = gk_arena_alloc(&b->priv->arena, 2 * (l0 + l1) + 2);
        if (!c) return oom(b);
        size_t o = 0;
        for (int part = 0; part < 2; part++) {
            const char *s = json_string_value(json_array_get(m, (size_t)part));
            size_t l = part ? l1 : l0;
            if (part) c[o++] = ' ';
            for (size_t i = 0; i < l; i++) {
                if (s[i] == ' ') { c[o++] = (char)0xC4; c[o++] = (char)0xA0; } /* U+0120 */
                else c[o++] = s[i];
            }
        }
        c[o] = 0;
        b->merges[r].ptr = c;
        b->merges[r].len = o;
    }
    b->n_merges = n;
    return GK_OK;
}

/* merges.txt: one "a b" per line; a first line starting with '#' is a header. */
static gk_status merges_from_txt(builder *b) {
    const void *d;
    size_t size;
    gk_status st = get_file(b, "merges.txt", &d, &size);
    if (st == GK_E_NOT_FOUND) return GK_OK;
    if (st) return st;
    const char *s = d;
    size_t lines = 1;
    for (size_t i = 0; i < size; i++) lines += s[i] == '\n';
    b->merges = gk_arena_alloc(&b->priv->arena, lines * sizeof *b->merges);
    if (!b->merges) return oom(b);
    size_t pos = 0, ln = 0;
    while (pos < size) {
        size_t e = pos;
        while (e < size && s[e] != '\n') e++;
        size_t l = e - pos;
        if (l && s[pos + l - 1] == '\r') l--;
        if (!(ln == 0 && l && s[pos] == '#') && l) {
            char *c = gk_arena_strdup(&b->priv->arena, s + pos, l);
            if (!c) return oom(b);
            b->merges[b->n_merges].ptr = c;
            b->merges[b->n_merges].len = l;
            b->n_merges++;
        }
        ln++;
        pos = e + 1;
    }
    return GK_OK;
}

static int valid_pre_name(const char *s) {
    for (const char *const *p = gk_tok_known_pre(); *p; p++)
        if (!strcmp(*p, s)) return 1;
    return 0;
}

static gk_status build_gpt2(builder *b, const char *force_pre) {
    hf_vocab v;
    gk_status st = hf_scan(b, &v);
    if (st) return st;
    uint32_t n = b->n_vocab_cfg ? b->n_vocab_cfg : v.n;
    if ((st = alloc_vocab(b, n, 0, 0.0f))) return st;
    if ((st = hf_fill(b, &v, 0))) return st;
    if (json_array_size(v.merges)) st = merges_from_json(b, v.merges);
    else st = merges_from_txt(b);
    if (st) return st;
    if (!b->n_merges)
        return gk_err_set(b->err, GK_E_NOT_FOUND, "byte-level BPE without merges (llama.cpp requires tokenizer.ggml.merges)");
    b->model = "gpt2";
    if (force_pre) {
        if (!valid_pre_name(force_pre))
            return gk_err_set(b->err, GK_E_INVALID_ARG, "--pre %s: not a pre-tokenizer name llama.cpp knows", force_pre);
        b->pre = force_pre;
        return GK_OK;
    }
    gk_hf_tok *hf = NULL;
    if ((st = gk_hf_tok_load(b->tj, &hf, b->err))) {
        if (st == GK_E_UNSUPPORTED && b->err) {
            char msg[sizeof b->err->msg];
            snprintf(msg, sizeof msg, "%s", b->err->msg);
            gk_err_set(b->err, st, "cannot identify tokenizer.ggml.pre: %s; pass --pre NAME", msg);
        }
        return st;
    }
    int32_t *ids = NULL;
    size_t nids = 0;
    st = gk_hf_tok_encode(hf, gk_tok_chktxt, gk_tok_chktxt_len, 1, &ids, &nids, b->err);
    gk_hf_tok_free(hf);
    if (!st) st = gk_tok_ids_fingerprint(ids, nids, b->pre_hash, b->err);
    free(ids);
    if (st) return st;
    b->pre = gk_tok_pre_lookup(b->pre_hash);
    if (!b->pre)
        return gk_err_set(b->err, GK_E_UNSUPPORTED,
                          "unknown BPE pre-tokenizer: check-text fingerprint %s is not in the table of known "
                          "pre-tokenizers; pass --pre NAME (e.g. llama-bpe, qwen2, gpt-2) if you know which "
                          "llama.cpp pre-tokenizer matches", b->pre_hash);
    return GK_OK;
}

/* ---------------------------------------------------------------------------------------- */
/* special ids, add_* flags, chat template (gguf-py SpecialVocab) */

/* tokenizer_config "<kind>_token": a string or {"content": ...}; NULL otherwise */
static const char *tc_content(const json_t *tc, const char *kind) {
    char k[32];
    snprintf(k, sizeof k, "%s_token", kind);
    const json_t *e = json_object_get(tc, k);
    if (json_is_string(e)) return json_string_value(e);
    if (json_is_object(e) && json_is_string(json_object_get(e, "content"))) return json_string_value(json_object_get(e, "content"));
    return NULL;
}

static void set_sid(builder *b, int kind, int64_t id) {
    if (id < 0 || (uint64_t)id >= b->n || b->sid[kind] >= 0) return;
    b->sid[kind] = id;
    b->sid_order[b->n_sid_order++] = kind;
}

static void set_add(builder *b, int kind, int v) {
    if (b->add[kind] < 0) b->add_order[b->n_add_order++] = kind;
    b->add[kind] = v;
}

static const char *template_special_id(const json_t *item) {
    const json_t *sp = json_object_get(item, "SpecialToken");
    const json_t *id = json_object_get(sp, "id");
    return json_is_string(id) ? json_string_value(id) : NULL;
}

static int str_eq(const char *a, const char *b) { return a && b && !strcmp(a, b); }

static void post_processor_flags(builder *b, const json_t *tc) {
    const json_t *pp = json_object_get(b->tj, "post_processor");
    if (!json_is_object(pp)) return;
    const char *bos = tc ? tc_content(tc, "bos") : NULL, *eos = tc ? tc_content(tc, "eos") : NULL;
    const char *cls = tc ? tc_content(tc, "cls") : NULL, *sep = tc ? tc_content(tc, "sep") : NULL;
    if (!bos && cls) bos = cls;
    if (!eos && sep) eos = sep;
    const json_t *procs = json_object_get(pp, "processors");
    size_t np = json_is_array(procs) ? json_array_size(procs) : 1;
    for (size_t i = 0; i < np; i++) {
        const json_t *p = json_is_array(procs) ? json_array_get(procs, i) : pp;
        const json_t *type = json_object_get(p, "type");
        if (!json_is_string(type)) continue;
        if (!strcmp(json_string_value(type), "RobertaProcessing")) {
            set_add(b, SK_BOS, 1);
            set_add(b, SK_EOS, 1);
            set_add(b, SK_SEP, 1);
            continue;
        }
        if (strcmp(json_string_value(type), "TemplateProcessing")) continue;
        const json_t *single = json_object_get(p, "single");
        if (!json_is_array(single) || json_array_size(single) < 2) continue;
        const char *first = template_special_id(json_array_get(single, 0));
        const char *last = template_special_id(json_array_get(single, json_array_size(single) - 1));
        if (first) {
            if (!tc) bos = first;
            set_add(b, SK_BOS, str_eq(first, bos) || str_eq(first, cls));
        }
        if (last) {
            if (!tc) eos = last;
            set_add(b, SK_EOS, str_eq(last, eos));
        }
    }
}

static gk_status special_vocab(builder *b) {
    for (int k = 0; k < SK_COUNT; k++) { b->sid[k] = -1; b->add[k] = -1; }
    /* tokenizer_config.json, or (extension) special_tokens_map.json when there is none */
    const json_t *tc = b->tc ? b->tc : b->stm;
    if (b->tj) post_processor_flags(b, tc);
    if (tc) {
        const json_t *added = b->tj ? json_object_get(b->tj, "added_tokens") : NULL;
        for (int k = 0; k < SK_COUNT; k++) {
            char ak[32];
            snprintf(ak, sizeof ak, "add_%s_token", sk_name[k]);
            const json_t *a = json_object_get(tc, ak);
            if (json_is_boolean(a)) set_add(b, k, json_is_true(a));
            const char *content = tc_content(tc, sk_name[k]);
            if (!content && k == SK_BOS) content = tc_content(tc, "cls");
            if (!content && k == SK_EOS) content = tc_content(tc, "sep");
            if (!content) continue;
            for (size_t i = 0; i < json_array_size(added); i++) {
                const json_t *t = json_array_get(added, i);
                const json_t *c = json_object_get(t, "content"), *id = json_object_get(t, "id");
                if (json_is_string(c) && !strcmp(json_string_value(c), content)) {
                    if (json_is_integer(id)) set_sid(b, k, json_integer_value(id));
                    break;
                }
            }
        }
    }
    /* config.json <kind>_token_id fills what is still unset */
    for (int k = 0; k < SK_COUNT && b->cfg; k++) {
        char ck[32];
        snprintf(ck, sizeof ck, "%s_token_id", sk_name[k]);
        const json_t *v = json_object_get(b->cfg, ck);
        if (json_is_integer(v)) {
            if (json_integer_value(v) < 0)
                return gk_err_set(b->err, GK_E_BAD_JSON, "config.json: %s is negative", ck);
            set_sid(b, k, json_integer_value(v));
        }
    }
    return GK_OK;
}

static gk_status chat_template(builder *b) {
    const json_t *ct = json_object_get(b->tc, "chat_template");
    if (json_is_string(ct))
        return kv_str(b, "tokenizer.chat_template", json_string_value(ct), json_string_length(ct));
    if (json_is_array(ct)) {
        /* named templates: tokenizer.chat_template.<name> + tokenizer.chat_templates */
        size_t n = json_array_size(ct), nn = 0;
        gk_str *names = gk_arena_alloc(&b->priv->arena, (n ? n : 1) * sizeof *names);
        if (!names) return oom(b);
        const json_t *deflt = NULL;
        for (size_t i = 0; i < n; i++) {
            const json_t *e = json_array_get(ct, i);
            const json_t *nm = json_object_get(e, "name"), *tp = json_object_get(e, "template");
            /* names beyond 200 bytes are skipped: keys stay short and distinct */
            if (!json_is_string(nm) || !json_is_string(tp) || !json_string_length(nm) || json_string_length(nm) > 200)
                continue;
            size_t l = json_string_length(nm);
            char *clean = gk_arena_strdup(&b->priv->arena, json_string_value(nm), l);
            if (!clean) return oom(b);
            for (size_t j = 0; j < l; j++) {
                char c = clean[j];
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) clean[j] = '_';
            }
            if (!strcmp(clean, "default")) { deflt = tp; continue; }
            int dup = 0;
            for (size_t j = 0; j < nn; j++) dup |= names[j].len == l && !memcmp(names[j].ptr, clean, l);
            if (dup) continue;
            char key[300];
            snprintf(key, sizeof key, "tokenizer.chat_template.%s", clean);
            gk_status st = kv_str(b, key, json_string_value(tp), json_string_length(tp));
            if (st) return st;
            names[nn].ptr = clean;
            names[nn].len = l;
            nn++;
        }
        if (nn) {
            gk_status st = kv_arr(b, "tokenizer.chat_templates", GK_V_STR, names, nn);
            if (st) return st;
        }
        if (deflt) return kv_str(b, "tokenizer.chat_template", json_string_value(deflt), json_string_length(deflt));
        return GK_OK;
    }
    if (ct && !json_is_null(ct))
        return gk_err_set(b->err, GK_E_BAD_JSON, "tokenizer_config.json: chat_template is neither a string nor a list");
    const void *d;
    size_t n;
    gk_status st = get_file(b, "chat_template.jinja", &d, &n);
    if (st == GK_OK) return kv_str(b, "tokenizer.chat_template", d ? d : "", n);
    if (st != GK_E_NOT_FOUND) return st;
    json_t *cj = NULL;
    if ((st = load_json(b, "chat_template.json", &cj))) return st;
    if (cj) {
        const json_t *t = json_object_get(cj, "chat_template");
        if (json_is_string(t)) st = kv_str(b, "tokenizer.chat_template", json_string_value(t), json_string_length(t));
        json_decref(cj);
    }
    return st;
}

/* ---------------------------------------------------------------------------------------- */

static gk_status emit(builder *b) {
    gk_status st;
    if ((st = kv_str(b, "tokenizer.ggml.model", b->model, strlen(b->model)))) return st;
    if ((st = kv_str(b, "tokenizer.ggml.pre", b->pre, strlen(b->pre)))) return st;
    if ((st = kv_arr(b, "tokenizer.ggml.tokens", GK_V_STR, b->tokens, b->n))) return st;
    if (b->scores && (st = kv_arr(b, "tokenizer.ggml.scores", GK_V_F32, b->scores, b->n))) return st;
    if ((st = kv_arr(b, "tokenizer.ggml.token_type", GK_V_I32, b->types, b->n))) return st;
    if (b->n_merges && (st = kv_arr(b, "tokenizer.ggml.merges", GK_V_STR, b->merges, b->n_merges))) return st;
    for (int i = 0; i < b->n_sid_order; i++) {
        int k = b->sid_order[i];
        if (sk_key[k] && (st = kv_u32(b, sk_key[k], (uint32_t)b->sid[k]))) return st;
    }
    for (int i = 0; i < b->n_add_order; i++) {
        int k = b->add_order[i];
        if (sk_add_key[k] && (st = kv_bool(b, sk_add_key[k], b->add[k]))) return st;
    }
    if ((st = chat_template(b))) return st;
    if (b->in->flags & GK_TOK_LLAMA_SPACE_PREFIX) {
        const json_t *aps = json_object_get(b->tc, "add_prefix_space");
        if (json_is_boolean(aps) && (st = kv_bool(b, "tokenizer.ggml.add_space_prefix", json_is_true(aps)))) return st;
    }
    return GK_OK;
}

gk_status gk_tokenizer_build(const gk_tok_inputs *in, const char *force_pre, gk_tok_result **out,
                             gk_err *err) {
    if (!out) return gk_err_set(err, GK_E_INVALID_ARG, "gk_tokenizer_build: out is NULL");
    *out = NULL;
    if (!in || !in->get) return gk_err_set(err, GK_E_INVALID_ARG, "gk_tokenizer_build: no input lookup");
    builder b;
    memset(&b, 0, sizeof b);
    b.in = in;
    b.err = err;
    b.priv = calloc(1, sizeof *b.priv);
    gk_tok_result *r = calloc(1, sizeof *r);
    gk_status st = GK_OK;
    if (!b.priv || !r) { st = oom(&b); goto done; }
    if ((st = load_json(&b, "tokenizer.json", &b.tj))) goto done;
    if ((st = load_json(&b, "tokenizer_config.json", &b.tc))) goto done;
    if ((st = load_json(&b, "config.json", &b.cfg))) goto done;
    if ((st = load_json(&b, "special_tokens_map.json", &b.stm))) goto done;
    b.n_vocab_cfg = in->n_vocab;
    if (!b.n_vocab_cfg && b.cfg) {
        b.n_vocab_cfg = json_u32(b.cfg, "vocab_size");
        if (!b.n_vocab_cfg) b.n_vocab_cfg = json_u32(json_object_get(b.cfg, "text_config"), "vocab_size");
    }
    const void *spm;
    size_t spm_size;
    st = get_file(&b, "tokenizer.model", &spm, &spm_size);
    if (st == GK_OK) {
        st = build_spm(&b, spm, spm_size);
    } else if (st == GK_E_NOT_FOUND && b.tj) {
        const json_t *model = json_object_get(b.tj, "model");
        const json_t *type = json_object_get(model, "type");
        if (!json_is_object(model)) st = gk_err_set(err, GK_E_BAD_JSON, "tokenizer.json: no model object");
        else if (type && (!json_is_string(type) || strcmp(json_string_value(type), "BPE")))
            st = gk_err_set(err, GK_E_UNSUPPORTED, "tokenizer.json: model type '%s' is not supported (BPE only)",
                            json_is_string(type) ? json_string_value(type) : "?");
        else if (json_is_true(json_object_get(model, "byte_fallback"))) st = build_hf_spm(&b);
        else st = build_gpt2(&b, force_pre);
    } else if (st == GK_E_NOT_FOUND) {
        st = gk_err_set(err, GK_E_NOT_FOUND, "no tokenizer: neither tokenizer.model nor tokenizer.json");
    }
    if (st) goto done;
    if ((st = special_vocab(&b))) goto done;
    if ((st = emit(&b))) goto done;
    r->n_kv = b.priv->n_kv;
    r->kv = b.priv->kv;
    r->model = b.model;
    r->pre = b.pre;
    r->n_tokens = b.n;
    memcpy(r->pre_hash, b.pre_hash, sizeof r->pre_hash);
    r->priv = b.priv;
    b.priv = NULL;
    *out = r;
    r = NULL;
done:
    json_decref(b.tj);
    json_decref(b.tc);
    json_decref(b.cfg);
    json_decref(b.stm);
    if (b.priv) {
        free(b.priv->kv);
        gk_arena_free(&b.priv->arena);
        free(b.priv);
    }
    free(r);
    return st;
}

void gk_tok_result_free(gk_tok_result *r) {
    if (!r) return;
    tok_priv *p = r->priv;
    if (p) {
        free(p->kv);
        gk_arena_free(&p->arena);
        free(p);
    }
    free(r);
}

/* ---------------------------------------------------------------------------------------- */
/* directory lookup */

typedef struct dir_file {
    char *name;
    void *data;
    size_t size;
} dir_file;

struct gk_tok_dir {
    char *path;
    dir_file *files;
    size_t n;
};

gk_status gk_tok_dir_open(const char *path, gk_tok_dir **out, gk_err *err) {
    *out = NULL;
    gk_tok_dir *d = calloc(1, sizeof *d);
    if (!d || !(d->path = strdup(path))) {
        free(d);
        return gk_err_set(err, GK_E_NOMEM, "out of memory");
    }
    *out = d;
    return GK_OK;
}

gk_status gk_tok_dir_get(void *ctx, const char *name, const void **data, size_t *size, gk_err *err) {
    gk_tok_dir *d = ctx;
    for (size_t i = 0; i < d->n; i++)
        if (!strcmp(d->files[i].name, name)) {
            *data = d->files[i].data;
            *size = d->files[i].size;
            return GK_OK;
        }
    size_t pl = strlen(d->path) + strlen(name) + 2;
    char *p = malloc(pl);
    if (!p) return gk_err_set(err, GK_E_NOMEM, "out of memory");
    snprintf(p, pl, "%s/%s", d->path, name);
    FILE *f = fopen(p, "rb");
    if (!f) { free(p); return GK_E_NOT_FOUND; }
    char *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n == cap) {
            cap = cap ? cap * 2 : 65536;
            char *nb = realloc(buf, cap);
            if (!nb) { free(buf); fclose(f); free(p); return gk_err_set(err, GK_E_NOMEM, "out of memory"); }
            buf = nb;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        gk_status st = gk_err_set(err, GK_E_IO, "%s: read error", p);
        free(p);
        return st;
    }
    free(p);
    dir_file *nf = realloc(d->files, (d->n + 1) * sizeof *nf);
    char *nm = strdup(name);
    if (!nf || !nm) {
        free(buf);
        free(nm);
        if (nf) d->files = nf;
        return gk_err_set(err, GK_E_NOMEM, "out of memory");
    }
    d->files = nf;
    d->files[d->n].name = nm;
    d->files[d->n].data = buf;
    d->files[d->n].size = n;
    d->n++;
    *data = buf;
    *size = n;
    return GK_OK;
}

void gk_tok_dir_free(gk_tok_dir *d) {
    if (!d) return;
    for (size_t i = 0; i < d->n; i++) {
        free(d->files[i].name);
        free(d->files[i].data);
    }
    free(d->files);
    free(d->path);
    free(d);
}
