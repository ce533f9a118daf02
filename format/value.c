/* GGUF metadata values: type names and sizes, numeric accessors. */
#include "ggufkit.h"

#include <string.h>

static const char *const vtype_names[GK_V_COUNT] = {
    "u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "str", "arr", "u64", "i64", "f64",
};
static const unsigned char vtype_sizes[GK_V_COUNT] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};

const char *gk_vtype_name(uint32_t t) { return t < GK_V_COUNT ? vtype_names[t] : NULL; }

size_t gk_vtype_size(uint32_t t) { return t < GK_V_COUNT ? vtype_sizes[t] : 0; }

/* Reads a scalar of integer/bool type t from p (host order): 1 if integer, sets *s or *u. */
static int load_int(uint32_t t, const void *p, int64_t *s, uint64_t *u, int *is_signed) {
    switch (t) {
    case GK_V_U8: case GK_V_BOOL: { uint8_t v; memcpy(&v, p, 1); *u = v; *is_signed = 0; return 1; }
    case GK_V_U16: { uint16_t v; memcpy(&v, p, 2); *u = v; *is_signed = 0; return 1; }
    case GK_V_U32: { uint32_t v; memcpy(&v, p, 4); *u = v; *is_signed = 0; return 1; }
    case GK_V_U64: { uint64_t v; memcpy(&v, p, 8); *u = v; *is_signed = 0; return 1; }
    case GK_V_I8: { int8_t v; memcpy(&v, p, 1); *s = v; *is_signed = 1; return 1; }
    case GK_V_I16: { int16_t v; memcpy(&v, p, 2); *s = v; *is_signed = 1; return 1; }
    case GK_V_I32: { int32_t v; memcpy(&v, p, 4); *s = v; *is_signed = 1; return 1; }
    case GK_V_I64: { int64_t v; memcpy(&v, p, 8); *s = v; *is_signed = 1; return 1; }
    default: return 0;
    }
}

static const void *scalar_ptr(const gk_value *v) { return &v->v; }

static int64_t as_i64(uint32_t t, const void *p, int *ok) {
    int64_t s = 0; uint64_t u = 0; int sg = 0;
    int good = load_int(t, p, &s, &u, &sg);
    if (good && !sg && u > (uint64_t)INT64_MAX) good = 0;
    if (ok) *ok = good;
    return !good ? 0 : sg ? s : (int64_t)u;
}

static double as_f64(uint32_t t, const void *p, int *ok) {
    if (t == GK_V_F32) { float f; memcpy(&f, p, 4); if (ok) *ok = 1; return f; }
    if (t == GK_V_F64) { double d; memcpy(&d, p, 8); if (ok) *ok = 1; return d; }
    int64_t s = 0; uint64_t u = 0; int sg = 0;
    int good = load_int(t, p, &s, &u, &sg);
    if (ok) *ok = good;
    return !good ? 0.0 : sg ? (double)s : (double)u;
}

int64_t gk_value_as_i64(const gk_value *v, int *ok) {
    if (!v) { if (ok) *ok = 0; return 0; }
    return as_i64(v->type, scalar_ptr(v), ok);
}

uint64_t gk_value_as_u64(const gk_value *v, int *ok) {
    int64_t s = 0; uint64_t u = 0; int sg = 0;
    int good = v && load_int(v->type, scalar_ptr(v), &s, &u, &sg);
    if (good && sg) {
        if (s < 0) good = 0;
        else u = (uint64_t)s;
    }
    if (ok) *ok = good;
    return good ? u : 0;
}

double gk_value_as_f64(const gk_value *v, int *ok) {
    if (!v) { if (ok) *ok = 0; return 0.0; }
    return as_f64(v->type, scalar_ptr(v), ok);
}

static const void *array_elem(const gk_value *arr, uint64_t i) {
    if (!arr || arr->type != GK_V_ARR || i >= arr->arr.n || !arr->arr.data) return NULL;
    size_t sz = gk_vtype_size(arr->arr.type);
    if (!sz) return NULL;
    return (const unsigned char *)arr->arr.data + i * sz;
}

double gk_array_get_f64(const gk_value *arr, uint64_t i, int *ok) {
    const void *p = array_elem(arr, i);
    if (!p) { if (ok) *ok = 0; return 0.0; }
    return as_f64(arr->arr.type, p, ok);
}

int64_t gk_array_get_i64(const gk_value *arr, uint64_t i, int *ok) {
    const void *p = array_elem(arr, i);
    if (!p) { if (ok) *ok = 0; return 0; }
    return as_i64(arr->arr.type, p, ok);
}
