/* Hashing a GGUF model in one streaming pass (spec/hash.md).
 *
 * A part file is read front to back in bounded chunks into a ring of slots (4 x 8 MiB by
 * default). Each (algorithm, scope) pair is a lane: its own thread walks every chunk in order,
 * so the per-tensor XXH3-128 and the whole-file SHA-256 run in parallel over the same bytes,
 * each in its own sequential order. A slot is refilled once every lane is done with it. Memory:
 * slots x chunk, whatever the model.
 *
 * The model XXH3-128 is a hash list: XXH3-128 over the per-tensor XXH3-128 digests (16-byte
 * canonical form each) in tensor-info order, derived at the end, so every byte goes through
 * XXH3 once. Only the llama-gguf-hash algorithms (XXH64, SHA-1, SHA-256) have model lanes over
 * the concatenated tensor bytes. */
#include "gk_inspect.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
/* The inline build of libxxhash's own header: its XXH3 loop is ~1.5x faster here than the
 * shared library's exported one (measured: 7.5 vs 5.2 GB/s on this machine). */
#define XXH_INLINE_ALL
#include <xxhash.h>

/* ------------------------------------------------------------------------------------------ */
/* Algorithms                                                                                  */

static const char *const algo_names[GK_H_COUNT] = {"xxh3-128", "xxh64", "sha1", "sha256"};
static const size_t algo_sizes[GK_H_COUNT] = {16, 8, 20, 32};

const char *gk_halgo_name(gk_halgo a) { return (unsigned)a < GK_H_COUNT ? algo_names[a] : "?"; }
size_t gk_halgo_size(gk_halgo a) { return (unsigned)a < GK_H_COUNT ? algo_sizes[a] : 0; }
int gk_halgo_from_name(const char *s, size_t n) {
    for (int a = 0; a < GK_H_COUNT; a++)
        if (strlen(algo_names[a]) == n && !memcmp(s, algo_names[a], n)) return a;
    return -1;
}

char *gk_digest_hex(const gk_digest *d, gk_halgo a, char *out) {
    static const char hx[] = "0123456789abcdef";
    size_t n = gk_halgo_size(a);
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hx[d->b[i] >> 4];
        out[2 * i + 1] = hx[d->b[i] & 15];
    }
    out[2 * n] = 0;
    return out;
}

typedef struct hstate {
    gk_halgo a;
    int avx2;              /* XXH3 updates through the AVX2 instantiation */
    XXH3_state_t *x3;
    XXH64_state_t *x64;
    EVP_MD_CTX *md;
} hstate;

static int hs_init(hstate *h, gk_halgo a) {
    memset(h, 0, sizeof *h);
    h->a = a;
    if (a == GK_H_XXH3_128) {
        const char *isa = getenv("GGUFKIT_ISA");
        h->x3 = XXH3_createState();
        h->avx2 = gk_xxh3_avx2_built() && gk_cpu_isa() >= GK_ISA_AVX2 &&
                  !(isa && !strcmp(isa, "scalar"));
    }
    else if (a == GK_H_XXH64) h->x64 = XXH64_createState();
    else h->md = EVP_MD_CTX_new();
    return h->x3 || h->x64 || h->md;
}
static void hs_free(hstate *h) {
    if (h->x3) XXH3_freeState(h->x3);
    if (h->x64) XXH64_freeState(h->x64);
    if (h->md) EVP_MD_CTX_free(h->md);
    memset(h, 0, sizeof *h);
}
static int hs_reset(hstate *h) {
    switch (h->a) {
    case GK_H_XXH3_128: return XXH3_128bits_reset(h->x3) == XXH_OK;
    case GK_H_XXH64: return XXH64_reset(h->x64, 0) == XXH_OK;
    case GK_H_SHA1: return EVP_DigestInit_ex(h->md, EVP_sha1(), NULL) == 1;
    case GK_H_SHA256: return EVP_DigestInit_ex(h->md, EVP_sha256(), NULL) == 1;
    default: return 0;
    }
}
static void hs_update(hstate *h, const void *p, size_t n) {
    if (!n) return;
    switch (h->a) {
    case GK_H_XXH3_128:
        if (h->avx2) gk_xxh3_128_update_avx2(h->x3, p, n);
        else XXH3_128bits_update(h->x3, p, n);
        break;
    case GK_H_XXH64: XXH64_update(h->x64, p, n); break;
    default: EVP_DigestUpdate(h->md, p, n); break;
    }
}
static void hs_final(hstate *h, gk_digest *d) {
    memset(d, 0, sizeof *d);
    switch (h->a) {
    case GK_H_XXH3_128: {
        XXH128_canonical_t c;
        XXH128_canonicalFromHash(&c, XXH3_128bits_digest(h->x3));
        memcpy(d->b, c.digest, 16);
    } break;
    case GK_H_XXH64: {
        XXH64_canonical_t c;
        XXH64_canonicalFromHash(&c, XXH64_digest(h->x64));
        memcpy(d->b, c.digest, 8);
    } break;
    default: {
        unsigned len = 0;
        EVP_DigestFinal_ex(h->md, d->b, &len);
    } break;
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Results                                                                                     */

static void engine_free(struct gk_hash_engine *e);

void gk_hash_result_free(gk_hash_result *r) {
    if (!r) return;
    if (r->priv) {
        engine_free(r->priv);
        free(r->priv);
    }
    for (uint64_t i = 0; i < r->n_tensors; i++) free(r->tensors[i].name);
    free(r->tensors);
    for (uint32_t i = 0; i < r->n_parts; i++) free(r->parts[i].path);
    free(r->parts);
    memset(r, 0, sizeof *r);
}

static const char *base_of(const char *p) {
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

static gk_status add_part(gk_hash_result *r, const char *path, gk_err *err) {
    gk_hash_part *np = realloc(r->parts, (r->n_parts + 1) * sizeof *np);
    if (!np) return gk_err_set(err, GK_E_NOMEM, "out of memory");
    r->parts = np;
    gk_hash_part *p = &np[r->n_parts];
    memset(p, 0, sizeof *p);
    p->path = strdup(path);
    if (!p->path) return gk_err_set(err, GK_E_NOMEM, "out of memory");
    p->base = base_of(p->path);
    r->n_parts++;
    return GK_OK;
}

static gk_status add_tensors(gk_hash_result *r, const gk_tensor *const *ts, uint64_t n,
                             gk_err *err) {
    if (n > (SIZE_MAX / sizeof(gk_hash_tensor)) - r->n_tensors)
        return gk_err_set(err, GK_E_NOMEM, "too many tensors");
    gk_hash_tensor *nt = realloc(r->tensors, (size_t)(r->n_tensors + n) * sizeof *nt);
    if (!nt && r->n_tensors + n) return gk_err_set(err, GK_E_NOMEM, "out of memory");
    r->tensors = nt;
    for (uint64_t i = 0; i < n; i++) {
        gk_hash_tensor *h = &nt[r->n_tensors];
        memset(h, 0, sizeof *h);
        h->name = malloc((size_t)ts[i]->name.len + 1);
        if (!h->name) return gk_err_set(err, GK_E_NOMEM, "out of memory");
        memcpy(h->name, ts[i]->name.ptr, (size_t)ts[i]->name.len);
        h->name[ts[i]->name.len] = 0;
        h->name_len = (size_t)ts[i]->name.len;
        h->nbytes = ts[i]->nbytes;
        r->n_tensors++;
    }
    return GK_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* The pipeline over one part file                                                             */

typedef struct span {
    uint64_t off, len; /* absolute file range */
    uint64_t idx;      /* model tensor index */
} span;

typedef struct slot {
    uint8_t *buf;          /* what the lanes read: the slot's own buffer, or a mapped window */
    uint8_t *own;          /* the slot's buffer (pread mode) */
    void *map;             /* mmap mode: the window to unmap when the slot is reused */
    size_t map_len;
    size_t len;
    uint64_t off;
    uint64_t seq;      /* the chunk number it holds (valid when filled) */
    int filled, eof, pending;
} slot;

typedef struct pipe_s pipe_s;

typedef struct lane {
    gk_halgo algo;
    gk_mscope scope;
    hstate st;
    const span *spans; /* file order for tensor scope, info order for model scope */
    uint64_t n_spans, k;
    int started;       /* current span's state was reset */
    pipe_s *p;
    pthread_t th;
    int running;
    /* independent mode: the lane reads [start, end) of fd itself */
    int fd;
    uint64_t start, end;
    size_t chunk;
    int rd_errno;          /* 0, or errno of a failed read */
    uint64_t got;          /* bytes read */
} lane;

struct pipe_s {
    pthread_mutex_t mu;
    pthread_cond_t filled, freed;
    slot *slots;
    int n_slots;
    int n_lanes;
    gk_hash_result *r;
};

/* Feeds [off, off+n) of the file to a span-walking lane. */
static void lane_spans(lane *L, uint64_t off, const uint8_t *p, size_t n) {
    uint64_t end = off + n;
    while (L->k < L->n_spans) {
        const span *s = &L->spans[L->k];
        if (s->len && s->off >= end) break;
        if (L->scope == GK_MS_TENSOR && !L->started) {
            hs_reset(&L->st);
            L->started = 1;
        }
        uint64_t a = s->off > off ? s->off : off;
        uint64_t b = s->off + s->len < end ? s->off + s->len : end;
        if (b > a) hs_update(&L->st, p + (a - off), (size_t)(b - a));
        if (s->off + s->len <= end) {
            if (L->scope == GK_MS_TENSOR) hs_final(&L->st, &L->p->r->tensors[s->idx].d[L->algo]);
            L->started = 0;
            L->k++;
        } else {
            break;
        }
    }
}

static void lane_chunk(lane *L, const slot *s) {
    if (L->scope == GK_MS_FILE) hs_update(&L->st, s->buf, s->len);
    else lane_spans(L, s->off, s->buf, s->len);
}

static void *lane_main(void *arg) {
    lane *L = arg;
    pipe_s *p = L->p;
    for (uint64_t seq = 0;; seq++) {
        slot *s = &p->slots[seq % (uint64_t)p->n_slots];
        pthread_mutex_lock(&p->mu);
        while (!(s->filled && s->seq == seq)) pthread_cond_wait(&p->filled, &p->mu);
        pthread_mutex_unlock(&p->mu);
        int eof = s->eof;
        if (!eof) lane_chunk(L, s);
        pthread_mutex_lock(&p->mu);
        if (--s->pending == 0) {
            s->filled = 0;
            pthread_cond_broadcast(&p->freed);
        }
        pthread_mutex_unlock(&p->mu);
        if (eof) break;
    }
    return NULL;
}

/* Independent lanes: each reads the byte range itself (pread into its own buffer) and hashes it;
 * no hand-off between threads, so a lane never waits for another thread to be scheduled. The
 * page cache serves every lane; only the first read of a cold file waits for the disk. */
static void *lane_indep_main(void *arg) {
    lane *L = arg;
    uint8_t *buf = malloc(L->chunk);
    if (!buf) { L->rd_errno = ENOMEM; return NULL; }
    slot s;
    memset(&s, 0, sizeof s);
    s.buf = buf;
    for (uint64_t pos = L->start; pos < L->end;) {
        size_t want = L->end - pos < L->chunk ? (size_t)(L->end - pos) : L->chunk;
        ssize_t k = pread(L->fd, buf, want, (off_t)pos);
        if (k < 0 && errno == EINTR) continue;
        if (k < 0) { L->rd_errno = errno; break; }
        if (k == 0) break;
        s.len = (size_t)k;
        s.off = pos;
        lane_chunk(L, &s);
        pos += (uint64_t)k;
        L->got += (uint64_t)k;
    }
    free(buf);
    return NULL;
}

static gk_status run_indep(lane **lanes, int n, int fd, uint64_t start, uint64_t end,
                           size_t chunk, const char *path, uint64_t *nread, gk_err *err) {
    gk_status st = GK_OK;
    if (end == UINT64_MAX) {
        struct stat sb;
        if (fstat(fd, &sb) != 0) return gk_err_set(err, GK_E_IO, "%s: %s", path, strerror(errno));
        end = (uint64_t)sb.st_size;
    }
    for (int i = 0; i < n; i++) {
        lane *L = lanes[i];
        L->fd = fd;
        L->start = start;
        L->end = end;
        L->chunk = chunk;
        L->rd_errno = 0;
        L->got = 0;
        L->running = pthread_create(&L->th, NULL, lane_indep_main, L) == 0;
        if (!L->running) lane_indep_main(L); /* no thread: run it here */
    }
    for (int i = 0; i < n; i++) {
        if (lanes[i]->running) pthread_join(lanes[i]->th, NULL);
        lanes[i]->running = 0;
        if (lanes[i]->rd_errno && st == GK_OK)
            st = gk_err_set(err, lanes[i]->rd_errno == ENOMEM ? GK_E_NOMEM : GK_E_IO,
                            "%s: read error: %s", path, strerror(lanes[i]->rd_errno));
    }
    if (n) *nread += lanes[0]->got;
    return st;
}

/* Tensor lanes only (no model lane over the concatenated bytes, no file lane): the tensors are
 * independent, so the part's tensors (spans, sorted by offset, each len > 0) are cut into up to
 * one contiguous group per core, balanced by bytes, and each group is read and hashed by its own
 * threads (independent mode over its byte range): every core copies and hashes its own share
 * while it is hot in its cache. The model XXH3-128, a list of the tensor digests, does not care
 * in which order they were computed. */
static gk_status run_split(lane **lanes, int n_lanes, const span *spans, uint64_t n, int fd,
                           const char *path, uint64_t *nread, pipe_s *p, size_t chunk, gk_err *err) {
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    int W = ncpu < 1 ? 1 : ncpu > 16 ? 16 : (int)ncpu;
    if ((uint64_t)W > n) W = (int)n;
    uint64_t total = 0;
    for (uint64_t i = 0; i < n; i++) total += spans[i].len;
    lane *wl = calloc((size_t)W * (size_t)n_lanes, sizeof *wl);
    if (!wl) return gk_err_set(err, GK_E_NOMEM, "out of memory");
    gk_status st = GK_OK;
    int made = 0;
    uint64_t k = 0, acc = 0;
    for (int w = 0; w < W && st == GK_OK; w++) {
        uint64_t k0 = k;
        if (k0 == n) break;
        /* this group ends where the running total passes (w+1)/W of the bytes */
        uint64_t goal = w == W - 1 ? total : total / (uint64_t)W * (uint64_t)(w + 1);
        while (k < n && (acc < goal || k == k0)) acc += spans[k++].len;
        if (w == W - 1) while (k < n) acc += spans[k++].len;
        uint64_t lo = spans[k0].off, hi = 0;
        for (uint64_t i = k0; i < k; i++)
            if (spans[i].off + spans[i].len > hi) hi = spans[i].off + spans[i].len;
        for (int l = 0; l < n_lanes && k > k0; l++) {
            lane *L = &wl[made];
            L->algo = lanes[l]->algo;
            L->scope = GK_MS_TENSOR;
            if (!hs_init(&L->st, L->algo) || !hs_reset(&L->st)) {
                hs_free(&L->st);
                st = gk_err_set(err, GK_E_NOMEM, "cannot create a %s state", gk_halgo_name(L->algo));
                break;
            }
            made++;
            L->spans = spans + k0;
            L->n_spans = k - k0;
            L->p = p;
            L->fd = fd;
            L->start = lo;
            L->end = hi;
            L->chunk = chunk;
        }
    }
    for (int i = 0; i < made && st == GK_OK; i++) {
        wl[i].running = pthread_create(&wl[i].th, NULL, lane_indep_main, &wl[i]) == 0;
        if (!wl[i].running) lane_indep_main(&wl[i]); /* no thread: run it here */
    }
    for (int i = 0; i < made; i++) {
        if (wl[i].running) pthread_join(wl[i].th, NULL);
        if (st == GK_OK && wl[i].rd_errno)
            st = gk_err_set(err, wl[i].rd_errno == ENOMEM ? GK_E_NOMEM : GK_E_IO,
                            "%s: read error: %s", path, strerror(wl[i].rd_errno));
        if (st == GK_OK && wl[i].k != wl[i].n_spans)
            st = gk_err_set(err, GK_E_TRUNCATED,
                            "%s: file ended before all tensor data was read (changed while hashing?)",
                            path);
        if (wl[i].algo == lanes[0]->algo) *nread += wl[i].got;
        hs_free(&wl[i].st);
    }
    free(wl);
    /* the caller's lanes are done with this part */
    for (int l = 0; l < n_lanes && st == GK_OK; l++) lanes[l]->k = lanes[l]->n_spans;
    return st;
}

static int span_cmp(const void *a, const void *b) {
    const span *x = a, *y = b;
    return x->off < y->off ? -1 : x->off > y->off;
}

/* Reads [start, end) of fd (end = UINT64_MAX: to EOF) through the lanes. */
/* Reads [start, end) of fd (end = UINT64_MAX: to EOF) through the lanes. The reading thread
 * also runs lanes[0] on each chunk right after reading it (while it is hot in its cache); the
 * other lanes are threads that follow through the ring. */
#ifdef MAP_POPULATE
#define GK_MAP_POPULATE MAP_POPULATE /* fault the window in once, in the reading thread */
#else
#define GK_MAP_POPULATE 0
#endif

static void slot_unmap(slot *s) {
    if (s->map) munmap(s->map, s->map_len);
    s->map = NULL;
    s->map_len = 0;
}

static gk_status run_pipe(pipe_s *p, lane **lanes, int fd, uint64_t start, uint64_t end,
                          size_t chunk, int use_map, const char *path, uint64_t *nread,
                          gk_err *err) {
    gk_status st = GK_OK;
    struct stat sb;
    if (fstat(fd, &sb) != 0) return gk_err_set(err, GK_E_IO, "%s: %s", path, strerror(errno));
    if (end == UINT64_MAX) end = (uint64_t)sb.st_size;
    if (use_map) {
        /* windows of the file instead of copies: never beyond the size it has now */
        if (end > (uint64_t)sb.st_size) end = (uint64_t)sb.st_size;
        long ps = sysconf(_SC_PAGESIZE);
        size_t pg = ps > 0 ? (size_t)ps : 4096;
        chunk = (chunk + pg - 1) / pg * pg;   /* window offsets stay page-aligned */
        start = start / pg * pg;
    }
    int n = p->n_lanes, started = 0;
    for (int i = 1; i < n; i++) {
        lanes[i]->p = p;
        if (pthread_create(&lanes[i]->th, NULL, lane_main, lanes[i]) != 0) {
            st = gk_err_set(err, GK_E_IO, "cannot start a hashing thread");
            break;
        }
        lanes[i]->running = 1;
        started++;
    }
    int members = started + (n > 0); /* who must release each slot */
    int cold = 0;                      /* 0 warm so far, 1 just found cold, 2 reading ahead */
    int slow = 0;                      /* chunks that came from the disk */
    uint64_t pos = start;
    for (uint64_t seq = 0; n > 0; seq++) {
        slot *s = &p->slots[seq % (uint64_t)p->n_slots];
        pthread_mutex_lock(&p->mu);
        while (s->filled) pthread_cond_wait(&p->freed, &p->mu);
        pthread_mutex_unlock(&p->mu);
        size_t want = chunk;
        if (end != UINT64_MAX && end - pos < want) want = (size_t)(end - pos);
        size_t got = 0;
        slot_unmap(s);
        s->buf = s->own;
#ifdef POSIX_FADV_WILLNEED
        if (cold) {   /* keep the disk busy ahead of the lanes: 64 MiB of lookahead, asked for
                       * once, then the piece entering it at each step */
            uint64_t span = 64u << 20;
            uint64_t ahead = cold == 1 ? pos + want : pos + span;
            uint64_t len = cold == 1 ? span : want;
            cold = 2;
            if (ahead < end && len)
                posix_fadvise(fd, (off_t)ahead, (off_t)(end - ahead < len ? end - ahead : len),
                              POSIX_FADV_WILLNEED);
        }
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
#endif
        if (use_map && want) {
            void *m = mmap(NULL, want, PROT_READ, MAP_SHARED | GK_MAP_POPULATE, fd, (off_t)pos);
            if (m == MAP_FAILED) {
                st = gk_err_set(err, GK_E_IO, "%s: cannot map offset %llu: %s", path,
                                (unsigned long long)pos, strerror(errno));
            } else {
                s->map = m;
                s->map_len = want;
                s->buf = m;
                got = want;
            }
        }
        while (!use_map && st == GK_OK && got < want) {
            ssize_t k = pread(fd, s->buf + got, want - got, (off_t)(pos + got));
            if (k < 0) {
                if (errno == EINTR) continue;
                st = gk_err_set(err, GK_E_IO, "%s: read error at offset %llu: %s", path,
                                (unsigned long long)(pos + got), strerror(errno));
                break;
            }
            if (k == 0) break;
            got += (size_t)k;
        }
#ifdef POSIX_FADV_WILLNEED
        /* chunks that came slower than 1 GB/s came from the disk: after 4 of them (one could
         * be a preemption), read ahead from now on (from the page cache the lookahead would
         * only cost a page-cache walk) */
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double dt = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
        if (!cold && got >= (64u << 10) && dt * 1e9 > (double)got && ++slow >= 4) cold = 1;
#endif
        pthread_mutex_lock(&p->mu);
        s->len = got;
        s->off = pos;
        s->seq = seq;
        s->eof = (st != GK_OK || got == 0);
        s->pending = members;
        s->filled = 1;
        pthread_cond_broadcast(&p->filled);
        pthread_mutex_unlock(&p->mu);
        if (!s->eof) lane_chunk(lanes[0], s);
        pthread_mutex_lock(&p->mu);
        if (--s->pending == 0) {
            s->filled = 0;
            pthread_cond_broadcast(&p->freed);
        }
        pthread_mutex_unlock(&p->mu);
        pos += got;
        if (got == 0 || st != GK_OK) break;
    }
    for (int i = 1; i < n; i++)
        if (lanes[i]->running) {
            pthread_join(lanes[i]->th, NULL);
            lanes[i]->running = 0;
        }
    /* every slot is free again */
    for (int i = 0; i < p->n_slots; i++) {
        p->slots[i].filled = 0;
        slot_unmap(&p->slots[i]);
        p->slots[i].buf = p->slots[i].own;
    }
    *nread += pos - start;
    return st;
}

typedef struct gk_hash_engine {
    gk_hash_opts o;
    gk_hash_result *r;
    lane *lanes;       /* tensor lanes, model lanes, file lanes */
    int n_lanes;
    int model_streaming; /* model lanes run in the pipeline (tensors in info order) */
    int model_lanes;     /* lanes over the concatenated bytes (xxh64/sha1/sha256 model scope) */
} engine;

static gk_status engine_init(engine *e, const gk_hash_opts *opts, gk_hash_result *r,
                             gk_err *err) {
    memset(e, 0, sizeof *e);
    e->o = *opts;
    /* measured on the 2-core box (spec/hash.md): copies of 1 MiB x 16, which stay in cache
     * between the lanes; mapped windows (GGUFKIT_HASH_MODE=map) of 8 MiB x 4 */
    const char *mode = getenv("GGUFKIT_HASH_MODE");
    int copies = !(mode && !strcmp(mode, "map"));
    if (!e->o.chunk) e->o.chunk = copies ? 1u << 20 : 8u << 20;
    if (e->o.n_chunks <= 0) e->o.n_chunks = copies ? 16 : 4;
    e->r = r;
    r->tensor_algos = opts->tensor_algos;
    r->model_algos = opts->model_algos;
    r->file_algos = opts->file_algos;
    e->lanes = calloc(3 * GK_H_COUNT, sizeof *e->lanes);
    if (!e->lanes) return gk_err_set(err, GK_E_NOMEM, "out of memory");
    /* the XXH3-128 model hash is derived from the per-tensor XXH3-128 digests
     * (engine_model_final): no model lane, but the tensor lane is needed */
    const unsigned x3 = 1u << GK_H_XXH3_128;
    unsigned masks[3] = {opts->tensor_algos | (opts->model_algos & x3), opts->model_algos & ~x3,
                         opts->file_algos};
    for (int sc = 0; sc < 3; sc++)
        for (int a = 0; a < GK_H_COUNT; a++)
            if (masks[sc] & (1u << a)) {
                lane *L = &e->lanes[e->n_lanes++];
                L->algo = (gk_halgo)a;
                L->scope = (gk_mscope)sc;
                if (sc == GK_MS_MODEL) e->model_lanes++;
                if (!hs_init(&L->st, (gk_halgo)a) || !hs_reset(&L->st))
                    return gk_err_set(err, GK_E_NOMEM, "cannot create a %s state",
                                      gk_halgo_name((gk_halgo)a));
            }
    return GK_OK;
}

static void engine_free(engine *e) {
    if (!e->lanes) return;
    for (int i = 0; i < e->n_lanes; i++) hs_free(&e->lanes[i].st);
    free(e->lanes);
    e->lanes = NULL;
}

/* The model XXH3-128: XXH3-128 (seed 0) over the tensors' XXH3-128 digests, each in its 16-byte
 * canonical (big-endian) form, in model order (tensor-info order, part after part). */
void gk_hash_list_xxh3(const gk_hash_tensor *ts, uint64_t n, gk_digest *out) {
    XXH3_state_t *x = XXH3_createState();
    memset(out, 0, sizeof *out);
    if (!x) return;
    XXH3_128bits_reset(x);
    for (uint64_t i = 0; i < n; i++) XXH3_128bits_update(x, ts[i].d[GK_H_XXH3_128].b, 16);
    XXH128_canonical_t c;
    XXH128_canonicalFromHash(&c, XXH3_128bits_digest(x));
    memcpy(out->b, c.digest, 16);
    XXH3_freeState(x);
}

static void engine_model_final(engine *e) {
    for (int i = 0; i < e->n_lanes; i++)
        if (e->lanes[i].scope == GK_MS_MODEL) hs_final(&e->lanes[i].st, &e->r->model[e->lanes[i].algo]);
    if (e->r->model_algos & (1u << GK_H_XXH3_128))
        gk_hash_list_xxh3(e->r->tensors, e->r->n_tensors, &e->r->model[GK_H_XXH3_128]);
}

/* Model hash when tensor data is not in info order: a second pass in info order. */
static gk_status model_second_pass(engine *e, const gk_model *m, gk_err *err) {
    size_t cap = 4u << 20;
    uint8_t *buf = malloc(cap);
    if (!buf) return gk_err_set(err, GK_E_NOMEM, "out of memory");
    gk_status st = GK_OK;
    int fd = -1;
    uint32_t fd_part = UINT32_MAX;
    for (uint64_t i = 0; i < m->n_tensors && st == GK_OK; i++) {
        const gk_model_tensor *mt = &m->tensors[i];
        if (mt->file != fd_part) {
            if (fd >= 0) close(fd);
            fd = open(m->paths[mt->file], O_RDONLY | O_CLOEXEC);
            fd_part = mt->file;
            if (fd < 0) {
                st = gk_err_set(err, GK_E_IO, "%s: %s", m->paths[mt->file], strerror(errno));
                break;
            }
        }
        uint64_t off = m->parts[mt->file]->data_start + mt->t->offset, left = mt->t->nbytes;
        while (left && st == GK_OK) {
            size_t want = left < cap ? (size_t)left : cap;
            ssize_t k = pread(fd, buf, want, (off_t)off);
            if (k < 0 && errno == EINTR) continue;
            if (k <= 0) {
                st = gk_err_set(err, GK_E_IO, "%s: cannot read tensor data at offset %llu",
                                m->paths[mt->file], (unsigned long long)off);
                break;
            }
            for (int l = 0; l < e->n_lanes; l++)
                if (e->lanes[l].scope == GK_MS_MODEL) hs_update(&e->lanes[l].st, buf, (size_t)k);
            off += (uint64_t)k;
            left -= (uint64_t)k;
            e->r->bytes_read += (uint64_t)k;
        }
    }
    if (fd >= 0) close(fd);
    free(buf);
    return st;
}

gk_status gk_hash_model(const char *path, const gk_hash_opts *opts, gk_hash_result *out,
                        gk_err *err) {
    memset(out, 0, sizeof *out);
    gk_model *m = NULL;
    gk_status st = gk_model_open(path, 0, &m, err);
    if (st != GK_OK) return st;
    engine e;
    pipe_s p;
    memset(&p, 0, sizeof p);
    span *spans = NULL, *mspans = NULL;
    int mu_ok = 0;
    st = engine_init(&e, opts, out, err);
    if (st != GK_OK) goto done;
    {
        const gk_tensor **ts = malloc((m->n_tensors ? m->n_tensors : 1) * sizeof *ts);
        if (!ts) { st = gk_err_set(err, GK_E_NOMEM, "out of memory"); goto done; }
        for (uint64_t i = 0; i < m->n_tensors; i++) ts[i] = m->tensors[i].t;
        st = add_tensors(out, ts, m->n_tensors, err);
        free(ts);
        if (st != GK_OK) goto done;
    }
    /* model lanes (xxh64/sha1/sha256 over the concatenated bytes) stream only if each part's
     * tensors lie in info order; the XXH3-128 model hash never needs this */
    e.model_streaming = 1;
    for (uint64_t i = 1; i < m->n_tensors; i++) {
        const gk_model_tensor *a = &m->tensors[i - 1], *b = &m->tensors[i];
        if (a->file == b->file && b->t->offset < a->t->offset + a->t->nbytes) e.model_streaming = 0;
    }
    spans = malloc((m->n_tensors ? m->n_tensors : 1) * sizeof *spans);
    mspans = malloc((m->n_tensors ? m->n_tensors : 1) * sizeof *mspans);
    p.slots = calloc((size_t)e.o.n_chunks, sizeof *p.slots);
    if (!spans || !mspans || !p.slots) { st = gk_err_set(err, GK_E_NOMEM, "out of memory"); goto done; }
    p.n_slots = e.o.n_chunks;
    for (int i = 0; i < p.n_slots; i++)
        if (!(p.slots[i].own = p.slots[i].buf = malloc(e.o.chunk))) { st = gk_err_set(err, GK_E_NOMEM, "out of memory"); goto done; }
    pthread_mutex_init(&p.mu, NULL);
    pthread_cond_init(&p.filled, NULL);
    pthread_cond_init(&p.freed, NULL);
    mu_ok = 1;
    p.r = out;

    uint64_t first = 0;
    for (uint32_t part = 0; part < m->n_parts && st == GK_OK; part++) {
        const gk_gguf *g = m->parts[part];
        st = add_part(out, m->paths[part], err);
        if (st != GK_OK) break;
        out->parts[part].size = g->file_size;
        uint64_t n = g->n_tensors;
        uint64_t lo = UINT64_MAX, hi = 0;
        for (uint64_t i = 0; i < n; i++) {
            const gk_tensor *t = &g->tensors[i];
            spans[i].off = g->data_start + t->offset;
            spans[i].len = t->nbytes;
            spans[i].idx = first + i;
            mspans[i] = spans[i];
            if (spans[i].off < lo) lo = spans[i].off;
            if (spans[i].off + spans[i].len > hi) hi = spans[i].off + spans[i].len;
        }
        qsort(spans, (size_t)n, sizeof *spans, span_cmp);
        int n_active = 0;
        lane *act[3 * GK_H_COUNT];
        for (int l = 0; l < e.n_lanes; l++) {
            lane *L = &e.lanes[l];
            if (L->scope == GK_MS_TENSOR) { L->spans = spans; L->n_spans = n; }
            else if (L->scope == GK_MS_MODEL) {
                if (!e.model_streaming) continue;
                L->spans = mspans;
                L->n_spans = n;
            } else {
                hs_reset(&L->st);
            }
            L->k = 0;
            L->started = 0;
            L->p = &p;
            act[n_active++] = L;
        }
        p.n_lanes = n_active;
        int fd = open(m->paths[part], O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            st = gk_err_set(err, GK_E_IO, "%s: %s", m->paths[part], strerror(errno));
            break;
        }
#ifdef POSIX_FADV_SEQUENTIAL
        posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
        int whole = (opts->file_algos != 0);
        uint64_t start = whole ? 0 : (n ? lo & ~(uint64_t)4095 : 0);
        uint64_t end = whole ? UINT64_MAX : (n ? hi : 0);
        const char *mode = getenv("GGUFKIT_HASH_MODE");
        if (n_active > 0 && (whole || n)) {
            /* The shared ring over pread copies (1 MiB, hot in cache for every lane).
             * GGUFKIT_HASH_MODE=map: the ring over mapped windows (no copy, but an munmap per
             * window); =indep: every lane preads for itself (no hand-offs, one copy per lane). */
            int split = n > 1 && !whole && !(mode && *mode);
            for (int l = 0; l < n_active; l++) if (act[l]->scope != GK_MS_TENSOR) split = 0;
            for (uint64_t i = 0; i < n && split; i++) if (!spans[i].len) split = 0;
            if (split)
                st = run_split(act, n_active, spans, n, fd, m->paths[part], &out->bytes_read, &p,
                               e.o.chunk, err);
            else if (mode && !strcmp(mode, "indep"))
                st = run_indep(act, n_active, fd, start, end, e.o.chunk, m->paths[part], &out->bytes_read, err);
            else
                st = run_pipe(&p, act, fd, start, end, e.o.chunk, mode && !strcmp(mode, "map"),
                              m->paths[part], &out->bytes_read, err);
        }
        close(fd);
        for (int l = 0; l < n_active; l++) {
            lane *L = act[l];
            if (st == GK_OK && L->scope != GK_MS_FILE && L->k != L->n_spans)
                st = gk_err_set(err, GK_E_TRUNCATED,
                                "%s: file ended before all tensor data was read (changed while hashing?)",
                                m->paths[part]);
            if (st == GK_OK && L->scope == GK_MS_FILE) hs_final(&L->st, &out->parts[part].d[L->algo]);
        }
        first += n;
    }
    if (st == GK_OK && !e.model_streaming && e.model_lanes) st = model_second_pass(&e, m, err);
    if (st == GK_OK) engine_model_final(&e);

done:
    if (mu_ok) {
        pthread_mutex_destroy(&p.mu);
        pthread_cond_destroy(&p.filled);
        pthread_cond_destroy(&p.freed);
    }
    if (p.slots)
        for (int i = 0; i < p.n_slots; i++) free(p.slots[i].own);
    free(p.slots);
    free(spans);
    free(mspans);
    engine_free(&e);
    gk_model_close(m);
    if (st != GK_OK) gk_hash_result_free(out);
    return st;
}

/* ------------------------------------------------------------------------------------------ */
/* Streaming (pipes, bundle members): single-threaded, the same results                         */

typedef struct tee_ctx {
    gk_read_fn read;
    void *ctx;
    engine *e;
    uint64_t n;
} tee_ctx;

static int64_t tee_read(void *c, void *buf, size_t n) {
    tee_ctx *t = c;
    int64_t k = t->read(t->ctx, buf, n);
    if (k > 0) {
        for (int l = 0; l < t->e->n_lanes; l++)
            if (t->e->lanes[l].scope == GK_MS_FILE) hs_update(&t->e->lanes[l].st, buf, (size_t)k);
        t->n += (uint64_t)k;
    }
    return k;
}

gk_status gk_hash_stream_begin(const gk_hash_opts *opts, gk_hash_result *r, gk_err *err) {
    memset(r, 0, sizeof *r);
    engine *e = calloc(1, sizeof *e);
    if (!e) return gk_err_set(err, GK_E_NOMEM, "out of memory");
    gk_status st = engine_init(e, opts, r, err);
    if (st != GK_OK) {
        engine_free(e);
        free(e);
        return st;
    }
    e->model_streaming = 1;
    r->priv = e;
    return GK_OK;
}

gk_status gk_hash_stream_part(gk_hash_result *r, const char *name, gk_read_fn read, void *ctx,
                              gk_err *err) {
    engine *e = r->priv;
    if (!e) return gk_err_set(err, GK_E_INVALID_ARG, "gk_hash_stream_part without begin");
    gk_status st = add_part(r, name, err);
    if (st != GK_OK) return st;
    for (int l = 0; l < e->n_lanes; l++)
        if (e->lanes[l].scope == GK_MS_FILE) hs_reset(&e->lanes[l].st);
    tee_ctx tc = {read, ctx, e, 0};
    gk_gguf_stream *s = NULL;
    st = gk_gguf_stream_open(tee_read, &tc, 0, &s, err);
    if (st != GK_OK) return st;
    const gk_gguf *g = gk_gguf_stream_header(s);
    uint64_t first = r->n_tensors;
    {
        const gk_tensor **ts = malloc((g->n_tensors ? g->n_tensors : 1) * sizeof *ts);
        if (!ts) { gk_gguf_stream_close(s); return gk_err_set(err, GK_E_NOMEM, "out of memory"); }
        for (uint64_t i = 0; i < g->n_tensors; i++) ts[i] = &g->tensors[i];
        st = add_tensors(r, ts, g->n_tensors, err);
        free(ts);
    }
    size_t cap = 4u << 20;
    uint8_t *buf = st == GK_OK ? malloc(cap) : NULL;
    if (st == GK_OK && !buf) st = gk_err_set(err, GK_E_NOMEM, "out of memory");
    int64_t expect = 0;
    while (st == GK_OK) {
        int64_t idx = -1;
        st = gk_gguf_stream_next(s, &idx, err);
        if (st != GK_OK || idx < 0) break;
        if (idx != expect && e->model_lanes)
            st = gk_err_set(err, GK_E_UNSUPPORTED,
                            "%s: tensor data is not in tensor-info order; the model hash needs a "
                            "seekable file", name);
        expect = idx + 1;
        for (int l = 0; l < e->n_lanes; l++)
            if (e->lanes[l].scope == GK_MS_TENSOR) hs_reset(&e->lanes[l].st);
        for (;;) {
            size_t got = 0;
            st = gk_gguf_stream_read(s, buf, cap, &got, err);
            if (st != GK_OK || !got) break;
            for (int l = 0; l < e->n_lanes; l++)
                if (e->lanes[l].scope != GK_MS_FILE) hs_update(&e->lanes[l].st, buf, got);
            r->bytes_read += got;
        }
        if (st != GK_OK) break;
        for (int l = 0; l < e->n_lanes; l++)
            if (e->lanes[l].scope == GK_MS_TENSOR)
                hs_final(&e->lanes[l].st, &r->tensors[first + (uint64_t)idx].d[e->lanes[l].algo]);
    }
    if (st == GK_OK) st = gk_gguf_stream_finish(s, err);
    r->parts[r->n_parts - 1].size = g->file_size;
    gk_gguf_stream_close(s);
    /* whatever the stream reader did not consume still belongs to the file */
    while (st == GK_OK && buf) {
        int64_t k = tee_read(&tc, buf, cap);
        if (k < 0) st = gk_err_set(err, GK_E_IO, "%s: read error", name);
        if (k <= 0) break;
    }
    free(buf);
    if (st != GK_OK) return st;
    r->parts[r->n_parts - 1].size = tc.n;
    for (int l = 0; l < e->n_lanes; l++)
        if (e->lanes[l].scope == GK_MS_FILE)
            hs_final(&e->lanes[l].st, &r->parts[r->n_parts - 1].d[e->lanes[l].algo]);
    return GK_OK;
}

gk_status gk_hash_stream_end(gk_hash_result *r, gk_err *err) {
    engine *e = r->priv;
    if (!e) return gk_err_set(err, GK_E_INVALID_ARG, "gk_hash_stream_end without begin");
    engine_model_final(e);
    engine_free(e);
    free(e);
    r->priv = NULL;
    return GK_OK;
}
