/* ggufkit.h - the one public header of libggufkit.
 *
 * Conventions (apply to every function below unless it says otherwise):
 * - Every fallible call returns a gk_status and, when given a non-NULL gk_err*, fills it with the
 *   same status plus a message that says what and where (key or tensor name, byte offset).
 * - Library code never aborts or exits on bad input. Every number read from a file is checked
 *   against the bytes that remain and against overflow before it is used.
 * - Handles are created by *_open / *_new and released by *_free / *_close; passing NULL to a
 *   free/close function is a no-op.
 * - Sizes are in bytes; tensor shapes use ggml order: ne[0] is the row length.
 */
#ifndef GGUFKIT_H
#define GGUFKIT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------------------------ */
/* Status codes. Each rejection the readers make has its own code (spec/errors.md).            */

typedef enum gk_status {
    GK_OK = 0,
    /* system / caller */
    GK_E_INVALID_ARG = 1,  /* the caller passed something unusable */
    GK_E_NOMEM,            /* allocation failed */
    GK_E_IO,               /* open/read/write/fsync/rename failed */
    GK_E_UNSUPPORTED,      /* valid, but not something this build can do */
    GK_E_INTERNAL,         /* a bug: an invariant did not hold */
    /* a file is malformed (GGUF) */
    GK_E_TRUNCATED = 100,  /* a field or record runs past the end of the input */
    GK_E_BAD_MAGIC,        /* first 4 bytes are not "GGUF" */
    GK_E_BAD_VERSION,      /* version 0 or > 3 */
    GK_E_TOO_MANY,         /* a count (tensors, kvs, array elements) exceeds what the bytes can hold */
    GK_E_OVERFLOW,         /* a size or offset computation overflows 64 bits */
    GK_E_EMPTY_KEY,        /* a metadata key of length 0 */
    GK_E_DUP_KEY,          /* the same metadata key twice */
    GK_E_BAD_VALUE_TYPE,   /* metadata value/element type id >= 13 */
    GK_E_BAD_STRING,       /* string longer than the limit (1 GiB) */
    GK_E_BAD_ALIGNMENT,    /* general.alignment not u32, or 0, or not a power of two */
    GK_E_BAD_TENSOR_NAME,  /* empty tensor name */
    GK_E_DUP_TENSOR,       /* the same tensor name twice */
    GK_E_BAD_NDIMS,        /* n_dims > 4 */
    GK_E_BAD_DIM,          /* a dimension that is negative as i64, or element count overflow */
    GK_E_BAD_TYPE,         /* tensor type id outside the table */
    GK_E_REMOVED_TYPE,     /* tensor type id that ggml removed (4, 5, 31-33, 36-38) */
    GK_E_BAD_SHAPE,        /* ne[0] not a multiple of the type's block size */
    GK_E_MISALIGNED,       /* tensor offset not a multiple of the alignment */
    GK_E_OUT_OF_BOUNDS,    /* tensor data runs past the end of the file */
    GK_E_OVERLAP,          /* two tensors' data regions overlap */
    GK_E_NESTING,          /* nested arrays deeper than the reader allows */
    GK_E_SPLIT,            /* a split set is inconsistent (missing part, split.* keys disagree) */
    /* other containers and sources */
    GK_E_BAD_JSON = 150,   /* JSON that does not parse or lacks a required member */
    GK_E_BAD_DTYPE,        /* unknown or unusable dtype */
    GK_E_SIZE_MISMATCH,    /* byte size disagrees with dtype x shape */
    GK_E_BAD_ARCHIVE,      /* archive/bundle problem */
    GK_E_UNSAFE_PATH,      /* absolute path, "..", link or device in an archive */
    GK_E_NOT_FOUND,        /* a required member (file, tensor, key) is absent */
    /* findings (not errors of the tool) */
    GK_E_MISMATCH = 200,   /* content differs from what was expected (hash check) */
    GK_E_INVALID_DATA,     /* NaN/Inf or otherwise invalid tensor data */
} gk_status;

/* Short stable name, e.g. "truncated", "dup_key". */
const char *gk_status_name(gk_status s);
/* CLI exit code for a status: 0 ok, 1 a finding about the file, 2 usage, 3 I/O/system. */
int gk_status_exit_code(gk_status s);

typedef struct gk_err {
    gk_status status;
    uint64_t offset;      /* byte offset the message refers to (valid if has_offset) */
    int has_offset;
    char msg[512];
} gk_err;

/* Sets *e (if non-NULL) and returns s. printf-style message. */
gk_status gk_err_set(gk_err *e, gk_status s, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* Same, recording a byte offset (the message should mention it too). */
gk_status gk_err_set_at(gk_err *e, gk_status s, uint64_t offset, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/* ------------------------------------------------------------------------------------------ */
/* The ggml type table (format-facts §2). What a reader must know; the compute traits for the  */
/* same ids live in the kernels library (gk_kernels_*).                                        */

enum {
    GK_TYPE_F32 = 0, GK_TYPE_F16 = 1, GK_TYPE_Q4_0 = 2, GK_TYPE_Q4_1 = 3,
    GK_TYPE_Q5_0 = 6, GK_TYPE_Q5_1 = 7, GK_TYPE_Q8_0 = 8, GK_TYPE_Q8_1 = 9,
    GK_TYPE_Q2_K = 10, GK_TYPE_Q3_K = 11, GK_TYPE_Q4_K = 12, GK_TYPE_Q5_K = 13,
    GK_TYPE_Q6_K = 14, GK_TYPE_Q8_K = 15, GK_TYPE_IQ2_XXS = 16, GK_TYPE_IQ2_XS = 17,
    GK_TYPE_IQ3_XXS = 18, GK_TYPE_IQ1_S = 19, GK_TYPE_IQ4_NL = 20, GK_TYPE_IQ3_S = 21,
    GK_TYPE_IQ2_S = 22, GK_TYPE_IQ4_XS = 23, GK_TYPE_I8 = 24, GK_TYPE_I16 = 25,
    GK_TYPE_I32 = 26, GK_TYPE_I64 = 27, GK_TYPE_F64 = 28, GK_TYPE_IQ1_M = 29,
    GK_TYPE_BF16 = 30, GK_TYPE_TQ1_0 = 34, GK_TYPE_TQ2_0 = 35, GK_TYPE_MXFP4 = 39,
    GK_TYPE_NVFP4 = 40, GK_TYPE_Q1_0 = 41, GK_TYPE_Q2_0 = 42,
    GK_TYPE_COUNT = 43
};

enum {
    GK_TF_REMOVED   = 1u << 0, /* id no longer exists in ggml: empty row */
    GK_TF_FLOAT     = 1u << 1, /* plain float elements (f32, f16, bf16, f64) */
    GK_TF_INT       = 1u << 2, /* plain integer elements */
    GK_TF_QUANTIZED = 1u << 3, /* block-quantized */
    GK_TF_GRID      = 1u << 4, /* decoding needs a lookup grid (IQ1/IQ2/IQ3) */
    GK_TF_ACT_ONLY  = 1u << 5, /* activation-only type (q8_1, q8_K), never normally stored */
};

typedef struct gk_type_info {
    uint32_t id;
    const char *name;       /* ggml_type_name, e.g. "q4_K"; for removed ids the old name */
    uint32_t blck_size;     /* elements per block; 0 for removed ids */
    uint32_t type_size;     /* bytes per block; 0 for removed ids */
    uint32_t flags;         /* GK_TF_* */
} gk_type_info;

/* NULL for an id >= GK_TYPE_COUNT. Removed ids return their (empty) row with GK_TF_REMOVED. */
const gk_type_info *gk_type_info_get(uint32_t id);
/* 1 if the id is a live type that files may contain. */
int gk_type_is_valid(uint32_t id);
/* Case-insensitive lookup by ggml name ("Q4_K" finds q4_K); -1 if unknown or removed. */
int gk_type_from_name(const char *name);
/* Bytes for n elements (n must be a multiple of the block size); 0 and *ok=0 on overflow/misuse. */
uint64_t gk_type_nbytes(uint32_t id, uint64_t n_elements, int *ok);
/* Bits per weight: 8 * type_size / blck_size. */
double gk_type_bpw(uint32_t id);

/* llama.cpp file types (general.file_type, format-facts §5.1). */
typedef struct gk_ftype_info {
    uint32_t ftype;            /* llama_ftype value */
    const char *name;          /* CLI name, e.g. "Q4_K_M" */
    uint32_t default_type;     /* the ggml type most tensors get */
} gk_ftype_info;
/* NULL if the number is not a (live) llama_ftype. */
const gk_ftype_info *gk_ftype_get(uint32_t ftype);
/* Case-insensitive name (also the aliases Q3_K/Q4_K/Q5_K and plain numbers); NULL if unknown. */
const gk_ftype_info *gk_ftype_from_name(const char *name);

/* ------------------------------------------------------------------------------------------ */
/* GGUF metadata values.                                                                       */

typedef enum gk_vtype {
    GK_V_U8 = 0, GK_V_I8 = 1, GK_V_U16 = 2, GK_V_I16 = 3, GK_V_U32 = 4, GK_V_I32 = 5,
    GK_V_F32 = 6, GK_V_BOOL = 7, GK_V_STR = 8, GK_V_ARR = 9, GK_V_U64 = 10, GK_V_I64 = 11,
    GK_V_F64 = 12, GK_V_COUNT = 13
} gk_vtype;

/* Name as ggml prints it: "u8", "i8", ..., "str", "arr", "u64", "i64", "f64"; NULL if invalid. */
const char *gk_vtype_name(uint32_t t);
/* Size of one scalar of type t in bytes (0 for STR/ARR/invalid). */
size_t gk_vtype_size(uint32_t t);

typedef struct gk_str {
    const char *ptr;   /* not NUL-terminated in general (but the readers add a NUL after it) */
    uint64_t len;
} gk_str;

typedef struct gk_value gk_value;
struct gk_value {
    uint32_t type;                 /* gk_vtype */
    union {
        uint8_t u8; int8_t i8; uint16_t u16; int16_t i16; uint32_t u32; int32_t i32;
        float f32; uint8_t b;      /* bool: the raw byte as stored (0/1 normally) */
        uint64_t u64; int64_t i64; double f64;
    } v;
    gk_str str;                    /* GK_V_STR */
    struct {
        uint32_t type;             /* element type */
        uint64_t n;                /* element count */
        const void *data;          /* numeric/bool: n packed host-endian elements;
                                      STR: gk_str[n]; ARR: gk_value[n] (each of type ARR) */
    } arr;                         /* GK_V_ARR */
};

typedef struct gk_kv {
    gk_str key;
    gk_value val;
    uint64_t offset;               /* file offset where the key string starts (reader output) */
} gk_kv;

/* Numeric value of a scalar of any integer/bool type; *ok=0 if not an integer scalar. */
int64_t gk_value_as_i64(const gk_value *v, int *ok);
uint64_t gk_value_as_u64(const gk_value *v, int *ok);   /* *ok=0 also when negative */
double gk_value_as_f64(const gk_value *v, int *ok);     /* any numeric scalar */
/* Element i of a numeric array as double/i64 (bounds and type checked). */
double gk_array_get_f64(const gk_value *arr, uint64_t i, int *ok);
int64_t gk_array_get_i64(const gk_value *arr, uint64_t i, int *ok);

/* ------------------------------------------------------------------------------------------ */
/* GGUF reader.                                                                                */

#define GK_MAX_DIMS 4
#define GK_DEFAULT_ALIGNMENT 32u
#define GK_MAX_STRING (1024ull * 1024ull * 1024ull)   /* ggml's limit: 1 GiB */
#define GK_MAX_NESTING 8                             /* nested array depth the reader accepts */

typedef struct gk_tensor {
    gk_str name;
    uint32_t n_dims;
    uint64_t ne[GK_MAX_DIMS];      /* unused dims are 1 */
    uint32_t type;                 /* ggml type id */
    uint64_t offset;               /* as stored: relative to the data section */
    uint64_t nbytes;               /* type_size * nelements / blck_size */
    uint64_t info_offset;          /* file offset of this tensor-info record */
    const uint8_t *data;           /* mapped/memory readers: the bytes (host-unswapped);
                                      NULL for the streaming reader or when out of bounds */
} gk_tensor;

/* Reader flags. */
enum {
    GK_READ_NO_BOUNDS = 1u << 0,   /* do not require tensor data inside the file (header-only
                                      inputs, e.g. a truncated download being diagnosed); also
                                      accepts a file with tensors whose final padding is cut off.
                                      Out-of-range tensors then have data == NULL. */
};

typedef struct gk_gguf_priv gk_gguf_priv;
typedef struct gk_gguf {
    uint32_t version;              /* 1, 2 or 3 */
    int big_endian;                /* 1 if every multi-byte field is big-endian */
    uint32_t alignment;            /* general.alignment or 32 */
    uint64_t n_kv;
    gk_kv *kv;                     /* in file order */
    uint64_t n_tensors;
    gk_tensor *tensors;            /* in tensor-info order */
    uint64_t infos_end;            /* file offset just past the last tensor info */
    uint64_t data_start;           /* pad(infos_end): absolute offset of the data section */
    uint64_t file_size;            /* total input size (stream: bytes seen so far when known) */
    uint64_t data_end;             /* max over tensors of data_start + offset + nbytes
                                      (data_start when there are no tensors) */
    int contiguous;                /* offsets follow ggml's rule: tensor i at sum pad(nbytes) of j<i */
    int final_padding;             /* the padding after the last tensor (or, with no tensors,
                                      after the infos) is present */
    uint64_t trailing_bytes;       /* bytes after pad(data_end) (or after infos_end) */
    int has_long_names;            /* some tensor name is >= 64 bytes (llama.cpp refuses) */
    int has_nested_arrays;         /* some metadata array holds arrays (llama.cpp refuses) */
    const uint8_t *base;           /* the whole input, for mapped/memory readers; else NULL */
    gk_gguf_priv *priv;
} gk_gguf;

/* mmap a file (zero-copy: tensor data are pointers into the mapping). */
gk_status gk_gguf_open(const char *path, unsigned flags, gk_gguf **out, gk_err *err);
/* Parse a buffer the caller keeps alive until gk_gguf_close. */
gk_status gk_gguf_from_memory(const void *buf, size_t size, unsigned flags, gk_gguf **out,
                              gk_err *err);
void gk_gguf_close(gk_gguf *g);
/* Index of key / tensor name, or -1. */
int64_t gk_gguf_find_kv(const gk_gguf *g, const char *key);
int64_t gk_gguf_find_tensor(const gk_gguf *g, const char *name);
/* Convenience: the value of a key if present and of the given type, else NULL. */
const gk_value *gk_gguf_get(const gk_gguf *g, const char *key, uint32_t type);

/* Forward-only streaming reader: header, metadata, tensor infos, then each tensor's bytes in file
 * (offset) order. For pipes, archives and bundles. Memory use: the metadata plus a small buffer. */
typedef int64_t (*gk_read_fn)(void *ctx, void *buf, size_t n); /* bytes read, 0 at EOF, <0 error */
typedef struct gk_gguf_stream gk_gguf_stream;
gk_status gk_gguf_stream_open(gk_read_fn read, void *ctx, unsigned flags, gk_gguf_stream **out,
                              gk_err *err);
/* The parsed header (valid until gk_gguf_stream_close). tensors[i].data is NULL. */
const gk_gguf *gk_gguf_stream_header(const gk_gguf_stream *s);
/* Advance to the next tensor in file order; *index receives its tensor-info index, or -1 when
 * there are no more tensors. Skips (and does not return) padding and gap bytes. */
gk_status gk_gguf_stream_next(gk_gguf_stream *s, int64_t *index, gk_err *err);
/* Read up to n bytes of the current tensor; *got is 0 when the tensor is exhausted. A premature
 * end of input is GK_E_TRUNCATED naming the tensor. */
gk_status gk_gguf_stream_read(gk_gguf_stream *s, void *buf, size_t n, size_t *got, gk_err *err);
/* After the last tensor: consume the rest and report final padding / trailing bytes into the
 * header (final_padding, trailing_bytes, file_size). */
gk_status gk_gguf_stream_finish(gk_gguf_stream *s, gk_err *err);
void gk_gguf_stream_close(gk_gguf_stream *s);

/* A model over a split set (model-00001-of-0000N.gguf ...) or a single file. */
typedef struct gk_model_tensor {
    const gk_tensor *t;            /* points into parts[file]->tensors */
    uint32_t file;                 /* part index */
} gk_model_tensor;
typedef struct gk_model {
    uint32_t n_parts;
    gk_gguf **parts;               /* parts[0] carries the model's metadata */
    char **paths;
    uint64_t n_tensors;
    gk_model_tensor *tensors;      /* all tensors, part by part, in info order */
} gk_model;
/* Opens PATH; if its name matches <prefix>-NNNNN-of-MMMMM.gguf (or it carries split.count > 1),
 * opens every part, checks split.no / split.count / split.tensors.count and name uniqueness. */
gk_status gk_model_open(const char *path, unsigned flags, gk_model **out, gk_err *err);
void gk_model_close(gk_model *m);
/* Split file name: "<prefix>-%05d-of-%05d.gguf" with no = split.no + 1. Returns the length of
 * the full name (excluding the NUL, as snprintf does), so a buffer needs the result + 1 bytes;
 * buf may be NULL when cap is 0. */
size_t gk_split_path(char *buf, size_t cap, const char *prefix, uint32_t split_no,
                     uint32_t split_count);

/* ------------------------------------------------------------------------------------------ */
/* GGUF writer: header, metadata, tensor infos, then tensor data with alignment padding, to a  */
/* temporary file beside the destination; fsync; rename. Deterministic.                        */

/* Swaps n_blocks blocks of a quantized type in place (supplied by the kernels library). */
typedef void (*gk_byteswap_fn)(void *blocks, size_t n_blocks);

typedef struct gk_write_opts {
    uint32_t version;              /* 0 means 3 */
    int big_endian;                /* write a big-endian file */
    uint32_t alignment;            /* 0 means 32; must match general.alignment if that key is given */
    int no_empty_padding;          /* with 0 tensors, omit the padding after the metadata (as
                                      gguf-py's vocab-only files do) */
    /* For big-endian output of quantized types: per type id, the block swap; NULL entries mean
     * "cannot swap" (GK_E_UNSUPPORTED). Plain float/int types are swapped by the writer. */
    gk_byteswap_fn const *byteswap;/* array of GK_TYPE_COUNT or NULL */
} gk_write_opts;

typedef struct gk_writer gk_writer;

/* Opens "<dst>.tmp.XXXXXX" beside dst. Nothing appears under dst until gk_writer_finish. */
gk_status gk_writer_open(const char *dst, const gk_write_opts *opts, gk_writer **out, gk_err *err);
/* Writes header, metadata and tensor infos (offsets computed contiguously in the given order;
 * tensors[i].offset and .nbytes are ignored on input). kv[] and tensors[] may be freed after. */
gk_status gk_writer_begin(gk_writer *w, const gk_kv *kv, uint64_t n_kv, const gk_tensor *tensors,
                          uint64_t n_tensors, gk_err *err);
/* Offset (relative to the data section) assigned to tensor i by gk_writer_begin. */
uint64_t gk_writer_tensor_offset(const gk_writer *w, uint64_t i);
/* Appends bytes of the tensors, in order; chunks may cross tensor boundaries; padding between
 * tensors is inserted automatically. Data is given little-endian. */
gk_status gk_writer_write(gk_writer *w, const void *data, size_t n, gk_err *err);
/* Checks every tensor got exactly its bytes, writes the final padding, fsyncs, renames. */
gk_status gk_writer_finish(gk_writer *w, gk_err *err);
/* Frees the writer; if not finished, removes the temporary file. */
void gk_writer_free(gk_writer *w);
/* XXH3-128 of tensor i's bytes as written (little-endian data), available after its data is
 * complete: hi/lo halves. Returns 0 if not yet available. */
int gk_writer_tensor_hash(const gk_writer *w, uint64_t i, uint64_t *hi, uint64_t *lo);

/* Serialise to a caller-provided growable buffer instead of a file (tests, fuzzing). */
gk_status gk_writer_open_memory(const gk_write_opts *opts, gk_writer **out, gk_err *err);
/* After finish on a memory writer: the bytes (owned by the writer). */
const uint8_t *gk_writer_memory(const gk_writer *w, size_t *size);

/* Positional write (file writers only; the converter writes tensors out of order): n bytes at
 * offset_in_tensor of tensor tensor_index, pwrite'd into its planned region. Thread-safe for
 * disjoint regions. The file is pre-extended (ftruncate) on the first call, so padding is zero.
 * finish then checks that each tensor received exactly nbytes in total, and computes the hashes
 * by reading the data back. Mixing gk_writer_write and gk_writer_write_at in one writer is
 * refused (GK_E_INVALID_ARG); a memory writer returns GK_E_UNSUPPORTED. For big-endian output,
 * offset and n must cover whole elements/blocks. */
gk_status gk_writer_write_at(gk_writer *w, uint64_t tensor_index, uint64_t offset_in_tensor,
                             const void *data, size_t n, gk_err *err);

/* Convenience: write g (a reader's result, e.g. after editing kv/tensors) with its own data.
 * Used for round trips: same version, byte order, alignment and padding choices. Tensor data is
 * copied as stored (no byte swapping; hashes then cover the bytes as stored); offsets are
 * recomputed contiguously (ggml's layout), so a file with gaps is copied without them. */
gk_status gk_gguf_write_copy(const gk_gguf *g, const char *dst, gk_err *err);
/* The write options that reproduce g's choices (version, byte order, alignment, and
 * no_empty_padding for a tensorless file without final padding). */
void gk_gguf_copy_opts(const gk_gguf *g, gk_write_opts *opts);
/* gk_gguf_write_copy through an already opened writer (file or memory), which should have been
 * opened with gk_gguf_copy_opts(g): begin, every tensor's data, finish. */
gk_status gk_gguf_write_copy_to(const gk_gguf *g, gk_writer *w, gk_err *err);

/* ------------------------------------------------------------------------------------------ */
/* JSON output for reports (design.md conventions: %.9g f32, %.17g f64, exact 64-bit integers,   */
/* "nan"/"inf"/"-inf" strings, null for absent; invalid UTF-8 bytes become U+FFFD).             */

#define GK_JSON_MAX_DEPTH 64
typedef struct gk_json {
    FILE *f;
    int pretty;
    int depth;
    int after_key;
    uint64_t count[GK_JSON_MAX_DEPTH];
} gk_json;
void gk_json_init(gk_json *j, FILE *f, int pretty);
void gk_json_obj(gk_json *j);
void gk_json_obj_end(gk_json *j);
void gk_json_arr(gk_json *j);
void gk_json_arr_end(gk_json *j);
void gk_json_key(gk_json *j, const char *key);
void gk_json_str(gk_json *j, const char *s);          /* NULL prints null */
void gk_json_strn(gk_json *j, const char *s, size_t n);
void gk_json_null(gk_json *j);
void gk_json_bool(gk_json *j, int b);
void gk_json_i64(gk_json *j, int64_t v);
void gk_json_u64(gk_json *j, uint64_t v);
void gk_json_f32(gk_json *j, float v);
void gk_json_f64(gk_json *j, double v);

/* ------------------------------------------------------------------------------------------ */
/* Kernels: compute traits per type, selected per ISA once into a context.                     */

typedef enum gk_isa { GK_ISA_SCALAR = 0, GK_ISA_AVX2 = 1, GK_ISA_AVX512 = 2, GK_ISA_COUNT } gk_isa;

/* Dequantize k elements (k a multiple of the block size). Pointers may be unaligned. */
typedef void (*gk_to_float_fn)(const void *x, float *y, int64_t k);
/* ggml_quantize_chunk semantics: nrows rows of n_per_row; imatrix (n_per_row weights, may be
 * NULL) used by types that take importance weights. Returns bytes written. */
typedef size_t (*gk_quantize_fn)(const float *x, void *y, int64_t nrows, int64_t n_per_row,
                                 const float *imatrix);
/* Activation quantization as ggml's x86 CPU backend does it (from_float of a vec_dot_type). */
typedef void (*gk_from_float_fn)(const float *x, void *y, int64_t k);
/* Dot product of one weight row (type T) with one activation row (T's vec_dot_type). */
typedef float (*gk_vec_dot_fn)(int64_t n, const void *w, const void *a);
/* Validates nbytes of data: returns -1 if all is valid, else the index of the first bad block
 * (or element, for plain types). */
typedef int64_t (*gk_validate_fn)(const void *data, size_t nbytes);

typedef struct gk_kernel_row {
    uint32_t type;
    uint32_t vec_dot_type;                 /* activation type vec_dot pairs with */
    gk_to_float_fn to_float[GK_ISA_COUNT];   /* NULL entries fall back to a lower ISA */
    gk_quantize_fn quantize[GK_ISA_COUNT];
    gk_from_float_fn from_float[GK_ISA_COUNT]; /* for types used as activations */
    gk_vec_dot_fn vec_dot[GK_ISA_COUNT];
    gk_validate_fn validate;
    gk_byteswap_fn byteswap;
    int uses_imatrix;                      /* quantize reads importance weights */
    double dot_tol;                        /* relative tolerance of vec_dot vs exact f64 of the
                                              dequantized operands (for tests) */
} gk_kernel_row;

/* The static traits row of a type (NULL for ids without compute support). */
const gk_kernel_row *gk_kernel_row_get(uint32_t type);

typedef struct gk_kfns {
    gk_to_float_fn to_float;
    gk_quantize_fn quantize;
    gk_from_float_fn from_float;
    gk_vec_dot_fn vec_dot;
    gk_validate_fn validate;
    gk_byteswap_fn byteswap;
    uint32_t vec_dot_type;
} gk_kfns;

typedef struct gk_kctx {
    gk_isa isa;
    gk_kfns fn[GK_TYPE_COUNT];
    gk_byteswap_fn byteswap[GK_TYPE_COUNT];  /* for gk_write_opts.byteswap */
} gk_kctx;

/* Best ISA this CPU supports (cpuid; SCALAR on non-x86). */
gk_isa gk_cpu_isa(void);
const char *gk_isa_name(gk_isa isa);
/* Fills ctx for an ISA: isa < 0 means GGUFKIT_ISA from the environment if set, else gk_cpu_isa().
 * Asking for an ISA the CPU lacks is GK_E_UNSUPPORTED. */
gk_status gk_kctx_init(gk_kctx *ctx, int isa, gk_err *err);

/* fp16 / bf16 conversions as ggml does them (format-facts §3.0). */
uint16_t gk_fp32_to_fp16(float f);
float gk_fp16_to_fp32(uint16_t h);
uint16_t gk_fp32_to_bf16(float f);
float gk_bf16_to_fp32(uint16_t h);

/* A small thread pool for row-parallel work. */
typedef struct gk_pool gk_pool;
/* n_threads <= 0: number of online CPUs. */
gk_status gk_pool_create(int n_threads, gk_pool **out, gk_err *err);
int gk_pool_size(const gk_pool *p);
/* Runs fn(ctx, task, thread) for task in [0, n_tasks) across the pool; returns when all are done. */
void gk_pool_run(gk_pool *p, int64_t n_tasks, void (*fn)(void *ctx, int64_t task, int thread),
                 void *ctx);
void gk_pool_free(gk_pool *p);

/* ------------------------------------------------------------------------------------------ */
/* safetensors and checkpoint sources (spec/safetensors.md).                                    */

/* safetensors dtypes ggufkit reads (plain values, little-endian). The newer dtypes F8_E8M0,
 * F8_E4M3FNUZ, F8_E5M2FNUZ, F4, F6_E2M3, F6_E3M2 and C64 are recognised and rejected with
 * GK_E_UNSUPPORTED naming the tensor and dtype; any other dtype string is GK_E_BAD_DTYPE. */
typedef enum gk_st_dtype {
    GK_ST_BOOL = 0, GK_ST_U8, GK_ST_I8, GK_ST_F8_E5M2, GK_ST_F8_E4M3,
    GK_ST_I16, GK_ST_U16, GK_ST_F16, GK_ST_BF16,
    GK_ST_I32, GK_ST_U32, GK_ST_F32,
    GK_ST_F64, GK_ST_I64, GK_ST_U64,
    GK_ST_DTYPE_COUNT
} gk_st_dtype;

#define GK_ST_MAX_DIMS 8
#define GK_ST_MAX_HEADER 100000000ull          /* the reference reader's header limit */

/* Name as written in files ("F32", "BF16", "F8_E4M3", ...); NULL if out of range. */
const char *gk_st_dtype_name(int dtype);
/* Bytes per element (1, 2, 4 or 8); 0 if out of range. */
size_t gk_st_dtype_size(int dtype);
/* Exact, case-sensitive lookup: the gk_st_dtype, or -1 if unknown, or -2 if it is a dtype of
 * the safetensors format that ggufkit does not support (F8_E8M0, FNUZ, F4, F6, C64). */
int gk_st_dtype_from_name(const char *name);
/* 1 for F16, BF16, F32, F64, F8_E4M3, F8_E5M2. */
int gk_st_dtype_is_float(int dtype);
/* Converts n elements of any supported dtype to f32. src may be unaligned. Exact for F16, BF16,
 * F8_E4M3 (the "fn" variant: no infinities, S.1111.111 is NaN, max 448), F8_E5M2 (IEEE-like);
 * F64 and 32/64-bit integers round to nearest; BOOL gives 0 or 1. GK_E_INVALID_ARG for a bad
 * dtype. */
gk_status gk_st_row_to_f32(int dtype, const void *src, float *dst, size_t n);

typedef struct gk_st_tensor {
    const char *name;              /* NUL-terminated, valid UTF-8 (may be empty) */
    gk_st_dtype dtype;
    uint32_t n_dims;               /* 0 for a scalar */
    uint64_t shape[GK_ST_MAX_DIMS];/* row-major, as in the file: shape[n_dims-1] is the row
                                      length; unused entries are 0 */
    uint64_t n_elements;           /* product of shape (1 for a scalar) */
    uint64_t nbytes;               /* n_elements * dtype size == end - begin */
    uint64_t begin;                /* data_offsets[0], relative to the data buffer */
    uint64_t offset;               /* absolute file offset: 8 + header length + begin */
    const uint8_t *data;           /* the bytes (in the mapping / memory); NULL for header-only */
} gk_st_tensor;

typedef struct gk_st_meta {
    const char *key;
    const char *value;
} gk_st_meta;

typedef struct gk_st_priv gk_st_priv;
typedef struct gk_st {
    uint64_t header_len;           /* N */
    uint64_t data_start;           /* 8 + N */
    uint64_t file_size;            /* data_start + data buffer size */
    uint64_t n_tensors;
    gk_st_tensor *tensors;         /* sorted by name (byte order) */
    uint64_t n_meta;
    gk_st_meta *meta;              /* __metadata__, sorted by key */
    const uint8_t *base;           /* whole file (mapped/memory), or NULL for header-only */
    gk_st_priv *priv;
} gk_st;

/* mmap a safetensors file (zero-copy) and validate it fully (format-facts §8). */
gk_status gk_st_open(const char *path, gk_st **out, gk_err *err);
/* Parse a buffer the caller keeps alive until gk_st_close. */
gk_status gk_st_from_memory(const void *buf, size_t size, gk_st **out, gk_err *err);
/* Header only: buf holds at least the first 8 + N bytes of a file whose total size is
 * file_size (e.g. an archive member); every check is made against file_size; data pointers are
 * NULL. buf may be freed after the call. */
gk_status gk_st_from_header(const void *buf, size_t n, uint64_t file_size, gk_st **out,
                            gk_err *err);
void gk_st_close(gk_st *st);
/* Index of a tensor, or -1. */
int64_t gk_st_find(const gk_st *st, const char *name);
/* __metadata__ value, or NULL. */
const char *gk_st_meta_get(const gk_st *st, const char *key);

/* A Hugging Face checkpoint: named small files (config.json, tokenizer.json, ...) plus tensors
 * from one or more safetensors parts. Sources: a directory (also a Hugging Face cache snapshot
 * whose files are symlinks into ../../blobs), a single .safetensors file, or the same directory
 * packed as .tar, .tar.gz, .tar.zst or .zip (optionally under one top folder), read through
 * libarchive without unpacking. Parts: the sorted unique values of weight_map in
 * model.safetensors.index.json (the names must equal the tensors found), else every root file
 * named model*.safetensors, sorted. */
typedef enum gk_ckpt_kind { GK_CKPT_DIR = 0, GK_CKPT_FILE = 1, GK_CKPT_ARCHIVE = 2 } gk_ckpt_kind;

#define GK_CKPT_SMALL_MAX (64ull * 1024 * 1024)  /* larger root files are listed, not loaded */
#define GK_CKPT_CHUNK (4u * 1024 * 1024)          /* default streaming chunk */

typedef struct gk_ckpt_file {
    const char *name;              /* file name at the checkpoint root, e.g. "config.json" */
    uint64_t size;
    int loaded;                    /* archive sources: its bytes were kept (size <= SMALL_MAX) */
} gk_ckpt_file;

typedef struct gk_ckpt_part {
    const char *name;              /* e.g. "model-00001-of-00002.safetensors" */
    gk_st *st;                     /* directory/file: full reader; archive: header-only */
} gk_ckpt_part;

typedef struct gk_ckpt_tensor {
    const gk_st_tensor *t;         /* points into parts[part].st->tensors */
    uint32_t part;
} gk_ckpt_tensor;

typedef struct gk_ckpt_priv gk_ckpt_priv;
typedef struct gk_ckpt {
    gk_ckpt_kind kind;
    const char *name;              /* directory basename; for a HF cache snapshot the repo name
                                      (models--org--NAME); archive: its top folder, else the
                                      archive's name without extensions */
    uint64_t n_files;
    gk_ckpt_file *files;           /* root files, sorted by name (parts included) */
    uint32_t n_parts;
    gk_ckpt_part *parts;
    uint64_t n_tensors;
    gk_ckpt_tensor *tensors;       /* part by part, by name within a part; names are unique */
    gk_ckpt_priv *priv;
} gk_ckpt;

/* PLAN: opens a directory, a .safetensors file, or an archive (anything else that is a regular
 * file). For archives this is the first forward pass: small root files are read into memory,
 * each safetensors member's header only; data is skipped. Unsafe archive entries (absolute
 * paths, "..", symlinks, hard links, devices, fifos) are GK_E_UNSAFE_PATH. */
gk_status gk_ckpt_open(const char *path, gk_ckpt **out, gk_err *err);
void gk_ckpt_close(gk_ckpt *c);
/* Small-file lookup by root name: *data (NUL-terminated, owned by c) and *len. GK_E_NOT_FOUND if
 * absent; GK_E_UNSUPPORTED if it is larger than GK_CKPT_SMALL_MAX; GK_E_IO on read errors. */
gk_status gk_ckpt_file_get(gk_ckpt *c, const char *name, const uint8_t **data, size_t *len,
                           gk_err *err);
/* Index into c->tensors, or -1. */
int64_t gk_ckpt_find_tensor(const gk_ckpt *c, const char *name);
/* Direct pointer to a tensor's bytes (directory/file sources); NULL for archives. */
const uint8_t *gk_ckpt_tensor_data(const gk_ckpt *c, uint64_t i);

/* Called for each chunk of tensor data: tensor index i (into c->tensors), the byte offset of
 * the chunk within the tensor, and the bytes (valid only during the call). Chunks start on an
 * element boundary and hold whole elements, and whole rows when a row fits in the chunk.
 * Returning non-GK_OK stops the stream with that status. Tensors of 0 bytes get no call. */
typedef gk_status (*gk_ckpt_chunk_fn)(void *ctx, uint64_t i, uint64_t offset, const void *bytes,
                                      size_t n, gk_err *err);
/* WRITE: streams every tensor's bytes once, in source order (part by part in archive order,
 * file offset order within a part); memory is bounded by chunk_bytes (0 = GK_CKPT_CHUNK).
 * Archives are read in a second forward pass that must see the same members as the plan. May
 * be called more than once. */
gk_status gk_ckpt_stream(gk_ckpt *c, size_t chunk_bytes, gk_ckpt_chunk_fn fn, void *ctx,
                         gk_err *err);

#ifdef __cplusplus
}
#endif
#endif /* GGUFKIT_H */
