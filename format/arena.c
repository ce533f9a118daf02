/* Bump allocator in chunks of at least 64 KiB; large requests get a chunk of their own. */
#include "arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct gk_arena_chunk {
    gk_arena_chunk *next;
    size_t cap, used;
    _Alignas(16) unsigned char data[];
};

enum { CHUNK_MIN = 64 * 1024 };

void *gk_arena_alloc(gk_arena *a, size_t n) {
    if (n > SIZE_MAX - 64) return NULL;
    size_t need = (n + 15) & ~(size_t)15;
    if (need == 0) need = 16;
    gk_arena_chunk *c = a->head;
    if (!c || c->cap - c->used < need) {
        size_t cap = need > CHUNK_MIN ? need : CHUNK_MIN;
        if (cap > SIZE_MAX - sizeof(gk_arena_chunk)) return NULL;
        gk_arena_chunk *nc = malloc(sizeof(gk_arena_chunk) + cap);
        if (!nc) return NULL;
        nc->cap = cap;
        nc->used = 0;
        if (c && need > CHUNK_MIN) {
            /* a big block: keep the current chunk as head so its free space stays usable */
            nc->next = c->next;
            c->next = nc;
        } else {
            nc->next = c;
            a->head = nc;
        }
        c = nc;
    }
    void *p = c->data + c->used;
    c->used += need;
    a->total += need;
    memset(p, 0, n);
    return p;
}

char *gk_arena_strdup(gk_arena *a, const void *s, size_t len) {
    if (len == SIZE_MAX) return NULL;
    char *p = gk_arena_alloc(a, len + 1);
    if (!p) return NULL;
    if (len) memcpy(p, s, len);
    p[len] = 0;
    return p;
}

void gk_arena_free(gk_arena *a) {
    if (!a) return;
    gk_arena_chunk *c = a->head;
    while (c) {
        gk_arena_chunk *n = c->next;
        free(c);
        c = n;
    }
    a->head = NULL;
    a->total = 0;
}
