/* Internal API of inspect/: hashing (hash.c, hash_manifest.c), validation (validate.c) and
 * bundles (bundle.c). Used by the CLI and the tests; not part of the public header.
 * Grammar and semantics: spec/hash.md, spec/validate.md. */
#ifndef GK_INSPECT_H
#define GK_INSPECT_H

#include "ggufkit.h"

#include <stdint.h>
#include <stdio.h>

/* ---------------------------------------------------------------------------------------- */
/* Hashing                                                                                    */

typedef enum gk_halgo {
    GK_H_XXH3_128 = 0, /* XXH3-128, seed 0, canonical (big-endian) hex: ggufkit's default */
    GK_H_XXH64,        /* XXH64 seed 0, canonical hex (llama-gguf-hash's default) */
    GK_H_SHA1,
    GK_H_SHA256,
    GK_H_COUNT
} gk_halgo;

#define GK_HASH_MAX 32 /* digest bytes, the largest (sha256) */

/* "xxh3-128", "xxh64", "sha1", "sha256"; digest size in bytes. */
const char *gk_halgo_name(gk_halgo a);
size_t gk_halgo_size(gk_halgo a);
int gk_halgo_from_name(const char *s, size_t n); /* -1 if unknown */

typedef struct gk_digest {
    uint8_t b[GK_HASH_MAX];
} gk_digest;

/* What to compute. Scopes: per tensor (each tensor's exact nbytes, no padding), model and file
 * (every byte of each part file). Model: for XXH3-128 a hash list, XXH3-128 over the per-tensor
 * XXH3-128 digests (16-byte canonical form) in info order, part after part; for XXH64, SHA-1 and
 * SHA-256 (llama-gguf-hash's) the concatenation of all tensors' bytes in that order. */
typedef struct gk_hash_opts {
    unsigned tensor_algos; /* bit (1u << gk_halgo) */
    unsigned model_algos;
    unsigned file_algos;
    size_t chunk;          /* read size; 0 = 1 MiB (8 MiB windows with GGUFKIT_HASH_MODE=map) */
    int n_chunks;          /* ring slots; 0 = 16 (4 windows) */
} gk_hash_opts;

typedef struct gk_hash_tensor {
    char *name;            /* NUL-terminated copy (may contain any byte but NUL) */
    size_t name_len;
    uint64_t nbytes;
    gk_digest d[GK_H_COUNT];
} gk_hash_tensor;

typedef struct gk_hash_part {
    char *path;            /* as opened */
    const char *base;      /* basename inside path */
    uint64_t size;
    gk_digest d[GK_H_COUNT];
} gk_hash_part;

typedef struct gk_hash_result {
    unsigned tensor_algos, model_algos, file_algos;
    uint64_t n_tensors;
    gk_hash_tensor *tensors; /* model order */
    gk_digest model[GK_H_COUNT];
    uint32_t n_parts;
    gk_hash_part *parts;
    uint64_t bytes_read;     /* raw file bytes read */
    struct gk_hash_engine *priv; /* streaming state between begin and end */
} gk_hash_result;

void gk_hash_result_free(gk_hash_result *r);

/* The XXH3-128 model hash from n tensors' XXH3-128 digests (ts[i].d[GK_H_XXH3_128], model
 * order): XXH3-128, seed 0, over their 16-byte canonical forms one after the other. */
void gk_hash_list_xxh3(const gk_hash_tensor *ts, uint64_t n, gk_digest *out);

/* Hashes a model: a single GGUF file or a split set (any part's path; gk_model_open). One
 * streaming pass over each part file through a bounded ring of chunk buffers (or mapped
 * windows: GGUFKIT_HASH_MODE=map): the reading thread runs the first lane on each chunk, one
 * more thread per other (algorithm, scope) pair follows. */
gk_status gk_hash_model(const char *path, const gk_hash_opts *opts, gk_hash_result *out,
                        gk_err *err);

/* Streaming: hashes the GGUF data arriving through read(ctx) (a pipe, a bundle member).
 * Call once per part of a model, in order; r accumulates (the model scope runs on across
 * calls; finish with gk_hash_stream_end). name is stored as the part's path. */
gk_status gk_hash_stream_begin(const gk_hash_opts *opts, gk_hash_result *r, gk_err *err);
gk_status gk_hash_stream_part(gk_hash_result *r, const char *name, gk_read_fn read, void *ctx,
                              gk_err *err);
gk_status gk_hash_stream_end(gk_hash_result *r, gk_err *err);

/* The AVX2 instantiation of XXH3-128's streaming update (hash_xxh3_avx2.c): state is an
 * XXH3_state_t of libxxhash's inline header; call only if gk_xxh3_avx2_built() and the CPU has
 * AVX2. hash.c picks it per state (GGUFKIT_ISA=scalar turns it off). */
void gk_xxh3_128_update_avx2(void *state, const void *p, size_t n);
int gk_xxh3_avx2_built(void);

/* Hex of a digest (lowercase, canonical byte order), into out (>= 2*GK_HASH_MAX+1). */
char *gk_digest_hex(const gk_digest *d, gk_halgo a, char *out);

/* ---------------------------------------------------------------------------------------- */
/* Manifests (spec/hash.md)                                                                  */

/* Version 2: the xxh3-128 @model line is the hash list of the tensor digests. Version 1 (read,
 * never written): its xxh3-128 @model line hashed the concatenated bytes; --check skips it. */
#define GK_MANIFEST_VERSION 2
#define GK_MANIFEST_HEADER "# ggufkit-manifest 2"
#define GK_MANIFEST_HEADER_PREFIX "# ggufkit-manifest "
#define GK_MANIFEST_NAME "ggufkit-manifest.txt" /* its name inside a bundle */

typedef enum gk_mscope { GK_MS_TENSOR = 0, GK_MS_MODEL, GK_MS_FILE } gk_mscope;

typedef struct gk_mentry {
    gk_halgo algo;
    gk_mscope scope;
    char *name;            /* tensor name / file base name / NULL for the model */
    size_t name_len;
    gk_digest d;
    uint32_t line;
    int used;              /* set by the checker */
} gk_mentry;

typedef struct gk_manifest {
    int llama;             /* 1 if parsed as llama-gguf-hash output */
    int version;           /* ggufkit manifest version (1 or 2); 0 for llama-gguf-hash output */
    char *llama_file;      /* llama: the file name the model lines carry (the chosen one) */
    size_t n, cap;
    gk_mentry *e;
} gk_manifest;

/* Writes r as a manifest (tensor lines for every tensor algo, then model lines, then file
 * lines). Returns GK_E_IO on a write error. */
gk_status gk_manifest_write(FILE *f, const gk_hash_result *r, gk_err *err);
/* Parses text (ggufkit's grammar, or llama-gguf-hash's output). for_file: the base name of the
 * file being checked (used to pick a file among several in a llama manifest; may be NULL). */
gk_status gk_manifest_parse(const char *text, size_t len, const char *for_file,
                            gk_manifest *m, gk_err *err);
gk_status gk_manifest_load(const char *path, const char *for_file, gk_manifest *m, gk_err *err);
void gk_manifest_free(gk_manifest *m);
/* The algorithms the manifest holds, per scope (bit masks). */
void gk_manifest_algos(const gk_manifest *m, unsigned *tensor, unsigned *model, unsigned *file);

/* Check results: one finding per mismatching / missing / extra item. */
typedef enum gk_ckind {
    GK_CK_MISMATCH = 0,  /* tensor/model/file hash differs */
    GK_CK_MISSING,       /* in the manifest, not in the model */
    GK_CK_EXTRA,         /* in the model, not in the manifest */
    GK_CK_ORDER,         /* all tensors match but the model hash does not: order differs */
} gk_ckind;

typedef struct gk_cfinding {
    gk_ckind kind;
    gk_mscope scope;
    gk_halgo algo;
    char *name;          /* tensor name / file name; NULL for the model */
    char expected[2 * GK_HASH_MAX + 1], got[2 * GK_HASH_MAX + 1];
} gk_cfinding;

typedef struct gk_check {
    uint64_t n_checked;  /* hash comparisons made */
    uint64_t n_tensors_ok;
    uint32_t n_v1_model;  /* xxh3-128 @model lines of a version-1 manifest, not checked */
    size_t n, cap;
    gk_cfinding *f;
} gk_check;

/* Which algorithms to compute to check against m: fills opts' masks. */
void gk_check_opts(const gk_manifest *m, gk_hash_opts *opts);
/* Compares r with m (by tensor name; file lines by base name, or the only one). */
gk_status gk_check_compare(gk_manifest *m, const gk_hash_result *r, gk_check *c, gk_err *err);
void gk_check_free(gk_check *c);
/* "mismatch", "missing", "extra", "order". */
const char *gk_ckind_name(gk_ckind k);

/* ---------------------------------------------------------------------------------------- */
/* Validation (spec/validate.md)                                                              */

typedef enum gk_sev { GK_SEV_ERROR = 0, GK_SEV_WARNING, GK_SEV_NOTE } gk_sev;

typedef struct gk_finding {
    gk_sev sev;
    const char *code;    /* stable, e.g. "nan_inf", "truncated" (static string) */
    char *message;
    char *tensor;        /* or NULL */
    char *key;           /* or NULL */
    int has_offset;
    uint64_t offset;
} gk_finding;

typedef struct gk_vreport {
    char *path;
    size_t n, cap;
    gk_finding *f;
    uint64_t n_errors, n_warnings, n_notes;
} gk_vreport;

typedef struct gk_validate_opts {
    int threads;         /* for the data checks; <= 0: online CPUs */
    int no_data;         /* skip NaN/Inf / all-zero scans */
} gk_validate_opts;

/* Validates PATH: a GGUF file, a split set (any part), a Git LFS pointer, or a bundle. One
 * report per file (parts of a split set get one each; model-level findings go to the first).
 * Appends to *reps (n_reps grows). Only system errors (I/O on a readable path, memory) are
 * returned as a status; everything about the file is a finding. */
gk_status gk_validate_path(const char *path, const gk_validate_opts *opts, gk_vreport **reps,
                           size_t *n_reps, gk_err *err);
void gk_vreport_free(gk_vreport *r);
const char *gk_sev_name(gk_sev s);

/* Shared helpers (validate.c), also used by bundle.c for streamed GGUF members. */
typedef struct gk_vctx gk_vctx;
/* Adds a finding (message printf-style). tensor/key may be NULL; offset < 0: none. */
void gk_vreport_add(gk_vreport *r, gk_sev sev, const char *code, const char *tensor,
                    const char *key, int64_t offset, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 7, 8)))
#endif
    ;
/* Header-level checks of one opened file (compatibility, padding, metadata, tokenizer). */
void gk_validate_header(gk_vreport *r, const gk_gguf *g);
/* Model-level checks: architecture tensors and shapes over all parts' tensors. */
void gk_validate_model(gk_vreport *r, const gk_gguf *meta, const gk_tensor *const *tensors,
                       uint64_t n_tensors);
/* Incremental data checker for one tensor (streaming): feed whole blocks. */
typedef struct gk_dcheck {
    const gk_tensor *t;
    uint64_t abs_off;        /* file offset of the tensor's first byte */
    uint64_t done;           /* bytes fed so far */
    uint64_t bad_blocks;
    int64_t first_bad;       /* block index, -1 if none */
    int nonzero;
    int unchecked;           /* no validate kernel for this type */
} gk_dcheck;
void gk_dcheck_init(gk_dcheck *d, const gk_tensor *t, uint64_t abs_off, const gk_kctx *k);
void gk_dcheck_feed(gk_dcheck *d, const gk_kctx *k, const uint8_t *p, size_t n);
void gk_dcheck_report(gk_vreport *r, const gk_dcheck *d);

/* ---------------------------------------------------------------------------------------- */
/* Bundles: tar + zstd (spec/hash.md "Bundles")                                              */

typedef struct gk_pack_opts {
    const char *const *extra; /* files added by base name */
    size_t n_extra;
} gk_pack_opts;

/* Packs a model (file or split set) with its manifest and extra files into out (written to a
 * temporary file beside it, renamed when complete). Deterministic. */
gk_status gk_bundle_pack(const char *model_path, const gk_pack_opts *opts, const char *out,
                         gk_err *err);
/* Extracts into dir, verifying every GGUF member against the bundled manifest; refuses
 * unsafe members; each file appears only complete and verified (temp + rename). */
gk_status gk_bundle_unpack(const char *bundle, const char *dir, gk_err *err);
/* 1 if the file looks like a bundle (zstd or tar magic), 0 if not, <0 on I/O error. */
int gk_bundle_sniff(const char *path);

/* Streams every *.gguf member of a bundle (sorted, as stored) through the hasher as one model
 * (a split set's parts are consecutive members). If manifest_out is non-NULL, the bundled
 * manifest's text is returned in it (malloc'd, NUL-terminated; NULL if absent). */
gk_status gk_bundle_hash(const char *bundle, const gk_hash_opts *opts, gk_hash_result *out,
                         char **manifest_out, size_t *manifest_len, gk_err *err);
/* Validates every GGUF member streaming (header, model and data checks) and checks it against
 * the bundled manifest; one report per member, appended to *reps. */
gk_status gk_bundle_validate(const char *bundle, const gk_validate_opts *opts,
                             gk_vreport **reps, size_t *n_reps, gk_err *err);

#endif
