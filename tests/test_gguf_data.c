/* Real files from ../shared/data (written by gguf-py and llama.cpp): every .gguf reads, and
 * gk_gguf_write_copy reproduces it byte for byte; the streaming reader (through a reader that
 * returns odd-sized pieces) sees the same header and the same tensor bytes as the mapped one. */
#include "test_gguf_util.h"

#include <dirent.h>
#include <unistd.h>

static const char *const dirs[] = {"gguf-py-written", "tiny-random-llama", "vocab"};

static int kv_same(const gk_kv *a, const gk_kv *b) {
    if (a->key.len != b->key.len || memcmp(a->key.ptr, b->key.ptr, a->key.len) || a->offset != b->offset)
        return 0;
    return a->val.type == b->val.type && walk_value(&a->val) == walk_value(&b->val);
}

static void check_stream(const gk_gguf *g, const uint8_t *buf, size_t n, const char *path) {
    memrd m = {buf, n, 0, 7, 7919};
    gk_gguf_stream *s = NULL;
    gk_err e = {0};
    gk_status st = gk_gguf_stream_open(memrd_read, &m, 0, &s, &e);
    CHECKF(st == GK_OK, "%s: stream open: %s", path, e.msg);
    if (st) return;
    const gk_gguf *h = gk_gguf_stream_header(s);
    CHECK(h->version == g->version && h->n_kv == g->n_kv && h->n_tensors == g->n_tensors);
    CHECK(h->data_start == g->data_start && h->infos_end == g->infos_end && h->alignment == g->alignment);
    for (uint64_t i = 0; i < g->n_kv && i < h->n_kv; i++) CHECKF(kv_same(&g->kv[i], &h->kv[i]), "%s: kv %llu", path, (unsigned long long)i);
    uint64_t seen = 0, last_off = 0;
    uint8_t *tb = NULL;
    for (;;) {
        int64_t idx;
        st = gk_gguf_stream_next(s, &idx, &e);
        CHECKF(st == GK_OK, "%s: next: %s", path, e.msg);
        if (st || idx < 0) break;
        const gk_tensor *t = &g->tensors[idx];
        CHECK(t->offset >= last_off);
        last_off = t->offset;
        CHECK(h->tensors[idx].nbytes == t->nbytes && h->tensors[idx].data == NULL);
        tb = realloc(tb, (size_t)t->nbytes + 1);
        size_t have = 0, got;
        do {
            st = gk_gguf_stream_read(s, tb + have, 1000, &got, &e);
            have += got;
        } while (!st && got);
        CHECKF(st == GK_OK && have == t->nbytes && !memcmp(tb, t->data, have), "%s: tensor %lld bytes", path, (long long)idx);
        seen++;
    }
    free(tb);
    CHECK(seen == g->n_tensors);
    st = gk_gguf_stream_finish(s, &e);
    CHECKF(st == GK_OK, "%s: finish: %s", path, e.msg);
    CHECK(h->file_size == n && h->final_padding == g->final_padding && h->trailing_bytes == g->trailing_bytes);
    gk_gguf_stream_close(s);
}

static int check_file(const char *path, const char *tmp) {
    gk_gguf *g = NULL;
    gk_err e = {0};
    gk_status st = gk_gguf_open(path, 0, &g, &e);
    CHECKF(st == GK_OK, "%s: %s", path, e.msg);
    if (st) return 0;
    size_t n = 0;
    uint8_t *buf = gk_test_read_file(path, &n);
    CHECK(buf && n == g->file_size);
    CHECK(g->contiguous && g->trailing_bytes == 0);
    printf("  %-60s v%u kv %3llu tensors %3llu padding %d\n", path, g->version,
           (unsigned long long)g->n_kv, (unsigned long long)g->n_tensors, g->final_padding);
    walk_gguf(g);
    st = gk_gguf_write_copy(g, tmp, &e);
    CHECKF(st == GK_OK, "%s: write_copy: %s", path, e.msg);
    size_t m = 0;
    uint8_t *c = gk_test_read_file(tmp, &m);
    CHECKF(c && m == n && !memcmp(c, buf, n), "%s: copy differs (%zu vs %zu bytes)", path, m, n);
    free(c);
    unlink(tmp);
    if (buf) check_stream(g, buf, n, path);
    /* the memory reader agrees with the mapped one */
    gk_gguf *g2 = NULL;
    CHECK(buf && gk_gguf_from_memory(buf, n, 0, &g2, &e) == GK_OK);
    CHECK(g2 && g2->n_kv == g->n_kv && g2->n_tensors == g->n_tensors && walk_gguf(g2) == walk_gguf(g));
    gk_gguf_close(g2);
    /* a single file is a one-part model */
    gk_model *md = NULL;
    CHECK(gk_model_open(path, 0, &md, &e) == GK_OK);
    CHECK(md && md->n_parts == 1 && md->n_tensors == g->n_tensors);
    gk_model_close(md);
    free(buf);
    gk_gguf_close(g);
    return 1;
}

int main(void) {
    const char *tdir = gk_test_tmpdir();
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s/copy.gguf", tdir ? tdir : "/tmp");
    int files = 0;
    for (size_t d = 0; d < sizeof dirs / sizeof dirs[0]; d++) {
        const char *dp = gk_test_data(dirs[d]);
        DIR *dh = opendir(dp);
        CHECKF(dh != NULL, "%s missing", dp);
        if (!dh) continue;
        struct dirent *de;
        while ((de = readdir(dh))) {
            size_t l = strlen(de->d_name);
            if (l < 5 || strcmp(de->d_name + l - 5, ".gguf")) continue;
            char path[4200];
            snprintf(path, sizeof path, "%s/%s", dp, de->d_name);
            files += check_file(path, tmp);
        }
        closedir(dh);
    }
    CHECKF(files >= 7, "only %d files", files);
    if (tdir) rmdir(tdir);
    return gk_test_result("test_gguf_data");
}
