/* tok_internal.h - pieces of the tokenizer metadata builder shared between convert/tok_*.c. */
#ifndef GK_TOK_INTERNAL_H
#define GK_TOK_INTERNAL_H

#include "ggufkit.h"

#include <stddef.h>
#include <stdint.h>

/* One SentencePiece entry of a tokenizer.model (ModelProto field 1). */
typedef struct gk_spm_piece {
    const char *piece;   /* points into the input bytes; not NUL-terminated */
    size_t len;
    float score;
    int type;            /* sentencepiece Type: 1 normal, 2 unknown, 3 control, 4 user-defined,
                            5 unused, 6 byte */
} gk_spm_piece;

/* Parses the pieces of a SentencePiece ModelProto. *out is malloc'd (free it). Hostile input:
 * every length is checked against the bytes that remain. */
gk_status gk_spm_parse(const uint8_t *data, size_t size, gk_spm_piece **out, size_t *n,
                       gk_err *err);

/* The check text of llama.cpp's get_vocab_base_pre (UTF-8, NUL-terminated) and its length. */
extern const char gk_tok_chktxt[];
extern const size_t gk_tok_chktxt_len;
/* The pre name for a fingerprint (sha256 hex, lowercase), or NULL if unknown. */
const char *gk_tok_pre_lookup(const char *hash_hex);
/* sha256 of the Python list string "[a, b, c]" of ids, as 64 hex digits + NUL. */
gk_status gk_tok_ids_fingerprint(const int32_t *ids, size_t n, char hex[65], gk_err *err);

#endif
