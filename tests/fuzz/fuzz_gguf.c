/* libFuzzer target for the GGUF readers and writer. For any input:
 *  - gk_gguf_from_memory (with and without GK_READ_NO_BOUNDS); on success every key, value,
 *    array element and tensor byte is touched, and the file is written back to memory with
 *    gk_gguf_write_copy_to; the copy must parse, and copying the copy must give the same bytes;
 *  - the streaming reader over the same bytes (in small odd pieces) must succeed exactly when the
 *    memory reader does, with the same tensor bytes.
 * An inconsistency traps, so the fuzzer (and the replay test) report it. */
#include "test_gguf_util.h"

#include <stddef.h>
#include <stdint.h>

#define FUZZ_ASSERT(c) do { if (!(c)) { fprintf(stderr, "fuzz_gguf: %s\n", #c); __builtin_trap(); } } while (0)

/* Returns 1 if the stream reader accepted the input; checks tensor bytes against g if given. */
static int fz_stream(const uint8_t *data, size_t size, const gk_gguf *g) {
    memrd r = {data, size, 0, 1, size < (1u << 16) ? 61 : 4099};
    gk_gguf_stream *s = NULL;
    gk_err e;
    if (gk_gguf_stream_open(memrd_read, &r, 0, &s, &e) != GK_OK) return 0;
    uint8_t buf[97];
    int ok = 1;
    for (;;) {
        int64_t idx;
        if (gk_gguf_stream_next(s, &idx, &e) != GK_OK) { ok = 0; break; }
        if (idx < 0) break;
        uint64_t off = 0;
        size_t got;
        do {
            if (gk_gguf_stream_read(s, buf, sizeof buf, &got, &e) != GK_OK) { ok = 0; break; }
            if (g && got) FUZZ_ASSERT(g->tensors[idx].data && !memcmp(g->tensors[idx].data + off, buf, got));
            off += got;
        } while (got);
        if (!ok) break;
        FUZZ_ASSERT(off == gk_gguf_stream_header(s)->tensors[idx].nbytes);
    }
    if (ok && gk_gguf_stream_finish(s, &e) != GK_OK) ok = 0;
    if (ok && g) {
        const gk_gguf *h = gk_gguf_stream_header(s);
        FUZZ_ASSERT(h->file_size == g->file_size && h->final_padding == g->final_padding &&
                    h->trailing_bytes == g->trailing_bytes && walk_meta(h) == walk_meta(g));
    }
    gk_gguf_stream_close(s);
    return ok;
}

/* write_copy_to memory; returns malloc'd bytes or NULL if the writer refused. */
static uint8_t *fz_copy(const gk_gguf *g, size_t *n) {
    gk_write_opts o;
    gk_gguf_copy_opts(g, &o);
    gk_writer *w = NULL;
    gk_err e;
    uint8_t *r = NULL;
    if (gk_writer_open_memory(&o, &w, &e) == GK_OK && gk_gguf_write_copy_to(g, w, &e) == GK_OK) {
        const uint8_t *m = gk_writer_memory(w, n);
        r = malloc(*n ? *n : 1);
        if (r && *n) memcpy(r, m, *n);
    } else {
        fprintf(stderr, "fuzz_gguf: copy refused: %s\n", e.msg);
    }
    gk_writer_free(w);
    return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    gk_gguf *g = NULL;
    gk_err e;
    gk_status st = gk_gguf_from_memory(data, size, 0, &g, &e);
    FUZZ_ASSERT((st == GK_OK) == (g != NULL));
    FUZZ_ASSERT(st == GK_OK || (e.status == st && e.msg[0]));
    gk_gguf *g2 = NULL;
    if (gk_gguf_from_memory(data, size, GK_READ_NO_BOUNDS, &g2, &e) == GK_OK) walk_gguf(g2);
    if (g) FUZZ_ASSERT(g2 != NULL);
    gk_gguf_close(g2);
    int ok_stream = fz_stream(data, size, g);
    /* the stream reader cannot pre-check counts against the input size, but it must reach the
     * same verdict */
    FUZZ_ASSERT(ok_stream == (g != NULL));
    if (!g) return 0;
    walk_gguf(g);
    FUZZ_ASSERT(g->data_start <= size || g->n_tensors == 0);
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        const gk_tensor *t = &g->tensors[i];
        FUZZ_ASSERT(t->data && t->data >= data && t->data + t->nbytes <= data + size);
        FUZZ_ASSERT(gk_gguf_find_tensor(g, t->name.ptr) == (int64_t)i || strlen(t->name.ptr) != t->name.len);
    }
    size_t n1 = 0, n2 = 0;
    uint8_t *c1 = fz_copy(g, &n1);
    /* the writer refuses what the reader accepts only for nested arrays deeper than allowed,
     * which the reader rejects too: so a copy always exists */
    FUZZ_ASSERT(c1 != NULL);
    if (g->contiguous && g->trailing_bytes == 0 && (g->final_padding || g->n_tensors == 0) &&
        size < (1u << 16)) {
        /* a file in ggml's layout is reproduced exactly, unless its padding bytes are not zero */
        uint8_t *is_data = calloc(size ? size : 1, 1);
        FUZZ_ASSERT(is_data != NULL);
        for (uint64_t k = 0; k < g->n_tensors; k++)
            memset(is_data + g->data_start + g->tensors[k].offset, 1, (size_t)g->tensors[k].nbytes);
        int zero_pad = 1;
        for (size_t i = (size_t)g->infos_end; i < size && zero_pad; i++)
            if (!is_data[i] && data[i]) zero_pad = 0;
        free(is_data);
        if (zero_pad) FUZZ_ASSERT(n1 == size && !memcmp(c1, data, size));
    }
    gk_gguf *gc = NULL;
    st = gk_gguf_from_memory(c1, n1, 0, &gc, &e);
    FUZZ_ASSERT(st == GK_OK);
    FUZZ_ASSERT(gc->n_kv == g->n_kv && gc->n_tensors == g->n_tensors && gc->contiguous);
    uint8_t *c2 = fz_copy(gc, &n2);
    FUZZ_ASSERT(c2 && n2 == n1 && !memcmp(c1, c2, n1));
    free(c2);
    gk_gguf_close(gc);
    free(c1);
    gk_gguf_close(g);
    return 0;
}
