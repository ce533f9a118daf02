/* The write step: a plan -> GGUF file(s).
 *
 * Header, KVs and tensor infos go through the GGUF writer (gk_writer_begin); tensor data then
 * flows through a bounded pool of worker threads: source rows -> f32 -> (permute) -> quantize
 * -> gk_writer_write_at at the rows' planned positions. Sources feed bytes as pieces, either in
 * plan order (memory-mapped sources) or in their own order (archives streamed forward); either
 * way every output byte lands at a position fixed by the plan, so the file does not depend on
 * the order the bytes arrived in, nor on the thread count.
 *
 * Memory: one batch buffer of (threads x rows_per_task) input rows, plus per thread one f32 and
 * one output buffer of rows_per_task rows; rows_per_task is chosen so a task holds about
 * chunk_bytes of f32. Nothing scales with the model size (a single row larger than chunk_bytes
 * is the one exception: it is processed whole). */
#include "gk_convert.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct wtensor {
    uint64_t rows_per_task;        /* input rows per task */
    uint64_t in_row_bytes;         /* bytes of one input row (ne[0] source elements) */
    uint64_t rows_done;
    uint64_t next_off;             /* streaming: next expected source offset */
} wtensor;

typedef struct wctx {
    const gk_cv_plan *p;
    const gk_cv_source *src;
    const gk_kctx *k;
    gk_writer **w;
    gk_pool *pool;
    int nth;
    int64_t *src2out;
    wtensor *wt;
    /* batch accumulation (streaming pieces that do not hold whole batches) */
    uint8_t *acc;
    size_t acc_cap, acc_len;
    int64_t acc_out;               /* output tensor the accumulated rows belong to, -1 none */
    uint64_t acc_row0;
    /* per-thread buffers */
    float **fbuf;
    uint8_t **obuf;
    /* current job */
    const uint8_t *job_data;
    uint64_t job_out, job_row0, job_nrows;
    pthread_mutex_t mu;
    gk_status job_st;
    gk_err job_err;
    const volatile int *cancel;
    /* progress */
    int progress;
    atomic_ullong done_bytes;
    struct timespec last;
} wctx;

/* Bytes of one row of ne0 elements of source type t (0 if it cannot be read). */
static uint64_t in_row_bytes(const gk_kctx *k, uint32_t t, uint64_t ne0) {
    switch (t) {
    case GK_TYPE_F64: return 8 * ne0;
    case GK_TYPE_F32: return 4 * ne0;
    case GK_TYPE_F16: case GK_TYPE_BF16: return 2 * ne0;
    default: {
        int ok = 1;
        uint64_t b = gk_type_nbytes(t, ne0, &ok);
        return ok && t < GK_TYPE_COUNT && k->fn[t].to_float ? b : 0;
    }
    }
}

/* Source rows to f32: plain float types here; any other type through its kernel (for plans
 * whose sources are GGUF tensors, e.g. re-quantization). */
static void to_f32(const gk_kctx *k, uint32_t t, const uint8_t *in, float *out, uint64_t n) {
    switch (t) {
    case GK_TYPE_F32: memcpy(out, in, n * 4); break;
    case GK_TYPE_F16:
        for (uint64_t i = 0; i < n; i++) {
            uint16_t h;
            memcpy(&h, in + 2 * i, 2);
            out[i] = gk_fp16_to_fp32(h);
        }
        break;
    case GK_TYPE_BF16:
        for (uint64_t i = 0; i < n; i++) {
            uint16_t h;
            memcpy(&h, in + 2 * i, 2);
            out[i] = gk_bf16_to_fp32(h);
        }
        break;
    case GK_TYPE_F64:
        for (uint64_t i = 0; i < n; i++) {
            double d;
            memcpy(&d, in + 8 * i, 8);
            out[i] = (float)d;
        }
        break;
    default: k->fn[t].to_float(in, out, (int64_t)n); break;
    }
}

static void from_f32(const gk_kctx *k, uint32_t t, const float *in, uint8_t *out, uint64_t nrows,
                     uint64_t ne0) {
    uint64_t n = nrows * ne0;
    switch (t) {
    case GK_TYPE_F32: memcpy(out, in, n * 4); break;
    case GK_TYPE_F16:
        for (uint64_t i = 0; i < n; i++) {
            uint16_t h = gk_fp32_to_fp16(in[i]);
            memcpy(out + 2 * i, &h, 2);
        }
        break;
    case GK_TYPE_BF16:
        for (uint64_t i = 0; i < n; i++) {
            uint16_t h = gk_fp32_to_bf16(in[i]);
            memcpy(out + 2 * i, &h, 2);
        }
        break;
    default: k->fn[t].quantize(in, out, (int64_t)nrows, (int64_t)ne0, NULL); break;
    }
}

static void job_fail(wctx *c, const gk_err *e) {
    pthread_mutex_lock(&c->mu);
    if (!c->job_st) {
        c->job_st = e->status ? e->status : GK_E_IO;
        c->job_err = *e;
    }
    pthread_mutex_unlock(&c->mu);
}

static void progress_tick(wctx *c, uint64_t bytes, int force) {
    uint64_t done = atomic_fetch_add(&c->done_bytes, bytes) + bytes;
    if (!c->progress) return;
    if (pthread_mutex_trylock(&c->mu) != 0) return;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    double dt = (double)(now.tv_sec - c->last.tv_sec) + (now.tv_nsec - c->last.tv_nsec) / 1e9;
    if (force || dt >= 0.2) {
        c->last = now;
        uint64_t tot = c->p->total_bytes ? c->p->total_bytes : 1;
        int pct = (int)(done * 100 / tot);
        int bar = pct * 30 / 100;
        char b[31];
        for (int i = 0; i < 30; i++) b[i] = i < bar ? '#' : '.';
        b[30] = 0;
        fprintf(stderr, "\rconvert [%s] %3d%%  %.1f / %.1f MB", b, pct, done / 1e6, tot / 1e6);
        fflush(stderr);
    }
    pthread_mutex_unlock(&c->mu);
}

/* One task: input rows [a, b) of the current job. */
static void task(void *ctx, int64_t ti, int thread) {
    wctx *c = ctx;
    const gk_cv_out_tensor *o = &c->p->t[c->job_out];
    const wtensor *wt = &c->wt[c->job_out];
    uint64_t a = (uint64_t)ti * wt->rows_per_task;
    uint64_t b = a + wt->rows_per_task;
    if (b > c->job_nrows) b = c->job_nrows;
    if (a >= b || c->job_st) return;
    uint64_t nr = b - a, ne0 = o->ne[0];
    float *f = c->fbuf[thread];
    uint8_t *q = c->obuf[thread];
    const uint8_t *in = c->job_data + a * wt->in_row_bytes;
    uint32_t st = o->src < 0 ? GK_TYPE_F32 : o->src_type;
    gk_err e = {0};
    gk_writer *w = c->w[o->split];
    uint64_t row0 = c->job_row0 + a;
    if (o->xform == GK_XF_PERMUTE && o->n_dims == 1) {
        /* a permuted bias: one row, elements gathered in output order */
        float *tmp = f + ne0;
        to_f32(c->k, st, in, tmp, ne0);
        for (uint64_t r = 0; r < ne0; r++) f[r] = tmp[gk_cv_permute_src_row(r, ne0, o->perm_heads)];
    } else {
        to_f32(c->k, st, in, f, nr * ne0);
    }
    from_f32(c->k, o->type, f, q, nr, ne0);
    gk_status s = GK_OK;
    if (o->xform == GK_XF_PERMUTE && o->n_dims == 2) {
        /* input row j -> output row: h*hd + p*half + i -> h*hd + 2i + p */
        uint64_t rows = o->ne[1], hd = rows / o->perm_heads, half = hd / 2;
        for (uint64_t j = 0; j < nr && !s; j++) {
            uint64_t r = row0 + j, h = r / hd, w2 = r % hd, p = w2 / half, i = w2 % half;
            uint64_t dst = h * hd + 2 * i + p;
            s = gk_writer_write_at(w, o->split_index, dst * o->row_bytes, q + j * o->row_bytes,
                                   (size_t)o->row_bytes, &e);
        }
    } else {
        s = gk_writer_write_at(w, o->split_index, row0 * o->row_bytes, q, (size_t)(nr * o->row_bytes),
                               &e);
    }
    if (s) job_fail(c, &e);
    progress_tick(c, nr * o->row_bytes, 0);
}

/* Processes nrows whole input rows of output tensor oi starting at input row row0. */
static gk_status run_rows(wctx *c, uint64_t oi, uint64_t row0, const uint8_t *data, uint64_t nrows,
                          gk_err *err) {
    wtensor *wt = &c->wt[oi];
    if (c->cancel && *c->cancel) return gk_err_set(err, GK_E_IO, "interrupted");
    c->job_data = data;
    c->job_out = oi;
    c->job_row0 = row0;
    c->job_nrows = nrows;
    int64_t ntasks = (int64_t)((nrows + wt->rows_per_task - 1) / wt->rows_per_task);
    if (ntasks == 1) task(c, 0, 0);
    else gk_pool_run(c->pool, ntasks, task, c);
    if (c->job_st) {
        if (err) *err = c->job_err;
        return c->job_st;
    }
    wt->rows_done += nrows;
    return GK_OK;
}

static gk_status flush_acc(wctx *c, gk_err *err) {
    if (c->acc_out < 0 || !c->acc_len) return GK_OK;
    uint64_t oi = (uint64_t)c->acc_out;
    uint64_t nrows = c->acc_len / c->wt[oi].in_row_bytes;
    gk_status s = run_rows(c, oi, c->acc_row0, c->acc, nrows, err);
    c->acc_len = 0;
    c->acc_row0 += nrows;
    return s;
}

/* Bytes [off, off+n) of output tensor oi's source. */
static gk_status feed(wctx *c, uint64_t oi, uint64_t off, const uint8_t *data, size_t n, gk_err *err) {
    const gk_cv_out_tensor *o = &c->p->t[oi];
    wtensor *wt = &c->wt[oi];
    uint64_t total = o->n_rows * wt->in_row_bytes;
    gk_status s;
    if (off != wt->next_off || n > total - off)
        return gk_err_set(err, GK_E_INTERNAL, "tensor '%s': source bytes out of order", o->name);
    if (c->acc_out != (int64_t)oi) {
        if (c->acc_len)
            return gk_err_set(err, GK_E_TRUNCATED, "tensor '%s': source data incomplete",
                              c->p->t[c->acc_out].name);
        c->acc_out = (int64_t)oi;
        c->acc_row0 = off / wt->in_row_bytes;
    }
    uint64_t batch_rows = wt->rows_per_task * (uint64_t)c->nth;
    if (batch_rows > o->n_rows) batch_rows = o->n_rows;
    uint64_t batch_bytes = batch_rows * wt->in_row_bytes;
    while (n > 0) {
        if (c->acc_len == 0 && n >= batch_bytes) {
            /* whole batches straight from the source's memory */
            uint64_t rows = (n / wt->in_row_bytes);
            rows -= rows % batch_rows;
            for (uint64_t r = 0; r < rows; r += batch_rows) {
                if ((s = run_rows(c, oi, c->acc_row0, data, batch_rows, err))) return s;
                if (c->src->release && !c->src->streamed && o->src >= 0)
                    c->src->release(c->src, data, (size_t)batch_bytes);
                c->acc_row0 += batch_rows;
                data += batch_bytes;
            }
            n -= rows * wt->in_row_bytes;
            wt->next_off += rows * wt->in_row_bytes;
            continue;
        }
        size_t take = batch_bytes - c->acc_len;
        if (take > n) take = n;
        memcpy(c->acc + c->acc_len, data, take);
        c->acc_len += take;
        data += take;
        n -= take;
        wt->next_off += take;
        if (c->acc_len == batch_bytes || wt->next_off == total) {
            size_t whole = c->acc_len - c->acc_len % wt->in_row_bytes;
            size_t rest = c->acc_len - whole;
            c->acc_len = whole;
            if ((s = flush_acc(c, err))) return s;
            if (rest) {
                memmove(c->acc, c->acc + whole, rest);
                c->acc_len = rest;
            }
        }
    }
    if (wt->next_off == total) {
        if (c->acc_len) return gk_err_set(err, GK_E_INTERNAL, "tensor '%s': partial row", o->name);
        c->acc_out = -1;
    }
    return GK_OK;
}

static gk_status piece(void *ctx, uint64_t t, uint64_t off, const void *data, size_t n, gk_err *err) {
    wctx *c = ctx;
    if (t >= c->src->n_tensors) return gk_err_set(err, GK_E_INTERNAL, "source tensor %llu out of range",
                                                  (unsigned long long)t);
    int64_t oi = c->src2out[t];
    if (oi < 0) return GK_OK; /* not converted (tied lm_head, dropped buffers) */
    return feed(c, (uint64_t)oi, off, data, n, err);
}

size_t gk_cv_split_path(char *buf, size_t cap, const char *out, uint32_t k, uint32_t n) {
    if (n <= 1) return (size_t)snprintf(buf, cap, "%s", out);
    size_t len = strlen(out);
    if (len > 5 && !strcmp(out + len - 5, ".gguf")) len -= 5;
    char *prefix = malloc(len + 1);
    if (!prefix) return SIZE_MAX;
    memcpy(prefix, out, len);
    prefix[len] = '\0';
    size_t r = gk_split_path(buf, cap, prefix, k, n); /* llama_split_path's naming */
    free(prefix);
    return r;
}

static void set_kv_u16(gk_kv *kv, const char *key, uint16_t v) {
    memset(kv, 0, sizeof *kv);
    kv->key.ptr = key;
    kv->key.len = strlen(key);
    kv->val.type = GK_V_U16;
    kv->val.v.u16 = v;
}

static gk_status open_writers(wctx *c, const gk_cv_write_opts *o, gk_err *err) {
    const gk_cv_plan *p = c->p;
    uint32_t ns = p->n_splits ? p->n_splits : 1;
    gk_kv *kv = malloc((p->n_kv + 3) * sizeof *kv);
    gk_tensor *ts = calloc(p->n_t ? p->n_t : 1, sizeof *ts);
    gk_status s = GK_OK;
    if (!kv || !ts) {
        s = gk_err_set(err, GK_E_NOMEM, "write: out of memory");
        goto out;
    }
    for (uint32_t k = 0; k < ns; k++) {
        char path[4096];
        if (gk_cv_split_path(path, sizeof path, o->out_path, k, ns) >= sizeof path) {
            s = gk_err_set(err, GK_E_INVALID_ARG, "output path too long");
            goto out;
        }
        uint64_t nkv = 0, nt = 0;
        if (k == 0) {
            memcpy(kv, p->kv, p->n_kv * sizeof *kv);
            nkv = p->n_kv;
        }
        if (ns > 1) {
            set_kv_u16(&kv[nkv++], "split.no", (uint16_t)k);
            set_kv_u16(&kv[nkv++], "split.count", (uint16_t)ns);
            gk_kv *e = &kv[nkv++];
            memset(e, 0, sizeof *e);
            e->key.ptr = "split.tensors.count";
            e->key.len = strlen(e->key.ptr);
            e->val.type = GK_V_I32;
            e->val.v.i32 = (int32_t)p->n_t;
        }
        for (uint64_t i = 0; i < p->n_t; i++) {
            const gk_cv_out_tensor *t = &p->t[i];
            if (t->split != k) continue;
            gk_tensor *g = &ts[nt++];
            memset(g, 0, sizeof *g);
            g->name.ptr = t->name;
            g->name.len = strlen(t->name);
            g->n_dims = t->n_dims;
            for (int d = 0; d < GK_MAX_DIMS; d++) g->ne[d] = t->ne[d];
            g->type = t->type;
        }
        if ((s = gk_writer_open(path, NULL, &c->w[k], err))) goto out;
        if ((s = gk_writer_begin(c->w[k], kv, nkv, ts, nt, err))) goto out;
    }
out:
    free(kv);
    free(ts);
    return s;
}

gk_status gk_cv_write(const gk_cv_plan *p, gk_cv_source *src, const gk_kctx *k,
                      const gk_cv_write_opts *o, gk_err *err) {
    if (!p || !src || !k || !o || !o->out_path)
        return gk_err_set(err, GK_E_INVALID_ARG, "write: NULL argument");
    if (p->n_splits > 65535) return gk_err_set(err, GK_E_INVALID_ARG, "too many splits (%u)", p->n_splits);
    wctx c;
    memset(&c, 0, sizeof c);
    c.p = p;
    c.src = src;
    c.k = k;
    c.acc_out = -1;
    c.progress = o->progress;
    c.cancel = o->cancel;
    atomic_init(&c.done_bytes, 0);
    clock_gettime(CLOCK_MONOTONIC, &c.last);
    pthread_mutex_init(&c.mu, NULL);
    size_t chunk = o->chunk_bytes ? o->chunk_bytes : (4u << 20);
    uint32_t ns = p->n_splits ? p->n_splits : 1;
    gk_status s = gk_pool_create(o->n_threads, &c.pool, err);
    if (s) goto done;
    c.nth = gk_pool_size(c.pool);
    c.w = calloc(ns, sizeof *c.w);
    c.wt = calloc(p->n_t ? p->n_t : 1, sizeof *c.wt);
    c.src2out = malloc((src->n_tensors ? src->n_tensors : 1) * sizeof *c.src2out);
    c.fbuf = calloc((size_t)c.nth, sizeof *c.fbuf);
    c.obuf = calloc((size_t)c.nth, sizeof *c.obuf);
    if (!c.w || !c.wt || !c.src2out || !c.fbuf || !c.obuf) {
        s = gk_err_set(err, GK_E_NOMEM, "write: out of memory");
        goto done;
    }
    for (uint64_t i = 0; i < src->n_tensors; i++) c.src2out[i] = -1;
    /* per-tensor task sizes and the buffer bounds they imply */
    size_t fmax = 0, omax = 0, amax = 0;
    for (uint64_t i = 0; i < p->n_t; i++) {
        const gk_cv_out_tensor *t = &p->t[i];
        wtensor *wt = &c.wt[i];
        if (t->src >= 0) {
            if ((uint64_t)t->src >= src->n_tensors) {
                s = gk_err_set(err, GK_E_INTERNAL, "plan does not match the source");
                goto done;
            }
            c.src2out[t->src] = (int64_t)i;
        }
        uint32_t st = t->src < 0 ? GK_TYPE_F32 : t->src_type;
        wt->in_row_bytes = in_row_bytes(k, st, t->ne[0]);
        if (!wt->in_row_bytes) {
            s = gk_err_set(err, GK_E_UNSUPPORTED, "tensor '%s': cannot read source type %u", t->name, st);
            goto done;
        }
        uint64_t rpt = chunk / (t->ne[0] * 4);
        if (rpt < 1) rpt = 1;
        if (rpt > t->n_rows) rpt = t->n_rows ? t->n_rows : 1;
        if (t->xform == GK_XF_PERMUTE && t->n_dims == 1) rpt = 1;
        wt->rows_per_task = rpt;
        uint64_t f = rpt * t->ne[0] * ((t->xform == GK_XF_PERMUTE && t->n_dims == 1) ? 2 : 1);
        if (f > fmax) fmax = (size_t)f;
        if (rpt * t->row_bytes > omax) omax = (size_t)(rpt * t->row_bytes);
        uint64_t br = rpt * (uint64_t)c.nth;
        if (br > t->n_rows) br = t->n_rows;
        if (br * wt->in_row_bytes > amax) amax = (size_t)(br * wt->in_row_bytes);
    }
    for (int i = 0; i < c.nth; i++) {
        c.fbuf[i] = malloc((fmax ? fmax : 1) * sizeof(float));
        c.obuf[i] = malloc(omax ? omax : 1);
        if (!c.fbuf[i] || !c.obuf[i]) {
            s = gk_err_set(err, GK_E_NOMEM, "write: out of memory for worker buffers");
            goto done;
        }
    }
    c.acc_cap = amax;
    c.acc = malloc(amax ? amax : 1);
    if (!c.acc) {
        s = gk_err_set(err, GK_E_NOMEM, "write: out of memory for the batch buffer");
        goto done;
    }
    if ((s = open_writers(&c, o, err))) goto done;
    /* generated tensors */
    for (uint64_t i = 0; i < p->n_t; i++)
        if (p->t[i].xform == GK_XF_GENERATED)
            if ((s = feed(&c, i, 0, (const uint8_t *)p->t[i].gen, (size_t)(p->t[i].ne[0] * 4), err)))
                goto done;
    /* source tensors */
    if (src->streamed) {
        if (!src->stream) {
            s = gk_err_set(err, GK_E_INTERNAL, "streamed source without a stream function");
            goto done;
        }
        if ((s = src->stream(src, piece, &c, err))) goto done;
    } else {
        for (uint64_t i = 0; i < p->n_t; i++) {
            const gk_cv_out_tensor *t = &p->t[i];
            if (t->src < 0) continue;
            const gk_cv_src_tensor *sT = &src->tensors[t->src];
            if (!sT->data || sT->nbytes != t->n_rows * c.wt[i].in_row_bytes) {
                s = gk_err_set(err, GK_E_SIZE_MISMATCH, "tensor '%s': source data missing or of the "
                               "wrong size", sT->name);
                goto done;
            }
            if ((s = feed(&c, i, 0, sT->data, (size_t)sT->nbytes, err))) goto done;
            if (src->release) src->release(src, sT->data, (size_t)sT->nbytes);
        }
    }
    for (uint64_t i = 0; i < p->n_t; i++)
        if (c.wt[i].rows_done != p->t[i].n_rows) {
            s = gk_err_set(err, GK_E_TRUNCATED, "tensor '%s': the source delivered %llu of %llu rows",
                           p->t[i].name, (unsigned long long)c.wt[i].rows_done,
                           (unsigned long long)p->t[i].n_rows);
            goto done;
        }
    for (uint32_t k2 = 0; k2 < ns; k2++)
        if ((s = gk_writer_finish(c.w[k2], err))) goto done;
    if (c.progress) {
        progress_tick(&c, 0, 1);
        fputc('\n', stderr);
    }
done:
    if (s && c.progress && atomic_load(&c.done_bytes)) fputc('\n', stderr); /* end the bar's line */
    if (c.w)
        for (uint32_t k2 = 0; k2 < ns; k2++) gk_writer_free(c.w[k2]);
    free(c.w);
    if (c.fbuf)
        for (int i = 0; i < c.nth; i++) free(c.fbuf[i]);
    if (c.obuf)
        for (int i = 0; i < c.nth; i++) free(c.obuf[i]);
    free(c.fbuf);
    free(c.obuf);
    free(c.acc);
    free(c.wt);
    free(c.src2out);
    gk_pool_free(c.pool);
    pthread_mutex_destroy(&c.mu);
    return s;
}
