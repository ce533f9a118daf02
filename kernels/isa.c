/* ISA selection: cpuid once, into a context (never a lazily filled global). */
#include "kernels_int.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#if GK_X86
#include <cpuid.h>

static uint64_t xgetbv0(void) {
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}
#endif

/* cpuid leaves 1 and 7, plus XCR0 to check that the OS saves the YMM/ZMM state. */
gk_isa gk_cpu_isa(void) {
#if GK_X86
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return GK_ISA_SCALAR;
    int fma = (c >> 12) & 1, osxsave = (c >> 27) & 1, f16c = (c >> 29) & 1, avx = (c >> 28) & 1;
    if (!osxsave || !avx) return GK_ISA_SCALAR;
    uint64_t xcr0 = xgetbv0();
    if ((xcr0 & 0x6) != 0x6) return GK_ISA_SCALAR;          /* XMM and YMM state */
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return GK_ISA_SCALAR;
    int avx2 = (b >> 5) & 1, bmi2 = (b >> 8) & 1;
    int avx512f = (b >> 16) & 1, avx512dq = (b >> 17) & 1, avx512bw = (b >> 30) & 1,
        avx512vl = (b >> 31) & 1, vnni = (c >> 11) & 1;
    int zmm_state = (xcr0 & 0xe6) == 0xe6;                  /* opmask, ZMM hi256, hi16 ZMM */
    if (avx2 && fma && f16c && bmi2 && avx512f && avx512dq && avx512bw && avx512vl && vnni &&
        zmm_state)
        return GK_ISA_AVX512;
    if (avx2 && fma && f16c && bmi2) return GK_ISA_AVX2;
#endif
    return GK_ISA_SCALAR;
}

const char *gk_isa_name(gk_isa isa) {
    switch (isa) {
    case GK_ISA_SCALAR: return "scalar";
    case GK_ISA_AVX2: return "avx2";
    case GK_ISA_AVX512: return "avx512";
    default: return "?";
    }
}

/* The entry for `isa`, or the nearest lower ISA that has one. */
#define PICK(dst, arr, isa)                                               \
    do {                                                                  \
        (dst) = NULL;                                                     \
        for (int i_ = (int)(isa); i_ >= 0 && !(dst); i_--) (dst) = (arr)[i_]; \
    } while (0)

gk_status gk_kctx_init(gk_kctx *ctx, int isa, gk_err *err) {
    if (!ctx) return gk_err_set(err, GK_E_INVALID_ARG, "gk_kctx_init: ctx is NULL");
    gk_isa best = gk_cpu_isa();
    if (isa < 0) {
        const char *env = getenv("GGUFKIT_ISA");
        if (env && *env) {
            int found = -1;
            for (int i = 0; i < GK_ISA_COUNT; i++)
                if (strcasecmp(env, gk_isa_name((gk_isa)i)) == 0) found = i;
            if (found < 0)
                return gk_err_set(err, GK_E_INVALID_ARG,
                                  "GGUFKIT_ISA=%s: expected scalar, avx2 or avx512", env);
            isa = found;
        } else {
            isa = (int)best;
        }
    }
    if (isa >= GK_ISA_COUNT) return gk_err_set(err, GK_E_INVALID_ARG, "unknown ISA %d", isa);
    if (isa > (int)best)
        return gk_err_set(err, GK_E_UNSUPPORTED, "this CPU does not support the %s kernels (best: %s)",
                          gk_isa_name((gk_isa)isa), gk_isa_name(best));
    memset(ctx, 0, sizeof *ctx);
    ctx->isa = (gk_isa)isa;
    for (uint32_t t = 0; t < GK_TYPE_COUNT; t++) {
        const gk_kernel_row *r = gk_kernel_row_get(t);
        if (!r) continue;
        gk_kfns *f = &ctx->fn[t];
        PICK(f->to_float, r->to_float, isa);
        PICK(f->quantize, r->quantize, isa);
        PICK(f->from_float, r->from_float, isa);
        PICK(f->vec_dot, r->vec_dot, isa);
        f->validate = r->validate;
        f->byteswap = r->byteswap;
        f->vec_dot_type = r->vec_dot_type;
        ctx->byteswap[t] = r->byteswap;
    }
    return GK_OK;
}
