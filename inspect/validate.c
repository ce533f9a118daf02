/* `validate`: everything a publisher should know about a GGUF file before distributing it.
 * Each finding names its code, severity, the tensor or key, and a byte offset (spec/validate.md).
 * Reader rejections become findings; the file-level, model-level and data checks below only run
 * on files the reader accepts. */
#include "gk_inspect.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *gk_sev_name(gk_sev s) {
    return s == GK_SEV_ERROR ? "error" : s == GK_SEV_WARNING ? "warning" : "note";
}

void gk_vreport_free(gk_vreport *r) {
    if (!r) return;
    for (size_t i = 0; i < r->n; i++) {
        free(r->f[i].message);
        free(r->f[i].tensor);
        free(r->f[i].key);
    }
    free(r->f);
    free(r->path);
    memset(r, 0, sizeof *r);
}

static char *dupn(const char *s, size_t n) {
    char *o = malloc(n + 1);
    if (o) {
        memcpy(o, s, n);
        o[n] = 0;
    }
    return o;
}

void gk_vreport_add(gk_vreport *r, gk_sev sev, const char *code, const char *tensor,
                    const char *key, int64_t offset, const char *fmt, ...) {
    if (r->n == r->cap) {
        size_t nc = r->cap ? 2 * r->cap : 16;
        gk_finding *nf = realloc(r->f, nc * sizeof *nf);
        if (!nf) return; /* out of memory: the finding is lost, never a crash */
        r->f = nf;
        r->cap = nc;
    }
    gk_finding *f = &r->f[r->n];
    memset(f, 0, sizeof *f);
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    f->sev = sev;
    f->code = code;
    f->message = strdup(buf);
    f->tensor = tensor ? strdup(tensor) : NULL;
    f->key = key ? strdup(key) : NULL;
    f->has_offset = offset >= 0;
    f->offset = offset >= 0 ? (uint64_t)offset : 0;
    if (!f->message) return;
    r->n++;
    if (sev == GK_SEV_ERROR) r->n_errors++;
    else if (sev == GK_SEV_WARNING) r->n_warnings++;
    else r->n_notes++;
}

/* A printable copy of a (hostile) name for messages and JSON. */
static char *pname(const gk_str *s) {
    size_t n = s->len > 256 ? 256 : (size_t)s->len;
    char *o = dupn(s->ptr, n);
    if (!o) return NULL;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)o[i] < 0x20 || o[i] == 0x7f) o[i] = '?';
    return o;
}

#define T_NAME(t, var) char *var = pname(&(t)->name)


/* ------------------------------------------------------------------------------------------ */
/* Data checks: NaN/Inf (the kernels' validate rows), all-zero tensors                          */

void gk_dcheck_init(gk_dcheck *d, const gk_tensor *t, uint64_t abs_off, const gk_kctx *k) {
    memset(d, 0, sizeof *d);
    d->t = t;
    d->abs_off = abs_off;
    d->first_bad = -1;
    d->unchecked = !(t->type < GK_TYPE_COUNT && k->fn[t->type].validate);
}

static int all_zero(const uint8_t *p, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t v;
        memcpy(&v, p + i, 8);
        if (v) return 0;
    }
    for (; i < n; i++)
        if (p[i]) return 0;
    return 1;
}

void gk_dcheck_feed(gk_dcheck *d, const gk_kctx *k, const uint8_t *p, size_t n) {
    const gk_type_info *ti = gk_type_info_get(d->t->type);
    uint64_t ts = ti && ti->type_size ? ti->type_size : 1;
    if (!d->nonzero && !all_zero(p, n)) d->nonzero = 1;
    if (!d->unchecked) {
        gk_validate_fn v = k->fn[d->t->type].validate;
        uint64_t base_block = d->done / ts;
        size_t whole = (size_t)(n / ts * ts);
        size_t pos = 0;
        while (pos < whole) {
            int64_t b = v(p + pos, whole - pos);
            if (b < 0) break;
            uint64_t blk = base_block + pos / ts + (uint64_t)b;
            if (d->first_bad < 0) d->first_bad = (int64_t)blk;
            d->bad_blocks++;
            pos += ((size_t)b + 1) * (size_t)ts;
        }
    }
    d->done += n;
}

void gk_dcheck_report(gk_vreport *r, const gk_dcheck *d) {
    const gk_tensor *t = d->t;
    const gk_type_info *ti = gk_type_info_get(t->type);
    T_NAME(t, nm);
    if (!nm) return;
    if (d->bad_blocks) {
        uint64_t ts = ti && ti->type_size ? ti->type_size : 1;
        uint64_t off = d->abs_off + (uint64_t)d->first_bad * ts;
        int plain = ti && ti->blck_size == 1;
        gk_vreport_add(r, GK_SEV_ERROR, "nan_inf", nm, NULL, (int64_t)off,
                       "tensor '%s' (%s): NaN or Inf in %s %lld at file offset %llu (%llu bad %s%s)",
                       nm, ti ? ti->name : "?", plain ? "element" : "the scale of block",
                       (long long)d->first_bad, (unsigned long long)off,
                       (unsigned long long)d->bad_blocks, plain ? "element" : "block",
                       d->bad_blocks == 1 ? "" : "s");
    }
    if (!d->nonzero && t->nbytes > 0)
        gk_vreport_add(r, GK_SEV_WARNING, "all_zero", nm, NULL, (int64_t)d->abs_off,
                       "tensor '%s': all %llu bytes are zero", nm, (unsigned long long)t->nbytes);
    free(nm);
}

typedef struct dtask {
    const gk_gguf *g;
    const gk_kctx *k;
    gk_dcheck *dc;
} dtask;

static void dcheck_task(void *ctx, int64_t i, int thread) {
    (void)thread;
    dtask *t = ctx;
    const gk_tensor *ten = &t->g->tensors[i];
    if (!ten->data) return;
    /* in slices, so that one huge tensor does not hold a core for too long */
    const gk_type_info *ti = gk_type_info_get(ten->type);
    uint64_t ts = ti && ti->type_size ? ti->type_size : 1;
    uint64_t slice = (16u << 20) / ts * ts;
    if (!slice) slice = ts;
    for (uint64_t pos = 0; pos < ten->nbytes; pos += slice) {
        uint64_t n = ten->nbytes - pos < slice ? ten->nbytes - pos : slice;
        gk_dcheck_feed(&t->dc[i], t->k, ten->data + pos, (size_t)n);
    }
}

static void note_unchecked(gk_vreport *r, const gk_dcheck *dc, uint64_t n) {
    uint64_t cnt[GK_TYPE_COUNT] = {0};
    for (uint64_t i = 0; i < n; i++)
        if (dc[i].unchecked && dc[i].t->type < GK_TYPE_COUNT) cnt[dc[i].t->type]++;
    for (uint32_t ty = 0; ty < GK_TYPE_COUNT; ty++) {
        const gk_type_info *ti = gk_type_info_get(ty);
        if (!cnt[ty] || !ti || (ti->flags & GK_TF_INT)) continue; /* ggml checks no int data */
        gk_vreport_add(r, GK_SEV_NOTE, "data_unchecked", NULL, NULL, -1,
                       "%llu tensor%s of type %s not checked for NaN/Inf: no validate kernel "
                       "for this type in this build", (unsigned long long)cnt[ty],
                       cnt[ty] == 1 ? "" : "s", ti->name);
    }
}

static gk_status validate_data(gk_vreport *r, const gk_gguf *g, const gk_validate_opts *o,
                               gk_err *err) {
    if (!g->n_tensors) return GK_OK;
    if (g->big_endian) {
        gk_vreport_add(r, GK_SEV_NOTE, "data_unchecked", NULL, NULL, -1,
                       "big-endian tensor data not checked for NaN/Inf or zeros");
        return GK_OK;
    }
    gk_kctx k;
    gk_status st = gk_kctx_init(&k, -1, err);
    if (st != GK_OK) return st;
    gk_dcheck *dc = calloc((size_t)g->n_tensors, sizeof *dc);
    if (!dc) return gk_err_set(err, GK_E_NOMEM, "out of memory");
    for (uint64_t i = 0; i < g->n_tensors; i++)
        gk_dcheck_init(&dc[i], &g->tensors[i], g->data_start + g->tensors[i].offset, &k);
    gk_pool *pool = NULL;
    dtask task = {g, &k, dc};
    if (gk_pool_create(o ? o->threads : 0, &pool, NULL) == GK_OK && pool) {
        gk_pool_run(pool, (int64_t)g->n_tensors, dcheck_task, &task);
        gk_pool_free(pool);
    } else {
        for (uint64_t i = 0; i < g->n_tensors; i++) dcheck_task(&task, (int64_t)i, 0);
    }
    for (uint64_t i = 0; i < g->n_tensors; i++)
        if (g->tensors[i].data) gk_dcheck_report(r, &dc[i]);
    note_unchecked(r, dc, g->n_tensors);
    free(dc);
    return GK_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* Header-level checks                                                                          */

static const gk_kv *find_kv(const gk_gguf *g, const char *key) {
    int64_t i = gk_gguf_find_kv(g, key);
    return i >= 0 ? &g->kv[i] : NULL;
}

static int kv_u64(const gk_gguf *g, const char *key, uint64_t *v) {
    const gk_kv *kv = find_kv(g, key);
    if (!kv) return 0;
    int ok = 0;
    *v = gk_value_as_u64(&kv->val, &ok);
    return ok ? 1 : -1;
}

static int kv_str_is(const gk_gguf *g, const char *key, const char *want) {
    const gk_kv *kv = find_kv(g, key);
    return kv && kv->val.type == GK_V_STR && kv->val.str.len == strlen(want) &&
           !memcmp(kv->val.str.ptr, want, strlen(want));
}

static void check_tokenizer(gk_vreport *r, const gk_gguf *g) {
    static const char *const arrs[] = {"tokenizer.ggml.tokens", "tokenizer.ggml.scores",
                                       "tokenizer.ggml.token_type"};
    const gk_kv *tok = find_kv(g, "tokenizer.ggml.tokens");
    uint64_t n_vocab = tok && tok->val.type == GK_V_ARR ? tok->val.arr.n : 0;
    if (tok)
        for (int i = 1; i < 3; i++) {
            const gk_kv *kv = find_kv(g, arrs[i]);
            if (!kv) continue;
            uint64_t n = kv->val.type == GK_V_ARR ? kv->val.arr.n : 1;
            if (n != n_vocab)
                gk_vreport_add(r, GK_SEV_ERROR, "tokenizer_length", NULL, arrs[i], (int64_t)kv->offset,
                               "%s has %llu entries but tokenizer.ggml.tokens has %llu", arrs[i],
                               (unsigned long long)n, (unsigned long long)n_vocab);
        }
    if (!tok) return;
    for (uint64_t i = 0; i < g->n_kv; i++) {
        const gk_kv *kv = &g->kv[i];
        const char *pre = "tokenizer.ggml.", *suf = "_token_id";
        size_t pl = strlen(pre), sl = strlen(suf);
        if (kv->key.len <= pl + sl || memcmp(kv->key.ptr, pre, pl) ||
            memcmp(kv->key.ptr + kv->key.len - sl, suf, sl))
            continue;
        int ok = 0;
        int64_t id = gk_value_as_i64(&kv->val, &ok);
        char *key = pname(&kv->key);
        if (!key) continue;
        if (!ok)
            gk_vreport_add(r, GK_SEV_ERROR, "special_token_type", NULL, key, (int64_t)kv->offset,
                           "%s is not an integer (%s)", key, gk_vtype_name(kv->val.type));
        else if (id < 0 || (uint64_t)id >= n_vocab)
            gk_vreport_add(r, GK_SEV_ERROR, "special_token_range", NULL, key, (int64_t)kv->offset,
                           "%s = %lld is outside the vocabulary (%llu tokens)", key, (long long)id,
                           (unsigned long long)n_vocab);
        free(key);
    }
    if (kv_str_is(g, "tokenizer.ggml.model", "gpt2") && !find_kv(g, "tokenizer.ggml.pre"))
        gk_vreport_add(r, GK_SEV_WARNING, "missing_pre", NULL, "tokenizer.ggml.pre", -1,
                       "tokenizer.ggml.pre is missing for a gpt2 (BPE) tokenizer: llama.cpp falls "
                       "back to the default pre-tokenizer and may tokenize differently");
}

void gk_validate_header(gk_vreport *r, const gk_gguf *g) {
    /* compatibility: readable, but llama.cpp refuses it */
    if (g->version == 1)
        gk_vreport_add(r, GK_SEV_WARNING, "gguf_v1", NULL, NULL, 4,
                       "GGUF version 1: llama.cpp refuses this (ggml reads versions 2 and 3)");
    if (g->big_endian)
        gk_vreport_add(r, GK_SEV_WARNING, "big_endian", NULL, NULL, 4,
                       "big-endian file: llama.cpp refuses this on little-endian machines "
                       "(\"mismatch between host and model endianness\")");
    for (uint64_t i = 0; i < g->n_kv; i++) {
        const gk_kv *kv = &g->kv[i];
        if (kv->val.type == GK_V_ARR && kv->val.arr.type == GK_V_ARR) {
            char *key = pname(&kv->key);
            gk_vreport_add(r, GK_SEV_WARNING, "nested_array", NULL, key, (int64_t)kv->offset,
                           "%s is an array of arrays: llama.cpp refuses this (\"invalid GGUF type\")",
                           key ? key : "?");
            free(key);
        }
    }
    uint64_t expect = 0;
    int reported_order = 0;
    uint64_t llama_lacks[GK_TYPE_COUNT] = {0};
    uint64_t first_lacks[GK_TYPE_COUNT] = {0};
    int has_quant = 0;
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        const gk_tensor *t = &g->tensors[i];
        if (t->name.len >= 64) {
            T_NAME(t, nm);
            gk_vreport_add(r, GK_SEV_WARNING, "long_name", nm, NULL, (int64_t)t->info_offset,
                           "tensor name of %llu bytes: llama.cpp refuses names of 64 bytes or more",
                           (unsigned long long)t->name.len);
            free(nm);
        }
        if (!reported_order && t->offset != expect) {
            T_NAME(t, nm);
            gk_vreport_add(r, GK_SEV_WARNING, "not_contiguous", nm, NULL, (int64_t)t->info_offset,
                           "tensor '%s' has offset %llu, expected %llu: tensor data is not "
                           "contiguous in tensor-info order; llama.cpp refuses this",
                           nm ? nm : "?", (unsigned long long)t->offset, (unsigned long long)expect);
            free(nm);
            reported_order = 1;
        }
        expect += (t->nbytes + g->alignment - 1) / g->alignment * g->alignment;
        if (t->type == GK_TYPE_Q1_0 || t->type == GK_TYPE_Q2_0) {
            if (!llama_lacks[t->type]) first_lacks[t->type] = i;
            llama_lacks[t->type]++;
        }
        const gk_type_info *ti = gk_type_info_get(t->type);
        if (ti && (ti->flags & GK_TF_QUANTIZED)) has_quant = 1;
    }
    for (uint32_t ty = 0; ty < GK_TYPE_COUNT; ty++) {
        if (!llama_lacks[ty]) continue;
        const gk_tensor *t = &g->tensors[first_lacks[ty]];
        T_NAME(t, nm);
        gk_vreport_add(r, GK_SEV_WARNING, "type_not_in_llama", nm, NULL, (int64_t)t->info_offset,
                       "%llu tensor%s of type %s (id %u), e.g. '%s': llama.cpp as bundled with "
                       "node-llama-cpp 3.22.1 knows type ids 0-40 only and refuses this",
                       (unsigned long long)llama_lacks[ty], llama_lacks[ty] == 1 ? "" : "s",
                       gk_type_info_get(ty)->name, ty, nm ? nm : "?");
        free(nm);
    }
    /* layout */
    if (g->n_tensors && !g->final_padding)
        gk_vreport_add(r, GK_SEV_WARNING, "no_final_padding", NULL, NULL, (int64_t)g->data_end,
                       "the padding after the last tensor is missing (file ends at %llu, "
                       "padded end %llu): llama-gguf-hash and ggml's data-loading reader refuse "
                       "this, llama.cpp loads it", (unsigned long long)g->file_size,
                       (unsigned long long)((g->data_end + g->alignment - 1) / g->alignment * g->alignment));
    if (g->trailing_bytes) {
        uint64_t at = g->file_size >= g->trailing_bytes ? g->file_size - g->trailing_bytes : 0;
        gk_vreport_add(r, GK_SEV_WARNING, "trailing_bytes", NULL, NULL, (int64_t)at,
                       "%llu bytes after the end of the tensor data (from offset %llu)",
                       (unsigned long long)g->trailing_bytes, (unsigned long long)at);
    }
    /* metadata */
    int is_split_rest = 0;
    uint64_t sno = 0;
    if (kv_u64(g, "split.no", &sno) == 1 && sno > 0) is_split_rest = 1; /* later parts: no model KVs */
    if (!is_split_rest && has_quant && !find_kv(g, "general.quantization_version"))
        gk_vreport_add(r, GK_SEV_WARNING, "missing_quantization_version", NULL,
                       "general.quantization_version", -1,
                       "general.quantization_version is missing (llama.cpp tools write 2)");
    const gk_kv *ft = find_kv(g, "general.file_type");
    if (ft && g->n_tensors) {
        int ok = 0;
        uint64_t v = gk_value_as_u64(&ft->val, &ok);
        const gk_ftype_info *fi = ok && v <= UINT32_MAX ? gk_ftype_get((uint32_t)v) : NULL;
        if (!fi) {
            gk_vreport_add(r, GK_SEV_WARNING, "unknown_file_type", NULL, "general.file_type",
                           (int64_t)ft->offset, "general.file_type = %llu is not a known llama_ftype",
                           (unsigned long long)v);
        } else {
            int seen = 0, any2d = 0;
            for (uint64_t i = 0; i < g->n_tensors; i++) {
                const gk_tensor *t = &g->tensors[i];
                int is2d = t->n_dims >= 2 && t->ne[1] > 1;
                any2d |= is2d;
                if (is2d && t->type == fi->default_type) seen = 1;
            }
            if (any2d && !seen)
                gk_vreport_add(r, GK_SEV_WARNING, "file_type_mismatch", NULL, "general.file_type",
                               (int64_t)ft->offset,
                               "general.file_type says %s (mostly %s) but no 2-D tensor has type %s",
                               fi->name, gk_type_info_get(fi->default_type)->name,
                               gk_type_info_get(fi->default_type)->name);
        }
    }
    check_tokenizer(r, g);
}

/* ------------------------------------------------------------------------------------------ */
/* Model-level checks: the tensors an architecture needs, with the shapes its hyperparameters  */
/* give (llama family).                                                                         */

static const gk_tensor *find_t(const gk_tensor *const *ts, uint64_t n, const char *name) {
    size_t l = strlen(name);
    for (uint64_t i = 0; i < n; i++)
        if (ts[i]->name.len == l && !memcmp(ts[i]->name.ptr, name, l)) return ts[i];
    return NULL;
}

static void shape_str(char *out, size_t cap, const uint64_t *ne, int nd) {
    size_t k = 0;
    k += (size_t)snprintf(out + k, cap - k, "[");
    for (int i = 0; i < nd && k < cap; i++)
        k += (size_t)snprintf(out + k, cap - k, "%s%llu", i ? ", " : "", (unsigned long long)ne[i]);
    if (k < cap) snprintf(out + k, cap - k, "]");
}

static void expect_t(gk_vreport *r, const gk_tensor *const *ts, uint64_t n, const char *name,
                     int required, uint64_t e0, uint64_t e1, const char *why) {
    const gk_tensor *t = find_t(ts, n, name);
    if (!t) {
        if (required)
            gk_vreport_add(r, GK_SEV_ERROR, "missing_tensor", name, NULL, -1,
                           "tensor '%s' is missing: the architecture needs it", name);
        return;
    }
    uint64_t want[4] = {e0, e1, 1, 1};
    int nd = e1 ? 2 : 1;
    if (!e1) want[1] = 1;
    int bad = 0;
    for (int i = 0; i < 4; i++)
        if (t->ne[i] != want[i]) bad = 1;
    if (bad) {
        char a[128], b[128];
        shape_str(a, sizeof a, t->ne, t->n_dims ? (int)t->n_dims : 1);
        shape_str(b, sizeof b, want, nd);
        gk_vreport_add(r, GK_SEV_ERROR, "bad_tensor_shape", name, NULL, (int64_t)t->info_offset,
                       "tensor '%s' has shape %s, expected %s (%s)", name, a, b, why);
    }
}

void gk_validate_model(gk_vreport *r, const gk_gguf *g, const gk_tensor *const *ts,
                       uint64_t n) {
    const gk_kv *arch_kv = find_kv(g, "general.architecture");
    if (!arch_kv || arch_kv->val.type != GK_V_STR) {
        if (n)
            gk_vreport_add(r, GK_SEV_ERROR, "missing_architecture", NULL, "general.architecture", -1,
                           "general.architecture is missing: llama.cpp cannot load the model");
        return;
    }
    char arch[64];
    size_t al = arch_kv->val.str.len < 63 ? (size_t)arch_kv->val.str.len : 63;
    memcpy(arch, arch_kv->val.str.ptr, al);
    arch[al] = 0;
    if (!n) return; /* vocabulary-only file */
    if (strcmp(arch, "llama") != 0) {
        gk_vreport_add(r, GK_SEV_NOTE, "arch_unchecked", NULL, "general.architecture",
                       (int64_t)arch_kv->offset,
                       "architecture '%s': no tensor table in this build, tensor names and shapes "
                       "not checked against the hyperparameters", arch);
        return;
    }
    static const char *const need[] = {"block_count", "embedding_length", "feed_forward_length",
                                       "attention.head_count"};
    uint64_t hp[4];
    char key[128];
    int missing = 0;
    for (int i = 0; i < 4; i++) {
        snprintf(key, sizeof key, "%s.%s", arch, need[i]);
        int k = kv_u64(g, key, &hp[i]);
        if (k != 1) {
            gk_vreport_add(r, GK_SEV_ERROR, k == 0 ? "missing_key" : "bad_key_type", NULL, key, -1,
                           k == 0 ? "%s is missing: llama.cpp needs it" : "%s is not an integer", key);
            missing = 1;
        }
    }
    if (missing) return;
    uint64_t n_layer = hp[0], n_embd = hp[1], n_ff = hp[2], n_head = hp[3], n_head_kv = n_head;
    snprintf(key, sizeof key, "%s.attention.head_count_kv", arch);
    kv_u64(g, key, &n_head_kv);
    if (!n_head || n_embd % n_head) {
        gk_vreport_add(r, GK_SEV_ERROR, "bad_hparams", NULL, key, -1,
                       "%s.embedding_length %llu is not a multiple of attention.head_count %llu",
                       arch, (unsigned long long)n_embd, (unsigned long long)n_head);
        return;
    }
    uint64_t hd_k = n_embd / n_head, hd_v = hd_k;
    snprintf(key, sizeof key, "%s.attention.key_length", arch);
    kv_u64(g, key, &hd_k);
    snprintf(key, sizeof key, "%s.attention.value_length", arch);
    kv_u64(g, key, &hd_v);
    uint64_t n_vocab = 0;
    const gk_kv *tok = find_kv(g, "tokenizer.ggml.tokens");
    if (tok && tok->val.type == GK_V_ARR) n_vocab = tok->val.arr.n;
    else {
        snprintf(key, sizeof key, "%s.vocab_size", arch);
        kv_u64(g, key, &n_vocab);
    }
    if (n_layer > 100000) {
        gk_vreport_add(r, GK_SEV_ERROR, "bad_hparams", NULL, NULL, -1,
                       "%s.block_count %llu is implausible", arch, (unsigned long long)n_layer);
        return;
    }
    uint64_t n_expert = 0;
    snprintf(key, sizeof key, "%s.expert_count", arch);
    kv_u64(g, key, &n_expert);
    char why[160];
    snprintf(why, sizeof why, "embedding_length %llu, vocabulary %llu", (unsigned long long)n_embd,
             (unsigned long long)n_vocab);
    const gk_tensor *emb = find_t(ts, n, "token_embd.weight");
    if (!n_vocab && emb) n_vocab = emb->ne[1];
    expect_t(r, ts, n, "token_embd.weight", 1, n_embd, n_vocab, why);
    expect_t(r, ts, n, "output.weight", 0, n_embd, n_vocab, why);
    snprintf(why, sizeof why, "embedding_length %llu", (unsigned long long)n_embd);
    expect_t(r, ts, n, "output_norm.weight", 1, n_embd, 0, why);
    char nm[96], w2[200];
    for (uint64_t l = 0; l < n_layer; l++) {
        snprintf(why, sizeof why, "embedding_length %llu", (unsigned long long)n_embd);
        snprintf(nm, sizeof nm, "blk.%llu.attn_norm.weight", (unsigned long long)l);
        expect_t(r, ts, n, nm, 1, n_embd, 0, why);
        snprintf(nm, sizeof nm, "blk.%llu.ffn_norm.weight", (unsigned long long)l);
        expect_t(r, ts, n, nm, 1, n_embd, 0, why);
        snprintf(w2, sizeof w2, "embedding_length %llu, head_count %llu, head_count_kv %llu, head dim %llu",
                 (unsigned long long)n_embd, (unsigned long long)n_head,
                 (unsigned long long)n_head_kv, (unsigned long long)hd_k);
        snprintf(nm, sizeof nm, "blk.%llu.attn_q.weight", (unsigned long long)l);
        expect_t(r, ts, n, nm, 1, n_embd, hd_k * n_head, w2);
        snprintf(nm, sizeof nm, "blk.%llu.attn_k.weight", (unsigned long long)l);
        expect_t(r, ts, n, nm, 1, n_embd, hd_k * n_head_kv, w2);
        snprintf(nm, sizeof nm, "blk.%llu.attn_v.weight", (unsigned long long)l);
        expect_t(r, ts, n, nm, 1, n_embd, hd_v * n_head_kv, w2);
        snprintf(nm, sizeof nm, "blk.%llu.attn_output.weight", (unsigned long long)l);
        expect_t(r, ts, n, nm, 1, hd_v * n_head, n_embd, w2);
        if (n_expert) continue; /* mixture of experts: ffn_*_exps, not checked here */
        snprintf(why, sizeof why, "embedding_length %llu, feed_forward_length %llu",
                 (unsigned long long)n_embd, (unsigned long long)n_ff);
        snprintf(nm, sizeof nm, "blk.%llu.ffn_gate.weight", (unsigned long long)l);
        expect_t(r, ts, n, nm, 1, n_embd, n_ff, why);
        snprintf(nm, sizeof nm, "blk.%llu.ffn_up.weight", (unsigned long long)l);
        expect_t(r, ts, n, nm, 1, n_embd, n_ff, why);
        snprintf(nm, sizeof nm, "blk.%llu.ffn_down.weight", (unsigned long long)l);
        expect_t(r, ts, n, nm, 1, n_ff, n_embd, why);
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Whole files                                                                                  */

static gk_vreport *new_report(gk_vreport **reps, size_t *n, const char *path) {
    gk_vreport *nr = realloc(*reps, (*n + 1) * sizeof *nr);
    if (!nr) return NULL;
    *reps = nr;
    gk_vreport *r = &nr[*n];
    memset(r, 0, sizeof *r);
    r->path = strdup(path);
    if (!r->path) return NULL;
    (*n)++;
    return r;
}

static const char LFS_MAGIC[] = "version https://git-lfs.github.com/spec/v1";

/* Why the reader refused: a truncated download gets a diagnosis (bytes missing, which tensors
 * are incomplete); anything else is the reader's message. */
static void reader_rejection(gk_vreport *r, const char *path, const gk_err *e) {
    if (e->status == GK_E_OUT_OF_BOUNDS || e->status == GK_E_TRUNCATED) {
        gk_gguf *g = NULL;
        gk_err e2 = {0};
        if (gk_gguf_open(path, GK_READ_NO_BOUNDS, &g, &e2) == GK_OK) {
            uint64_t end = g->data_end;
            uint64_t padded = (end + g->alignment - 1) / g->alignment * g->alignment;
            if (end > g->file_size) {
                gk_vreport_add(r, GK_SEV_ERROR, "truncated", NULL, NULL, (int64_t)g->file_size,
                               "the file is truncated (an incomplete download?): %llu bytes, but "
                               "the tensor data runs to %llu: %llu bytes missing (%llu with the "
                               "final padding)", (unsigned long long)g->file_size,
                               (unsigned long long)end, (unsigned long long)(end - g->file_size),
                               (unsigned long long)(padded - g->file_size));
                uint64_t listed = 0;
                for (uint64_t i = 0; i < g->n_tensors; i++) {
                    const gk_tensor *t = &g->tensors[i];
                    uint64_t a = g->data_start + t->offset, b = a + t->nbytes;
                    if (b <= g->file_size) continue;
                    uint64_t have = a >= g->file_size ? 0 : g->file_size - a;
                    T_NAME(t, nm);
                    if (listed++ < 64 || i + 1 == g->n_tensors)
                        gk_vreport_add(r, GK_SEV_ERROR, "incomplete_tensor", nm, NULL, (int64_t)a,
                                       "tensor '%s' [offset %llu, %llu bytes]: %s", nm ? nm : "?",
                                       (unsigned long long)a, (unsigned long long)t->nbytes,
                                       have ? "incomplete" : "absent");
                    free(nm);
                }
                if (listed > 65)
                    gk_vreport_add(r, GK_SEV_NOTE, "incomplete_tensor", NULL, NULL, -1,
                                   "%llu incomplete tensors in all (not all listed)",
                                   (unsigned long long)listed);
                /* the complete tensors can still be checked */
                size_t before = r->n;
                gk_validate_header(r, g);
                for (size_t i = before; i < r->n; i++) /* already said: truncated */
                    if (!strcmp(r->f[i].code, "no_final_padding")) {
                        free(r->f[i].message);
                        free(r->f[i].tensor);
                        free(r->f[i].key);
                        memmove(&r->f[i], &r->f[i + 1], (r->n - i - 1) * sizeof r->f[i]);
                        r->n--;
                        r->n_warnings--;
                        break;
                    }
                validate_data(r, g, NULL, &e2);
                gk_gguf_close(g);
                return;
            }
            /* all tensor data is there: only the final padding is missing (or cut short) */
            gk_validate_header(r, g);
            validate_data(r, g, NULL, &e2);
            const gk_tensor **ts = malloc((g->n_tensors ? g->n_tensors : 1) * sizeof *ts);
            if (ts) {
                for (uint64_t i = 0; i < g->n_tensors; i++) ts[i] = &g->tensors[i];
                gk_validate_model(r, g, ts, g->n_tensors);
                free(ts);
            }
            gk_gguf_close(g);
            return;
        }
    }
    gk_vreport_add(r, GK_SEV_ERROR, gk_status_name(e->status), NULL, NULL,
                   e->has_offset ? (int64_t)e->offset : -1, "%s", e->msg);
}

/* split.no / split.count / split.tensors.count in every part agree with the set. */
static void check_split_keys(gk_vreport *r, const gk_model *m) {
    static const char *const keys[3] = {"split.no", "split.count", "split.tensors.count"};
    for (uint32_t p = 0; p < m->n_parts; p++) {
        const gk_gguf *g = m->parts[p];
        uint64_t want[3] = {p, m->n_parts, m->n_tensors};
        for (int k = 0; k < 3; k++) {
            uint64_t v = 0;
            int got = kv_u64(g, keys[k], &v);
            const gk_kv *kv = find_kv(g, keys[k]);
            if (got == 1 && v == want[k]) continue;
            if (got == 1)
                gk_vreport_add(r, GK_SEV_ERROR, "split", NULL, keys[k], (int64_t)kv->offset,
                               "%s: %s = %llu, but the set says %llu", m->paths[p], keys[k],
                               (unsigned long long)v, (unsigned long long)want[k]);
            else
                gk_vreport_add(r, GK_SEV_ERROR, "split", NULL, keys[k], -1, "%s: %s is %s",
                               m->paths[p], keys[k], got == 0 ? "missing" : "not an integer");
        }
    }
}

static gk_status validate_file(const char *path, const gk_validate_opts *o, gk_vreport **reps,
                               size_t *n_reps, gk_err *err) {
    gk_vreport *r = new_report(reps, n_reps, path);
    if (!r) return gk_err_set(err, GK_E_NOMEM, "out of memory");
    size_t ri = *n_reps - 1;
    gk_model *m = NULL;
    gk_err e = {0};
    gk_status st = gk_model_open(path, 0, &m, &e);
    if (st == GK_E_NOMEM) return gk_err_set(err, st, "%s", e.msg);
    if (st != GK_OK) {
        /* the set is broken (a part missing, split.* keys disagree) or the file itself is */
        gk_gguf *g = NULL;
        gk_err e1 = {0};
        gk_status s1 = gk_gguf_open(path, 0, &g, &e1);
        if (s1 != GK_OK) {
            reader_rejection(r, path, &e1);
            return GK_OK;
        }
        gk_vreport_add(r, GK_SEV_ERROR, st == GK_E_SPLIT ? "split" : gk_status_name(st), NULL, NULL,
                       e.has_offset ? (int64_t)e.offset : -1, "%s", e.msg);
        gk_validate_header(r, g);
        if (!o || !o->no_data) {
            st = validate_data(r, g, o, err);
            if (st != GK_OK) { gk_gguf_close(g); return st; }
        }
        gk_gguf_close(g);
        return GK_OK;
    }
    gk_status ret = GK_OK;
    for (uint32_t p = 0; p < m->n_parts && ret == GK_OK; p++) {
        gk_vreport *rp;
        if (p == 0) rp = &(*reps)[ri];
        else if (!(rp = new_report(reps, n_reps, m->paths[p]))) {
            ret = gk_err_set(err, GK_E_NOMEM, "out of memory");
            break;
        }
        gk_validate_header(rp, m->parts[p]);
        if (!o || !o->no_data) ret = validate_data(rp, m->parts[p], o, err);
    }
    if (ret == GK_OK && m->n_parts > 1) check_split_keys(&(*reps)[ri], m);
    if (ret == GK_OK) {
        const gk_tensor **ts = malloc((m->n_tensors ? m->n_tensors : 1) * sizeof *ts);
        if (!ts) ret = gk_err_set(err, GK_E_NOMEM, "out of memory");
        else {
            for (uint64_t i = 0; i < m->n_tensors; i++) ts[i] = m->tensors[i].t;
            gk_validate_model(&(*reps)[ri], m->parts[0], ts, m->n_tensors);
            free(ts);
        }
    }
    gk_model_close(m);
    return ret;
}

gk_status gk_validate_path(const char *path, const gk_validate_opts *opts, gk_vreport **reps,
                           size_t *n_reps, gk_err *err) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return gk_err_set(err, GK_E_IO, "%s: %s", path, strerror(errno));
    char head[64];
    ssize_t k = read(fd, head, sizeof head);
    close(fd);
    if (k < 0) return gk_err_set(err, GK_E_IO, "%s: %s", path, strerror(errno));
    size_t ml = sizeof LFS_MAGIC - 1;
    if ((size_t)k >= ml && !memcmp(head, LFS_MAGIC, ml)) {
        gk_vreport *r = new_report(reps, n_reps, path);
        if (!r) return gk_err_set(err, GK_E_NOMEM, "out of memory");
        gk_vreport_add(r, GK_SEV_ERROR, "lfs_pointer", NULL, NULL, 0,
                       "this is a Git LFS pointer, not a GGUF file: run git lfs pull");
        return GK_OK;
    }
    if (gk_bundle_sniff(path) > 0) return gk_bundle_validate(path, opts, reps, n_reps, err);
    return validate_file(path, opts, reps, n_reps, err);
}
