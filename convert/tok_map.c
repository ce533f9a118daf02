/* String -> int32 hash map with linear probing (FNV-1a). */
#include "tok_map.h"

#include <stdlib.h>
#include <string.h>

struct gk_tok_map_slot {
    const char *key;   /* NULL: empty */
    size_t len;
    uint64_t hash;
    int32_t val;
};

static uint64_t fnv(const void *p, size_t n) {
    const unsigned char *s = p;
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) { h ^= s[i]; h *= 1099511628211ull; }
    return h;
}

static struct gk_tok_map_slot *find(const gk_tok_map *m, const void *key, size_t len, uint64_t h) {
    size_t mask = m->cap - 1;
    for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
        struct gk_tok_map_slot *s = &m->slots[i];
        if (!s->key || (s->hash == h && s->len == len && !memcmp(s->key, key, len))) return s;
    }
}

static int grow(gk_tok_map *m) {
    size_t nc = m->cap ? m->cap * 2 : 1024;
    struct gk_tok_map_slot *ns = calloc(nc, sizeof *ns);
    if (!ns) return -1;
    gk_tok_map old = *m;
    m->slots = ns;
    m->cap = nc;
    for (size_t i = 0; i < old.cap; i++)
        if (old.slots[i].key) *find(m, old.slots[i].key, old.slots[i].len, old.slots[i].hash) = old.slots[i];
    free(old.slots);
    return 0;
}

int gk_tok_map_put(gk_tok_map *m, const void *key, size_t len, int32_t val, int replace) {
    if ((m->n + 1) * 2 > m->cap && grow(m)) return -1;
    uint64_t h = fnv(key, len);
    struct gk_tok_map_slot *s = find(m, key, len, h);
    if (s->key) {
        if (replace) s->val = val;
        return 0;
    }
    char *k = gk_arena_strdup(&m->keys, key, len);
    if (!k) return -1;
    s->key = k;
    s->len = len;
    s->hash = h;
    s->val = val;
    m->n++;
    return 0;
}

int gk_tok_map_get(const gk_tok_map *m, const void *key, size_t len, int32_t *val) {
    if (!m->cap) return 0;
    struct gk_tok_map_slot *s = find(m, key, len, fnv(key, len));
    if (!s->key) return 0;
    *val = s->val;
    return 1;
}

void gk_tok_map_free(gk_tok_map *m) {
    free(m->slots);
    gk_arena_free(&m->keys);
    memset(m, 0, sizeof *m);
}
