/* safetensors reader (format-facts §8, spec/safetensors.md): u64 header length N, N bytes of
 * JSON, then the data buffer. The file is mmap'ed (or given as memory) and never copied: tensor
 * records point into it. The header is parsed with jansson (duplicate keys rejected) and every
 * rule of the reference reader is checked: N <= 1e8, 8 + N <= size, UTF-8 JSON object, entry
 * member types, dtype, shape (<= 8 dims), size = elements x dtype size without overflow, and,
 * sorted by begin, the tensors tile the data buffer exactly. */
#include "ckpt_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

struct gk_st_priv {
    void *map;        /* mmap'ed file, or NULL */
    size_t map_len;
    char *strings;    /* all names, metadata keys and values, NUL-separated */
};

/* ---- dtypes ----------------------------------------------------------------------------- */

static const struct {
    const char *name;
    uint8_t size;
    uint8_t is_float;
} DTYPES[GK_ST_DTYPE_COUNT] = {
    [GK_ST_BOOL] = {"BOOL", 1, 0},       [GK_ST_U8] = {"U8", 1, 0},
    [GK_ST_I8] = {"I8", 1, 0},           [GK_ST_F8_E5M2] = {"F8_E5M2", 1, 1},
    [GK_ST_F8_E4M3] = {"F8_E4M3", 1, 1}, [GK_ST_I16] = {"I16", 2, 0},
    [GK_ST_U16] = {"U16", 2, 0},         [GK_ST_F16] = {"F16", 2, 1},
    [GK_ST_BF16] = {"BF16", 2, 1},       [GK_ST_I32] = {"I32", 4, 0},
    [GK_ST_U32] = {"U32", 4, 0},         [GK_ST_F32] = {"F32", 4, 1},
    [GK_ST_F64] = {"F64", 8, 1},         [GK_ST_I64] = {"I64", 8, 0},
    [GK_ST_U64] = {"U64", 8, 0},
};

/* Dtypes of the format that ggufkit recognises but does not read, with their bits/element. */
static const struct {
    const char *name;
    unsigned bits;
} UNSUPPORTED_DTYPES[] = {
    {"F8_E8M0", 8}, {"F8_E4M3FNUZ", 8}, {"F8_E5M2FNUZ", 8}, {"F4", 4},
    {"F6_E2M3", 6}, {"F6_E3M2", 6},     {"C64", 64},
};
#define N_UNSUPPORTED (sizeof UNSUPPORTED_DTYPES / sizeof UNSUPPORTED_DTYPES[0])

const char *gk_st_dtype_name(int dtype) {
    if (dtype < 0 || dtype >= GK_ST_DTYPE_COUNT) return NULL;
    return DTYPES[dtype].name;
}

size_t gk_st_dtype_size(int dtype) {
    if (dtype < 0 || dtype >= GK_ST_DTYPE_COUNT) return 0;
    return DTYPES[dtype].size;
}

int gk_st_dtype_is_float(int dtype) {
    if (dtype < 0 || dtype >= GK_ST_DTYPE_COUNT) return 0;
    return DTYPES[dtype].is_float;
}

static int unsupported_index(const char *name) {
    for (size_t i = 0; i < N_UNSUPPORTED; i++)
        if (strcmp(name, UNSUPPORTED_DTYPES[i].name) == 0) return (int)i;
    return -1;
}

int gk_st_dtype_from_name(const char *name) {
    if (!name) return -1;
    for (int i = 0; i < GK_ST_DTYPE_COUNT; i++)
        if (strcmp(name, DTYPES[i].name) == 0) return i;
    return unsupported_index(name) >= 0 ? -2 : -1;
}

/* ---- conversions ------------------------------------------------------------------------ */

static float bits_to_f32(uint32_t u) {
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* IEEE half -> float, exact (subnormals, inf, NaN payload kept). */
static float half_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu;
    uint32_t man = h & 0x3ffu;
    if (exp == 0x1f) return bits_to_f32(sign | 0x7f800000u | (man << 13));
    if (exp == 0) {
        if (man == 0) return bits_to_f32(sign);
        float v = ldexpf((float)man, -24); /* exact: man < 2^10 */
        return sign ? -v : v;
    }
    return bits_to_f32(sign | ((exp + 112u) << 23) | (man << 13));
}

/* float8 e4m3 "fn": bias 7, no infinities, S.1111.111 is NaN, subnormals m/8 * 2^-6. */
static float e4m3_to_f32(uint8_t b) {
    uint32_t exp = (b >> 3) & 0xfu, man = b & 7u;
    float v;
    if (exp == 0xf && man == 7) v = NAN;
    else if (exp == 0) v = ldexpf((float)man, -9);
    else v = ldexpf((float)(8u + man), (int)exp - 10);
    return (b & 0x80u) ? -v : v;
}

/* float8 e5m2: the top byte of an IEEE half. */
static float e5m2_to_f32(uint8_t b) { return half_to_f32((uint16_t)((uint16_t)b << 8)); }

gk_status gk_st_row_to_f32(int dtype, const void *src, float *dst, size_t n) {
    const uint8_t *s = src;
    if (dtype < 0 || dtype >= GK_ST_DTYPE_COUNT || (n && (!src || !dst))) return GK_E_INVALID_ARG;
    for (size_t i = 0; i < n; i++) {
        float f = 0.0f;
        switch ((gk_st_dtype)dtype) {
        case GK_ST_BOOL: f = s[i] ? 1.0f : 0.0f; break;
        case GK_ST_U8: f = (float)s[i]; break;
        case GK_ST_I8: f = (float)(int8_t)s[i]; break;
        case GK_ST_F8_E5M2: f = e5m2_to_f32(s[i]); break;
        case GK_ST_F8_E4M3: f = e4m3_to_f32(s[i]); break;
        default: {
            size_t sz = DTYPES[dtype].size;
            uint64_t u = 0;
            for (size_t k = 0; k < sz; k++) u |= (uint64_t)s[i * sz + k] << (8 * k);
            switch ((gk_st_dtype)dtype) {
            case GK_ST_I16: f = (float)(int16_t)(uint16_t)u; break;
            case GK_ST_U16: f = (float)(uint16_t)u; break;
            case GK_ST_F16: f = half_to_f32((uint16_t)u); break;
            case GK_ST_BF16: f = bits_to_f32((uint32_t)u << 16); break;
            case GK_ST_I32: f = (float)(int32_t)(uint32_t)u; break;
            case GK_ST_U32: f = (float)(uint32_t)u; break;
            case GK_ST_F32: f = bits_to_f32((uint32_t)u); break;
            case GK_ST_F64: {
                double d;
                memcpy(&d, &u, 8);
                f = (float)d;
                break;
            }
            case GK_ST_I64: f = (float)(int64_t)u; break;
            case GK_ST_U64: f = (float)u; break;
            default: return GK_E_INTERNAL;
            }
        }
        }
        dst[i] = f;
    }
    return GK_OK;
}

/* ---- header parsing --------------------------------------------------------------------- */

typedef struct entry {
    const char *name;        /* jansson's key (valid while the JSON lives) */
    int dtype;               /* gk_st_dtype, or -2 - index of an unsupported dtype */
    uint32_t n_dims;
    uint64_t shape[GK_ST_MAX_DIMS];
    uint64_t n_elements;
    uint64_t begin, end;
} entry;

static int cmp_by_begin(const void *a, const void *b) {
    const entry *x = *(const entry *const *)a, *y = *(const entry *const *)b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end) return x->end < y->end ? -1 : 1;
    return strcmp(x->name, y->name);
}

static int cmp_by_name(const void *a, const void *b) {
    const entry *x = a, *y = b;
    return strcmp(x->name, y->name);
}

static int cmp_meta(const void *a, const void *b) {
    return strcmp(((const gk_st_meta *)a)->key, ((const gk_st_meta *)b)->key);
}

/* Reads a JSON integer >= 0 into *v; 0 on success. */
static int json_u64(const json_t *j, uint64_t *v) {
    if (!json_is_integer(j)) return -1;
    json_int_t x = json_integer_value(j);
    if (x < 0) return -1;
    *v = (uint64_t)x;
    return 0;
}

/* Parses one tensor entry. */
static gk_status parse_entry(const char *name, const json_t *obj, uint64_t data_size, entry *e,
                             uint64_t hdr_off, gk_err *err) {
    memset(e, 0, sizeof *e);
    e->name = name;
    if (!json_is_object(obj))
        return gk_err_set_at(err, GK_E_BAD_JSON, hdr_off,
                             "safetensors header (at offset 8): tensor '%s' is not a JSON object",
                             name);
    const json_t *jd = json_object_get(obj, "dtype");
    const json_t *js = json_object_get(obj, "shape");
    const json_t *jo = json_object_get(obj, "data_offsets");
    if (!jd || !json_is_string(jd))
        return gk_err_set_at(err, GK_E_BAD_JSON, hdr_off,
                             "tensor '%s': \"dtype\" is %s (must be a string)", name,
                             jd ? "not a string" : "missing");
    if (!js || !json_is_array(js))
        return gk_err_set_at(err, GK_E_BAD_JSON, hdr_off,
                             "tensor '%s': \"shape\" is %s (must be an array of integers)", name,
                             js ? "not an array" : "missing");
    if (!jo || !json_is_array(jo) || json_array_size(jo) != 2)
        return gk_err_set_at(err, GK_E_BAD_JSON, hdr_off,
                             "tensor '%s': \"data_offsets\" is %s (must be [begin, end])", name,
                             jo ? "not an array of two integers" : "missing");

    const char *dt = json_string_value(jd);
    int d = gk_st_dtype_from_name(dt);
    if (d == -1)
        return gk_err_set_at(err, GK_E_BAD_DTYPE, hdr_off, "tensor '%s': unknown dtype \"%s\"",
                             name, dt);
    unsigned bits;
    if (d == -2) {
        int u = unsupported_index(dt);
        e->dtype = -2 - u;
        bits = UNSUPPORTED_DTYPES[u].bits;
    } else {
        e->dtype = d;
        bits = 8u * DTYPES[d].size;
    }

    size_t nd = json_array_size(js);
    if (nd > GK_ST_MAX_DIMS)
        return gk_err_set_at(err, GK_E_BAD_NDIMS, hdr_off,
                             "tensor '%s': %zu dimensions (ggufkit reads at most %d)", name, nd,
                             GK_ST_MAX_DIMS);
    e->n_dims = (uint32_t)nd;
    uint64_t ne = 1;
    int overflow = 0;
    for (size_t i = 0; i < nd; i++) {
        uint64_t v;
        if (json_u64(json_array_get(js, i), &v) != 0)
            return gk_err_set_at(err, GK_E_BAD_DIM, hdr_off,
                                 "tensor '%s': shape[%zu] is not a non-negative integer", name, i);
        e->shape[i] = v;
        if (v && ne > UINT64_MAX / v) overflow = 1;
        else ne *= v;
    }
    /* A zero dimension makes the product 0 whatever the others are, as in the reference. */
    for (size_t i = 0; i < nd; i++)
        if (e->shape[i] == 0) { ne = 0; overflow = 0; }
    if (overflow)
        return gk_err_set_at(err, GK_E_OVERFLOW, hdr_off,
                             "tensor '%s': element count of the shape overflows 64 bits", name);
    e->n_elements = ne;
    if (json_u64(json_array_get(jo, 0), &e->begin) != 0 ||
        json_u64(json_array_get(jo, 1), &e->end) != 0)
        return gk_err_set_at(err, GK_E_BAD_JSON, hdr_off,
                             "tensor '%s': data_offsets are not two non-negative integers", name);
    if (e->end < e->begin)
        return gk_err_set_at(err, GK_E_OUT_OF_BOUNDS, hdr_off,
                             "tensor '%s': data_offsets [%" PRIu64 ", %" PRIu64
                             "] end before begin",
                             name, e->begin, e->end);
    if (e->end > data_size)
        return gk_err_set_at(err, GK_E_OUT_OF_BOUNDS, hdr_off,
                             "tensor '%s': data_offsets [%" PRIu64 ", %" PRIu64
                             "] run past the end of the data buffer (%" PRIu64 " bytes)",
                             name, e->begin, e->end, data_size);
    if (ne > UINT64_MAX / bits)
        return gk_err_set_at(err, GK_E_OVERFLOW, hdr_off,
                             "tensor '%s': byte size of %" PRIu64 " elements of %s overflows",
                             name, ne, dt);
    uint64_t nbits = ne * bits;
    if (nbits % 8 != 0)
        return gk_err_set_at(err, GK_E_SIZE_MISMATCH, hdr_off,
                             "tensor '%s': %" PRIu64 " elements of %s are %" PRIu64
                             " bits, not a whole number of bytes",
                             name, ne, dt, nbits);
    if (e->end - e->begin != nbits / 8)
        return gk_err_set_at(err, GK_E_SIZE_MISMATCH, hdr_off,
                             "tensor '%s': data_offsets [%" PRIu64 ", %" PRIu64 "] hold %" PRIu64
                             " bytes but %s x %" PRIu64 " elements is %" PRIu64 " bytes",
                             name, e->begin, e->end, e->end - e->begin, dt, ne, nbits / 8);
    return GK_OK;
}

/* Copies s (with its NUL) into the string pool; returns the copy. */
static const char *pool_add(char **cur, const char *s) {
    size_t n = strlen(s) + 1;
    memcpy(*cur, s, n);
    const char *r = *cur;
    *cur += n;
    return r;
}

/* The one parser. buf holds at least the first min(avail, file_size) bytes; data pointers are set
 * when with_data. */
static gk_status st_parse(const uint8_t *buf, uint64_t avail, uint64_t file_size, int with_data,
                          gk_st *st, gk_err *err) {
    if (file_size < 8 || avail < 8)
        return gk_err_set_at(err, GK_E_TRUNCATED, 0,
                             "safetensors: %" PRIu64 " bytes, too short for the 8-byte header "
                             "length",
                             file_size < avail ? file_size : avail);
    uint64_t n = 0;
    for (int i = 0; i < 8; i++) n |= (uint64_t)buf[i] << (8 * i);
    if (n > GK_ST_MAX_HEADER)
        return gk_err_set_at(err, GK_E_TOO_MANY, 0,
                             "safetensors: header length %" PRIu64 " exceeds the limit %llu", n,
                             GK_ST_MAX_HEADER);
    if (8 + n > file_size)
        return gk_err_set_at(err, GK_E_TRUNCATED, 0,
                             "safetensors: header length %" PRIu64 " runs past the end of the "
                             "file (size %" PRIu64 ")",
                             n, file_size);
    if (8 + n > avail)
        return gk_err_set_at(err, GK_E_TRUNCATED, avail,
                             "safetensors: only %" PRIu64 " of the %" PRIu64
                             " header bytes are available",
                             avail, 8 + n);
    st->header_len = n;
    st->data_start = 8 + n;
    st->file_size = file_size;
    uint64_t data_size = file_size - st->data_start;

    json_error_t jerr;
    json_t *root = json_loadb((const char *)buf + 8, (size_t)n, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        uint64_t pos = 8 + (uint64_t)(jerr.position > 0 ? jerr.position : 0);
        return gk_err_set_at(err, GK_E_BAD_JSON, pos,
                             "safetensors header: invalid JSON at offset %" PRIu64
                             " (line %d, column %d): %s",
                             pos, jerr.line, jerr.column, jerr.text);
    }
    if (!json_is_object(root)) {
        json_decref(root);
        return gk_err_set_at(err, GK_E_BAD_JSON, 8,
                             "safetensors header (at offset 8) is not a JSON object");
    }

    gk_status rc = GK_OK;
    size_t cap = json_object_size(root);
    entry *ents = calloc(cap ? cap : 1, sizeof *ents);
    entry **order = calloc(cap ? cap : 1, sizeof *order);
    const json_t *meta = NULL;
    size_t n_ent = 0, pool_len = 0;
    if (!ents || !order) {
        rc = gk_err_set(err, GK_E_NOMEM, "safetensors: out of memory for %zu tensors", cap);
        goto done;
    }
    const char *key;
    json_t *val;
    json_object_foreach(root, key, val) {
        pool_len += strlen(key) + 1;
        if (strcmp(key, "__metadata__") == 0) {
            meta = val;
            if (!json_is_object(val)) {
                rc = gk_err_set_at(err, GK_E_BAD_JSON, 8,
                                   "safetensors header: __metadata__ is not an object");
                goto done;
            }
            const char *mk;
            json_t *mv;
            json_object_foreach((json_t *)val, mk, mv) {
                if (!json_is_string(mv)) {
                    rc = gk_err_set_at(err, GK_E_BAD_JSON, 8,
                                       "safetensors header: __metadata__ value of '%s' is not a "
                                       "string",
                                       mk);
                    goto done;
                }
                pool_len += strlen(mk) + 1 + strlen(json_string_value(mv)) + 1;
            }
            continue;
        }
        rc = parse_entry(key, val, data_size, &ents[n_ent], 8, err);
        if (rc != GK_OK) goto done;
        n_ent++;
    }

    /* Tiling: sorted by begin, each begins where the previous ended; the last ends at the end. */
    for (size_t i = 0; i < n_ent; i++) order[i] = &ents[i];
    qsort(order, n_ent, sizeof *order, cmp_by_begin);
    uint64_t pos = 0;
    for (size_t i = 0; i < n_ent; i++) {
        const entry *e = order[i];
        if (e->begin < pos) {
            rc = gk_err_set_at(err, GK_E_OVERLAP, st->data_start + e->begin,
                               "tensor '%s': data [%" PRIu64 ", %" PRIu64
                               ") overlaps tensor '%s' (which ends at %" PRIu64
                               "; file offset %" PRIu64 ")",
                               e->name, e->begin, e->end, order[i - 1]->name, pos,
                               st->data_start + e->begin);
            goto done;
        }
        if (e->begin > pos) {
            rc = gk_err_set_at(err, GK_E_SIZE_MISMATCH, st->data_start + pos,
                               "safetensors data buffer: gap of %" PRIu64
                               " bytes at data offset %" PRIu64 " (file offset %" PRIu64
                               ") before tensor '%s'",
                               e->begin - pos, pos, st->data_start + pos, e->name);
            goto done;
        }
        pos = e->end;
    }
    if (pos != data_size) {
        rc = gk_err_set_at(err, GK_E_SIZE_MISMATCH, st->data_start + pos,
                           "safetensors data buffer: %" PRIu64
                           " trailing bytes after the last tensor (file offset %" PRIu64
                           ", file size %" PRIu64 ")",
                           data_size - pos, st->data_start + pos, file_size);
        goto done;
    }

    /* Structurally valid; now the dtypes this build does not read. Report the first by name. */
    qsort(ents, n_ent, sizeof *ents, cmp_by_name);
    for (size_t i = 0; i < n_ent; i++) {
        if (ents[i].dtype < 0) {
            const char *dn = UNSUPPORTED_DTYPES[-2 - ents[i].dtype].name;
            rc = gk_err_set_at(err, GK_E_UNSUPPORTED, st->data_start + ents[i].begin,
                               "tensor '%s': dtype %s is not supported by ggufkit", ents[i].name,
                               dn);
            goto done;
        }
    }

    /* Build the result. */
    st->priv->strings = malloc(pool_len ? pool_len : 1);
    st->tensors = calloc(n_ent ? n_ent : 1, sizeof *st->tensors);
    size_t n_meta = meta ? json_object_size(meta) : 0;
    st->meta = calloc(n_meta ? n_meta : 1, sizeof *st->meta);
    if (!st->priv->strings || !st->tensors || !st->meta) {
        rc = gk_err_set(err, GK_E_NOMEM, "safetensors: out of memory");
        goto done;
    }
    char *cur = st->priv->strings;
    for (size_t i = 0; i < n_ent; i++) {
        const entry *e = &ents[i];
        gk_st_tensor *t = &st->tensors[i];
        t->name = pool_add(&cur, e->name);
        t->dtype = (gk_st_dtype)e->dtype;
        t->n_dims = e->n_dims;
        memcpy(t->shape, e->shape, sizeof t->shape);
        t->n_elements = e->n_elements;
        t->nbytes = e->end - e->begin;
        t->begin = e->begin;
        t->offset = st->data_start + e->begin;
        t->data = with_data ? buf + t->offset : NULL;
    }
    st->n_tensors = n_ent;
    if (meta) {
        const char *mk;
        json_t *mv;
        size_t i = 0;
        json_object_foreach((json_t *)meta, mk, mv) {
            st->meta[i].key = pool_add(&cur, mk);
            st->meta[i].value = pool_add(&cur, json_string_value(mv));
            i++;
        }
        st->n_meta = i;
        qsort(st->meta, st->n_meta, sizeof *st->meta, cmp_meta);
    }
    st->base = with_data ? buf : NULL;

done:
    free(ents);
    free(order);
    json_decref(root);
    return rc;
}

static gk_status st_new(gk_st **out, gk_err *err) {
    gk_st *st = calloc(1, sizeof *st);
    if (st) st->priv = calloc(1, sizeof *st->priv);
    if (!st || !st->priv) {
        free(st);
        return gk_err_set(err, GK_E_NOMEM, "safetensors: out of memory");
    }
    *out = st;
    return GK_OK;
}

/* Parses buf (avail bytes of a file of file_size bytes) into a new handle. */
static gk_status st_from_buffer(const void *buf, size_t avail, uint64_t file_size, int with_data,
                                gk_st **out, gk_err *err) {
    if (!out || (!buf && avail)) return gk_err_set(err, GK_E_INVALID_ARG, "safetensors: NULL argument");
    *out = NULL;
    gk_st *st = NULL;
    gk_status rc = st_new(&st, err);
    if (rc != GK_OK) return rc;
    rc = st_parse(buf, avail, file_size, with_data, st, err);
    if (rc != GK_OK) {
        gk_st_close(st);
        return rc;
    }
    *out = st;
    return GK_OK;
}

gk_status gk_st_from_header(const void *buf, size_t n, uint64_t file_size, gk_st **out,
                            gk_err *err) {
    return st_from_buffer(buf, n, file_size, 0, out, err);
}

gk_status gk_st_from_memory(const void *buf, size_t size, gk_st **out, gk_err *err) {
    return st_from_buffer(buf, size, size, 1, out, err);
}

gk_status gk_st_open(const char *path, gk_st **out, gk_err *err) {
    if (!path || !out) return gk_err_set(err, GK_E_INVALID_ARG, "gk_st_open: NULL argument");
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return gk_err_set(err, GK_E_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        int e = errno;
        close(fd);
        return gk_err_set(err, GK_E_IO, "%s: cannot stat: %s", path, strerror(e));
    }
    if (!S_ISREG(sb.st_mode)) {
        close(fd);
        return gk_err_set(err, GK_E_IO, "%s: not a regular file", path);
    }
    uint64_t size = (uint64_t)sb.st_size;
    if (size < 8) {
        close(fd);
        return gk_err_set_at(err, GK_E_TRUNCATED, 0,
                             "%s: %" PRIu64 " bytes, too short for a safetensors header", path,
                             size);
    }
    if (size > (uint64_t)SIZE_MAX) {
        close(fd);
        return gk_err_set(err, GK_E_UNSUPPORTED, "%s: file too large to map", path);
    }
    void *map = mmap(NULL, (size_t)size, PROT_READ, MAP_PRIVATE, fd, 0);
    int e = errno;
    close(fd);
    if (map == MAP_FAILED) return gk_err_set(err, GK_E_IO, "%s: mmap failed: %s", path, strerror(e));
    gk_st *st = NULL;
    gk_status rc = st_new(&st, err);
    if (rc != GK_OK) {
        munmap(map, (size_t)size);
        return rc;
    }
    st->priv->map = map;
    st->priv->map_len = (size_t)size;
    rc = st_parse(map, size, size, 1, st, err);
    if (rc != GK_OK) {
        gk_err_prefix(err, path);
        gk_st_close(st);
        return rc;
    }
    *out = st;
    return GK_OK;
}

void gk_err_prefix(gk_err *e, const char *prefix) {
    if (!e || !prefix) return;
    size_t pl = strlen(prefix), ml = strnlen(e->msg, sizeof e->msg - 1);
    if (pl + 2 >= sizeof e->msg) return;
    size_t keep = sizeof e->msg - 1 - pl - 2;
    if (ml > keep) ml = keep;
    memmove(e->msg + pl + 2, e->msg, ml);
    memcpy(e->msg, prefix, pl);
    e->msg[pl] = ':';
    e->msg[pl + 1] = ' ';
    e->msg[pl + 2 + ml] = '\0';
}

void gk_st_close(gk_st *st) {
    if (!st) return;
    if (st->priv) {
        if (st->priv->map) munmap(st->priv->map, st->priv->map_len);
        free(st->priv->strings);
        free(st->priv);
    }
    free(st->tensors);
    free(st->meta);
    free(st);
}

int64_t gk_st_find(const gk_st *st, const char *name) {
    if (!st || !name) return -1;
    uint64_t lo = 0, hi = st->n_tensors;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        int c = strcmp(st->tensors[mid].name, name);
        if (c == 0) return (int64_t)mid;
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return -1;
}

const char *gk_st_meta_get(const gk_st *st, const char *key) {
    if (!st || !key) return NULL;
    uint64_t lo = 0, hi = st->n_meta;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        int c = strcmp(st->meta[mid].key, key);
        if (c == 0) return st->meta[mid].value;
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return NULL;
}
