/* The converter's view of a checkpoint: gk_ckpt (format/ckpt*.c: directory, HF cache snapshot,
 * single .safetensors, or an archive) plus its tokenizer KVs (convert/tokenizer*.c). Indices of
 * gk_cv_source.tensors are the indices of gk_ckpt.tensors, so streamed chunks map 1:1. */
#include "gk_convert.h"
#include "gk_tokenizer.h"

#include <jansson.h>

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

typedef struct src_impl {
    gk_ckpt *ck;
    gk_tok_result *tok;
} src_impl;

static uint32_t map_dtype(gk_st_dtype d) {
    switch (d) {
    case GK_ST_F32: return GK_TYPE_F32;
    case GK_ST_F16: return GK_TYPE_F16;
    case GK_ST_BF16: return GK_TYPE_BF16;
    case GK_ST_F64: return GK_TYPE_F64;
    default: return UINT32_MAX;
    }
}

static gk_status tok_get(void *ctx, const char *name, const void **data, size_t *size, gk_err *err) {
    const uint8_t *d = NULL;
    size_t n = 0;
    gk_err e2 = {0};
    gk_status s = gk_ckpt_file_get((gk_ckpt *)ctx, name, &d, &n, &e2);
    if (s == GK_E_NOT_FOUND) return GK_E_NOT_FOUND;
    if (s) {
        if (err) *err = e2;
        return s;
    }
    *data = d;
    *size = n;
    return GK_OK;
}

static gk_status stream_fn(gk_cv_source *s, gk_cv_piece_fn fn, void *ctx, gk_err *err) {
    src_impl *im = s->impl;
    return gk_ckpt_stream(im->ck, 0, fn, ctx, err);
}

/* Directory and file sources are read-only private file mappings (gk_st_open): pages the
 * converter has finished with can be dropped (they would be read again from the file), which
 * keeps the resident set bounded by the batch size instead of growing to the model size. */
static void release_fn(const gk_cv_source *s, const void *p, size_t n) {
    (void)s;
    long pg = sysconf(_SC_PAGESIZE);
    if (pg <= 0 || !p || !n) return;
    uintptr_t a = (uintptr_t)p, b = a + n;
    uintptr_t lo = (a + (uintptr_t)pg - 1) & ~((uintptr_t)pg - 1), hi = b & ~((uintptr_t)pg - 1);
    if (hi > lo) madvise((void *)lo, hi - lo, MADV_DONTNEED);
}

static void impl_free(gk_cv_source *s) {
    src_impl *im = s->impl;
    if (!im) return;
    gk_tok_result_free(im->tok);
    gk_ckpt_close(im->ck);
    free(im);
}

static int64_t find_fn(const gk_cv_source *s, const char *name) {
    const src_impl *im = s->impl;
    return gk_ckpt_find_tensor(im->ck, name);
}

/* The tokenizer flags of the checkpoint's architecture (config.json architectures[0]); 0 when
 * unknown — the plan reports an unsupported architecture itself. */
static unsigned arch_tok_flags(gk_ckpt *ck) {
    const uint8_t *data = NULL;
    size_t len = 0;
    if (gk_ckpt_file_get(ck, "config.json", &data, &len, NULL) != GK_OK) return 0;
    json_t *cfg = json_loadb((const char *)data, len, 0, NULL);
    json_t *archs = json_is_object(cfg) ? json_object_get(cfg, "architectures") : NULL;
    const gk_cv_arch *a = gk_cv_arch_find(json_string_value(json_array_get(archs, 0)));
    json_decref(cfg);
    return a ? a->tok_flags : 0;
}

gk_status gk_cv_source_open_ex(const char *path, const char *force_pre, int want_tokenizer,
                               gk_cv_source **out, gk_err *err) {
    if (!path || !out) return gk_err_set(err, GK_E_INVALID_ARG, "source: NULL argument");
    *out = NULL;
    gk_cv_source *s = calloc(1, sizeof *s);
    src_impl *im = calloc(1, sizeof *im);
    if (!s || !im) {
        free(s);
        free(im);
        return gk_err_set(err, GK_E_NOMEM, "source: out of memory");
    }
    s->impl = im;
    s->impl_free = impl_free;
    s->find = find_fn;
    gk_status st = gk_ckpt_open(path, &im->ck, err);
    if (st) goto fail;
    gk_ckpt *ck = im->ck;
    s->name_hint = (char *)ck->name;
    const uint8_t *cfg = NULL;
    size_t cfg_len = 0;
    st = gk_ckpt_file_get(ck, "config.json", &cfg, &cfg_len, err);
    if (st == GK_E_NOT_FOUND) {
        st = gk_err_set(err, GK_E_NOT_FOUND, "%s: no config.json at the checkpoint's root", path);
        goto fail;
    }
    if (st) goto fail;
    s->config_json = (char *)cfg;
    s->config_len = cfg_len;
    s->n_tensors = ck->n_tensors;
    s->tensors = calloc(ck->n_tensors ? ck->n_tensors : 1, sizeof *s->tensors);
    if (!s->tensors) {
        st = gk_err_set(err, GK_E_NOMEM, "source: out of memory");
        goto fail;
    }
    uint64_t embd_rows = 0;
    for (uint64_t i = 0; i < ck->n_tensors; i++) {
        const gk_st_tensor *t = ck->tensors[i].t;
        gk_cv_src_tensor *d = &s->tensors[i];
        d->name = (char *)t->name;
        d->type = map_dtype(t->dtype);
        const char *dn = gk_st_dtype_name((int)t->dtype);
        snprintf(d->dtype, sizeof d->dtype, "%s", dn ? dn : "?");
        if (t->n_dims > GK_MAX_DIMS) {
            st = gk_err_set(err, GK_E_BAD_SHAPE, "tensor '%s': %u dimensions (at most %d)", t->name,
                            t->n_dims, GK_MAX_DIMS);
            goto fail;
        }
        d->n_dims = t->n_dims;
        for (uint32_t k = 0; k < t->n_dims; k++) d->shape[k] = t->shape[k];
        d->nbytes = t->nbytes;
        d->data = gk_ckpt_tensor_data(ck, i);
        if (!strcmp(t->name, "model.embed_tokens.weight") && t->n_dims == 2) embd_rows = t->shape[0];
    }
    s->streamed = ck->kind == GK_CKPT_ARCHIVE;
    if (!s->streamed) s->release = release_fn;
    s->stream = stream_fn;
    if (want_tokenizer) {
        gk_tok_inputs in;
        memset(&in, 0, sizeof in);
        in.get = tok_get;
        in.ctx = ck;
        in.n_vocab = embd_rows <= UINT32_MAX ? (uint32_t)embd_rows : 0;
        in.flags = arch_tok_flags(ck);
        st = gk_tokenizer_build(&in, force_pre, &im->tok, err);
        if (st) goto fail;
        s->tok_kv = im->tok->kv;
        s->n_tok_kv = im->tok->n_kv;
    }
    *out = s;
    return GK_OK;
fail:
    gk_cv_source_free(s);
    return st;
}

gk_status gk_cv_source_open(const char *path, gk_cv_source **out, gk_err *err) {
    return gk_cv_source_open_ex(path, NULL, 1, out, err);
}
