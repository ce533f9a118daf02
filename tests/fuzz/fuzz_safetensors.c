/* libFuzzer target for the safetensors reader. For any input:
 *  - gk_st_from_memory either fails with a message, or gives records that tile the input exactly
 *    (each tensor's bytes inside it, sizes = elements x dtype size); every tensor is converted to
 *    f32 (first elements) and looked up by name, every metadata key too;
 *  - gk_st_from_header over the same bytes and size must agree with it (same status, same
 *    tensors), since it makes the same checks without the data.
 * An inconsistency traps, so the fuzzer (and the replay test) report it. */
#include "ggufkit.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define FUZZ_ASSERT(c) do { if (!(c)) { fprintf(stderr, "fuzz_safetensors: %s\n", #c); __builtin_trap(); } } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    gk_st *st = NULL, *h = NULL;
    gk_err e = {0}, eh = {0};
    gk_status rc = gk_st_from_memory(data, size, &st, &e);
    gk_status rh = gk_st_from_header(data, size, size, &h, &eh);
    FUZZ_ASSERT(rc == rh);
    if (rc != GK_OK) {
        FUZZ_ASSERT(st == NULL && h == NULL && e.msg[0] != 0 && e.status == rc);
        return 0;
    }
    FUZZ_ASSERT(st->n_tensors == h->n_tensors && st->n_meta == h->n_meta);
    uint64_t total = 0;
    float f[16];
    for (uint64_t i = 0; i < st->n_tensors; i++) {
        const gk_st_tensor *t = &st->tensors[i];
        FUZZ_ASSERT(strcmp(t->name, h->tensors[i].name) == 0 && h->tensors[i].data == NULL);
        FUZZ_ASSERT(t->n_dims <= GK_ST_MAX_DIMS);
        FUZZ_ASSERT(t->nbytes == t->n_elements * gk_st_dtype_size(t->dtype));
        FUZZ_ASSERT(t->offset >= st->data_start && t->offset + t->nbytes <= size);
        FUZZ_ASSERT(t->data == data + t->offset);
        FUZZ_ASSERT(gk_st_find(st, t->name) == (int64_t)i);
        size_t n = t->n_elements < 16 ? (size_t)t->n_elements : 16;
        FUZZ_ASSERT(gk_st_row_to_f32(t->dtype, t->data, f, n) == GK_OK);
        total += t->nbytes;
    }
    FUZZ_ASSERT(st->data_start + total == size);
    for (uint64_t i = 0; i < st->n_meta; i++)
        FUZZ_ASSERT(gk_st_meta_get(st, st->meta[i].key) != NULL);
    gk_st_close(st);
    gk_st_close(h);
    return 0;
}
