/* The plan: from the sources decide every output tensor (name, shape, type, source, transform,
 * bytes) and every KV, before any tensor data is read (design.md "plan, then write").
 * Tensor order comes from the architecture table, never from file or archive order; nothing
 * from the environment (paths, times) reaches the file. */
#include "gk_convert.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- owned storage ----------------------------------------------------------------------- */

typedef struct store {
    char **s;
    size_t n, cap;
} store;

static char *st_keep(store *st, char *p) {
    if (!p) return NULL;
    if (st->n == st->cap) {
        size_t nc = st->cap ? st->cap * 2 : 64;
        char **ns = realloc(st->s, nc * sizeof *ns);
        if (!ns) {
            free(p);
            return NULL;
        }
        st->s = ns;
        st->cap = nc;
    }
    st->s[st->n++] = p;
    return p;
}

static char *st_dup(store *st, const char *s) {
    size_t n = strlen(s);
    char *p = malloc(n + 1);
    if (!p) return NULL;
    memcpy(p, s, n + 1);
    return st_keep(st, p);
}

static void st_free(store *st) {
    if (!st) return;
    for (size_t i = 0; i < st->n; i++) free(st->s[i]);
    free(st->s);
    free(st);
}

/* ---- KV list ----------------------------------------------------------------------------- */

typedef struct kvlist {
    gk_kv *kv;
    uint64_t n, cap;
    store *st;
} kvlist;

static gk_kv *kv_add(kvlist *l, const char *key) {
    if (l->n == l->cap) {
        uint64_t nc = l->cap ? l->cap * 2 : 32;
        gk_kv *nk = realloc(l->kv, nc * sizeof *nk);
        if (!nk) return NULL;
        l->kv = nk;
        l->cap = nc;
    }
    char *k = st_dup(l->st, key);
    if (!k) return NULL;
    gk_kv *e = &l->kv[l->n++];
    memset(e, 0, sizeof *e);
    e->key.ptr = k;
    e->key.len = strlen(k);
    return e;
}

static int kv_str(kvlist *l, const char *key, const char *val) {
    gk_kv *e = kv_add(l, key);
    char *v = e ? st_dup(l->st, val) : NULL;
    if (!v) return -1;
    e->val.type = GK_V_STR;
    e->val.str.ptr = v;
    e->val.str.len = strlen(v);
    return 0;
}
static int kv_u32(kvlist *l, const char *key, uint32_t val) {
    gk_kv *e = kv_add(l, key);
    if (!e) return -1;
    e->val.type = GK_V_U32;
    e->val.v.u32 = val;
    return 0;
}
static int kv_f32(kvlist *l, const char *key, float val) {
    gk_kv *e = kv_add(l, key);
    if (!e) return -1;
    e->val.type = GK_V_F32;
    e->val.v.f32 = val;
    return 0;
}
static int kv_archu32(kvlist *l, const char *arch, const char *suffix, uint32_t v) {
    char k[160];
    snprintf(k, sizeof k, "%s.%s", arch, suffix);
    return kv_u32(l, k, v);
}
static int kv_archf32(kvlist *l, const char *arch, const char *suffix, float v) {
    char k[160];
    snprintf(k, sizeof k, "%s.%s", arch, suffix);
    return kv_f32(l, k, v);
}

static int64_t kv_find(const kvlist *l, const char *key, size_t keylen) {
    for (uint64_t i = 0; i < l->n; i++)
        if (l->kv[i].key.len == keylen && memcmp(l->kv[i].key.ptr, key, keylen) == 0)
            return (int64_t)i;
    return -1;
}

/* ---- --metadata KEY=TYPE:VALUE ----------------------------------------------------------- */

static gk_status parse_int(const char *s, int64_t lo, uint64_t hi, int is_unsigned, uint64_t *u,
                           int64_t *i, const char *item, gk_err *err) {
    char *end;
    errno = 0;
    if (is_unsigned) {
        if (*s == '-') goto bad;
        unsigned long long v = strtoull(s, &end, 0);
        if (errno || end == s || *end || v > hi) goto bad;
        *u = v;
    } else {
        long long v = strtoll(s, &end, 0);
        if (errno || end == s || *end || v < lo || (v > 0 && (uint64_t)v > hi)) goto bad;
        *i = v;
    }
    return GK_OK;
bad:
    return gk_err_set(err, GK_E_INVALID_ARG, "--metadata '%s': '%s' is not a valid value for the type",
                      item, s);
}

gk_status gk_cv_parse_kv_override(const char *item, gk_kv *kv, char *store_buf, size_t cap,
                                  gk_err *err) {
    if (!item || !kv || !store_buf) return gk_err_set(err, GK_E_INVALID_ARG, "override: NULL");
    memset(kv, 0, sizeof *kv);
    const char *eq = strchr(item, '=');
    if (!eq || eq == item)
        return gk_err_set(err, GK_E_INVALID_ARG, "--metadata '%s': expected KEY=TYPE:VALUE", item);
    const char *colon = strchr(eq + 1, ':');
    if (!colon)
        return gk_err_set(err, GK_E_INVALID_ARG, "--metadata '%s': expected KEY=TYPE:VALUE", item);
    size_t klen = (size_t)(eq - item);
    size_t tlen = (size_t)(colon - eq - 1);
    const char *val = colon + 1;
    if (klen >= 128)
        return gk_err_set(err, GK_E_INVALID_ARG, "--metadata: key longer than 127 bytes");
    if (klen + 1 + strlen(val) + 1 > cap)
        return gk_err_set(err, GK_E_INVALID_ARG, "--metadata '%.40s...': too long", item);
    memcpy(store_buf, item, klen);
    store_buf[klen] = '\0';
    char *vcopy = store_buf + klen + 1;
    strcpy(vcopy, val);
    kv->key.ptr = store_buf;
    kv->key.len = klen;
    char ty[16];
    if (tlen == 0 || tlen >= sizeof ty)
        return gk_err_set(err, GK_E_INVALID_ARG, "--metadata '%s': unknown type", item);
    for (size_t i = 0; i < tlen; i++) ty[i] = (char)tolower((unsigned char)eq[1 + i]);
    ty[tlen] = '\0';
    if (!strncmp(store_buf, "split.", 6) || !strcmp(store_buf, "general.alignment"))
        return gk_err_set(err, GK_E_INVALID_ARG,
                          "--metadata: '%s' is managed by the writer and cannot be set", store_buf);
    uint64_t u = 0;
    int64_t s = 0;
    gk_status st = GK_OK;
    gk_value *v = &kv->val;
    if (!strcmp(ty, "str")) {
        v->type = GK_V_STR;
        v->str.ptr = vcopy;
        v->str.len = strlen(vcopy);
    } else if (!strcmp(ty, "bool")) {
        v->type = GK_V_BOOL;
        if (!strcmp(val, "true")) v->v.b = 1;
        else if (!strcmp(val, "false")) v->v.b = 0;
        else return gk_err_set(err, GK_E_INVALID_ARG, "--metadata '%s': bool is true or false", item);
    } else if (!strcmp(ty, "float") || !strcmp(ty, "f32") || !strcmp(ty, "f64")) {
        char *end;
        errno = 0;
        double d = strtod(val, &end);
        if (end == val || *end)
            return gk_err_set(err, GK_E_INVALID_ARG, "--metadata '%s': not a number", item);
        if (!strcmp(ty, "f64")) {
            v->type = GK_V_F64;
            v->v.f64 = d;
        } else {
            v->type = GK_V_F32;
            v->v.f32 = (float)d;
        }
    } else if (!strcmp(ty, "int")) {
        /* llama-quantize's --override-kv int is written as u32; negative values need i32/i64 */
        if ((st = parse_int(val, 0, UINT32_MAX, 1, &u, &s, item, err))) return st;
        v->type = GK_V_U32;
        v->v.u32 = (uint32_t)u;
    } else {
        static const struct { const char *n; uint32_t t; int uns; int64_t lo; uint64_t hi; } ints[] = {
            {"u8", GK_V_U8, 1, 0, UINT8_MAX},       {"i8", GK_V_I8, 0, INT8_MIN, INT8_MAX},
            {"u16", GK_V_U16, 1, 0, UINT16_MAX},    {"i16", GK_V_I16, 0, INT16_MIN, INT16_MAX},
            {"u32", GK_V_U32, 1, 0, UINT32_MAX},    {"i32", GK_V_I32, 0, INT32_MIN, INT32_MAX},
            {"u64", GK_V_U64, 1, 0, UINT64_MAX},    {"i64", GK_V_I64, 0, INT64_MIN, INT64_MAX},
        };
        size_t k;
        for (k = 0; k < sizeof ints / sizeof ints[0]; k++)
            if (!strcmp(ty, ints[k].n)) break;
        if (k == sizeof ints / sizeof ints[0])
            return gk_err_set(err, GK_E_INVALID_ARG,
                              "--metadata '%s': unknown type '%s' (int, float, bool, str, u8..i64, "
                              "f32, f64)", item, ty);
        if ((st = parse_int(val, ints[k].lo, ints[k].hi, ints[k].uns, &u, &s, item, err))) return st;
        v->type = ints[k].t;
        switch (ints[k].t) {
        case GK_V_U8: v->v.u8 = (uint8_t)u; break;
        case GK_V_I8: v->v.i8 = (int8_t)s; break;
        case GK_V_U16: v->v.u16 = (uint16_t)u; break;
        case GK_V_I16: v->v.i16 = (int16_t)s; break;
        case GK_V_U32: v->v.u32 = (uint32_t)u; break;
        case GK_V_I32: v->v.i32 = (int32_t)s; break;
        case GK_V_U64: v->v.u64 = u; break;
        default: v->v.i64 = s; break;
        }
    }
    return GK_OK;
}

/* ---- the converter's type rule (format-facts §9.3) --------------------------------------- */

static int ends_with(const char *s, const char *suf) {
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && memcmp(s + a - b, suf, b) == 0;
}

static uint32_t outtype_choose(void *ctx, const gk_cv_rule_tensor *t, char *why, size_t cap) {
    const gk_cv_outtype_rule *r = ctx;
    if (t->n_dims <= 1) {
        snprintf(why, cap, "1-D tensors stay F32");
        return GK_TYPE_F32;
    }
    if (ends_with(t->name, "_norm.weight")) {
        snprintf(why, cap, "norms stay F32");
        return GK_TYPE_F32;
    }
    if (!ends_with(t->name, ".weight")) {
        snprintf(why, cap, "not a .weight: stays F32");
        return GK_TYPE_F32;
    }
    static const char *const keep_f32[] = {"ffn_gate_inp", "pos_embd", "token_types", "ssm_conv1d",
                                           NULL};
    for (size_t i = 0; keep_f32[i]; i++)
        if (strstr(t->name, keep_f32[i])) {
            snprintf(why, cap, "%s stays F32", keep_f32[i]);
            return GK_TYPE_F32;
        }
    if ((r->outtype == GK_TYPE_TQ1_0 || r->outtype == GK_TYPE_TQ2_0) &&
        (!strcmp(t->name, "token_embd.weight") || !strcmp(t->name, "output.weight"))) {
        snprintf(why, cap, "token_embd/output are F16 under ternary outtypes");
        return GK_TYPE_F16;
    }
    return r->outtype;
}

gk_cv_type_rule gk_cv_rule_outtype(gk_cv_outtype_rule *r) {
    gk_cv_type_rule rule = {outtype_choose, NULL, r};
    return rule;
}

int gk_cv_ftype_for_type(uint32_t type, uint32_t *ftype) {
    const gk_type_info *ti = gk_type_info_get(type);
    if (!ti || !ti->name) return -1;
    const gk_ftype_info *f = gk_ftype_from_name(ti->name);
    if (f && f->default_type == type && strcasecmp(f->name, ti->name) == 0) {
        *ftype = f->ftype;
        return 0;
    }
    for (uint32_t i = 0; i < 64; i++) {
        f = gk_ftype_get(i);
        if (f && f->default_type == type) {
            *ftype = f->ftype;
            return 0;
        }
    }
    return -1;
}

/* ---- permutation and generated tensors --------------------------------------------------- */

uint64_t gk_cv_permute_src_row(uint64_t r, uint64_t rows, uint32_t n_heads) {
    uint64_t hd = rows / n_heads, half = hd / 2;
    uint64_t h = r / hd, w = r % hd;
    uint64_t i = w / 2, p = w % 2;
    return h * hd + p * half + i;
}

void gk_cv_llama3_rope_freqs(const gk_cv_config *c, float *out, uint32_t n) {
    const double pi = 3.14159265358979323846;
    double L = c->rope_orig_ctx, lo = c->rope_low_freq, hi = c->rope_high_freq, f = c->rope_factor;
    double low_wl = L / lo, high_wl = L / hi;
    for (uint32_t i = 0; i < n; i++) {
        float fi = 1.0f / powf((float)c->rope_theta, (float)(2 * i) / (float)c->head_dim);
        double wl = 2 * pi / fi;
        double v;
        if (wl < high_wl) v = 1.0;
        else if (wl > low_wl) v = f;
        else {
            double s = (L / wl - lo) / (hi - lo);
            v = 1.0 / ((1 - s) / f + s);
        }
        out[i] = (float)v;
    }
}

/* ---- sources ---------------------------------------------------------------------------- */

int64_t gk_cv_source_find(const gk_cv_source *s, const char *name) {
    if (!s || !name) return -1;
    if (s->find) return s->find(s, name);
    for (uint64_t i = 0; i < s->n_tensors; i++)
        if (!strcmp(s->tensors[i].name, name)) return (int64_t)i;
    return -1;
}

void gk_cv_source_free(gk_cv_source *s) {
    if (!s) return;
    if (s->impl_free) s->impl_free(s);
    free(s->tensors);
    free(s);
}

/* ---- the plan ---------------------------------------------------------------------------- */

typedef struct pbuild {
    gk_cv_plan *p;
    store *st;
    const gk_cv_source *src;
    const gk_cv_type_rule *rule;
    const gk_kctx *kctx;
    uint64_t n_cap;
    unsigned char *used;
} pbuild;

static gk_cv_out_tensor *add_out(pbuild *b, const char *name) {
    gk_cv_plan *p = b->p;
    if (p->n_t == b->n_cap) {
        uint64_t nc = b->n_cap ? b->n_cap * 2 : 64;
        gk_cv_out_tensor *nt = realloc(p->t, nc * sizeof *nt);
        if (!nt) return NULL;
        p->t = nt;
        b->n_cap = nc;
    }
    gk_cv_out_tensor *o = &p->t[p->n_t];
    memset(o, 0, sizeof *o);
    o->name = st_dup(b->st, name);
    if (!o->name) return NULL;
    p->n_t++;
    o->src = -1;
    for (int d = 0; d < GK_MAX_DIMS; d++) o->ne[d] = 1;
    return o;
}

static int src_type_ok(uint32_t t) {
    return t == GK_TYPE_F32 || t == GK_TYPE_F16 || t == GK_TYPE_BF16 || t == GK_TYPE_F64;
}

/* Requires imatrix in llama-quantize (format-facts §5.2 step 6); the converter has none. */
static int needs_imatrix(uint32_t t) {
    return t == GK_TYPE_IQ1_S || t == GK_TYPE_IQ1_M || t == GK_TYPE_IQ2_XXS ||
           t == GK_TYPE_IQ2_XS || t == GK_TYPE_IQ2_S || t == GK_TYPE_IQ3_XXS;
}

static int type_writable(const gk_kctx *k, uint32_t t) {
    if (t == GK_TYPE_F32 || t == GK_TYPE_F16 || t == GK_TYPE_BF16) return 1;
    const gk_type_info *ti = gk_type_info_get(t);
    if (!ti || (ti->flags & (GK_TF_REMOVED | GK_TF_ACT_ONLY)) || !(ti->flags & GK_TF_QUANTIZED))
        return 0;
    return k && k->fn[t].quantize != NULL;
}

/* Chooses the type of an output tensor (rule + fallback) and sizes it. */
static gk_status type_and_size(pbuild *b, gk_cv_out_tensor *o, gk_err *err) {
    gk_cv_rule_tensor rt = {o->name, o->n_dims, o->ne, o->src_type, (uint32_t)(b->p->n_t - 1),
                            &b->p->cfg, b->src};
    char why[128] = "";
    uint32_t t = b->rule->choose(b->rule->ctx, &rt, why, sizeof why);
    o->wanted = t;
    snprintf(o->why, sizeof o->why, "%s", why);
    for (int guard = 0; guard < 8; guard++) {
        const gk_type_info *ti = gk_type_info_get(t);
        if (!ti || !gk_type_is_valid(t) || !ti->blck_size)
            return gk_err_set(err, GK_E_INVALID_ARG, "tensor '%s': the type rule chose invalid type %u",
                              o->name, t);
        if (o->ne[0] % ti->blck_size == 0) break;
        uint32_t nt = b->rule->fallback ? b->rule->fallback(b->rule->ctx, t, &rt) : GK_TYPE_F16;
        if (guard == 7 || nt == t) nt = GK_TYPE_F16;
        snprintf(o->why, sizeof o->why, "row length %" PRIu64 " is not a multiple of %s's block "
                 "of %u: %s instead", o->ne[0], ti->name, ti->blck_size,
                 gk_type_info_get(nt) ? gk_type_info_get(nt)->name : "?");
        t = nt;
    }
    o->type = t;
    if (o->type != o->wanted) b->p->n_fallbacks++;
    if (needs_imatrix(t))
        return gk_err_set(err, GK_E_UNSUPPORTED,
                          "tensor '%s': type %s needs an importance matrix, which convert does not "
                          "take (convert to F16/BF16, then quantize with an imatrix)",
                          o->name, gk_type_info_get(t)->name);
    if (!type_writable(b->kctx, t))
        return gk_err_set(err, GK_E_UNSUPPORTED, "tensor '%s': this build cannot write type %s",
                          o->name, gk_type_info_get(t)->name);
    int ok = 1;
    uint64_t n = 1;
    for (uint32_t d = 0; d < GK_MAX_DIMS; d++) {
        if (o->ne[d] && n > UINT64_MAX / o->ne[d]) ok = 0;
        else n *= o->ne[d];
    }
    o->n_rows = o->ne[0] ? n / o->ne[0] : 0;
    o->nbytes = ok ? gk_type_nbytes(t, n, &ok) : 0;
    o->row_bytes = ok ? gk_type_nbytes(t, o->ne[0], &ok) : 0;
    if (!ok)
        return gk_err_set(err, GK_E_OVERFLOW, "tensor '%s': size overflows", o->name);
    b->p->total_bytes += o->nbytes;
    b->p->n_params += n;
    return GK_OK;
}

static gk_status map_one(pbuild *b, const gk_cv_tmap *m, int layer, gk_err *err) {
    const gk_cv_config *c = &b->p->cfg;
    const gk_cv_arch *a = b->p->arch;
    char hf[256], gg[256];
    snprintf(hf, sizeof hf, m->hf, layer);
    snprintf(gg, sizeof gg, m->gguf, layer);
    int64_t si = gk_cv_source_find(b->src, hf);
    if (si >= 0) b->used[si] = 1;
    if (!strcmp(gg, "output.weight") && c->tie_word_embeddings) return GK_OK; /* tied: dropped */
    if (si < 0) {
        if (m->flags & GK_CV_OPTIONAL) return GK_OK;
        if ((m->flags & GK_CV_IF_BIAS) && !c->attention_bias) return GK_OK;
        return gk_err_set(err, GK_E_NOT_FOUND, "checkpoint has no tensor '%s' (needed for %s '%s')",
                          hf, a->hf_class, gg);
    }
    const gk_cv_src_tensor *s = &b->src->tensors[si];
    if (!src_type_ok(s->type))
        return gk_err_set(err, GK_E_BAD_DTYPE, "tensor '%s': dtype %s is not a float type the "
                          "converter reads (F32, F16, BF16, F64)", hf, s->dtype);
    if (s->n_dims < 1 || s->n_dims > GK_MAX_DIMS)
        return gk_err_set(err, GK_E_BAD_SHAPE, "tensor '%s': %u dimensions", hf, s->n_dims);
    gk_cv_out_tensor *o = add_out(b, gg);
    if (!o) return gk_err_set(err, GK_E_NOMEM, "plan: out of memory");
    o->src = si;
    o->src_type = s->type;
    o->n_dims = s->n_dims;
    for (uint32_t d = 0; d < s->n_dims; d++) o->ne[d] = s->shape[s->n_dims - 1 - d];
    if (o->ne[0] == 0)
        return gk_err_set(err, GK_E_BAD_SHAPE, "tensor '%s': empty rows", hf);
    /* shape sanity that the transforms depend on */
    if (!strcmp(gg, "token_embd.weight") || !strcmp(gg, "output.weight")) {
        if (o->n_dims != 2 || o->ne[0] != c->hidden_size)
            return gk_err_set(err, GK_E_BAD_SHAPE, "tensor '%s': shape must be [n_vocab, %u]", hf,
                              c->hidden_size);
    }
    unsigned perm = a->permute_qk ? (m->flags & (GK_CV_PERMUTE_Q | GK_CV_PERMUTE_K)) : 0;
    if (perm) {
        uint32_t heads = (perm & GK_CV_PERMUTE_Q) ? c->n_head : c->n_head_kv;
        uint64_t want_rows = (uint64_t)heads * c->head_dim;
        uint64_t rows = o->n_dims == 1 ? o->ne[0] : o->ne[1];
        if (o->n_dims > 2 || rows != want_rows || (o->n_dims == 2 && o->ne[0] != c->hidden_size))
            return gk_err_set(err, GK_E_BAD_SHAPE,
                              "tensor '%s': shape does not match %u heads x head_dim %u (x hidden %u)",
                              hf, heads, c->head_dim, c->hidden_size);
        o->xform = GK_XF_PERMUTE;
        o->perm_heads = heads;
    }
    b->p->src_bytes += s->nbytes;
    return type_and_size(b, o, err);
}

static gk_status map_list(pbuild *b, const gk_cv_tmap *m, int layer, gk_err *err) {
    for (; m && m->hf; m++) {
        gk_status st = map_one(b, m, layer, err);
        if (st) return st;
    }
    return GK_OK;
}

static int ignored(const gk_cv_arch *a, const char *name) {
    for (size_t i = 0; a->ignore && a->ignore[i]; i++)
        if (ends_with(name, a->ignore[i])) return 1;
    return 0;
}

/* gguf-py's model_weight_count_rounded_notation (min_digits 2): 260032 -> "260K",
 * 6738415616 -> "6.7B", 1100048384 -> "1.1B". */
void gk_cv_size_label(uint64_t n, char *buf, size_t cap) {
    double v;
    const char *suf;
    if (n > 1000000000000ull) { v = (double)n * 1e-12; suf = "T"; }
    else if (n > 1000000000ull) { v = (double)n * 1e-9; suf = "B"; }
    else if (n > 1000000ull) { v = (double)n * 1e-6; suf = "M"; }
    else { v = (double)n * 1e-3; suf = "K"; }
    char r[32];
    snprintf(r, sizeof r, "%.0f", nearbyint(v));     /* Python round(): half to even */
    const char *d = r;
    while (*d == '0') d++;
    int fix = 2 - (int)strlen(d);
    if (fix < 0) fix = 0;
    snprintf(buf, cap, "%.*f%s", fix, v, suf);
}

static gk_status build_kvs(pbuild *b, kvlist *l, const gk_cv_plan_opts *o, gk_err *err) {
    const gk_cv_plan *p = b->p;
    const gk_cv_config *c = &p->cfg;
    const char *A = p->arch->gguf_arch;
    const char *name = o->name ? o->name : (b->src->name_hint ? b->src->name_hint : "model");
    int r = 0;
    r |= kv_str(l, "general.architecture", A);
    r |= kv_str(l, "general.type", "model");
    r |= kv_str(l, "general.name", name);
    char label[32];
    gk_cv_size_label(p->n_params, label, sizeof label);
    r |= kv_str(l, "general.size_label", label);
    r |= kv_archu32(l, A, "block_count", c->n_layer);
    r |= kv_archu32(l, A, "context_length", c->context_length);
    r |= kv_archu32(l, A, "embedding_length", c->hidden_size);
    r |= kv_archu32(l, A, "feed_forward_length", c->intermediate_size);
    r |= kv_archu32(l, A, "attention.head_count", c->n_head);
    r |= kv_archu32(l, A, "attention.head_count_kv", c->n_head_kv);
    if (c->rope_type == GK_ROPE_LINEAR) {
        char k[160];
        snprintf(k, sizeof k, "%s.rope.scaling.type", A);
        r |= kv_str(l, k, "linear");
        r |= kv_archf32(l, A, "rope.scaling.factor", (float)c->rope_factor);
    } else if (c->rope_type == GK_ROPE_YARN) {
        char k[160];
        snprintf(k, sizeof k, "%s.rope.scaling.type", A);
        r |= kv_str(l, k, "yarn");
        r |= kv_archf32(l, A, "rope.scaling.factor", (float)c->rope_factor);
        r |= kv_archu32(l, A, "rope.scaling.original_context_length", c->rope_orig_ctx);
    }
    r |= kv_archf32(l, A, "rope.freq_base", (float)c->rope_theta);
    r |= kv_archf32(l, A, "attention.layer_norm_rms_epsilon", (float)c->rms_norm_eps);
    if (p->arch->always_head_dim || c->head_dim_given) {
        r |= kv_archu32(l, A, "attention.key_length", c->head_dim);
        r |= kv_archu32(l, A, "attention.value_length", c->head_dim);
    }
    r |= kv_u32(l, "general.file_type", p->ftype);
    if (p->arch->write_vocab_and_rope_dim) {
        r |= kv_archu32(l, A, "vocab_size", c->vocab_size);
        r |= kv_archu32(l, A, "rope.dimension_count", c->head_dim);
    }
    r |= kv_u32(l, "general.quantization_version", 2);
    if (r) return gk_err_set(err, GK_E_NOMEM, "plan: out of memory");
    /* tokenizer keys: shallow copies (the source owns their storage) */
    for (uint64_t i = 0; i < b->src->n_tok_kv; i++) {
        gk_kv *e = kv_add(l, "");
        if (!e) return gk_err_set(err, GK_E_NOMEM, "plan: out of memory");
        *e = b->src->tok_kv[i];
    }
    /* --metadata: override in place, else append */
    for (size_t i = 0; o->metadata && o->metadata[i]; i++) {
        size_t cap = strlen(o->metadata[i]) + 2;
        char *buf = st_keep(l->st, malloc(cap));
        if (!buf) return gk_err_set(err, GK_E_NOMEM, "plan: out of memory");
        gk_kv kv;
        gk_status st = gk_cv_parse_kv_override(o->metadata[i], &kv, buf, cap, err);
        if (st) return st;
        int64_t at = kv_find(l, kv.key.ptr, kv.key.len);
        if (at >= 0) {
            l->kv[at] = kv;
        } else {
            gk_kv *e = kv_add(l, "");
            if (!e) return gk_err_set(err, GK_E_NOMEM, "plan: out of memory");
            *e = kv;
        }
    }
    return GK_OK;
}

static void assign_splits(gk_cv_plan *p, const gk_cv_plan_opts *o) {
    uint32_t split = 0;
    uint64_t in_split = 0, bytes = 0;
    for (uint64_t i = 0; i < p->n_t; i++) {
        uint64_t padded = (p->t[i].nbytes + GK_DEFAULT_ALIGNMENT - 1) / GK_DEFAULT_ALIGNMENT *
                          GK_DEFAULT_ALIGNMENT;
        int brk = 0;
        if (in_split > 0 && o->split_max_tensors && in_split >= o->split_max_tensors) brk = 1;
        if (in_split > 0 && o->split_max_bytes && bytes + padded > o->split_max_bytes) brk = 1;
        if (brk) {
            split++;
            in_split = 0;
            bytes = 0;
        }
        p->t[i].split = split;
        p->t[i].split_index = in_split++;
        bytes += padded;
    }
    p->n_splits = p->n_t ? split + 1 : 1;
}

gk_status gk_cv_plan_build(const gk_cv_source *src, const gk_cv_plan_opts *opts,
                           const gk_kctx *kctx, gk_cv_plan **out, gk_err *err) {
    if (!src || !opts || !out) return gk_err_set(err, GK_E_INVALID_ARG, "plan: NULL argument");
    *out = NULL;
    if (!src->config_json)
        return gk_err_set(err, GK_E_NOT_FOUND, "checkpoint has no config.json");
    gk_cv_plan *p = calloc(1, sizeof *p);
    store *st = calloc(1, sizeof *st);
    pbuild b = {p, st, src, opts->rule, kctx, 0, NULL};
    kvlist l = {NULL, 0, 0, st};
    gk_cv_outtype_rule orule = {opts->outtype};
    gk_cv_type_rule drule = gk_cv_rule_outtype(&orule);
    gk_status s = GK_OK;
    if (!p || !st) {
        free(p);
        free(st);
        return gk_err_set(err, GK_E_NOMEM, "plan: out of memory");
    }
    p->strings = st;
    if (!b.rule) b.rule = &drule;
    const gk_type_info *oti = gk_type_info_get(opts->outtype);
    if (!oti || !gk_type_is_valid(opts->outtype)) {
        s = gk_err_set(err, GK_E_INVALID_ARG, "unknown output type %u", opts->outtype);
        goto fail;
    }
    p->outtype = opts->outtype;
    if (!opts->rule && needs_imatrix(opts->outtype)) {
        s = gk_err_set(err, GK_E_UNSUPPORTED,
                       "type %s needs an importance matrix, which convert does not take (convert to "
                       "F16/BF16, then quantize with an imatrix)", oti->name);
        goto fail;
    }
    if (!opts->rule && !type_writable(kctx, opts->outtype)) {
        s = gk_err_set(err, GK_E_UNSUPPORTED, "this build cannot write type %s", oti->name);
        goto fail;
    }
    if (gk_cv_ftype_for_type(opts->outtype, &p->ftype)) {
        s = gk_err_set(err, GK_E_UNSUPPORTED, "type %s has no llama.cpp file type (general.file_type)",
                       oti->name);
        goto fail;
    }
    if ((s = gk_cv_config_parse(src->config_json, src->config_len, &p->cfg, &p->arch, err))) goto fail;
    b.used = calloc(src->n_tensors ? src->n_tensors : 1, 1);
    if (!b.used) {
        s = gk_err_set(err, GK_E_NOMEM, "plan: out of memory");
        goto fail;
    }
    /* generated tensors first (llama.cpp's converter emits them before the model's) */
    if (p->cfg.rope_type == GK_ROPE_LLAMA3) {
        gk_cv_out_tensor *o = add_out(&b, "rope_freqs.weight");
        uint32_t n = p->cfg.head_dim / 2;
        if (!o || !(o->gen = calloc(n ? n : 1, sizeof(float)))) {
            s = gk_err_set(err, GK_E_NOMEM, "plan: out of memory");
            goto fail;
        }
        gk_cv_llama3_rope_freqs(&p->cfg, o->gen, n);
        o->xform = GK_XF_GENERATED;
        o->n_dims = 1;
        o->ne[0] = n;
        o->src_type = GK_TYPE_F32;
        if ((s = type_and_size(&b, o, err))) goto fail;
    }
    if ((s = map_list(&b, p->arch->global_pre, 0, err))) goto fail;
    for (uint32_t layer = 0; layer < p->cfg.n_layer; layer++)
        if ((s = map_list(&b, p->arch->block, (int)layer, err))) goto fail;
    if ((s = map_list(&b, p->arch->global_post, 0, err))) goto fail;
    for (uint64_t i = 0; i < src->n_tensors; i++) {
        if (b.used[i] || ignored(p->arch, src->tensors[i].name)) continue;
        s = gk_err_set(err, GK_E_UNSUPPORTED,
                       "tensor '%s' has no place in %s (%u layers): cannot map it", src->tensors[i].name,
                       p->arch->hf_class, p->cfg.n_layer);
        goto fail;
    }
    if ((s = build_kvs(&b, &l, opts, err))) goto fail;
    p->kv = l.kv;
    p->n_kv = l.n;
    l.kv = NULL;
    assign_splits(p, opts);
    free(b.used);
    *out = p;
    return GK_OK;
fail:
    free(b.used);
    free(l.kv);
    gk_cv_plan_free(p);
    return s;
}

void gk_cv_plan_free(gk_cv_plan *p) {
    if (!p) return;
    for (uint64_t i = 0; i < p->n_t; i++) free(p->t[i].gen);
    free(p->t);
    free(p->kv);
    st_free(p->strings);
    free(p);
}
