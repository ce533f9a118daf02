/* gk_tokenizer.h - tokenizer.ggml.* metadata from a Hugging Face checkpoint's tokenizer files.
 *
 * Internal to convert/ (used by the HF -> GGUF converter). See spec/convert-tokenizer.md for what
 * is written for each tokenizer kind and why.
 *
 * Inputs are looked up by file name through a callback, so the caller can serve them from a
 * directory, an archive or memory. Recognised names:
 *   tokenizer.json, tokenizer_config.json, tokenizer.model (SentencePiece protobuf),
 *   added_tokens.json, special_tokens_map.json, chat_template.jinja, chat_template.json,
 *   merges.txt, config.json (vocab_size, <kind>_token_id).
 * All are optional, but one of tokenizer.model / tokenizer.json must exist.
 *
 * The output is an ordered list of gk_kv in the key order gguf-py's converter writes them
 * (format-facts §9.5), ready to append to a plan's metadata (after general.* and the
 * architecture keys). Every pointer in it is owned by the result.
 */
#ifndef GK_TOKENIZER_H
#define GK_TOKENIZER_H

#include "ggufkit.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Looks up a tokenizer file by name. Return GK_OK with *data and *size set (the bytes must stay
 * valid until gk_tokenizer_build returns), GK_E_NOT_FOUND if the file does not exist (not an
 * error), or any other status (with err filled) to abort the build. */
typedef gk_status (*gk_tok_get_fn)(void *ctx, const char *name, const void **data, size_t *size,
                                   gk_err *err);

typedef struct gk_tok_inputs {
    gk_tok_get_fn get;
    void *ctx;
    /* The model's vocabulary size (rows of token_embd). 0: take config.json "vocab_size"
     * (top level, else text_config.vocab_size) if present, else the tokenizer's own count. */
    uint32_t n_vocab;
    unsigned flags;            /* GK_TOK_* below; 0 for the defaults */
} gk_tok_inputs;

/* The architecture's converter writes tokenizer.ggml.add_space_prefix from tokenizer_config.json
 * "add_prefix_space" when present (gguf-py's LlamaModel does; most others do not). */
#define GK_TOK_LLAMA_SPACE_PREFIX 1u

typedef struct gk_tok_result {
    uint64_t n_kv;
    gk_kv *kv;                 /* in writing order; all memory owned by the result */
    const char *model;         /* "llama" or "gpt2" (also the value of tokenizer.ggml.model) */
    const char *pre;           /* value of tokenizer.ggml.pre */
    uint32_t n_tokens;         /* length of tokenizer.ggml.tokens */
    /* diagnostics for --dry-run / tests: how pre was decided, NUL-terminated */
    char pre_hash[65];         /* sha256 hex of the check-text token ids ("" when not computed) */
    void *priv;
} gk_tok_result;

/* Builds the tokenizer metadata. force_pre (may be NULL) sets tokenizer.ggml.pre for a
 * byte-level BPE vocabulary instead of identifying it by fingerprint (it must be one of
 * gk_tok_known_pre(), else GK_E_INVALID_ARG). Errors:
 *   GK_E_NOT_FOUND    neither tokenizer.model nor tokenizer.json
 *   GK_E_BAD_JSON     a JSON file does not parse or a member has the wrong type
 *   GK_E_TRUNCATED / GK_E_TOO_MANY  a malformed tokenizer.model (protobuf)
 *   GK_E_UNSUPPORTED  a tokenizer kind or pre-tokenizer this build cannot handle, or an unknown
 *                     pre fingerprint (the message gives the hash and suggests --pre NAME)
 * Never aborts on bad input. */
gk_status gk_tokenizer_build(const gk_tok_inputs *in, const char *force_pre,
                             gk_tok_result **out, gk_err *err);

/* NULL is a no-op. */
void gk_tok_result_free(gk_tok_result *r);

/* Convenience for tests and the CLI: a directory as the input lookup. Use gk_tok_dir_get as
 * gk_tok_inputs.get with the gk_tok_dir as ctx. Files are read on first use and kept until
 * gk_tok_dir_free; missing files give GK_E_NOT_FOUND. */
typedef struct gk_tok_dir gk_tok_dir;
gk_status gk_tok_dir_open(const char *path, gk_tok_dir **out, gk_err *err);
gk_status gk_tok_dir_get(void *dir, const char *name, const void **data, size_t *size,
                         gk_err *err);
void gk_tok_dir_free(gk_tok_dir *d);

/* The tokenizer.ggml.pre names this library knows (those of its fingerprint table, plus
 * "default"), for --pre validation and help; NULL-terminated. */
const char *const *gk_tok_known_pre(void);

#ifdef __cplusplus
}
#endif
#endif /* GK_TOKENIZER_H */
