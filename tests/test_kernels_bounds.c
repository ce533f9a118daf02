/* Every vec_dot on every ISA path the CPU has, over rows of 1..40 blocks held in buffers of
 * exactly the row's size (and shifted by one byte, so unaligned), for the weights and for the
 * activations: the SIMD paths load several blocks at a time (tiles of 8 or 16 blocks, 128-byte
 * windows for the scales), so this is the test that they never load past the end of a row. Under
 * AddressSanitizer (the CI's sanitizer build) any such load fails the test; in every build each
 * result is compared with the scalar path's. GGUFKIT_ISA restricts it to one path (exit 77 if the
 * CPU lacks it). */
#include "testutil.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rs = 0x853c49e6748fea9bull;
static double urand(void) {
    rs = rs * 6364136223846793005ull + 1442695040888963407ull;
    return ((double)(rs >> 11) + 0.5) * 0x1p-53;
}
static float nrand(void) { return (float)(sqrt(-2 * log(urand())) * cos(6.283185307179586 * urand())); }

/* quantize one row of n floats into exactly-sized storage (from_float for activation types) */
static int fill(const gk_kfns *f, const float *x, uint8_t *dst, int64_t n) {
    if (f->from_float) f->from_float(x, dst, n);
    else if (f->quantize) f->quantize(x, dst, 1, n, NULL);
    else return 0;
    return 1;
}

int main(void) {
    gk_kctx sc;
    CHECK(gk_kctx_init(&sc, GK_ISA_SCALAR, NULL) == GK_OK);
    enum { MAXB = 40 };
    float *x = malloc(sizeof(float) * MAXB * 256), *act = malloc(sizeof(float) * MAXB * 256);
    CHECK(x && act);
    int checked = 0;
    const char *env = getenv("GGUFKIT_ISA");
    const int forced = env && *env;
    for (int isa = GK_ISA_SCALAR; isa < GK_ISA_COUNT; isa++) {
        gk_kctx c;
        const gk_status st = gk_kctx_init(&c, forced ? -1 : isa, NULL);
        if (forced && st == GK_E_UNSUPPORTED) {
            printf("SKIP: GGUFKIT_ISA=%s is not supported by this CPU\n", env);
            return GK_SKIP;
        }
        if (st != GK_OK) {
            printf("isa %s: not supported by this CPU\n", gk_isa_name((gk_isa)isa));
            continue;
        }
        if (forced && (int)c.isa != isa) continue;
        for (uint32_t t = 0; t < GK_TYPE_COUNT; t++) {
            const gk_kfns *f = &c.fn[t];
            const gk_type_info *ti = gk_type_info_get(t);
            if (!f->vec_dot || !ti || !ti->blck_size) continue;
            const uint32_t at = f->vec_dot_type;
            const gk_type_info *ai = gk_type_info_get(at);
            if (!ai || !ai->blck_size) continue;
            for (int64_t nb = 1; nb <= MAXB; nb++) {
                const int64_t n = nb * ti->blck_size;
                if (n % ai->blck_size || n > MAXB * 256) continue;
                const size_t wbytes = (size_t)nb * ti->type_size;
                const size_t abytes = (size_t)(n / ai->blck_size) * ai->type_size;
                const int shift = (int)(nb & 1);
                uint8_t *wbuf = malloc(wbytes + (size_t)shift), *abuf = malloc(abytes + (size_t)shift);
                CHECK(wbuf && abuf);
                if (!wbuf || !abuf) return 1;
                uint8_t *w = wbuf + shift, *a = abuf + shift;
                double scale = 0;
                for (int64_t i = 0; i < n; i++) {
                    x[i] = nrand();
                    act[i] = nrand();
                    scale += fabs((double)x[i] * act[i]);
                }
                if (!fill(&sc.fn[t], x, w, n) || !fill(&sc.fn[at], act, a, n)) {
                    free(wbuf);
                    free(abuf);
                    continue;
                }
                const float r = f->vec_dot(n, w, a), s = sc.fn[t].vec_dot(n, w, a);
                CHECKF(isfinite(r) && fabs((double)r - s) <= 1e-3 * scale + 1e-6,
                       "type %s isa %s n=%lld: %g vs scalar %g", ti->name, gk_isa_name((gk_isa)isa),
                       (long long)n, (double)r, (double)s);
                checked++;
                free(wbuf);
                free(abuf);
            }
        }
    }
    printf("%d rows checked\n", checked);
    CHECK(checked > 0);
    free(x);
    free(act);
    return gk_test_result("test_kernels_bounds");
}
