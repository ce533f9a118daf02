/* Small helpers shared by the GGUF reader, writer and model view. */
#include "gguf_internal.h"

#include <stdio.h>
#include <stdlib.h>

void gk_swap_units(void *buf, size_t n, size_t sz) {
    unsigned char *p = buf;
    if (sz < 2) return;
    for (size_t off = 0; off + sz <= n; off += sz) {
        for (size_t i = 0, j = sz - 1; i < j; i++, j--) {
            unsigned char t = p[off + i];
            p[off + i] = p[off + j];
            p[off + j] = t;
        }
    }
}

char *gk_name_fmt(char *out, size_t cap, const char *p, uint64_t len) {
    size_t lim = cap > 4 ? cap - 4 : 0;
    if (lim > 96) lim = 96;
    size_t o = 0;
    for (uint64_t i = 0; i < len && o < lim; i++) {
        unsigned char c = (unsigned char)p[i];
        out[o++] = (c >= 0x20 && c < 0x7f && c != '\'') ? (char)c : '?';
    }
    if (len > o && cap > 4) { memcpy(out + o, "...", 3); o += 3; }
    if (cap) out[o < cap ? o : cap - 1] = 0;
    return out;
}

static uint64_t name_hash(const char *p, size_t len) {
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < len; i++) { h ^= (unsigned char)p[i]; h *= 1099511628211ull; }
    return h ^ (h >> 29);
}

static int name_eq(gk_str a, const char *p, size_t len) {
    return a.len == len && (len == 0 || memcmp(a.ptr, p, len) == 0);
}

static int grow(gk_name_index *ix, gk_name_get_fn get, const void *ctx) {
    uint64_t ncap = ix->cap ? ix->cap * 2 : 64;
    if (ncap > (SIZE_MAX / sizeof(uint64_t))) return -1;
    uint64_t *ns = calloc((size_t)ncap, sizeof(uint64_t));
    if (!ns) return -1;
    for (uint64_t i = 0; i < ix->cap; i++) {
        if (!ix->slots[i]) continue;
        gk_str s = get(ctx, ix->slots[i] - 1);
        uint64_t h = name_hash(s.ptr, (size_t)s.len) & (ncap - 1);
        while (ns[h]) h = (h + 1) & (ncap - 1);
        ns[h] = ix->slots[i];
    }
    free(ix->slots);
    ix->slots = ns;
    ix->cap = ncap;
    return 0;
}

int gk_name_index_add(gk_name_index *ix, gk_str name, uint64_t idx, gk_name_get_fn get,
                      const void *ctx, uint64_t *dup) {
    if ((ix->n + 1) * 2 > ix->cap && grow(ix, get, ctx) != 0) return -1;
    uint64_t h = name_hash(name.ptr, (size_t)name.len) & (ix->cap - 1);
    while (ix->slots[h]) {
        if (name_eq(get(ctx, ix->slots[h] - 1), name.ptr, (size_t)name.len)) {
            if (dup) *dup = ix->slots[h] - 1;
            return 0;
        }
        h = (h + 1) & (ix->cap - 1);
    }
    ix->slots[h] = idx + 1;
    ix->n++;
    return 1;
}

int64_t gk_name_index_find(const gk_name_index *ix, const char *name, size_t len,
                           gk_name_get_fn get, const void *ctx) {
    if (!ix->cap) return -1;
    uint64_t h = name_hash(name, len) & (ix->cap - 1);
    while (ix->slots[h]) {
        if (name_eq(get(ctx, ix->slots[h] - 1), name, len)) return (int64_t)(ix->slots[h] - 1);
        h = (h + 1) & (ix->cap - 1);
    }
    return -1;
}

void gk_name_index_free(gk_name_index *ix) {
    free(ix->slots);
    ix->slots = NULL;
    ix->cap = ix->n = 0;
}
