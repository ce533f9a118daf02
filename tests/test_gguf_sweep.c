/* Hostile-input sweeps over the fuzz target's checks (fuzz/fuzz_gguf.c): every truncation of T1
 * (and its big-endian and v1 forms), thousands of deterministic random byte flips, then every
 * truncation of the header of a small real file (and strided ones through its data) and flips
 * in its header. The reader must return an error or a consistent result, never crash; run it
 * under the ASan+UBSan build too. */
#include "fuzz/fuzz_gguf.c"

static uint32_t rng = 0x9E3779B9u;
static uint32_t next_rand(void) {
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}

static long accepted, rejected;

static void one(const uint8_t *p, size_t n) {
    /* an exact-size heap copy so ASan sees reads past the end */
    uint8_t *c = malloc(n ? n : 1);
    memcpy(c, p, n);
    gk_gguf *g = NULL;
    gk_err e;
    if (gk_gguf_from_memory(c, n, 0, &g, &e) == GK_OK) accepted++;
    else rejected++;
    gk_gguf_close(g);
    LLVMFuzzerTestOneInput(c, n);
    free(c);
}

static void truncations(const uint8_t *p, size_t n, size_t dense_upto, size_t stride) {
    for (size_t k = 0; k <= n; k += (k < dense_upto ? 1 : stride)) one(p, k);
    one(p, n);
}

static void flips(const uint8_t *p, size_t n, size_t region, int count) {
    uint8_t *c = malloc(n);
    for (int i = 0; i < count; i++) {
        memcpy(c, p, n);
        int nflip = 1 + (int)(next_rand() % 4);
        for (int f = 0; f < nflip; f++) {
            size_t at = next_rand() % region;
            uint32_t r = next_rand();
            switch (r % 4) {
            case 0: c[at] ^= (uint8_t)(1u << ((r >> 8) % 8)); break;
            case 1: c[at] = (uint8_t)(r >> 8); break;
            case 2: c[at] = 0xFF; break;
            default: c[at] = 0; break;
            }
        }
        one(c, n);
    }
    free(c);
}

int main(void) {
    t1opt forms[] = {{0}, {.be = 1}, {.v1 = 1}, {.nested_depth = 3}};
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
        uint8_t *b;
        size_t n = t1_build(&forms[i], &b);
        truncations(b, n, n, 1);
        flips(b, n, n, 3000);
        free(b);
    }
    long a1 = accepted, r1 = rejected;
    printf("T1 forms: %ld accepted, %ld rejected\n", a1, r1);
    CHECK(a1 > 0 && r1 > 0);

    size_t n = 0;
    uint8_t *real = gk_test_read_file(gk_test_data("gguf-py-written/stories260K-q4_0.gguf"), &n);
    CHECK(real != NULL);
    if (real) {
        gk_gguf *g = NULL;
        gk_err e;
        CHECK(gk_gguf_from_memory(real, n, 0, &g, &e) == GK_OK);
        size_t hdr = g ? (size_t)g->data_start : 4096;
        gk_gguf_close(g);
        truncations(real, n, hdr + 256, 4099);
        flips(real, n, hdr, 3000);
        free(real);
        printf("real file (header %zu bytes): %ld accepted, %ld rejected\n", hdr, accepted - a1,
               rejected - r1);
    }
    return gk_test_result("test_gguf_sweep");
}
