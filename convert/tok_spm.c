/* SentencePiece tokenizer.model: a protobuf ModelProto whose field 1 (repeated, length-delimited)
 * holds the pieces: field 1 piece (string), field 2 score (fixed32 float), field 3 type (varint,
 * default NORMAL = 1). Other fields (trainer/normalizer specs) are skipped. */
#include "tok_internal.h"

#include <stdlib.h>
#include <string.h>

typedef struct pb {
    const uint8_t *p;
    size_t n, i;
    size_t base;   /* offset of p[0] in the file, for messages */
} pb;

static int varint(pb *b, uint64_t *v) {
    uint64_t x = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (b->i >= b->n) return -1;
        uint8_t c = b->p[b->i++];
        x |= (uint64_t)(c & 0x7F) << shift;
        if (!(c & 0x80)) { *v = x; return 0; }
    }
    return -1;
}

/* Skips a field of wire type wt. */
static int skip(pb *b, unsigned wt) {
    uint64_t v;
    switch (wt) {
    case 0: return varint(b, &v);
    case 1: if (b->n - b->i < 8) return -1; b->i += 8; return 0;
    case 5: if (b->n - b->i < 4) return -1; b->i += 4; return 0;
    case 2:
        if (varint(b, &v) || v > b->n - b->i) return -1;
        b->i += (size_t)v;
        return 0;
    default: return -1;
    }
}

static gk_status parse_piece(const uint8_t *p, size_t n, size_t base, gk_spm_piece *out, gk_err *err) {
    pb b = {p, n, 0, base};
    out->piece = "";
    out->len = 0;
    out->score = 0.0f;
    out->type = 1;
    while (b.i < b.n) {
        size_t at = b.base + b.i;
        uint64_t tag;
        if (varint(&b, &tag)) return gk_err_set_at(err, GK_E_TRUNCATED, at, "tokenizer.model: bad tag at offset %zu", at);
        unsigned field = (unsigned)(tag >> 3), wt = (unsigned)(tag & 7);
        if (field == 1 && wt == 2) {
            uint64_t len;
            if (varint(&b, &len) || len > b.n - b.i)
                return gk_err_set_at(err, GK_E_TRUNCATED, at, "tokenizer.model: piece string at offset %zu runs past its entry", at);
            out->piece = (const char *)b.p + b.i;
            out->len = (size_t)len;
            b.i += (size_t)len;
        } else if (field == 2 && wt == 5) {
            if (b.n - b.i < 4) return gk_err_set_at(err, GK_E_TRUNCATED, at, "tokenizer.model: score at offset %zu truncated", at);
            uint32_t u = (uint32_t)b.p[b.i] | (uint32_t)b.p[b.i + 1] << 8 | (uint32_t)b.p[b.i + 2] << 16 |
                         (uint32_t)b.p[b.i + 3] << 24;
            memcpy(&out->score, &u, 4);
            b.i += 4;
        } else if (field == 3 && wt == 0) {
            uint64_t t;
            if (varint(&b, &t)) return gk_err_set_at(err, GK_E_TRUNCATED, at, "tokenizer.model: type at offset %zu truncated", at);
            if (t < 1 || t > 6) return gk_err_set_at(err, GK_E_UNSUPPORTED, at, "tokenizer.model: piece type %llu at offset %zu is not 1..6", (unsigned long long)t, at);
            out->type = (int)t;
        } else if (skip(&b, wt)) {
            return gk_err_set_at(err, GK_E_TRUNCATED, at, "tokenizer.model: field %u at offset %zu is malformed", field, at);
        }
    }
    return GK_OK;
}

gk_status gk_spm_parse(const uint8_t *data, size_t size, gk_spm_piece **out, size_t *n, gk_err *err) {
    *out = NULL;
    *n = 0;
    pb b = {data, size, 0, 0};
    size_t cap = 0;
    gk_spm_piece *v = NULL;
    while (b.i < b.n) {
        size_t at = b.i;
        uint64_t tag;
        if (varint(&b, &tag)) { free(v); return gk_err_set_at(err, GK_E_TRUNCATED, at, "tokenizer.model: bad tag at offset %zu", at); }
        unsigned field = (unsigned)(tag >> 3), wt = (unsigned)(tag & 7);
        if (field == 1 && wt == 2) {
            uint64_t len;
            if (varint(&b, &len) || len > b.n - b.i) {
                free(v);
                return gk_err_set_at(err, GK_E_TRUNCATED, at, "tokenizer.model: piece entry at offset %zu runs past the end (%zu bytes)", at, size);
            }
            if (*n == cap) {
                if (cap > (SIZE_MAX / sizeof *v) / 2) { free(v); return gk_err_set(err, GK_E_TOO_MANY, "tokenizer.model: too many pieces"); }
                size_t nc = cap ? cap * 2 : 1024;
                gk_spm_piece *nv = realloc(v, nc * sizeof *nv);
                if (!nv) { free(v); return gk_err_set(err, GK_E_NOMEM, "out of memory"); }
                v = nv;
                cap = nc;
            }
            gk_status st = parse_piece(b.p + b.i, (size_t)len, b.i, &v[*n], err);
            if (st) { free(v); return st; }
            (*n)++;
            b.i += (size_t)len;
        } else if (skip(&b, wt)) {
            free(v);
            return gk_err_set_at(err, GK_E_TRUNCATED, at, "tokenizer.model: field %u at offset %zu is malformed", field, at);
        }
    }
    if (*n > INT32_MAX) { free(v); return gk_err_set(err, GK_E_TOO_MANY, "tokenizer.model: too many pieces"); }
    *out = v;
    return GK_OK;
}
