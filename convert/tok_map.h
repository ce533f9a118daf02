/* tok_map.h - a string -> int32 hash map (open addressing) for vocabularies and merge ranks.
 * Keys are copied into an internal arena. */
#ifndef GK_TOK_MAP_H
#define GK_TOK_MAP_H

#include "arena.h"

#include <stddef.h>
#include <stdint.h>

typedef struct gk_tok_map {
    struct gk_tok_map_slot *slots;
    size_t cap, n;
    gk_arena keys;
} gk_tok_map;

/* Returns 0 on success, -1 on allocation failure. An existing key keeps its first value unless
 * replace is set. */
int gk_tok_map_put(gk_tok_map *m, const void *key, size_t len, int32_t val, int replace);
/* 1 and *val if found, else 0. */
int gk_tok_map_get(const gk_tok_map *m, const void *key, size_t len, int32_t *val);
void gk_tok_map_free(gk_tok_map *m);

#endif
