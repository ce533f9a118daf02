/* GGUF writer: ggml's byte layout (format-facts §1.9). Header, KVs in the given order, tensor
 * infos, zero padding to the alignment, then each tensor's bytes followed by zero padding (the
 * last one too). Output goes to "<dst>.tmp.XXXXXX" beside the destination and is renamed into
 * place by gk_writer_finish after fsync, or to a memory buffer. */
#include "gguf_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

enum { MODE_NONE = 0, MODE_SEQ = 1, MODE_AT = 2 };
enum { OBUF = 1 << 20, SCRATCH = 1 << 16 };

typedef struct wtensor {
    const char *name;         /* copy, for messages */
    uint64_t off, nbytes;
    uint32_t type;
    size_t unit;              /* swap unit (element or block bytes) */
    gk_byteswap_fn bs;        /* for quantized types in big-endian output */
    uint64_t got;             /* bytes received (write_at mode; atomic) */
    int hashed;
    uint64_t hi, lo;
} wtensor;

struct gk_writer {
    uint32_t ver, align;
    int be, raw, no_empty_pad;
    gk_byteswap_fn const *byteswap;
    /* sink */
    int fd;
    char *dst, *tmp;
    int is_mem;
    uint8_t *mem;
    size_t mem_len, mem_cap;
    uint8_t *obuf;
    size_t olen;
    uint64_t pos;
    /* state */
    int begun, finished, failed, mode;
    pthread_mutex_t mu;
    gk_arena names;
    uint64_t n_tensors;
    wtensor *t;
    uint64_t data_start, total;
    uint64_t cur, cur_done;
    XXH3_state_t *xs;
    uint8_t carry[512];
    size_t carry_n;
    uint8_t *scratch;
};

/* ---- sink -------------------------------------------------------------------------------- */

static gk_status write_all(int fd, const uint8_t *p, size_t n) {
    while (n) {
        ssize_t r = write(fd, p, n);
        if (r < 0) {
            if (errno == EINTR) continue;
            return GK_E_IO;
        }
        p += r;
        n -= (size_t)r;
    }
    return GK_OK;
}

static gk_status pwrite_all(int fd, const uint8_t *p, size_t n, uint64_t off) {
    while (n) {
        ssize_t r = pwrite(fd, p, n, (off_t)off);
        if (r < 0) {
            if (errno == EINTR) continue;
            return GK_E_IO;
        }
        p += r;
        n -= (size_t)r;
        off += (uint64_t)r;
    }
    return GK_OK;
}

static gk_status flush(gk_writer *w, gk_err *err) {
    if (w->is_mem || !w->olen) return GK_OK;
    if (write_all(w->fd, w->obuf, w->olen)) {
        w->failed = 1;
        return gk_err_set(err, GK_E_IO, "%s: write failed: %s", w->tmp, strerror(errno));
    }
    w->olen = 0;
    return GK_OK;
}

static gk_status emit(gk_writer *w, const void *data, size_t n, gk_err *err) {
    const uint8_t *p = data;
    if (!n) return GK_OK;
    w->pos += n;
    if (w->is_mem) {
        if (n > SIZE_MAX - w->mem_len) goto oom;
        if (w->mem_len + n > w->mem_cap) {
            size_t nc = w->mem_cap ? w->mem_cap : 4096;
            while (nc < w->mem_len + n) {
                if (nc > SIZE_MAX / 2) goto oom;
                nc *= 2;
            }
            uint8_t *nm = realloc(w->mem, nc);
            if (!nm) goto oom;
            w->mem = nm;
            w->mem_cap = nc;
        }
        memcpy(w->mem + w->mem_len, p, n);
        w->mem_len += n;
        return GK_OK;
    }
    while (n) {
        size_t k = OBUF - w->olen;
        if (k > n) k = n;
        memcpy(w->obuf + w->olen, p, k);
        w->olen += k;
        p += k;
        n -= k;
        if (w->olen == OBUF) {
            gk_status st = flush(w, err);
            if (st) return st;
        }
    }
    return GK_OK;
oom:
    w->failed = 1;
    return gk_err_set(err, GK_E_NOMEM, "out of memory growing the output buffer");
}

static gk_status emit_zeros(gk_writer *w, uint64_t n, gk_err *err) {
    static const uint8_t z[256];
    while (n) {
        size_t k = n > sizeof z ? sizeof z : (size_t)n;
        gk_status st = emit(w, z, k, err);
        if (st) return st;
        n -= k;
    }
    return GK_OK;
}

static gk_status emit_u32(gk_writer *w, uint32_t v, gk_err *err) {
    uint8_t b[4];
    gk_st32(b, v, w->be);
    return emit(w, b, 4, err);
}

static gk_status emit_u64(gk_writer *w, uint64_t v, gk_err *err) {
    uint8_t b[8];
    gk_st64(b, v, w->be);
    return emit(w, b, 8, err);
}

/* Counts, lengths, dims: u32 in v1 (range checked at begin). */
static gk_status emit_count(gk_writer *w, uint64_t v, gk_err *err) {
    return w->ver == 1 ? emit_u32(w, (uint32_t)v, err) : emit_u64(w, v, err);
}

static gk_status emit_str(gk_writer *w, gk_str s, gk_err *err) {
    gk_status st = emit_count(w, s.len, err);
    if (st || !s.len) return st;
    return emit(w, s.ptr, (size_t)s.len, err);
}

/* Elements of an array value (type and count already written). */
static gk_status emit_array_body(gk_writer *w, const gk_value *v, gk_err *err) {
    gk_status st;
    uint32_t et = v->arr.type;
    uint64_t n = v->arr.n;
    if (et == GK_V_STR) {
        const gk_str *s = v->arr.data;
        for (uint64_t i = 0; i < n; i++)
            if ((st = emit_str(w, s[i], err))) return st;
        return GK_OK;
    }
    if (et == GK_V_ARR) {
        const gk_value *e = v->arr.data;
        for (uint64_t i = 0; i < n; i++) {
            if ((st = emit_u32(w, e[i].arr.type, err))) return st;
            if ((st = emit_count(w, e[i].arr.n, err))) return st;
            if ((st = emit_array_body(w, &e[i], err))) return st;
        }
        return GK_OK;
    }
    size_t sz = gk_vtype_size(et);
    const uint8_t *src = v->arr.data;
    if (sz == 1) return emit(w, src, (size_t)n, err);
    uint8_t buf[4096];
    uint64_t per = sizeof buf / sz;
    for (uint64_t i = 0; i < n; i += per) {
        uint64_t k = n - i < per ? n - i : per;
        for (uint64_t j = 0; j < k; j++) gk_st_elem(buf + j * sz, src + (i + j) * sz, sz, w->be);
        if ((st = emit(w, buf, (size_t)(k * sz), err))) return st;
    }
    return GK_OK;
}

static gk_status emit_value(gk_writer *w, const gk_value *v, gk_err *err) {
    gk_status st;
    if (v->type == GK_V_STR) return emit_str(w, v->str, err);
    if (v->type == GK_V_ARR) {
        if ((st = emit_u32(w, v->arr.type, err))) return st;
        if ((st = emit_count(w, v->arr.n, err))) return st;
        return emit_array_body(w, v, err);
    }
    uint8_t b[8];
    size_t sz = gk_vtype_size(v->type);
    gk_st_elem(b, &v->v, sz, w->be);
    return emit(w, b, sz, err);
}

/* ---- validation -------------------------------------------------------------------------- */

static gk_status check_str(const gk_writer *w, gk_str s, const char *what, gk_err *err) {
    if (s.len && !s.ptr) return gk_err_set(err, GK_E_INVALID_ARG, "%s: NULL string", what);
    if (s.len > GK_MAX_STRING || (w->ver == 1 && s.len > UINT32_MAX))
        return gk_err_set(err, GK_E_INVALID_ARG, "%s: string of %" PRIu64 " bytes is too long",
                          what, s.len);
    return GK_OK;
}

static gk_status check_value(const gk_writer *w, const gk_value *v, int depth, const char *what,
                             gk_err *err) {
    uint32_t t = v->type;
    if (t >= GK_V_COUNT || (w->ver == 1 && t >= GK_V_U64))
        return gk_err_set(err, GK_E_INVALID_ARG, "%s: value type %" PRIu32 " cannot be written in "
                          "GGUF v%" PRIu32, what, t, w->ver);
    if (t == GK_V_STR) return check_str(w, v->str, what, err);
    if (t != GK_V_ARR) return GK_OK;
    if (depth > GK_MAX_NESTING)
        return gk_err_set(err, GK_E_NESTING, "%s: arrays nested deeper than %d", what, GK_MAX_NESTING);
    uint32_t et = v->arr.type;
    if (et >= GK_V_COUNT || (w->ver == 1 && et >= GK_V_U64))
        return gk_err_set(err, GK_E_INVALID_ARG, "%s: array element type %" PRIu32 " cannot be "
                          "written in GGUF v%" PRIu32, what, et, w->ver);
    if (w->ver == 1 && v->arr.n > UINT32_MAX)
        return gk_err_set(err, GK_E_INVALID_ARG, "%s: array too long for GGUF v1", what);
    if (v->arr.n && !v->arr.data) return gk_err_set(err, GK_E_INVALID_ARG, "%s: NULL array data", what);
    gk_status st;
    if (et == GK_V_STR) {
        const gk_str *s = v->arr.data;
        for (uint64_t i = 0; i < v->arr.n; i++)
            if ((st = check_str(w, s[i], what, err))) return st;
    } else if (et == GK_V_ARR) {
        const gk_value *e = v->arr.data;
        for (uint64_t i = 0; i < v->arr.n; i++) {
            if (e[i].type != GK_V_ARR)
                return gk_err_set(err, GK_E_INVALID_ARG, "%s: element %" PRIu64 " of a nested array "
                                  "is not an array", what, i);
            if ((st = check_value(w, &e[i], depth + 1, what, err))) return st;
        }
    }
    return GK_OK;
}

static gk_str wkey(const void *ctx, uint64_t i) { return ((const gk_kv *)ctx)[i].key; }
static gk_str wtname(const void *ctx, uint64_t i) { return ((const gk_tensor *)ctx)[i].name; }

static gk_status check_kvs(gk_writer *w, const gk_kv *kv, uint64_t n, gk_err *err) {
    gk_name_index ix = {0};
    gk_status st = GK_OK;
    char nm[112], what[160];
    for (uint64_t i = 0; i < n && !st; i++) {
        if ((st = check_str(w, kv[i].key, "key", err))) break;
        gk_name_fmt(nm, sizeof nm, kv[i].key.ptr, kv[i].key.len);
        snprintf(what, sizeof what, "key '%s'", nm);
        if (!kv[i].key.len) { st = gk_err_set(err, GK_E_EMPTY_KEY, "kv %" PRIu64 ": empty key", i); break; }
        int r = gk_name_index_add(&ix, kv[i].key, i, wkey, kv, NULL);
        if (r < 0) { st = gk_err_set(err, GK_E_NOMEM, "out of memory"); break; }
        if (r == 0) { st = gk_err_set(err, GK_E_DUP_KEY, "%s given twice", what); break; }
        if ((st = check_value(w, &kv[i].val, 1, what, err))) break;
        if (kv[i].key.len == 17 && memcmp(kv[i].key.ptr, "general.alignment", 17) == 0) {
            uint32_t a = kv[i].val.v.u32;
            if (kv[i].val.type != GK_V_U32 || a == 0 || (a & (a - 1)))
                st = gk_err_set(err, GK_E_BAD_ALIGNMENT, "general.alignment must be a u32 power of two");
            else if (w->align && a != w->align)
                st = gk_err_set(err, GK_E_INVALID_ARG, "general.alignment %" PRIu32 " disagrees "
                                "with the writer's alignment %" PRIu32, a, w->align);
            else
                w->align = a;
        }
    }
    gk_name_index_free(&ix);
    return st;
}

static gk_status check_tensors(gk_writer *w, const gk_tensor *t, uint64_t n, gk_err *err) {
    gk_name_index ix = {0};
    gk_status st = GK_OK;
    char nm[112];
    for (uint64_t i = 0; i < n && !st; i++) {
        if ((st = check_str(w, t[i].name, "tensor name", err))) break;
        gk_name_fmt(nm, sizeof nm, t[i].name.ptr, t[i].name.len);
        if (!t[i].name.len) { st = gk_err_set(err, GK_E_BAD_TENSOR_NAME, "tensor %" PRIu64 ": empty name", i); break; }
        int r = gk_name_index_add(&ix, t[i].name, i, wtname, t, NULL);
        if (r < 0) { st = gk_err_set(err, GK_E_NOMEM, "out of memory"); break; }
        if (r == 0) { st = gk_err_set(err, GK_E_DUP_TENSOR, "tensor '%s' given twice", nm); break; }
        if (t[i].n_dims > GK_MAX_DIMS) { st = gk_err_set(err, GK_E_BAD_NDIMS, "tensor '%s': n_dims %" PRIu32, nm, t[i].n_dims); break; }
        const gk_type_info *ti = gk_type_info_get(t[i].type);
        if (!ti) { st = gk_err_set(err, GK_E_BAD_TYPE, "tensor '%s': type id %" PRIu32, nm, t[i].type); break; }
        if (ti->flags & GK_TF_REMOVED) { st = gk_err_set(err, GK_E_REMOVED_TYPE, "tensor '%s': removed type id %" PRIu32, nm, t[i].type); break; }
        uint64_t nel = 1;
        int zero = 0;
        for (uint32_t d = 0; d < t[i].n_dims; d++) {
            uint64_t ne = t[i].ne[d];
            if (ne > (uint64_t)INT64_MAX || (w->ver == 1 && ne > UINT32_MAX)) { st = gk_err_set(err, GK_E_BAD_DIM, "tensor '%s': ne[%" PRIu32 "] = %" PRIu64 " too large", nm, d, ne); break; }
            zero |= ne == 0;
        }
        if (st) break;
        for (uint32_t d = 0; d < t[i].n_dims && !zero; d++) {
            if (nel > (uint64_t)INT64_MAX / t[i].ne[d]) { st = gk_err_set(err, GK_E_BAD_DIM, "tensor '%s': element count overflows", nm); break; }
            nel *= t[i].ne[d];
        }
        if (st) break;
        if (zero) nel = 0;
        uint64_t ne0 = t[i].n_dims ? t[i].ne[0] : 1;
        if (ne0 % ti->blck_size) { st = gk_err_set(err, GK_E_BAD_SHAPE, "tensor '%s': ne[0] = %" PRIu64 " is not a multiple of %s's block size %" PRIu32, nm, ne0, ti->name, ti->blck_size); break; }
        uint64_t blocks = nel / ti->blck_size;
        if (blocks > ((uint64_t)INT64_MAX - 4096) / ti->type_size) { st = gk_err_set(err, GK_E_OVERFLOW, "tensor '%s': byte size overflows", nm); break; }
        wtensor *o = &w->t[i];
        o->name = gk_arena_strdup(&w->names, nm, strlen(nm));
        o->nbytes = blocks * ti->type_size;
        o->type = t[i].type;
        o->unit = ti->type_size;
        if (w->be && !w->raw && (ti->flags & GK_TF_QUANTIZED) && o->nbytes) {
            o->bs = w->byteswap ? w->byteswap[t[i].type] : NULL;
            if (!o->bs) { st = gk_err_set(err, GK_E_UNSUPPORTED, "tensor '%s': no byte swap for type %s, cannot write it big-endian", nm, ti->name); break; }
        }
    }
    gk_name_index_free(&ix);
    return st;
}

/* ---- open / begin ------------------------------------------------------------------------ */

static gk_status writer_new(const gk_write_opts *opts, gk_writer **out, gk_err *err) {
    gk_write_opts o = {0};
    if (opts) o = *opts;
    if (o.version == 0) o.version = 3;
    if (o.version > 3) return gk_err_set(err, GK_E_INVALID_ARG, "cannot write GGUF version %" PRIu32, o.version);
    if (o.alignment & (o.alignment - 1))
        return gk_err_set(err, GK_E_BAD_ALIGNMENT, "alignment %" PRIu32 " is not a power of two", o.alignment);
    gk_writer *w = calloc(1, sizeof *w);
    if (!w) return gk_err_set(err, GK_E_NOMEM, "out of memory");
    w->ver = o.version;
    w->be = o.big_endian != 0;
    w->align = o.alignment;
    w->no_empty_pad = o.no_empty_padding != 0;
    w->byteswap = o.byteswap;
    w->fd = -1;
    pthread_mutex_init(&w->mu, NULL);
    *out = w;
    return GK_OK;
}

gk_status gk_writer_open(const char *dst, const gk_write_opts *opts, gk_writer **out, gk_err *err) {
    if (!dst || !out || !*dst) return gk_err_set(err, GK_E_INVALID_ARG, "gk_writer_open: NULL argument");
    *out = NULL;
    gk_writer *w = NULL;
    gk_status st = writer_new(opts, &w, err);
    if (st) return st;
    size_t n = strlen(dst);
    w->dst = malloc(n + 1);
    w->tmp = malloc(n + 16);
    w->obuf = malloc(OBUF);
    if (!w->dst || !w->tmp || !w->obuf) {
        gk_writer_free(w);
        return gk_err_set(err, GK_E_NOMEM, "out of memory");
    }
    memcpy(w->dst, dst, n + 1);
    snprintf(w->tmp, n + 16, "%s.tmp.XXXXXX", dst);
    w->fd = mkstemp(w->tmp);
    if (w->fd < 0) {
        int e = errno;
        w->tmp[0] = 0;
        gk_writer_free(w);
        return gk_err_set(err, GK_E_IO, "%s: cannot create a temporary file beside it: %s", dst, strerror(e));
    }
    *out = w;
    return GK_OK;
}

gk_status gk_writer_open_memory(const gk_write_opts *opts, gk_writer **out, gk_err *err) {
    if (!out) return gk_err_set(err, GK_E_INVALID_ARG, "gk_writer_open_memory: NULL argument");
    *out = NULL;
    gk_writer *w = NULL;
    gk_status st = writer_new(opts, &w, err);
    if (st) return st;
    w->is_mem = 1;
    *out = w;
    return GK_OK;
}

gk_status gk_writer_set_raw(gk_writer *w, int raw) {
    if (!w || w->begun) return GK_E_INVALID_ARG;
    w->raw = raw;
    return GK_OK;
}

static gk_status settle(gk_writer *w, gk_err *err);

gk_status gk_writer_begin(gk_writer *w, const gk_kv *kv, uint64_t n_kv, const gk_tensor *tensors,
                          uint64_t n_tensors, gk_err *err) {
    if (!w || (n_kv && !kv) || (n_tensors && !tensors))
        return gk_err_set(err, GK_E_INVALID_ARG, "gk_writer_begin: NULL argument");
    if (w->begun || w->failed) return gk_err_set(err, GK_E_INVALID_ARG, "gk_writer_begin called twice");
    if (w->ver == 1 && (n_kv > UINT32_MAX || n_tensors > UINT32_MAX))
        return gk_err_set(err, GK_E_INVALID_ARG, "too many records for GGUF v1");
    if (n_tensors > SIZE_MAX / sizeof(wtensor)) return gk_err_set(err, GK_E_NOMEM, "out of memory");
    gk_status st = check_kvs(w, kv, n_kv, err);
    if (st) return st;
    if (!w->align) w->align = GK_DEFAULT_ALIGNMENT;
    w->t = calloc(n_tensors ? (size_t)n_tensors : 1, sizeof(wtensor));
    w->scratch = malloc(SCRATCH);
    w->xs = XXH3_createState();
    if (!w->t || !w->scratch || !w->xs) return gk_err_set(err, GK_E_NOMEM, "out of memory");
    w->n_tensors = n_tensors;
    if ((st = check_tensors(w, tensors, n_tensors, err))) return st;
    uint64_t off = 0;
    for (uint64_t i = 0; i < n_tensors; i++) {
        w->t[i].off = off;
        uint64_t p = gk_pad_to(w->t[i].nbytes, w->align);
        if (off > (uint64_t)INT64_MAX - p) return gk_err_set(err, GK_E_OVERFLOW, "total data size overflows");
        off += p;
    }
    w->begun = 1;
    static const uint8_t magic[4] = {'G', 'G', 'U', 'F'};
    if ((st = emit(w, magic, 4, err)) || (st = emit_u32(w, w->ver, err)) ||
        (st = emit_count(w, n_tensors, err)) || (st = emit_count(w, n_kv, err)))
        return st;
    for (uint64_t i = 0; i < n_kv; i++) {
        if ((st = emit_str(w, kv[i].key, err)) || (st = emit_u32(w, kv[i].val.type, err)) ||
            (st = emit_value(w, &kv[i].val, err)))
            return st;
    }
    for (uint64_t i = 0; i < n_tensors; i++) {
        const gk_tensor *t = &tensors[i];
        if ((st = emit_str(w, t->name, err)) || (st = emit_u32(w, t->n_dims, err))) return st;
        for (uint32_t d = 0; d < t->n_dims; d++)
            if ((st = emit_count(w, t->ne[d], err))) return st;
        if ((st = emit_u32(w, t->type, err)) || (st = emit_u64(w, w->t[i].off, err))) return st;
    }
    w->data_start = gk_pad_to(w->pos, w->align);
    w->total = w->data_start + off;
    if (n_tensors || !w->no_empty_pad)
        if ((st = emit_zeros(w, w->data_start - w->pos, err))) return st;
    XXH3_128bits_reset(w->xs);
    return settle(w, err);
}

uint64_t gk_writer_tensor_offset(const gk_writer *w, uint64_t i) {
    return w && w->begun && i < w->n_tensors ? w->t[i].off : 0;
}

/* ---- sequential data --------------------------------------------------------------------- */

/* Finishes every tensor that has all its bytes: hash, padding. */
static gk_status settle(gk_writer *w, gk_err *err) {
    while (w->cur < w->n_tensors && w->cur_done == w->t[w->cur].nbytes) {
        wtensor *t = &w->t[w->cur];
        XXH128_hash_t h = XXH3_128bits_digest(w->xs);
        t->hi = h.high64;
        t->lo = h.low64;
        t->hashed = 1;
        gk_status st = emit_zeros(w, gk_pad_to(t->nbytes, w->align) - t->nbytes, err);
        if (st) return st;
        XXH3_128bits_reset(w->xs);
        w->cur++;
        w->cur_done = 0;
    }
    return GK_OK;
}

/* Emits k bytes of tensor t byte-swapped per unit, keeping a partial unit in w->carry. */
static gk_status emit_swapped(gk_writer *w, const wtensor *t, const uint8_t *p, size_t k,
                              gk_err *err) {
    size_t u = t->unit;
    gk_status st;
    while (k) {
        if (w->carry_n || k < u) {
            size_t c = u - w->carry_n < k ? u - w->carry_n : k;
            memcpy(w->carry + w->carry_n, p, c);
            w->carry_n += c;
            p += c;
            k -= c;
            if (w->carry_n == u) {
                if (t->bs) t->bs(w->carry, 1);
                else gk_swap_units(w->carry, u, u);
                if ((st = emit(w, w->carry, u, err))) return st;
                w->carry_n = 0;
            }
            continue;
        }
        size_t units = (SCRATCH / u) < k / u ? SCRATCH / u : k / u;
        size_t bytes = units * u;
        memcpy(w->scratch, p, bytes);
        if (t->bs) t->bs(w->scratch, units);
        else gk_swap_units(w->scratch, bytes, u);
        if ((st = emit(w, w->scratch, bytes, err))) return st;
        p += bytes;
        k -= bytes;
    }
    return GK_OK;
}

gk_status gk_writer_write(gk_writer *w, const void *data, size_t n, gk_err *err) {
    if (!w || (!data && n)) return gk_err_set(err, GK_E_INVALID_ARG, "gk_writer_write: NULL argument");
    if (!w->begun || w->finished || w->failed)
        return gk_err_set(err, GK_E_INVALID_ARG, "gk_writer_write: writer not begun, finished or failed");
    if (w->mode == MODE_AT)
        return gk_err_set(err, GK_E_INVALID_ARG, "gk_writer_write after gk_writer_write_at: mixing is not supported");
    w->mode = MODE_SEQ;
    const uint8_t *p = data;
    gk_status st;
    while (n) {
        if (w->cur >= w->n_tensors) {
            w->failed = 1;
            return gk_err_set(err, GK_E_INVALID_ARG, "%zu bytes more than the tensors hold", n);
        }
        wtensor *t = &w->t[w->cur];
        uint64_t left = t->nbytes - w->cur_done;
        size_t k = left < n ? (size_t)left : n;
        XXH3_128bits_update(w->xs, p, k);
        if (w->be && !w->raw && t->unit > 1) st = emit_swapped(w, t, p, k, err);
        else st = emit(w, p, k, err);
        if (st) { w->failed = 1; return st; }
        w->cur_done += k;
        p += k;
        n -= k;
        if ((st = settle(w, err))) { w->failed = 1; return st; }
    }
    return GK_OK;
}

/* ---- positional data --------------------------------------------------------------------- */

gk_status gk_writer_write_at(gk_writer *w, uint64_t ti, uint64_t off, const void *data, size_t n,
                             gk_err *err) {
    if (!w || (!data && n)) return gk_err_set(err, GK_E_INVALID_ARG, "gk_writer_write_at: NULL argument");
    if (w->is_mem) return gk_err_set(err, GK_E_UNSUPPORTED, "gk_writer_write_at needs a file writer");
    if (!w->begun || w->finished || w->failed)
        return gk_err_set(err, GK_E_INVALID_ARG, "gk_writer_write_at: writer not begun, finished or failed");
    if (ti >= w->n_tensors) return gk_err_set(err, GK_E_INVALID_ARG, "tensor index %" PRIu64 " out of range", ti);
    wtensor *t = &w->t[ti];
    if (off > t->nbytes || n > t->nbytes - off)
        return gk_err_set(err, GK_E_INVALID_ARG, "tensor '%s': write of %zu bytes at %" PRIu64
                          " runs past its %" PRIu64 " bytes", t->name, n, off, t->nbytes);
    int swap = w->be && !w->raw && t->unit > 1;
    if (swap && (off % t->unit || n % t->unit))
        return gk_err_set(err, GK_E_INVALID_ARG, "tensor '%s': big-endian positional writes must "
                          "cover whole %zu-byte units", t->name, t->unit);
    pthread_mutex_lock(&w->mu);
    gk_status st = GK_OK;
    if (w->mode == MODE_SEQ)
        st = gk_err_set(err, GK_E_INVALID_ARG, "gk_writer_write_at after gk_writer_write: mixing is not supported");
    else if (w->mode == MODE_NONE) {
        if (!(st = flush(w, err))) {
            if (ftruncate(w->fd, (off_t)w->total) != 0)
                st = gk_err_set(err, GK_E_IO, "%s: cannot extend to %" PRIu64 " bytes: %s", w->tmp,
                                w->total, strerror(errno));
            else
                w->mode = MODE_AT;
        }
    }
    pthread_mutex_unlock(&w->mu);
    if (st) return st;
    const uint8_t *p = data;
    uint64_t at = w->data_start + t->off + off;
    uint8_t *tmp = NULL;
    if (swap && n) {
        tmp = malloc(n);
        if (!tmp) return gk_err_set(err, GK_E_NOMEM, "out of memory");
        memcpy(tmp, data, n);
        if (t->bs) t->bs(tmp, n / t->unit);
        else gk_swap_units(tmp, n, t->unit);
        p = tmp;
    }
    if (pwrite_all(w->fd, p, n, at)) st = gk_err_set(err, GK_E_IO, "%s: write failed: %s", w->tmp, strerror(errno));
    free(tmp);
    if (st) return st;
    __atomic_fetch_add(&t->got, (uint64_t)n, __ATOMIC_RELAXED);
    return GK_OK;
}

/* Hashes of the tensors written positionally: read back (little-endian view). */
static gk_status hash_back(gk_writer *w, gk_err *err) {
    for (uint64_t i = 0; i < w->n_tensors; i++) {
        wtensor *t = &w->t[i];
        XXH3_128bits_reset(w->xs);
        uint64_t at = w->data_start + t->off, left = t->nbytes;
        size_t chunk = (SCRATCH / t->unit) * t->unit;
        while (left) {
            size_t k = left < chunk ? (size_t)left : chunk;
            ssize_t r = pread(w->fd, w->scratch, k, (off_t)at);
            if (r != (ssize_t)k) return gk_err_set(err, GK_E_IO, "%s: read back failed", w->tmp);
            if (w->be && !w->raw && t->unit > 1) {
                if (t->bs) t->bs(w->scratch, k / t->unit);
                else gk_swap_units(w->scratch, k, t->unit);
            }
            XXH3_128bits_update(w->xs, w->scratch, k);
            at += k;
            left -= k;
        }
        XXH128_hash_t h = XXH3_128bits_digest(w->xs);
        t->hi = h.high64;
        t->lo = h.low64;
        t->hashed = 1;
    }
    return GK_OK;
}

/* ---- finish ------------------------------------------------------------------------------ */

static gk_status fsync_dir(const char *path, gk_err *err) {
    size_t n = strlen(path);
    char *d = malloc(n + 2);
    if (!d) return gk_err_set(err, GK_E_NOMEM, "out of memory");
    memcpy(d, path, n + 1);
    char *slash = strrchr(d, '/');
    if (!slash) strcpy(d, ".");
    else if (slash == d) d[1] = 0;
    else *slash = 0;
    gk_status st = GK_OK;
    int fd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) != 0)
        st = gk_err_set(err, GK_E_IO, "%s: cannot fsync directory: %s", d, strerror(errno));
    if (fd >= 0) close(fd);
    free(d);
    return st;
}

gk_status gk_writer_finish(gk_writer *w, gk_err *err) {
    if (!w) return gk_err_set(err, GK_E_INVALID_ARG, "gk_writer_finish: NULL writer");
    if (!w->begun || w->finished || w->failed)
        return gk_err_set(err, GK_E_INVALID_ARG, "gk_writer_finish: writer not begun, finished or failed");
    gk_status st;
    if (w->mode == MODE_AT) {
        for (uint64_t i = 0; i < w->n_tensors; i++) {
            uint64_t got = __atomic_load_n(&w->t[i].got, __ATOMIC_RELAXED);
            if (got != w->t[i].nbytes)
                return gk_err_set(err, GK_E_INVALID_ARG, "tensor '%s' received %" PRIu64 " of its %"
                                  PRIu64 " bytes", w->t[i].name, got, w->t[i].nbytes);
        }
        if ((st = hash_back(w, err))) return st;
    } else {
        if ((st = settle(w, err))) return st;
        if (w->cur < w->n_tensors)
            return gk_err_set(err, GK_E_INVALID_ARG, "tensor '%s' received %" PRIu64 " of its %"
                              PRIu64 " bytes", w->t[w->cur].name, w->cur_done, w->t[w->cur].nbytes);
        if ((st = flush(w, err))) return st;
    }
    if (!w->is_mem) {
        if (fchmod(w->fd, 0644) != 0 || fsync(w->fd) != 0) {
            w->failed = 1;
            return gk_err_set(err, GK_E_IO, "%s: fsync failed: %s", w->tmp, strerror(errno));
        }
        int fd = w->fd;
        w->fd = -1;
        if (close(fd) != 0) {
            w->failed = 1;
            return gk_err_set(err, GK_E_IO, "%s: close failed: %s", w->tmp, strerror(errno));
        }
        if (rename(w->tmp, w->dst) != 0) {
            w->failed = 1;
            return gk_err_set(err, GK_E_IO, "cannot rename %s to %s: %s", w->tmp, w->dst, strerror(errno));
        }
        w->tmp[0] = 0;
        if ((st = fsync_dir(w->dst, err))) return st;
    }
    w->finished = 1;
    return GK_OK;
}

void gk_writer_free(gk_writer *w) {
    if (!w) return;
    if (w->fd >= 0) close(w->fd);
    if (w->tmp && w->tmp[0] && !w->finished) unlink(w->tmp);
    free(w->tmp);
    free(w->dst);
    free(w->obuf);
    free(w->mem);
    free(w->t);
    free(w->scratch);
    if (w->xs) XXH3_freeState(w->xs);
    gk_arena_free(&w->names);
    pthread_mutex_destroy(&w->mu);
    free(w);
}

int gk_writer_tensor_hash(const gk_writer *w, uint64_t i, uint64_t *hi, uint64_t *lo) {
    if (!w || !w->begun || i >= w->n_tensors || !w->t[i].hashed) return 0;
    if (hi) *hi = w->t[i].hi;
    if (lo) *lo = w->t[i].lo;
    return 1;
}

const uint8_t *gk_writer_memory(const gk_writer *w, size_t *size) {
    if (!w || !w->is_mem || !w->finished) {
        if (size) *size = 0;
        return NULL;
    }
    if (size) *size = w->mem_len;
    return w->mem;
}

/* ---- copies of a parsed file ------------------------------------------------------------- */

void gk_gguf_copy_opts(const gk_gguf *g, gk_write_opts *o) {
    memset(o, 0, sizeof *o);
    o->version = g->version;
    o->big_endian = g->big_endian;
    o->alignment = g->alignment;
    o->no_empty_padding = g->n_tensors == 0 && !g->final_padding;
}

gk_status gk_gguf_write_copy_to(const gk_gguf *g, gk_writer *w, gk_err *err) {
    if (!g || !w) return gk_err_set(err, GK_E_INVALID_ARG, "gk_gguf_write_copy_to: NULL argument");
    for (uint64_t i = 0; i < g->n_tensors; i++)
        if (!g->tensors[i].data && g->tensors[i].nbytes)
            return gk_err_set(err, GK_E_INVALID_ARG, "tensor %" PRIu64 " has no data in memory "
                              "(streamed or out of bounds)", i);
    gk_status st = gk_writer_set_raw(w, 1);
    if (st) return gk_err_set(err, st, "gk_gguf_write_copy_to: writer already begun");
    if ((st = gk_writer_begin(w, g->kv, g->n_kv, g->tensors, g->n_tensors, err))) return st;
    for (uint64_t i = 0; i < g->n_tensors; i++)
        if ((st = gk_writer_write(w, g->tensors[i].data, (size_t)g->tensors[i].nbytes, err))) return st;
    return gk_writer_finish(w, err);
}

gk_status gk_gguf_write_copy(const gk_gguf *g, const char *dst, gk_err *err) {
    if (!g || !dst) return gk_err_set(err, GK_E_INVALID_ARG, "gk_gguf_write_copy: NULL argument");
    gk_write_opts o;
    gk_gguf_copy_opts(g, &o);
    gk_writer *w = NULL;
    gk_status st = gk_writer_open(dst, &o, &w, err);
    if (st) return st;
    st = gk_gguf_write_copy_to(g, w, err);
    gk_writer_free(w);
    return st;
}
