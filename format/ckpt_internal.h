/* Internal helpers shared by format/safetensors.c and format/ckpt*.c (not part of the API). */
#ifndef GK_CKPT_INTERNAL_H
#define GK_CKPT_INTERNAL_H

#include "ggufkit.h"

/* Prepends "<prefix>: " to e->msg (keeps status and offset). No-op for e == NULL. */
void gk_err_prefix(gk_err *e, const char *prefix);

/* One root file of a checkpoint, as the source found it. */
typedef struct gk_cfile {
    char *name;          /* root name */
    char *member;        /* archive: normalized member path; else NULL */
    uint64_t size;
    uint8_t *data;       /* loaded bytes (+ NUL), or NULL */
    size_t len;
    int too_big;         /* larger than GK_CKPT_SMALL_MAX (or past the total budget): not kept */
    uint8_t *hdr;        /* archive .safetensors: the first min(8 + N, size) bytes */
    size_t hdr_len;
} gk_cfile;

struct gk_ckpt_priv {
    char *path;          /* as given */
    char *name;
    gk_cfile *cf;        /* parallel to c->files */
    uint64_t n_cf;
    uint32_t *part_file; /* parts[i] is cf[part_file[i]] */
    uint64_t *part_base; /* index of parts[i]'s first tensor in c->tensors */
};

/* Archive plan pass: fills c->priv->cf / n_cf (root files, with small files loaded and
 * safetensors headers kept) and c->priv->name. */
gk_status gk_ckpt_archive_scan(gk_ckpt *c, gk_err *err);
/* Archive write pass: streams the parts' tensors (see gk_ckpt_stream). */
gk_status gk_ckpt_archive_stream(gk_ckpt *c, size_t chunk, gk_ckpt_chunk_fn fn, void *ctx,
                                 gk_err *err);
/* Streams one part's tensors from contiguous data (mapping), or from a reader callback that
 * fills exactly n bytes (returns 0 or a status). */
typedef gk_status (*gk_ckpt_fill_fn)(void *rctx, uint8_t *buf, size_t n, uint64_t file_off,
                                     gk_err *err);
gk_status gk_ckpt_stream_part(gk_ckpt *c, uint32_t part, size_t chunk, gk_ckpt_fill_fn fill,
                              void *rctx, uint8_t *buf, gk_ckpt_chunk_fn fn, void *ctx,
                              gk_err *err);

#endif
