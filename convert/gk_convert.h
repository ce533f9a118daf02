/* gk_convert.h - the converter: HF checkpoint -> GGUF, as one plan followed by one write.
 *
 * The pieces (spec/convert.md):
 *   arch.c    the architecture table: HF class -> GGUF arch, tensor names, config keys, rotary
 *   config.c  config.json with transformers' defaults, every number checked (hostile input)
 *   plan.c    sources -> every output tensor (name, shape, type, source, transform, bytes) and
 *             every KV, before any tensor data is read; the per-tensor type rule
 *   write.c   the plan -> GGUF file(s): bounded worker pool, positional writes, split output
 *   write_safetensors.c  a small safetensors writer (example checkpoints, tests)
 *
 * Everything here is internal to libggufkit (not in the public header yet). */
#ifndef GK_CONVERT_H
#define GK_CONVERT_H

#include "ggufkit.h"

#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------------------------ */
/* Sources: the tensors of a checkpoint as (name, dtype, shape, bytes) records.                */

typedef struct gk_cv_src_tensor {
    char *name;
    uint32_t type;                 /* GK_TYPE_F32 / F16 / BF16 / F64 (float dtypes only) */
    char dtype[16];                /* the safetensors dtype as written, for messages */
    uint32_t n_dims;
    uint64_t shape[GK_MAX_DIMS];   /* HF (row-major) order: shape[n_dims-1] is the row length */
    uint64_t nbytes;
    const uint8_t *data;           /* random-access sources; NULL for streamed ones */
} gk_cv_src_tensor;

/* Streaming sources deliver tensor bytes in their own (archive) order: consecutive pieces of
 * one tensor at a time, offsets increasing within a tensor. */
typedef gk_status (*gk_cv_piece_fn)(void *ctx, uint64_t tensor, uint64_t offset, const void *data,
                                    size_t n, gk_err *err);

typedef struct gk_cv_source gk_cv_source;
struct gk_cv_source {
    char *name_hint;               /* folder name (archive: its top folder), for general.name */
    char *config_json;             /* contents of config.json (NUL-terminated) */
    size_t config_len;
    uint64_t n_tensors;
    gk_cv_src_tensor *tensors;     /* names unique; index = the source's own tensor index */
    int streamed;                  /* 1: tensors[].data is NULL, use stream() */
    gk_status (*stream)(gk_cv_source *s, gk_cv_piece_fn fn, void *ctx, gk_err *err);
    /* tokenizer KVs (tokenizer.ggml.*), in order, owned by the source */
    gk_kv *tok_kv;
    uint64_t n_tok_kv;
    /* optional: the converter is done with these bytes of tensors[].data (a read-only file
     * mapping may drop them from memory, so resident memory stays bounded) */
    void (*release)(const gk_cv_source *s, const void *p, size_t n);
    /* optional fast lookup by name (else a linear scan) */
    int64_t (*find)(const gk_cv_source *s, const char *name);
    void *impl;
    void (*impl_free)(gk_cv_source *s);
};

/* Opens a checkpoint through gk_ckpt_open (directory, HF cache snapshot, .safetensors file,
 * .tar/.tar.gz/.tar.zst/.zip) and builds its tokenizer KVs. */
gk_status gk_cv_source_open(const char *path, gk_cv_source **out, gk_err *err);
/* Same with --pre NAME (may be NULL) and without the tokenizer when want_tokenizer is 0. */
gk_status gk_cv_source_open_ex(const char *path, const char *force_pre, int want_tokenizer,
                               gk_cv_source **out, gk_err *err);
void gk_cv_source_free(gk_cv_source *s);
/* Index of a tensor by name, or -1. */
int64_t gk_cv_source_find(const gk_cv_source *s, const char *name);

/* ------------------------------------------------------------------------------------------ */
/* config.json                                                                                 */

enum { GK_ROPE_NONE = 0, GK_ROPE_LINEAR, GK_ROPE_YARN, GK_ROPE_LLAMA3 };

typedef struct gk_cv_config {
    char arch_class[96];           /* architectures[0] */
    uint32_t vocab_size, hidden_size, intermediate_size, n_layer, n_head, n_head_kv, head_dim;
    uint32_t context_length;
    double rms_norm_eps, rope_theta;
    int tie_word_embeddings;       /* 0/1 */
    int attention_bias;            /* q/k/v/o biases expected (llama attention_bias) */
    int rope_type;                 /* GK_ROPE_* */
    double rope_factor, rope_low_freq, rope_high_freq;
    uint32_t rope_orig_ctx;
    double yarn_beta_fast, yarn_beta_slow, yarn_attn_factor;
    int has_yarn_extras;
    int head_dim_given;            /* config.json had head_dim */
} gk_cv_config;

/* ------------------------------------------------------------------------------------------ */
/* The architecture table. Adding an architecture is one gk_cv_arch entry in arch.c.           */

enum { GK_CV_OPTIONAL = 1u << 0, GK_CV_PERMUTE_Q = 1u << 1, GK_CV_PERMUTE_K = 1u << 2,
       GK_CV_IF_BIAS = 1u << 3 /* required iff config attention_bias */ };

typedef struct gk_cv_tmap {
    const char *hf;                /* HF name; "%d" is the layer for per-block entries */
    const char *gguf;              /* GGUF name; "%d" likewise */
    unsigned flags;                /* GK_CV_* */
} gk_cv_tmap;

typedef struct gk_cv_defaults {    /* transformers' config defaults for the class */
    uint32_t vocab_size, hidden_size, intermediate_size, n_layer, n_head;
    uint32_t n_head_kv;            /* 0: = n_head */
    uint32_t head_dim;             /* 0: = hidden / n_head */
    uint32_t context_length;
    double rms_norm_eps, rope_theta;
} gk_cv_defaults;

typedef struct gk_cv_arch {
    const char *hf_class;          /* config.json architectures[0] */
    const char *gguf_arch;         /* general.architecture */
    gk_cv_defaults def;
    const gk_cv_tmap *global_pre;  /* before the blocks (token_embd), NULL-terminated */
    const gk_cv_tmap *block;       /* per block, in output order */
    const gk_cv_tmap *global_post; /* after the blocks (output_norm, output) */
    int permute_qk;                /* HF rotate-half -> interleaved (llama rope mode 0) */
    int write_vocab_and_rope_dim;  /* <arch>.vocab_size and .rope.dimension_count (llama) */
    int allow_llama3_rope;         /* rope_type llama3 -> rope_freqs.weight */
    int always_head_dim;           /* the transformers class always has head_dim, so the
                                      converter writes attention.key_length/value_length */
    const char *const *ignore;     /* HF names (suffixes) that are dropped silently */
    unsigned tok_flags;            /* GK_TOK_* flags for the tokenizer metadata (gk_tokenizer.h) */
} gk_cv_arch;

const gk_cv_arch *gk_cv_arch_find(const char *hf_class);
/* "LlamaForCausalLM, MistralForCausalLM, ..." */
void gk_cv_arch_list(char *buf, size_t cap);
size_t gk_cv_arch_count(void);
const gk_cv_arch *gk_cv_arch_at(size_t i);

/* Parses config.json for the given arch defaults (arch chosen from architectures[0] first). */
gk_status gk_cv_config_parse(const char *json, size_t len, gk_cv_config *cfg,
                             const gk_cv_arch **arch, gk_err *err);

/* ------------------------------------------------------------------------------------------ */
/* Per-tensor type rule. The converter's rule follows convert_hf_to_gguf (format-facts §9.3); a
 * llama-quantize mix (§5.2-5.3) plugs in as another rule.                                     */

typedef struct gk_cv_rule_tensor {
    const char *name;              /* GGUF name */
    uint32_t n_dims;
    const uint64_t *ne;            /* ggml order */
    uint32_t src_type;
    uint32_t index;                /* position in plan order */
    /* context for mix rules (layer counts, n_gqa, whether output.weight exists, ...) */
    const gk_cv_config *cfg;
    const gk_cv_source *src;
} gk_cv_rule_tensor;

typedef struct gk_cv_type_rule {
    /* The wanted type; may write a reason to why (e.g. "1-D tensor"). */
    uint32_t (*choose)(void *ctx, const gk_cv_rule_tensor *t, char *why, size_t why_cap);
    /* When the wanted type cannot hold the row (ne[0] % block != 0): the replacement. NULL: F16.
     * Applied repeatedly until a type fits (F16 always does). */
    uint32_t (*fallback)(void *ctx, uint32_t type, const gk_cv_rule_tensor *t);
    void *ctx;
} gk_cv_type_rule;

/* The converter's rule for an outtype (a ggml type id). */
typedef struct gk_cv_outtype_rule { uint32_t outtype; } gk_cv_outtype_rule;
gk_cv_type_rule gk_cv_rule_outtype(gk_cv_outtype_rule *r);
/* general.file_type for an outtype: exact-name llama_ftype, else the first with that default. */
int gk_cv_ftype_for_type(uint32_t type, uint32_t *ftype);

/* ------------------------------------------------------------------------------------------ */
/* The plan.                                                                                   */

enum { GK_XF_COPY = 0, GK_XF_PERMUTE = 1, GK_XF_GENERATED = 2 };

typedef struct gk_cv_out_tensor {
    char *name;
    uint32_t n_dims;
    uint64_t ne[GK_MAX_DIMS];      /* ggml order */
    uint32_t type;                 /* output type */
    uint32_t wanted;               /* what the rule asked for (differs when it fell back) */
    char why[128];                 /* the rule's reason / the fallback's */
    int64_t src;                   /* source tensor index, -1 for generated */
    uint32_t src_type;
    int xform;                     /* GK_XF_* */
    uint32_t perm_heads;           /* GK_XF_PERMUTE: number of heads */
    float *gen;                    /* GK_XF_GENERATED: the f32 values (small) */
    uint64_t nbytes;
    uint64_t row_bytes;            /* bytes of one output row (ne[0] elements) */
    uint64_t n_rows;               /* product of ne[1..] */
    uint32_t split;                /* output file index */
    uint64_t split_index;          /* index within that file */
} gk_cv_out_tensor;

typedef struct gk_cv_plan {
    const gk_cv_arch *arch;
    gk_cv_config cfg;
    uint32_t outtype;
    uint32_t ftype;
    gk_kv *kv;                     /* all KVs of the model, in order (split keys not included) */
    uint64_t n_kv;
    gk_cv_out_tensor *t;
    uint64_t n_t;
    uint32_t n_splits;
    uint64_t total_bytes;          /* tensor data, unpadded */
    uint64_t src_bytes;
    uint64_t n_params;
    uint32_t n_fallbacks;
    void *strings;                 /* owned storage (internal) */
} gk_cv_plan;

typedef struct gk_cv_plan_opts {
    uint32_t outtype;              /* ggml type id (f32, f16, bf16, q8_0, ...) */
    const gk_cv_type_rule *rule;   /* NULL: the converter's rule for outtype */
    const char *name;              /* general.name; NULL: the source's folder name */
    const char *const *metadata;   /* "KEY=TYPE:VALUE" items, NULL-terminated; may be NULL */
    uint64_t split_max_tensors;    /* 0: no limit */
    uint64_t split_max_bytes;      /* 0: no limit */
} gk_cv_plan_opts;

gk_status gk_cv_plan_build(const gk_cv_source *src, const gk_cv_plan_opts *opts,
                           const gk_kctx *kctx, gk_cv_plan **out, gk_err *err);
void gk_cv_plan_free(gk_cv_plan *p);
/* --dry-run: the plan as text. */
void gk_cv_plan_print(const gk_cv_plan *p, const gk_cv_source *src, FILE *f);
/* --dry-run --json: one JSON document (tensors, totals, fallbacks, metadata in order). */
void gk_cv_plan_json(const gk_cv_plan *p, const gk_cv_source *src, FILE *f);

/* Parses one --metadata/--override-kv item into a KV (strings point into storage owned by the
 * caller-provided buffer `store`, which must outlive kv). */
gk_status gk_cv_parse_kv_override(const char *item, gk_kv *kv, char *store, size_t store_cap,
                                  gk_err *err);

/* general.size_label from a parameter count, as gguf-py rounds it ("260K", "6.7B"). */
void gk_cv_size_label(uint64_t n_params, char *buf, size_t cap);

/* Q/K rotary permutation (format-facts §9.2): the input row that output row r comes from. */
uint64_t gk_cv_permute_src_row(uint64_t r, uint64_t rows, uint32_t n_heads);
/* rope_freqs for llama3 scaling (§9.1), n = head_dim/2 values. */
void gk_cv_llama3_rope_freqs(const gk_cv_config *c, float *out, uint32_t n);

/* ------------------------------------------------------------------------------------------ */
/* The write step.                                                                             */

typedef struct gk_cv_write_opts {
    const char *out_path;          /* destination (split: "<prefix>.gguf" -> prefix-0000k-of-...) */
    int n_threads;                 /* <= 0: online CPUs */
    int progress;                  /* draw a progress bar on stderr */
    size_t chunk_bytes;            /* target f32 bytes per task; 0: 4 MiB */
    const volatile int *cancel;    /* optional: when it becomes non-zero (e.g. set by a SIGINT
                                      handler) the write stops, the temporary files are removed
                                      and GK_E_IO "interrupted" is returned */
} gk_cv_write_opts;

gk_status gk_cv_write(const gk_cv_plan *p, gk_cv_source *src, const gk_kctx *kctx,
                      const gk_cv_write_opts *o, gk_err *err);
/* Output path of split k (0-based) for a plan; single file: out_path itself. */
size_t gk_cv_split_path(char *buf, size_t cap, const char *out_path, uint32_t k, uint32_t n);

/* ------------------------------------------------------------------------------------------ */
/* A small safetensors writer (streaming: header first, then each tensor's bytes in order).    */

typedef struct gk_stw_tensor {
    const char *name;
    const char *dtype;             /* "F32", "BF16", "F16" */
    uint32_t n_dims;
    uint64_t shape[GK_MAX_DIMS];
} gk_stw_tensor;

typedef struct gk_stw gk_stw;
/* Writes the header (tensors stored in the given order, contiguous). Metadata: NULL or
 * "k1","v1",...,NULL string pairs for __metadata__. */
gk_status gk_stw_open(const char *path, const gk_stw_tensor *t, size_t n,
                            const char *const *metadata, gk_stw **out, gk_err *err);
/* Appends data bytes (in tensor order). */
gk_status gk_stw_write(gk_stw *w, const void *data, size_t n, gk_err *err);
/* Checks the byte count, closes. */
gk_status gk_stw_finish(gk_stw *w, gk_err *err);
void gk_stw_free(gk_stw *w);

/* ------------------------------------------------------------------------------------------ */
/* Example checkpoints generated by code (ggufkit example-checkpoint, tests).                   */

typedef struct gk_cv_example_opts {
    const char *arch_class;        /* an entry of the architecture table */
    uint32_t hidden, ff, n_layer, n_head, n_head_kv, head_dim, context;
    uint32_t vocab;                /* output: the generated tokenizer's size */
    const char *dtype;             /* "F32", "F16" or "BF16" */
    uint64_t seed;
    int tied;                      /* tie_word_embeddings (no lm_head.weight) */
    int attention_bias;            /* llama/qwen3: q/k/v/o biases */
    uint64_t target_bytes;         /* > 0: choose n_layer so the weights reach this size */
} gk_cv_example_opts;

void gk_cv_example_defaults(gk_cv_example_opts *o);
/* Writes config.json, tokenizer.json, tokenizer_config.json, model.safetensors into dir
 * (created if needed). Deterministic: the same options give the same bytes. */
gk_status gk_cv_example_write(const char *dir, gk_cv_example_opts *o, gk_err *err);

#ifdef __cplusplus
}
#endif
#endif
