/* A bump allocator: one per gk_gguf, holding keys, strings and arrays. Freed all at once. */
#ifndef GK_ARENA_H
#define GK_ARENA_H

#include <stddef.h>

typedef struct gk_arena_chunk gk_arena_chunk;
typedef struct gk_arena {
    gk_arena_chunk *head;
    size_t total;          /* bytes handed out, for diagnostics */
} gk_arena;

/* Zero-initialised memory of n bytes aligned to 16, or NULL on failure (or n overflow). */
void *gk_arena_alloc(gk_arena *a, size_t n);
/* Copy of len bytes plus a NUL terminator. */
char *gk_arena_strdup(gk_arena *a, const void *s, size_t len);
void gk_arena_free(gk_arena *a);

#endif
