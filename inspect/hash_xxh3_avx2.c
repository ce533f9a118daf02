/* XXH3-128 streaming update compiled for AVX2 (libxxhash's own inline header, instantiated with
 * its AVX2 accumulate loop), picked at run time by hash.c when the CPU has AVX2 (gk_cpu_isa).
 * The state layout is the header's, the same in both instantiations. On cache-hot chunks this
 * runs at ~1.5x the SSE2 build (spec/hash.md). */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx2")
#endif
#include <immintrin.h> /* the header expects it when __AVX2__ is not predefined */
#define XXH_INLINE_ALL
#define XXH_VECTOR 2 /* XXH_AVX2 */
#include <xxhash.h>

#include "gk_inspect.h"

void gk_xxh3_128_update_avx2(void *state, const void *p, size_t n) {
    XXH3_128bits_update((XXH3_state_t *)state, p, n);
}
#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif
int gk_xxh3_avx2_built(void) { return 1; }
#else
#include "gk_inspect.h"
void gk_xxh3_128_update_avx2(void *state, const void *p, size_t n) {
    (void)state; (void)p; (void)n;
}
int gk_xxh3_avx2_built(void) { return 0; }
#endif
