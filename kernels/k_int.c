/* I8, I16, I32, I64 (format-facts §3.1, §3.10): plain integer arrays. There is nothing to
 * convert or validate (a trailing partial element is reported as bad); byteswap swaps each
 * element. */
#include "kq_search.h"

static int64_t int_validate(const void *data, size_t nbytes, size_t es) {
    (void)data;
    return nbytes % es ? (int64_t)(nbytes / es) : -1;
}
static int64_t i8_validate(const void *d, size_t n) { return int_validate(d, n, 1); }
static int64_t i16_validate(const void *d, size_t n) { return int_validate(d, n, 2); }
static int64_t i32_validate(const void *d, size_t n) { return int_validate(d, n, 4); }
static int64_t i64_validate(const void *d, size_t n) { return int_validate(d, n, 8); }

static void swap_elems(void *blocks, size_t n, size_t es) {
    uint8_t *p = (uint8_t *)blocks;
    for (size_t i = 0; i < n; i++, p += es)
        for (size_t a = 0, b = es - 1; a < b; a++, b--) {
            uint8_t t = p[a];
            p[a] = p[b];
            p[b] = t;
        }
}
static void i8_byteswap(void *b, size_t n) { (void)b; (void)n; }
static void i16_byteswap(void *b, size_t n) { swap_elems(b, n, 2); }
static void i32_byteswap(void *b, size_t n) { swap_elems(b, n, 4); }
static void i64_byteswap(void *b, size_t n) { swap_elems(b, n, 8); }

const gk_kernel_row gk_krow_i8 = {.type = GK_TYPE_I8, .vec_dot_type = GK_TYPE_I8,
                                  .validate = i8_validate, .byteswap = i8_byteswap};
const gk_kernel_row gk_krow_i16 = {.type = GK_TYPE_I16, .vec_dot_type = GK_TYPE_I16,
                                   .validate = i16_validate, .byteswap = i16_byteswap};
const gk_kernel_row gk_krow_i32 = {.type = GK_TYPE_I32, .vec_dot_type = GK_TYPE_I32,
                                   .validate = i32_validate, .byteswap = i32_byteswap};
const gk_kernel_row gk_krow_i64 = {.type = GK_TYPE_I64, .vec_dot_type = GK_TYPE_I64,
                                   .validate = i64_validate, .byteswap = i64_byteswap};
