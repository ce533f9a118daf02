/* Internal to the GGUF reader/writer/model code: byte-order helpers, a name index, helpers for
 * messages. Not part of the public API. */
#ifndef GK_GGUF_INTERNAL_H
#define GK_GGUF_INTERNAL_H

#include "arena.h"
#include "ggufkit.h"

#include <stdint.h>
#include <string.h>

static inline uint16_t gk_ld16(const uint8_t *p, int be) {
    return be ? (uint16_t)((p[0] << 8) | p[1]) : (uint16_t)(p[0] | (p[1] << 8));
}
static inline uint32_t gk_ld32(const uint8_t *p, int be) {
    return be ? ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3]
              : ((uint32_t)p[3] << 24) | ((uint32_t)p[2] << 16) | ((uint32_t)p[1] << 8) | p[0];
}
static inline uint64_t gk_ld64(const uint8_t *p, int be) {
    uint64_t a = gk_ld32(p, be), b = gk_ld32(p + 4, be);
    return be ? (a << 32) | b : (b << 32) | a;
}
static inline void gk_st16(uint8_t *p, uint16_t v, int be) {
    if (be) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
    else { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
}
static inline void gk_st32(uint8_t *p, uint32_t v, int be) {
    for (int i = 0; i < 4; i++) p[be ? 3 - i : i] = (uint8_t)(v >> (8 * i));
}
static inline void gk_st64(uint8_t *p, uint64_t v, int be) {
    for (int i = 0; i < 8; i++) p[be ? 7 - i : i] = (uint8_t)(v >> (8 * i));
}
/* Loads one element of size sz (1,2,4,8) from file order into host order at dst. */
static inline void gk_ld_elem(void *dst, const uint8_t *p, size_t sz, int be) {
    switch (sz) {
    case 1: memcpy(dst, p, 1); break;
    case 2: { uint16_t v = gk_ld16(p, be); memcpy(dst, &v, 2); } break;
    case 4: { uint32_t v = gk_ld32(p, be); memcpy(dst, &v, 4); } break;
    default: { uint64_t v = gk_ld64(p, be); memcpy(dst, &v, 8); } break;
    }
}
static inline void gk_st_elem(uint8_t *p, const void *src, size_t sz, int be) {
    switch (sz) {
    case 1: memcpy(p, src, 1); break;
    case 2: { uint16_t v; memcpy(&v, src, 2); gk_st16(p, v, be); } break;
    case 4: { uint32_t v; memcpy(&v, src, 4); gk_st32(p, v, be); } break;
    default: { uint64_t v; memcpy(&v, src, 8); gk_st64(p, v, be); } break;
    }
}
/* Reverses each sz-byte unit of n bytes in place (little <-> big endian for plain types). */
void gk_swap_units(void *buf, size_t n, size_t sz);

static inline uint64_t gk_pad_to(uint64_t x, uint64_t a) { return (x + a - 1) & ~(a - 1); }

/* A printable rendering of a (hostile) name for messages: at most ~96 chars, non-printable
 * bytes as '?', "..." when cut. Returns out. */
char *gk_name_fmt(char *out, size_t cap, const char *p, uint64_t len);

/* Open-addressing index from names to record indices (names owned by the caller). */
typedef struct gk_name_index {
    uint64_t *slots;     /* index + 1; 0 = empty */
    uint64_t cap, n;
} gk_name_index;
/* Inserts (name -> idx); returns 1 if inserted, 0 if the name already exists (*dup gets the
 * index), -1 on allocation failure. get(i) returns the name of record i. */
typedef gk_str (*gk_name_get_fn)(const void *ctx, uint64_t i);
int gk_name_index_add(gk_name_index *ix, gk_str name, uint64_t idx, gk_name_get_fn get,
                      const void *ctx, uint64_t *dup);
int64_t gk_name_index_find(const gk_name_index *ix, const char *name, size_t len,
                           gk_name_get_fn get, const void *ctx);
void gk_name_index_free(gk_name_index *ix);

/* Writer internals used by gk_gguf_write_copy: tensor data passed in the output byte order
 * already (no swap); hashes then cover the bytes as written. */
gk_status gk_writer_set_raw(gk_writer *w, int raw);

#endif
