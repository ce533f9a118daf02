/* Status names, exit codes and the error record. */
#include "ggufkit.h"

#include <stdarg.h>
#include <stdio.h>

const char *gk_status_name(gk_status s) {
    switch (s) {
    case GK_OK: return "ok";
    case GK_E_INVALID_ARG: return "invalid_argument";
    case GK_E_NOMEM: return "no_memory";
    case GK_E_IO: return "io";
    case GK_E_UNSUPPORTED: return "unsupported";
    case GK_E_INTERNAL: return "internal";
    case GK_E_TRUNCATED: return "truncated";
    case GK_E_BAD_MAGIC: return "bad_magic";
    case GK_E_BAD_VERSION: return "bad_version";
    case GK_E_TOO_MANY: return "too_many";
    case GK_E_OVERFLOW: return "overflow";
    case GK_E_EMPTY_KEY: return "empty_key";
    case GK_E_DUP_KEY: return "duplicate_key";
    case GK_E_BAD_VALUE_TYPE: return "bad_value_type";
    case GK_E_BAD_STRING: return "bad_string";
    case GK_E_BAD_ALIGNMENT: return "bad_alignment";
    case GK_E_BAD_TENSOR_NAME: return "bad_tensor_name";
    case GK_E_DUP_TENSOR: return "duplicate_tensor";
    case GK_E_BAD_NDIMS: return "bad_ndims";
    case GK_E_BAD_DIM: return "bad_dim";
    case GK_E_BAD_TYPE: return "bad_type";
    case GK_E_REMOVED_TYPE: return "removed_type";
    case GK_E_BAD_SHAPE: return "bad_shape";
    case GK_E_MISALIGNED: return "misaligned";
    case GK_E_OUT_OF_BOUNDS: return "out_of_bounds";
    case GK_E_OVERLAP: return "overlap";
    case GK_E_NESTING: return "nesting";
    case GK_E_SPLIT: return "split";
    case GK_E_BAD_JSON: return "bad_json";
    case GK_E_BAD_DTYPE: return "bad_dtype";
    case GK_E_SIZE_MISMATCH: return "size_mismatch";
    case GK_E_BAD_ARCHIVE: return "bad_archive";
    case GK_E_UNSAFE_PATH: return "unsafe_path";
    case GK_E_NOT_FOUND: return "not_found";
    case GK_E_MISMATCH: return "mismatch";
    case GK_E_INVALID_DATA: return "invalid_data";
    }
    return "unknown";
}

int gk_status_exit_code(gk_status s) {
    switch (s) {
    case GK_OK: return 0;
    case GK_E_INVALID_ARG: return 2;
    case GK_E_NOMEM:
    case GK_E_IO:
    case GK_E_INTERNAL: return 3;
    default: return 1;
    }
}

static gk_status err_vset(gk_err *e, gk_status s, int has_off, uint64_t off, const char *fmt,
                          va_list ap) {
    if (!e) return s;
    e->status = s;
    e->has_offset = has_off;
    e->offset = off;
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    return s;
}

gk_status gk_err_set(gk_err *e, gk_status s, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    err_vset(e, s, 0, 0, fmt, ap);
    va_end(ap);
    return s;
}

gk_status gk_err_set_at(gk_err *e, gk_status s, uint64_t off, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    err_vset(e, s, 1, off, fmt, ap);
    va_end(ap);
    return s;
}
