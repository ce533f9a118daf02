/* Internal helpers shared by format/safetensors.c and format/ckpt*.c (not part of the API). */
#ifndef GK_CKPT_INTERNAL_H
#define GK_CKPT_INTERNAL_H

#include "ggufkit.h"

/* Prepends "<prefix>: " to e->msg (keeps status and offset). No-op for e == NULL. */
void gk_err_prefix(gk_err *e, const char *prefix);

#endif
