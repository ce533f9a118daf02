/* tok_hf.h - a Hugging Face tokenizer.json encoder for byte-level BPE vocabularies, used to
 * compute the tokenizer.ggml.pre fingerprint (the ids HF tokenizers would give for a check
 * text) without Python.
 *
 * Supported: normalizer null (or NFC, treated as the identity: only use it on NFC text);
 * pre_tokenizer Split (Regex or String pattern, behavior Isolated or Removed, invert false),
 * ByteLevel (add_prefix_space, use_regex with the GPT-2 pattern), Digits, Punctuation
 * (Isolated), WhitespaceSplit, or a Sequence of those;
 * model BPE (merges as "a b" strings or [a, b] pairs, ignore_merges, byte_fallback, unk_token);
 * added tokens (matched whole, before pre-tokenization); post_processor TemplateProcessing
 * (single), RobertaProcessing, BertProcessing, ByteLevel, or a Sequence of those.
 * Anything else: GK_E_UNSUPPORTED with a message. */
#ifndef GK_TOK_HF_H
#define GK_TOK_HF_H

#include "ggufkit.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

typedef struct gk_hf_tok gk_hf_tok;

/* root: the parsed tokenizer.json (borrowed during the call only). */
gk_status gk_hf_tok_load(const json_t *root, gk_hf_tok **out, gk_err *err);
void gk_hf_tok_free(gk_hf_tok *t);

/* Encodes text (UTF-8) to ids (malloc'd, *ids freed by the caller); add_special applies the
 * post-processor. */
gk_status gk_hf_tok_encode(const gk_hf_tok *t, const char *text, size_t len, int add_special,
                           int32_t **ids, size_t *n_ids, gk_err *err);

/* GPT-2's byte -> code point mapping (bytes_to_unicode). */
uint32_t gk_byte_to_unicode(uint8_t b);

#endif
