/* Checkpoint sources: directories (plain, symlinked, a Hugging Face cache snapshot), a single
 * safetensors file, sharded checkpoints with their index (and every index inconsistency), and the
 * same checkpoints packed as .tar, .tar.gz, .tar.zst and .zip with libarchive's writer: the plan
 * pass must see the same files and tensors and the streaming pass the same bytes as the
 * directory source. Unsafe archive entries are rejected. */
#include "testutil.h"

#include <archive.h>
#include <archive_entry.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *g_tmp;

static const char *tmp_path(const char *rel) {
    static char slots[4][4096];
    static int next = 0;
    char *b = slots[next++ & 3];
    snprintf(b, 4096, "%s/%s", g_tmp, rel);
    return b;
}

/* ---- streaming into per-tensor buffers ----------------------------------------------------- */

typedef struct sink {
    const gk_ckpt *c;
    uint8_t **bytes;   /* per tensor */
    uint64_t *count;   /* bytes received per tensor */
    size_t chunk;
    int bad_chunk;     /* a chunk that breaks the alignment promise */
    uint64_t calls;
    uint64_t stop_after; /* return an error after this many calls (0: never) */
} sink;

static gk_status on_chunk(void *ctx, uint64_t i, uint64_t off, const void *b, size_t n,
                          gk_err *err) {
    sink *s = ctx;
    if (s->stop_after && ++s->calls >= s->stop_after)
        return gk_err_set(err, GK_E_MISMATCH, "stopped by the callback");
    if (i >= s->c->n_tensors) {
        s->bad_chunk++;
        return GK_OK;
    }
    const gk_st_tensor *t = s->c->tensors[i].t;
    uint64_t esz = gk_st_dtype_size(t->dtype);
    uint64_t row = t->n_dims ? t->shape[t->n_dims - 1] * esz : esz;
    if (off + n > t->nbytes || off % esz || n % esz || n > s->chunk) s->bad_chunk++;
    if (row <= s->chunk && (off % row || (n % row && off + n != t->nbytes))) s->bad_chunk++;
    if (off + n <= t->nbytes) memcpy(s->bytes[i] + off, b, n);
    s->count[i] += n;
    return GK_OK;
}

static sink sink_new(const gk_ckpt *c, size_t chunk) {
    sink s = {c, calloc(c->n_tensors + 1, sizeof(uint8_t *)), calloc(c->n_tensors + 1, 8),
              chunk ? chunk : GK_CKPT_CHUNK, 0, 0, 0};
    for (uint64_t i = 0; i < c->n_tensors; i++) s.bytes[i] = calloc(c->tensors[i].t->nbytes + 1, 1);
    return s;
}

static void sink_free(sink *s) {
    for (uint64_t i = 0; s->bytes && i < s->c->n_tensors; i++) free(s->bytes[i]);
    free(s->bytes);
    free(s->count);
}

/* Streams a possibly damaged source: an error, or every tensor complete with good chunks. */
static gk_status stream_damaged(gk_ckpt *c, gk_err *e) {
    sink s = sink_new(c, 0);
    gk_status rc = gk_ckpt_stream(c, 0, on_chunk, &s, e);
    if (rc == GK_OK) {
        CHECK(s.bad_chunk == 0);
        for (uint64_t i = 0; i < c->n_tensors; i++) CHECK(s.count[i] == c->tensors[i].t->nbytes);
    }
    sink_free(&s);
    return rc;
}

/* Streams c and checks every tensor's bytes against want (a directory source of the same
 * checkpoint, matched by name). */
static void check_stream(gk_ckpt *c, const gk_ckpt *want, size_t chunk, const char *what) {
    sink s = sink_new(c, chunk);
    gk_err e = {0};
    CHECKF(gk_ckpt_stream(c, chunk, on_chunk, &s, &e) == GK_OK, "%s: %s", what, e.msg);
    CHECKF(s.bad_chunk == 0, "%s: %d chunks break the promise", what, s.bad_chunk);
    for (uint64_t i = 0; i < c->n_tensors; i++) {
        const gk_st_tensor *t = c->tensors[i].t;
        int64_t j = gk_ckpt_find_tensor(want, t->name);
        CHECKF(j >= 0, "%s: %s", what, t->name);
        CHECKF(s.count[i] == t->nbytes, "%s: %s got %llu of %llu bytes", what, t->name,
               (unsigned long long)s.count[i], (unsigned long long)t->nbytes);
        if (j >= 0)
            CHECKF(memcmp(s.bytes[i], gk_ckpt_tensor_data(want, (uint64_t)j), t->nbytes) == 0,
                   "%s: %s bytes differ", what, t->name);
    }
    sink_free(&s);
}

/* Same files, parts and tensors (names, dtypes, shapes, sizes, parts' names). */
static void check_same_plan(gk_ckpt *a, gk_ckpt *b, int same_name, const char *what) {
    CHECKF(!same_name || strcmp(a->name, b->name) == 0, "%s: name '%s' vs '%s'", what, a->name, b->name);
    CHECKF(a->n_files == b->n_files, "%s: %llu vs %llu files", what,
           (unsigned long long)a->n_files, (unsigned long long)b->n_files);
    for (uint64_t i = 0; i < a->n_files && i < b->n_files; i++) {
        CHECKF(strcmp(a->files[i].name, b->files[i].name) == 0 &&
                   a->files[i].size == b->files[i].size,
               "%s: file %s", what, a->files[i].name);
        const uint8_t *da, *db;
        size_t la, lb;
        gk_err e;
        if (strstr(a->files[i].name, ".safetensors")) continue;
        CHECKF(gk_ckpt_file_get(a, a->files[i].name, &da, &la, &e) == GK_OK, "%s", e.msg);
        CHECKF(gk_ckpt_file_get(b, b->files[i].name, &db, &lb, &e) == GK_OK, "%s", e.msg);
        CHECKF(la == lb && memcmp(da, db, la) == 0 && da[la] == 0, "%s: %s content", what,
               a->files[i].name);
    }
    CHECKF(a->n_parts == b->n_parts && a->n_tensors == b->n_tensors, "%s: parts/tensors", what);
    for (uint32_t i = 0; i < a->n_parts && i < b->n_parts; i++)
        CHECK(strcmp(a->parts[i].name, b->parts[i].name) == 0);
    for (uint64_t i = 0; i < a->n_tensors && i < b->n_tensors; i++) {
        const gk_st_tensor *x = a->tensors[i].t, *y = b->tensors[i].t;
        CHECKF(strcmp(x->name, y->name) == 0 && x->dtype == y->dtype && x->n_dims == y->n_dims &&
                   memcmp(x->shape, y->shape, sizeof x->shape) == 0 && x->nbytes == y->nbytes &&
                   x->offset == y->offset && a->tensors[i].part == b->tensors[i].part,
               "%s: tensor %s", what, x->name);
    }
}

/* ---- archives built with libarchive's writer --------------------------------------------- */

enum { AR_TAR, AR_TGZ, AR_TZST, AR_ZIP };
static const char *const AR_EXT[] = {".tar", ".tar.gz", ".tar.zst", ".zip"};

typedef struct aentry {
    const char *path;
    const void *data;
    size_t len;
    unsigned type;     /* AE_IFREG (0 means regular), AE_IFLNK, AE_IFDIR, AE_IFCHR, AE_IFIFO */
    const char *link;  /* symlink target, or hard link target when type == 1 */
} aentry;

static struct archive *ar_new(const char *out, int fmt) {
    struct archive *a = archive_write_new();
    if (fmt == AR_ZIP) archive_write_set_format_zip(a);
    else archive_write_set_format_pax_restricted(a);
    if (fmt == AR_TGZ) archive_write_add_filter_gzip(a);
    if (fmt == AR_TZST) archive_write_add_filter_zstd(a);
    if (archive_write_open_filename(a, out) != ARCHIVE_OK) {
        fprintf(stderr, "archive_write_open_filename(%s): %s\n", out, archive_error_string(a));
        archive_write_free(a);
        return NULL;
    }
    return a;
}

static int ar_add(struct archive *a, const aentry *x) {
    struct archive_entry *e = archive_entry_new();
    archive_entry_set_pathname(e, x->path);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_mtime(e, 1700000000, 0);
    if (x->type == 1) {
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_hardlink(e, x->link);
        archive_entry_set_size(e, 0);
    } else if (x->type == AE_IFLNK) {
        archive_entry_set_filetype(e, AE_IFLNK);
        archive_entry_set_symlink(e, x->link);
        archive_entry_set_size(e, 0);
    } else if (x->type && x->type != AE_IFREG) {
        archive_entry_set_filetype(e, x->type);
        archive_entry_set_size(e, 0);
    } else {
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_size(e, (la_int64_t)x->len);
    }
    int ok = archive_write_header(a, e) == ARCHIVE_OK;
    if (ok && x->len && (!x->type || x->type == AE_IFREG))
        ok = archive_write_data(a, x->data, x->len) == (la_ssize_t)x->len;
    archive_entry_free(e);
    return ok ? 0 : -1;
}

static int ar_close(struct archive *a) {
    int ok = archive_write_close(a) == ARCHIVE_OK;
    archive_write_free(a);
    return ok ? 0 : -1;
}

static int write_entries(const char *out, int fmt, const aentry *x, size_t n) {
    struct archive *a = ar_new(out, fmt);
    if (!a) return -1;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) rc = ar_add(a, &x[i]);
    return ar_close(a) | rc;
}

/* Packs a directory source's files (under top/ unless top is NULL) in the given order:
 * order 0 = sorted, 1 = reversed. */
static int pack_dir(gk_ckpt *src, const char *dir, const char *out, int fmt, const char *top,
                    int reversed) {
    struct archive *a = ar_new(out, fmt);
    if (!a) return -1;
    int rc = 0;
    if (top) {
        aentry d = {top, NULL, 0, AE_IFDIR, NULL};
        rc = ar_add(a, &d);
    }
    for (uint64_t k = 0; k < src->n_files && rc == 0; k++) {
        uint64_t i = reversed ? src->n_files - 1 - k : k;
        char p[4096], ap[4096];
        snprintf(p, sizeof p, "%s/%s", dir, src->files[i].name);
        snprintf(ap, sizeof ap, "%s%s%s", top ? top : "", top ? "/" : "", src->files[i].name);
        size_t n = 0;
        unsigned char *data = gk_test_read_file(p, &n);
        aentry x = {ap, data, n, 0, NULL};
        rc = data ? ar_add(a, &x) : -1;
        free(data);
    }
    return ar_close(a) | rc;
}

static void test_archives_of(const char *rel, const char *top) {
    gk_err e = {0};
    gk_ckpt *dir = NULL;
    const char *dpath = gk_test_data(rel);
    CHECKF(gk_ckpt_open(dpath, &dir, &e) == GK_OK, "%s", e.msg);
    if (!dir) return;
    for (int fmt = 0; fmt < 4; fmt++) {
        char name[256];
        snprintf(name, sizeof name, "%s%s", top, AR_EXT[fmt]);
        const char *out = tmp_path(name);
        CHECKF(pack_dir(dir, dpath, out, fmt, top, fmt % 2) == 0, "pack %s", name);
        gk_ckpt *ar = NULL;
        CHECKF(gk_ckpt_open(out, &ar, &e) == GK_OK, "%s: %s", name, e.msg);
        if (!ar) continue;
        CHECK(ar->kind == GK_CKPT_ARCHIVE);
        check_same_plan(ar, dir, 1, name);
        CHECK(gk_ckpt_tensor_data(ar, 0) == NULL);
        check_stream(ar, dir, 0, name);
        check_stream(ar, dir, 1000, name);  /* rows of 256 bytes: whole rows per chunk */
        check_stream(ar, dir, 100, name);   /* smaller than a row: whole elements */
        /* The callback can stop the stream. */
        sink s = {ar, NULL, NULL, GK_CKPT_CHUNK, 0, 0, 1};
        CHECK(gk_ckpt_stream(ar, 0, on_chunk, &s, &e) == GK_E_MISMATCH && s.calls == 1);
        gk_ckpt_close(ar);
    }
    /* Without a top folder: the name is the archive's stem. */
    const char *out = tmp_path("flat-ckpt.tar.zst");
    CHECK(pack_dir(dir, dpath, out, AR_TZST, NULL, 0) == 0);
    gk_ckpt *ar = NULL;
    CHECKF(gk_ckpt_open(out, &ar, &e) == GK_OK, "%s", e.msg);
    if (ar) {
        CHECK(strcmp(ar->name, "flat-ckpt") == 0 && ar->n_tensors == dir->n_tensors);
        check_stream(ar, dir, 0, "flat");
    }
    gk_ckpt_close(ar);
    gk_ckpt_close(dir);
}

static void expect_archive_error(const aentry *x, size_t n, int fmt, gk_status want,
                                 const char *needle, const char *what) {
    const char *out = tmp_path(fmt == AR_ZIP ? "bad.zip" : "bad.tar");
    CHECKF(write_entries(out, fmt, x, n) == 0, "%s: write", what);
    gk_ckpt *c = (gk_ckpt *)1;
    gk_err e = {0};
    gk_status rc = gk_ckpt_open(out, &c, &e);
    CHECKF(rc == want && c == NULL, "%s: got %s (%s)", what, gk_status_name(rc), e.msg);
    CHECKF(strstr(e.msg, needle) != NULL, "%s: message '%s' lacks '%s'", what, e.msg, needle);
    if (rc == GK_OK && c != (gk_ckpt *)1) gk_ckpt_close(c);
}

static void test_unsafe_archives(const unsigned char *st, size_t st_len) {
    const char *cfg = "{\"model_type\":\"llama\"}";
    aentry ok[2] = {{"m/config.json", cfg, strlen(cfg), 0, NULL},
                    {"m/model.safetensors", st, st_len, 0, NULL}};
    CHECK(write_entries(tmp_path("ok.tar"), AR_TAR, ok, 2) == 0);
    gk_ckpt *c = NULL;
    gk_err e = {0};
    CHECKF(gk_ckpt_open(tmp_path("ok.tar"), &c, &e) == GK_OK, "%s", e.msg);
    CHECK(c && strcmp(c->name, "m") == 0 && c->n_files == 2 && c->n_tensors == 1);
    gk_ckpt_close(c);
    /* macOS zip tools add __MACOSX/: ignored, the top folder is still the name. */
    aentry mac[3] = {ok[0], ok[1], {"__MACOSX/m/._config.json", cfg, 3, 0, NULL}};
    CHECK(write_entries(tmp_path("mac.zip"), AR_ZIP, mac, 3) == 0);
    c = NULL;
    CHECKF(gk_ckpt_open(tmp_path("mac.zip"), &c, &e) == GK_OK, "%s", e.msg);
    CHECK(c && strcmp(c->name, "m") == 0 && c->n_files == 2);
    gk_ckpt_close(c);

    struct { aentry x; int fmt; gk_status want; const char *needle; } cases[] = {
        {{"../evil.json", cfg, 3, 0, NULL}, AR_TAR, GK_E_UNSAFE_PATH, "\"..\""},
        {{"m/../../evil.json", cfg, 3, 0, NULL}, AR_TAR, GK_E_UNSAFE_PATH, "\"..\""},
        {{"m\\..\\evil.json", cfg, 3, 0, NULL}, AR_TAR, GK_E_UNSAFE_PATH, "\"..\""},
        {{"/etc/evil.json", cfg, 3, 0, NULL}, AR_TAR, GK_E_UNSAFE_PATH, "absolute"},
        {{"../evil.json", cfg, 3, 0, NULL}, AR_ZIP, GK_E_UNSAFE_PATH, "\"..\""},
        {{"m/tokenizer.json", NULL, 0, AE_IFLNK, "/etc/passwd"}, AR_TAR, GK_E_UNSAFE_PATH,
         "symbolic link"},
        {{"m/tokenizer.json", NULL, 0, AE_IFLNK, "config.json"}, AR_ZIP, GK_E_UNSAFE_PATH,
         "symbolic link"},
        {{"m/tokenizer.json", NULL, 0, 1, "m/config.json"}, AR_TAR, GK_E_UNSAFE_PATH, "hard link"},
        {{"m/dev", NULL, 0, AE_IFCHR, NULL}, AR_TAR, GK_E_UNSAFE_PATH, "device"},
        {{"m/fifo", NULL, 0, AE_IFIFO, NULL}, AR_TAR, GK_E_UNSAFE_PATH, "fifo"},
        {{"m/config.json", cfg, 3, 0, NULL}, AR_TAR, GK_E_BAD_ARCHIVE, "appears twice"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        aentry x[3] = {ok[0], ok[1], cases[i].x};
        char what[64];
        snprintf(what, sizeof what, "unsafe case %zu (%s)", i, cases[i].x.path);
        expect_archive_error(x, 3, cases[i].fmt, cases[i].want, cases[i].needle, what);
    }
    /* Not an archive; an archive without files; an archive without weights. */
    CHECK(gk_test_write_file(tmp_path("junk.bin"), "this is not an archive at all", 29) == 0);
    CHECK(gk_ckpt_open(tmp_path("junk.bin"), &c, &e) == GK_E_BAD_ARCHIVE && !c);
    aentry dir_only = {"m", NULL, 0, AE_IFDIR, NULL};
    expect_archive_error(&dir_only, 1, AR_TAR, GK_E_BAD_ARCHIVE, "no files", "empty");
    expect_archive_error(ok, 1, AR_ZIP, GK_E_NOT_FOUND, "no safetensors", "no weights");
    /* A corrupt safetensors member is reported with the member's name. */
    aentry bad[2] = {ok[0], {"m/model.safetensors", st, st_len - 1, 0, NULL}};
    expect_archive_error(bad, 2, AR_TAR, GK_E_OUT_OF_BOUNDS, "m/model.safetensors", "short member");

    /* Random byte flips in a small tar (headers and data): an error or a full stream. */
    size_t tn = 0;
    unsigned char *tar = gk_test_read_file(tmp_path("ok.tar"), &tn);
    uint64_t seed = 0x2545f4914f6cdd1dull;
    for (int iter = 0; tar && iter < 300; iter++) {
        unsigned char *t = malloc(tn);
        memcpy(t, tar, tn);
        for (int f = 0; f < 1 + iter % 3; f++) {
            seed ^= seed << 13; seed ^= seed >> 7; seed ^= seed << 17;
            size_t pos = (size_t)(seed % tn);
            if (iter % 2) pos = (size_t)(seed % (tn < 1536 ? tn : 1536)); /* the first headers */
            t[pos] ^= (unsigned char)(1u << ((seed >> 32) % 8));
        }
        CHECK(gk_test_write_file(tmp_path("flip.tar"), t, tn) == 0);
        free(t);
        c = NULL;
        if (gk_ckpt_open(tmp_path("flip.tar"), &c, &e) != GK_OK) {
            CHECK(c == NULL && e.msg[0]);
            continue;
        }
        stream_damaged(c, &e);
        gk_ckpt_close(c);
    }
    free(tar);

    /* Truncated compressed archives: an error in the plan or the write pass, never a crash. */
    size_t n = 0;
    unsigned char *full = gk_test_read_file(tmp_path("stories260K-hf-f32.tar.gz"), &n);
    for (size_t cut = 0; full && cut < n; cut += n / 23 + 1) {
        CHECK(gk_test_write_file(tmp_path("cut.tar.gz"), full, cut) == 0);
        c = NULL;
        gk_status rc = gk_ckpt_open(tmp_path("cut.tar.gz"), &c, &e);
        if (rc == GK_OK) {
            rc = stream_damaged(c, &e);
            CHECKF(rc != GK_OK, "cut at %zu streamed fully", cut);
            gk_ckpt_close(c);
        } else {
            CHECK(c == NULL && e.msg[0]);
        }
    }
    free(full);
}

/* ---- directories ------------------------------------------------------------------------ */

static void test_directories(void) {
    gk_err e = {0};
    gk_ckpt *f32 = NULL, *bf = NULL;
    CHECKF(gk_ckpt_open(gk_test_data("stories260K-hf-f32"), &f32, &e) == GK_OK, "%s", e.msg);
    CHECKF(gk_ckpt_open(gk_test_data("stories260K-hf-bf16-sharded/"), &bf, &e) == GK_OK, "%s",
           e.msg);
    if (!f32 || !bf) return;
    CHECK(f32->kind == GK_CKPT_DIR && strcmp(f32->name, "stories260K-hf-f32") == 0);
    CHECK(strcmp(bf->name, "stories260K-hf-bf16-sharded") == 0);
    CHECK(f32->n_files == 5 && f32->n_parts == 1 && f32->n_tensors == 47);
    CHECK(strcmp(f32->files[0].name, "config.json") == 0);
    CHECK(strcmp(f32->parts[0].name, "model.safetensors") == 0);
    CHECK(bf->n_files == 7 && bf->n_parts == 2 && bf->n_tensors == 47);
    CHECK(strcmp(bf->parts[0].name, "model-00001-of-00002.safetensors") == 0);
    CHECK(strcmp(bf->parts[1].name, "model-00002-of-00002.safetensors") == 0);
    CHECK(bf->parts[0].st->n_tensors == 24 && bf->tensors[30].part == 1);
    const uint8_t *d;
    size_t n;
    CHECK(gk_ckpt_file_get(f32, "config.json", &d, &n, &e) == GK_OK && n == 612 &&
          strstr((const char *)d, "LlamaForCausalLM"));
    CHECK(gk_ckpt_file_get(f32, "tokenizer.model", &d, &n, &e) == GK_E_NOT_FOUND && !d);
    CHECK(gk_ckpt_file_get(bf, "model.safetensors.index.json", &d, &n, &e) == GK_OK && n == 3870);
    for (uint64_t i = 0; i < bf->n_tensors; i++) {
        const gk_st_tensor *t = bf->tensors[i].t;
        int64_t j = gk_ckpt_find_tensor(f32, t->name);
        CHECKF(j >= 0 && t->dtype == GK_ST_BF16 && f32->tensors[j].t->dtype == GK_ST_F32 &&
                   memcmp(t->shape, f32->tensors[j].t->shape, sizeof t->shape) == 0,
               "%s", t->name);
        CHECK(gk_ckpt_find_tensor(bf, t->name) == (int64_t)i);
    }
    CHECK(gk_ckpt_find_tensor(f32, "lm_head.weight") == -1);
    check_stream(f32, f32, 0, "dir f32");
    check_stream(bf, bf, 300, "dir bf16");
    check_stream(bf, bf, 64, "dir bf16 small chunks");

    /* A symlinked directory; a Hugging Face cache snapshot whose files link into blobs. */
    CHECK(symlink(gk_test_data("stories260K-hf-f32"), tmp_path("linked")) == 0);
    gk_ckpt *l = NULL;
    CHECKF(gk_ckpt_open(tmp_path("linked"), &l, &e) == GK_OK, "%s", e.msg);
    if (l) {
        CHECK(strcmp(l->name, "linked") == 0);
        check_same_plan(l, f32, 0, "symlinked dir");
    }
    gk_ckpt_close(l);
    CHECK(mkdir(tmp_path("models--karpathy--stories260K"), 0755) == 0);
    CHECK(mkdir(tmp_path("models--karpathy--stories260K/blobs"), 0755) == 0);
    CHECK(mkdir(tmp_path("models--karpathy--stories260K/snapshots"), 0755) == 0);
    CHECK(mkdir(tmp_path("models--karpathy--stories260K/snapshots/0123abcd"), 0755) == 0);
    for (uint64_t i = 0; i < bf->n_files; i++) {
        char blob[512], link[512], target[512];
        snprintf(blob, sizeof blob, "models--karpathy--stories260K/blobs/%016llx",
                 (unsigned long long)(0x1234 + i));
        snprintf(link, sizeof link, "models--karpathy--stories260K/snapshots/0123abcd/%s",
                 bf->files[i].name);
        snprintf(target, sizeof target, "../../blobs/%016llx", (unsigned long long)(0x1234 + i));
        char src[4096];
        snprintf(src, sizeof src, "%s/%s", gk_test_data("stories260K-hf-bf16-sharded"),
                 bf->files[i].name);
        size_t sz = 0;
        unsigned char *data = gk_test_read_file(src, &sz);
        CHECK(data && gk_test_write_file(tmp_path(blob), data, sz) == 0);
        free(data);
        CHECK(symlink(target, tmp_path(link)) == 0);
    }
    gk_ckpt *hf = NULL;
    CHECKF(gk_ckpt_open(tmp_path("models--karpathy--stories260K/snapshots/0123abcd"), &hf, &e) ==
               GK_OK,
           "%s", e.msg);
    if (hf) {
        CHECKF(strcmp(hf->name, "stories260K") == 0, "HF name '%s'", hf->name);
        check_stream(hf, bf, 0, "HF snapshot");
    }
    gk_ckpt_close(hf);
    /* The repo folder itself: refs/main names the snapshot. */
    CHECK(mkdir(tmp_path("models--karpathy--stories260K/refs"), 0755) == 0);
    CHECK(gk_test_write_file(tmp_path("models--karpathy--stories260K/refs/main"), "0123abcd", 8) == 0);
    hf = NULL;
    CHECKF(gk_ckpt_open(tmp_path("models--karpathy--stories260K"), &hf, &e) == GK_OK, "%s", e.msg);
    CHECK(hf && strcmp(hf->name, "stories260K") == 0 && hf->n_tensors == 47);
    gk_ckpt_close(hf);

    /* A single safetensors file. */
    gk_ckpt *one = NULL;
    CHECKF(gk_ckpt_open(gk_test_data("stories260K-hf-f32/model.safetensors"), &one, &e) == GK_OK,
           "%s", e.msg);
    if (one) {
        CHECK(one->kind == GK_CKPT_FILE && strcmp(one->name, "model") == 0 && one->n_tensors == 47);
        CHECK(gk_ckpt_file_get(one, "config.json", &d, &n, &e) == GK_E_NOT_FOUND);
        check_stream(one, f32, 0, "single file");
    }
    gk_ckpt_close(one);
    gk_ckpt_close(f32);
    gk_ckpt_close(bf);
    CHECK(gk_ckpt_open("/nonexistent/dir", &one, &e) == GK_E_IO && !one);
    gk_ckpt_close(NULL);
}

/* A scratch checkpoint: links to the bf16 shards plus a given index text. */
static const char *scratch_with_index(const char *name, const char *index) {
    const char *d = tmp_path(name);
    CHECK(mkdir(d, 0755) == 0);
    char p[4096], s[4096];
    for (int k = 1; k <= 2; k++) {
        snprintf(p, sizeof p, "%s/model-0000%d-of-00002.safetensors", d, k);
        snprintf(s, sizeof s, "%s/model-0000%d-of-00002.safetensors",
                 gk_test_data("stories260K-hf-bf16-sharded"), k);
        CHECK(symlink(s, p) == 0);
    }
    if (index) {
        snprintf(p, sizeof p, "%s/model.safetensors.index.json", d);
        CHECK(gk_test_write_file(p, index, strlen(index)) == 0);
    }
    return d;
}

static void expect_open(const char *path, gk_status want, const char *needle, const char *what) {
    gk_ckpt *c = (gk_ckpt *)1;
    gk_err e = {0};
    gk_status rc = gk_ckpt_open(path, &c, &e);
    CHECKF(rc == want, "%s: got %s (%s)", what, gk_status_name(rc), e.msg);
    CHECKF(!needle || strstr(e.msg, needle), "%s: message '%s' lacks '%s'", what, e.msg, needle);
    if (rc == GK_OK) gk_ckpt_close(c);
    else CHECKF(c == NULL, "%s: handle not NULL", what);
}

static void test_index_errors(void) {
    size_t n = 0;
    unsigned char *idx = gk_test_read_file(gk_test_data("stories260K-hf-bf16-sharded/"
                                                        "model.safetensors.index.json"), &n);
    if (!idx) { CHECK(idx != NULL); return; }
    idx[n] = 0;
    char *txt = (char *)idx, buf[8192];
    /* Without the index: both model*.safetensors files, sorted. */
    expect_open(scratch_with_index("noindex", NULL), GK_OK, NULL, "no index");
    /* A name dropped from weight_map: that tensor is extra. */
    const char *q = "\"model.layers.4.input_layernorm.weight\": "
                    "\"model-00002-of-00002.safetensors\",";
    char *at = strstr(txt, q);
    CHECK(at != NULL);
    if (at) {
        snprintf(buf, sizeof buf, "%.*s%s", (int)(at - txt), txt, at + strlen(q));
        expect_open(scratch_with_index("extra", buf), GK_E_SPLIT,
                    "'model.layers.4.input_layernorm.weight' in model-00002-of-00002.safetensors "
                    "is not listed",
                    "extra tensor");
    }
    /* A name in weight_map that no part has. */
    at = strstr(txt, "\"weight_map\": {");
    CHECK(at != NULL);
    if (at) {
        at += strlen("\"weight_map\": {");
        snprintf(buf, sizeof buf, "%.*s\"model.ghost.weight\": \"model-00001-of-00002.safetensors\",%s",
                 (int)(at - txt), txt, at);
        expect_open(scratch_with_index("missing", buf), GK_E_SPLIT, "'model.ghost.weight'",
                    "missing tensor");
        snprintf(buf, sizeof buf, "%.*s\"model.ghost.weight\": \"model-00003-of-00003.safetensors\",%s",
                 (int)(at - txt), txt, at);
        expect_open(scratch_with_index("nopart", buf), GK_E_NOT_FOUND,
                    "model-00003-of-00003.safetensors", "missing part");
        snprintf(buf, sizeof buf, "%.*s\"x\": \"../model-00001-of-00002.safetensors\",%s",
                 (int)(at - txt), txt, at);
        expect_open(scratch_with_index("unsafe", buf), GK_E_UNSAFE_PATH, "'x'", "unsafe part");
        snprintf(buf, sizeof buf, "%.*s\"x\": 3,%s", (int)(at - txt), txt, at);
        expect_open(scratch_with_index("nonstring", buf), GK_E_BAD_JSON, "'x'", "non-string");
    }
    expect_open(scratch_with_index("badjson", "{\"weight_map\": "), GK_E_BAD_JSON, "invalid JSON",
                "bad JSON");
    expect_open(scratch_with_index("nomap", "{\"metadata\": {}}"), GK_E_BAD_JSON, "weight_map",
                "no weight_map");
    free(idx);

    /* The same tensor in two parts (no index). */
    const char *d = tmp_path("dup");
    CHECK(mkdir(d, 0755) == 0);
    char p[4096];
    snprintf(p, sizeof p, "%s/model-a.safetensors", d);
    CHECK(symlink(gk_test_data("stories260K-hf-f32/model.safetensors"), p) == 0);
    snprintf(p, sizeof p, "%s/model-b.safetensors", d);
    CHECK(symlink(gk_test_data("stories260K-hf-f32/model.safetensors"), p) == 0);
    expect_open(d, GK_E_DUP_TENSOR, "more than one part", "duplicate tensor");
    /* No weights; a corrupt part names its file. */
    d = tmp_path("empty");
    CHECK(mkdir(d, 0755) == 0);
    expect_open(d, GK_E_NOT_FOUND, "no safetensors weights", "no weights");
    snprintf(p, sizeof p, "%s/model.safetensors", d);
    CHECK(gk_test_write_file(p, "\x02\0\0\0\0\0\0\0{}", 10) == 0);
    expect_open(d, GK_OK, NULL, "empty model.safetensors");
    /* A root file over the small-file limit is listed, not loaded (a sparse file: no disk). */
    snprintf(p, sizeof p, "%s/big.bin", d);
    FILE *bigf = fopen(p, "wb");
    CHECK(bigf && ftruncate(fileno(bigf), (off_t)GK_CKPT_SMALL_MAX + 1) == 0);
    if (bigf) fclose(bigf);
    gk_ckpt *c = NULL;
    gk_err e = {0};
    CHECKF(gk_ckpt_open(d, &c, &e) == GK_OK, "%s", e.msg);
    if (c) {
        const uint8_t *data;
        size_t len;
        CHECK(c->n_files == 2 && c->files[0].size == GK_CKPT_SMALL_MAX + 1);
        CHECK(gk_ckpt_file_get(c, "big.bin", &data, &len, &e) == GK_E_UNSUPPORTED &&
              strstr(e.msg, "small files"));
    }
    gk_ckpt_close(c);
    CHECK(unlink(p) == 0);
    snprintf(p, sizeof p, "%s/model.safetensors", d);
    CHECK(gk_test_write_file(p, "\x02\0\0\0\0\0\0\0{]", 10) == 0);
    expect_open(d, GK_E_BAD_JSON, "model.safetensors", "corrupt part");
}

int main(void) {
    gk_test_data_dir();
    g_tmp = gk_test_tmpdir();
    if (!g_tmp) {
        fprintf(stderr, "no temporary directory\n");
        return 1;
    }
    test_directories();
    test_index_errors();
    test_archives_of("stories260K-hf-f32", "stories260K-hf-f32");
    test_archives_of("stories260K-hf-bf16-sharded", "stories260K-hf-bf16-sharded");
    size_t n = 0;
    unsigned char *st = gk_test_read_file(gk_test_data("safetensors/jfk-codes.safetensors"), &n);
    CHECK(st != NULL);
    if (st) test_unsafe_archives(st, n);
    free(st);
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_tmp);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", g_tmp);
    return gk_test_result("test_ckpt");
}
