/* A Hugging Face tokenizer.json encoder for byte-level BPE (see tok_hf.h). */
#include "tok_hf.h"

#include "tok_map.h"
#include "tok_regex.h"
#include "unicode_table.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* GPT-2's pre-tokenizer pattern, used by ByteLevel with use_regex. */
static const char gpt2_pattern[] =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

enum { STEP_SPLIT, STEP_BYTELEVEL };

typedef struct hf_step {
    int kind;
    gk_regex *re;          /* Split (regex, or a literal compiled as one) / ByteLevel use_regex */
    char *literal;         /* Split with a String pattern */
    size_t literal_len;
    int removed;           /* Split behavior Removed */
    int add_prefix_space;  /* ByteLevel */
} hf_step;

typedef struct hf_added {
    char *content;
    size_t len;
    int32_t id;
} hf_added;

struct gk_hf_tok {
    gk_tok_map vocab;      /* token string -> id */
    gk_tok_map merges;     /* 8-byte (left id, right id) -> rank */
    int32_t *merge_result; /* rank -> merged id */
    size_t n_merges;
    hf_step *steps;
    size_t n_steps;
    int byte_level;        /* some step is ByteLevel: map bytes to GPT-2 code points */
    int ignore_merges;
    int byte_fallback;
    int32_t unk_id;        /* -1 if none */
    hf_added *added;
    size_t n_added;
    int32_t *prefix, *suffix; /* post-processor: ids before / after the sequence */
    size_t n_prefix, n_suffix;
};

uint32_t gk_byte_to_unicode(uint8_t b) {
    if ((b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE)) return b;
    /* the others, in byte order, get 256, 257, ... */
    uint32_t n = 0;
    for (unsigned x = 0; x < b; x++)
        if (!((x >= 0x21 && x <= 0x7E) || (x >= 0xA1 && x <= 0xAC) || (x >= 0xAE))) n++;
    return 256 + n;
}

void gk_hf_tok_free(gk_hf_tok *t) {
    if (!t) return;
    gk_tok_map_free(&t->vocab);
    gk_tok_map_free(&t->merges);
    free(t->merge_result);
    for (size_t i = 0; i < t->n_steps; i++) {
        gk_regex_free(t->steps[i].re);
        free(t->steps[i].literal);
    }
    free(t->steps);
    for (size_t i = 0; i < t->n_added; i++) free(t->added[i].content);
    free(t->added);
    free(t->prefix);
    free(t->suffix);
    free(t);
}

static gk_status oom(gk_err *err) { return gk_err_set(err, GK_E_NOMEM, "out of memory"); }

static const char *jstr(const json_t *o, const char *key) {
    const json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static gk_status add_step(gk_hf_tok *t, hf_step st, gk_err *err) {
    hf_step *ns = realloc(t->steps, (t->n_steps + 1) * sizeof *ns);
    if (!ns) {
        gk_regex_free(st.re);
        free(st.literal);
        return oom(err);
    }
    t->steps = ns;
    t->steps[t->n_steps++] = st;
    return GK_OK;
}

static gk_status load_pre(gk_hf_tok *t, const json_t *pt, int depth, gk_err *err) {
    if (json_is_null(pt) || !pt) return GK_OK;
    if (!json_is_object(pt) || depth > 4)
        return gk_err_set(err, GK_E_BAD_JSON, "tokenizer.json: pre_tokenizer is not an object");
    const char *type = jstr(pt, "type");
    if (!type) return gk_err_set(err, GK_E_BAD_JSON, "tokenizer.json: pre_tokenizer without a type");
    if (!strcmp(type, "Sequence")) {
        const json_t *list = json_object_get(pt, "pretokenizers");
        if (!json_is_array(list))
            return gk_err_set(err, GK_E_BAD_JSON, "tokenizer.json: Sequence pre_tokenizer without a list");
        for (size_t i = 0; i < json_array_size(list); i++) {
            gk_status st = load_pre(t, json_array_get(list, i), depth + 1, err);
            if (st) return st;
        }
        return GK_OK;
    }
    hf_step st;
    memset(&st, 0, sizeof st);
    if (!strcmp(type, "ByteLevel")) {
        st.kind = STEP_BYTELEVEL;
        const json_t *aps = json_object_get(pt, "add_prefix_space");
        const json_t *ur = json_object_get(pt, "use_regex");
        st.add_prefix_space = json_is_true(aps);
        if (!ur || json_is_true(ur)) {
            gk_status s = gk_regex_compile(gpt2_pattern, sizeof gpt2_pattern - 1, &st.re, err);
            if (s) return s;
        }
        t->byte_level = 1;
        return add_step(t, st, err);
    }
    /* Digits, Punctuation and WhitespaceSplit are Splits with a fixed pattern:
     *   Digits: char::is_numeric (= \p{N}) each (individual_digits) or in runs (Contiguous);
     *   Punctuation: ASCII punctuation or \p{P}, each char on its own (Isolated only);
     *   WhitespaceSplit: whitespace runs removed. */
    const char *fixed = NULL;
    if (!strcmp(type, "Digits"))
        fixed = json_is_true(json_object_get(pt, "individual_digits")) ? "\\p{N}" : "\\p{N}+";
    else if (!strcmp(type, "Punctuation")) {
        const char *bh = jstr(pt, "behavior");
        if (bh && strcmp(bh, "Isolated"))
            return gk_err_set(err, GK_E_UNSUPPORTED, "tokenizer.json: Punctuation behavior '%s' is not supported", bh);
        fixed = "[\\p{P}!-/:-@\\[-`{-~]";
    } else if (!strcmp(type, "WhitespaceSplit")) {
        fixed = "\\s+";
        st.removed = 1;
    }
    if (fixed) {
        st.kind = STEP_SPLIT;
        gk_status s = gk_regex_compile(fixed, strlen(fixed), &st.re, err);
        if (s) return s;
        return add_step(t, st, err);
    }
    if (!strcmp(type, "Split")) {
        st.kind = STEP_SPLIT;
        const json_t *pat = json_object_get(pt, "pattern");
        const char *behavior = jstr(pt, "behavior");
        if (json_is_true(json_object_get(pt, "invert")))
            return gk_err_set(err, GK_E_UNSUPPORTED, "tokenizer.json: Split pre_tokenizer with invert");
        if (!behavior || (strcmp(behavior, "Isolated") && strcmp(behavior, "Removed")))
            return gk_err_set(err, GK_E_UNSUPPORTED,
                              "tokenizer.json: Split pre_tokenizer behavior '%s' is not supported",
                              behavior ? behavior : "(none)");
        st.removed = !strcmp(behavior, "Removed");
        const char *rx = json_is_object(pat) ? jstr(pat, "Regex") : NULL;
        const char *lit = json_is_object(pat) ? jstr(pat, "String") : NULL;
        if (rx) {
            gk_status s = gk_regex_compile(rx, strlen(rx), &st.re, err);
            if (s) return s;
        } else if (lit && *lit) {
            st.literal_len = strlen(lit);
            st.literal = malloc(st.literal_len + 1);
            if (!st.literal) return oom(err);
            memcpy(st.literal, lit, st.literal_len + 1);
        } else {
            return gk_err_set(err, GK_E_BAD_JSON, "tokenizer.json: Split pre_tokenizer without a pattern");
        }
        return add_step(t, st, err);
    }
    return gk_err_set(err, GK_E_UNSUPPORTED,
                      "tokenizer.json: pre_tokenizer type '%s' is not supported by the built-in encoder",
                      type);
}

static gk_status push_ids(int32_t **arr, size_t *n, int32_t id, gk_err *err) {
    int32_t *na = realloc(*arr, (*n + 1) * sizeof *na);
    if (!na) return oom(err);
    *arr = na;
    na[(*n)++] = id;
    return GK_OK;
}

/* The ids of a TemplateProcessing special token name (special_tokens map). */
static gk_status template_special(const json_t *pp, const char *name, int32_t **arr, size_t *n,
                                  gk_err *err) {
    const json_t *sp = json_object_get(json_object_get(pp, "special_tokens"), name);
    const json_t *ids = json_object_get(sp, "ids");
    if (!json_is_array(ids))
        return gk_err_set(err, GK_E_BAD_JSON, "tokenizer.json: post_processor special token '%s' has no ids", name);
    for (size_t i = 0; i < json_array_size(ids); i++) {
        const json_t *v = json_array_get(ids, i);
        if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > INT32_MAX)
            return gk_err_set(err, GK_E_BAD_JSON, "tokenizer.json: bad id for post_processor token '%s'", name);
        gk_status st = push_ids(arr, n, (int32_t)json_integer_value(v), err);
        if (st) return st;
    }
    return GK_OK;
}

static gk_status pair_id(const json_t *pair, int32_t *id, gk_err *err) {
    const json_t *v = json_array_get(pair, 1);
    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > INT32_MAX)
        return gk_err_set(err, GK_E_BAD_JSON, "tokenizer.json: bad cls/sep in post_processor");
    *id = (int32_t)json_integer_value(v);
    return GK_OK;
}

static gk_status load_post(gk_hf_tok *t, const json_t *pp, int depth, gk_err *err) {
    if (!pp || json_is_null(pp)) return GK_OK;
    const char *type = json_is_object(pp) ? jstr(pp, "type") : NULL;
    if (!type || depth > 4) return gk_err_set(err, GK_E_BAD_JSON, "tokenizer.json: bad post_processor");
    if (!strcmp(type, "Sequence")) {
        const json_t *list = json_object_get(pp, "processors");
        if (!json_is_array(list)) return gk_err_set(err, GK_E_BAD_JSON, "tokenizer.json: bad post_processor Sequence");
        for (size_t i = 0; i < json_array_size(list); i++) {
            gk_status st = load_post(t, json_array_get(list, i), depth + 1, err);
            if (st) return st;
        }
        return GK_OK;
    }
    if (!strcmp(type, "ByteLevel")) return GK_OK;
    if (!strcmp(type, "RobertaProcessing") || !strcmp(type, "BertProcessing")) {
        int32_t cls = 0, sep = 0;
        gk_status st = pair_id(json_object_get(pp, "cls"), &cls, err);
        if (!st) st = pair_id(json_object_get(pp, "sep"), &sep, err);
        if (!st) st = push_ids(&t->prefix, &t->n_prefix, cls, err);
        if (!st) st = push_ids(&t->suffix, &t->n_suffix, sep, err);
        return st;
    }
    if (!strcmp(type, "TemplateProcessing")) {
        const json_t *single = json_object_get(pp, "single");
        if (!json_is_array(single)) return gk_err_set(err, GK_E_BAD_JSON, "tokenizer.json: TemplateProcessing without single");
        int seen_seq = 0;
        for (size_t i = 0; i < json_array_size(single); i++) {
            const json_t *it = json_array_get(single, i);
            const json_t *sp = json_object_get(it, "SpecialToken");
            if (json_object_get(it, "Sequence")) { seen_seq = 1; continue; }
            const char *name = json_is_object(sp) ? jstr(sp, "id") : NULL;
            if (!name) return gk_err_set(err, GK_E_BAD_JSON, "tokenizer.json: bad TemplateProcessing item");
            gk_status st = seen_seq ? template_special(pp, name, &t->suffix, &t->n_suffix, err)
                                    : template_special(pp, name, &t->prefix, &t->n_prefix, err);
            if (st) return st;
        }
        return GK_OK;
    }
    return gk_err_set(err, GK_E_UNSUPPORTED, "tokenizer.json: post_processor type '%s' is not supported", type);
}

static gk_status load_merges(gk_hf_tok *t, const json_t *merges, gk_err *err) {
    if (!json_is_array(merges)) return gk_err_set(err, GK_E_BAD_JSON, "tokenizer.json: model.merges is not an array");
    size_t n = json_array_size(merges);
    t->merge_result = malloc((n ? n : 1) * sizeof *t->merge_result);
    if (!t->merge_result) return oom(err);
    char *buf = NULL;
    size_t cap = 0;
    gk_status st = GK_OK;
    for (size_t r = 0; r < n && !st; r++) {
        const json_t *m = json_array_get(merges, r);
        const char *a, *b;
        size_t la, lb;
        if (json_is_string(m)) {
            const char *s = json_string_value(m);
            const char *sp = strchr(s, ' ');
            if (!sp || strchr(sp + 1, ' ')) {
                st = gk_err_set(err, GK_E_BAD_JSON, "tokenizer.json: merge %zu is not \"a b\"", r);
                break;
            }
            a = s; la = (size_t)(sp - s); b = sp + 1; lb = strlen(b);
        } else if (json_is_array(m) && json_array_size(m) == 2 && json_is_string(json_array_get(m, 0)) &&
                   json_is_string(json_array_get(m, 1))) {
            a = json_string_value(json_array_get(m, 0)); la = json_string_length(json_array_get(m, 0));
            b = json_string_value(json_array_get(m, 1)); lb = json_string_length(json_array_get(m, 1));
        } else {
            st = gk_err_set(err, GK_E_BAD_JSON, "tokenizer.json: merge %zu is neither \"a b\" nor [a, b]", r);
            break;
        }
        int32_t ia, ib, im;
        if (la + lb + 1 > cap) {
            cap = (la + lb + 1) * 2;
            char *nb = realloc(buf, cap);
            if (!nb) { st = oom(err); break; }
            buf = nb;
        }
        memcpy(buf, a, la);
        memcpy(buf + la, b, lb);
        if (!gk_tok_map_get(&t->vocab, a, la, &ia) || !gk_tok_map_get(&t->vocab, b, lb, &ib) ||
            !gk_tok_map_get(&t->vocab, buf, la + lb, &im)) {
            st = gk_err_set(err, GK_E_BAD_JSON, "tokenizer.json: merge %zu uses a token not in the vocabulary", r);
            break;
        }
        int32_t key[2] = {ia, ib};
        if (gk_tok_map_put(&t->merges, key, sizeof key, (int32_t)r, 0)) { st = oom(err); break; }
        t->merge_result[r] = im;
    }
    t->n_merges = n;
    free(buf);
    return st;
}

gk_status gk_hf_tok_load(const json_t *root, gk_hf_tok **out, gk_err *err) {
    *out = NULL;
    gk_hf_tok *t = calloc(1, sizeof *t);
    if (!t) return oom(err);
    t->unk_id = -1;
    gk_status st = GK_OK;
    const json_t *model = json_object_get(root, "model");
    const char *mtype = jstr(model, "type");
    const json_t *vocab = json_object_get(model, "vocab");
    if (!json_is_object(model) || !json_is_object(vocab)) {
        st = gk_err_set(err, GK_E_BAD_JSON, "tokenizer.json: model.vocab is missing");
        goto fail;
    }
    if (mtype && strcmp(mtype, "BPE")) {
        st = gk_err_set(err, GK_E_UNSUPPORTED, "tokenizer.json: model type '%s' (only BPE is supported)", mtype);
        goto fail;
    }
    const json_t *csp = json_object_get(model, "continuing_subword_prefix");
    const json_t *eow = json_object_get(model, "end_of_word_suffix");
    if ((json_is_string(csp) && json_string_length(csp)) || (json_is_string(eow) && json_string_length(eow))) {
        st = gk_err_set(err, GK_E_UNSUPPORTED, "tokenizer.json: BPE with subword prefix/suffix is not supported");
        goto fail;
    }
    const char *key;
    const json_t *val;
    json_object_foreach((json_t *)vocab, key, val) {
        if (!json_is_integer(val) || json_integer_value(val) < 0 || json_integer_value(val) > INT32_MAX) {
            st = gk_err_set(err, GK_E_BAD_JSON, "tokenizer.json: vocab entry has a bad id");
            goto fail;
        }
        if (gk_tok_map_put(&t->vocab, key, strlen(key), (int32_t)json_integer_value(val), 1)) {
            st = oom(err);
            goto fail;
        }
    }
    t->ignore_merges = json_is_true(json_object_get(model, "ignore_merges"));
    t->byte_fallback = json_is_true(json_object_get(model, "byte_fallback"));
    const char *unk = jstr(model, "unk_token");
    if (unk) {
        int32_t id;
        if (gk_tok_map_get(&t->vocab, unk, strlen(unk), &id)) t->unk_id = id;
    }
    const json_t *added = json_object_get(root, "added_tokens");
    if (json_is_array(added)) {
        t->added = calloc(json_array_size(added) + 1, sizeof *t->added);
        if (!t->added) { st = oom(err); goto fail; }
        for (size_t i = 0; i < json_array_size(added); i++) {
            const json_t *a = json_array_get(added, i);
            const json_t *c = json_object_get(a, "content"), *id = json_object_get(a, "id");
            if (!json_is_string(c) || !json_is_integer(id) || json_integer_value(id) < 0 ||
                json_integer_value(id) > INT32_MAX) {
                st = gk_err_set(err, GK_E_BAD_JSON, "tokenizer.json: added_tokens[%zu] lacks content/id", i);
                goto fail;
            }
            if (!json_string_length(c)) continue;
            hf_added *h = &t->added[t->n_added++];
            h->len = json_string_length(c);
            h->content = malloc(h->len + 1);
            if (!h->content) { st = oom(err); goto fail; }
            memcpy(h->content, json_string_value(c), h->len + 1);
            h->id = (int32_t)json_integer_value(id);
            if (gk_tok_map_put(&t->vocab, h->content, h->len, h->id, 0)) { st = oom(err); goto fail; }
        }
    }
    const json_t *norm = json_object_get(root, "normalizer");
    if (norm && !json_is_null(norm)) {
        const char *nt = jstr(norm, "type");
        if (!nt || strcmp(nt, "NFC")) {
            st = gk_err_set(err, GK_E_UNSUPPORTED, "tokenizer.json: normalizer '%s' is not supported by the built-in encoder",
                            nt ? nt : "?");
            goto fail;
        }
    }
    if ((st = load_merges(t, json_object_get(model, "merges"), err))) goto fail;
    if ((st = load_pre(t, json_object_get(root, "pre_tokenizer"), 0, err))) goto fail;
    if ((st = load_post(t, json_object_get(root, "post_processor"), 0, err))) goto fail;
    *out = t;
    return GK_OK;
fail:
    gk_hf_tok_free(t);
    return st;
}

/* ---------------------------------------------------------------------------------------- */
/* Encoding. A piece is a byte range of the (original) text. */

typedef struct piece { size_t off, len; } piece;

typedef struct pieces {
    piece *v;
    size_t n, cap;
} pieces;

static int pieces_push(pieces *p, size_t off, size_t len) {
    if (!len) return 0;
    if (p->n == p->cap) {
        size_t nc = p->cap ? p->cap * 2 : 64;
        piece *nv = realloc(p->v, nc * sizeof *nv);
        if (!nv) return -1;
        p->v = nv;
        p->cap = nc;
    }
    p->v[p->n].off = off;
    p->v[p->n].len = len;
    p->n++;
    return 0;
}

/* Splits one piece by a regex (Isolated or Removed) into out. */
static int split_regex(const gk_regex *re, int removed, const char *text, piece pc, pieces *out) {
    size_t n = 0;
    uint32_t *cps = malloc((pc.len + 1) * sizeof *cps);
    size_t *offs = malloc((pc.len + 1) * sizeof *offs);
    if (!cps || !offs) { free(cps); free(offs); return -1; }
    for (size_t i = 0; i < pc.len;) {
        offs[n] = i;
        i += (size_t)gk_utf8_decode((const unsigned char *)text + pc.off + i, pc.len - i, &cps[n]);
        n++;
    }
    offs[n] = pc.len;
    size_t pos = 0, from = 0, ms, me;
    int rc = 0;
    int found;
    while (from <= n && (found = gk_regex_search(re, cps, n, from, &ms, &me)) != 0) {
        if (found < 0) {
            free(cps);
            free(offs);
            return -2;
        }
        if (me == ms) { /* an empty match is not a split point */
            from = ms + 1;
            continue;
        }
        if (ms > pos) rc |= pieces_push(out, pc.off + offs[pos], offs[ms] - offs[pos]);
        if (!removed) rc |= pieces_push(out, pc.off + offs[ms], offs[me] - offs[ms]);
        pos = from = me;
    }
    if (pos < n) rc |= pieces_push(out, pc.off + offs[pos], offs[n] - offs[pos]);
    free(cps);
    free(offs);
    return rc;
}

static int split_literal(const char *lit, size_t ll, int removed, const char *text, piece pc, pieces *out) {
    size_t pos = 0;
    int rc = 0;
    for (size_t i = 0; i + ll <= pc.len;) {
        if (!memcmp(text + pc.off + i, lit, ll)) {
            if (i > pos) rc |= pieces_push(out, pc.off + pos, i - pos);
            if (!removed) rc |= pieces_push(out, pc.off + i, ll);
            i += ll;
            pos = i;
        } else i++;
    }
    if (pos < pc.len) rc |= pieces_push(out, pc.off + pos, pc.len - pos);
    return rc;
}

/* BPE over one word (already byte-level mapped, UTF-8). Appends ids. */
static gk_status bpe_word(const gk_hf_tok *t, const char *w, size_t len, int32_t **ids, size_t *n_ids,
                          gk_err *err) {
    int32_t id;
    if (t->ignore_merges && gk_tok_map_get(&t->vocab, w, len, &id)) return push_ids(ids, n_ids, id, err);
    int32_t *sym = malloc((len * 4 + 1) * sizeof *sym);
    if (!sym) return oom(err);
    size_t n = 0;
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        int l = gk_utf8_decode((const unsigned char *)w + i, len - i, &cp);
        if (gk_tok_map_get(&t->vocab, w + i, (size_t)l, &id)) sym[n++] = id;
        else if (t->byte_fallback) {
            int ok = 1;
            int32_t bid[4];
            for (int k = 0; k < l; k++) {
                char name[8];
                snprintf(name, sizeof name, "<0x%02X>", (unsigned char)w[i + k]);
                if (!gk_tok_map_get(&t->vocab, name, 6, &bid[k])) ok = 0;
            }
            if (ok) for (int k = 0; k < l; k++) sym[n++] = bid[k];
            else if (t->unk_id >= 0) sym[n++] = t->unk_id;
        } else if (t->unk_id >= 0) sym[n++] = t->unk_id;
        i += (size_t)l;
    }
    for (;;) {
        size_t best = SIZE_MAX;
        int32_t best_rank = INT32_MAX;
        for (size_t i = 0; i + 1 < n; i++) {
            int32_t key[2] = {sym[i], sym[i + 1]}, r;
            if (gk_tok_map_get(&t->merges, key, sizeof key, &r) && r < best_rank) {
                best_rank = r;
                best = i;
            }
        }
        if (best == SIZE_MAX) break;
        sym[best] = t->merge_result[best_rank];
        memmove(sym + best + 1, sym + best + 2, (n - best - 2) * sizeof *sym);
        n--;
    }
    gk_status st = GK_OK;
    for (size_t i = 0; i < n && !st; i++) st = push_ids(ids, n_ids, sym[i], err);
    free(sym);
    return st;
}

/* Pre-tokenizes and encodes a text fragment that contains no added token. */
static gk_status encode_plain(const gk_hf_tok *t, const char *text, size_t len, int32_t **ids,
                              size_t *n_ids, gk_err *err) {
    if (!len) return GK_OK;
    char *buf = NULL;  /* the text with prefix spaces inserted, once a step adds them */
    pieces cur = {0}, next = {0};
    gk_status st = GK_OK;
    if (pieces_push(&cur, 0, len)) st = oom(err);
    for (size_t s = 0; s < t->n_steps && !st; s++) {
        const hf_step *sp = &t->steps[s];
        if (sp->kind == STEP_BYTELEVEL && sp->add_prefix_space) {
            /* HF: each current piece that does not start with a space gets one */
            size_t need = 0;
            for (size_t i = 0; i < cur.n; i++) need += cur.v[i].len + (text[cur.v[i].off] != ' ');
            char *nb = malloc(need + 1);
            if (!nb) { st = oom(err); break; }
            size_t o = 0;
            for (size_t i = 0; i < cur.n; i++) {
                size_t start = o;
                if (text[cur.v[i].off] != ' ') nb[o++] = ' ';
                memcpy(nb + o, text + cur.v[i].off, cur.v[i].len);
                o += cur.v[i].len;
                cur.v[i].off = start;
                cur.v[i].len = o - start;
            }
            free(buf);
            buf = nb;
            text = nb;
        }
        if (!sp->re && !sp->literal) continue;
        next.n = 0;
        for (size_t i = 0; i < cur.n && !st; i++) {
            int rc = sp->re ? split_regex(sp->re, sp->removed, text, cur.v[i], &next)
                            : split_literal(sp->literal, sp->literal_len, sp->removed, text, cur.v[i], &next);
            if (rc == -2)
                st = gk_err_set(err, GK_E_UNSUPPORTED, "pre-tokenizer regex: backtracking limit exceeded");
            else if (rc) st = oom(err);
        }
        pieces tmp = cur;
        cur = next;
        next = tmp;
    }
    char *word = NULL;
    for (size_t i = 0; i < cur.n && !st; i++) {
        const char *p = text + cur.v[i].off;
        size_t l = cur.v[i].len, wl = 0;
        if (t->byte_level) {
            char *nw = realloc(word, l * 2 + 1);
            if (!nw) { st = oom(err); break; }
            word = nw;
            for (size_t k = 0; k < l; k++) wl += (size_t)gk_utf8_encode(gk_byte_to_unicode((uint8_t)p[k]), word + wl);
            p = word;
            l = wl;
        }
        st = bpe_word(t, p, l, ids, n_ids, err);
    }
    free(word);
    free(cur.v);
    free(next.v);
    free(buf);
    return st;
}

gk_status gk_hf_tok_encode(const gk_hf_tok *t, const char *text, size_t len, int add_special,
                           int32_t **ids, size_t *n_ids, gk_err *err) {
    *ids = NULL;
    *n_ids = 0;
    gk_status st = GK_OK;
    if (add_special)
        for (size_t i = 0; i < t->n_prefix && !st; i++) st = push_ids(ids, n_ids, t->prefix[i], err);
    /* added tokens split the input first: at each position the longest one that matches */
    size_t start = 0;
    for (size_t i = 0; i < len && !st;) {
        size_t best = 0;
        int32_t bid = -1;
        for (size_t a = 0; a < t->n_added; a++)
            if (t->added[a].len > best && t->added[a].len <= len - i &&
                !memcmp(text + i, t->added[a].content, t->added[a].len)) {
                best = t->added[a].len;
                bid = t->added[a].id;
            }
        if (!best) { i++; continue; }
        st = encode_plain(t, text + start, i - start, ids, n_ids, err);
        if (!st) st = push_ids(ids, n_ids, bid, err);
        i += best;
        start = i;
    }
    if (!st) st = encode_plain(t, text + start, len - start, ids, n_ids, err);
    if (add_special)
        for (size_t i = 0; i < t->n_suffix && !st; i++) st = push_ids(ids, n_ids, t->suffix[i], err);
    if (st) {
        free(*ids);
        *ids = NULL;
        *n_ids = 0;
    }
    return st;
}
