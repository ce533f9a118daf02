/* A small fixed-size thread pool for row-parallel work: gk_pool_run hands out task indices from
 * an atomic counter; the calling thread works too. */
#include "ggufkit.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

struct gk_pool {
    int n;                      /* threads including the caller */
    pthread_t *th;
    pthread_mutex_t mu;
    pthread_cond_t cv_start, cv_done;
    uint64_t generation;
    int quit;
    int active;                 /* workers still busy with the current job */
    /* current job */
    void (*fn)(void *, int64_t, int);
    void *ctx;
    int64_t n_tasks;
    atomic_llong next;
};

typedef struct { gk_pool *p; int idx; } worker_arg;

static void drain(gk_pool *p, int thread) {
    for (;;) {
        int64_t t = atomic_fetch_add(&p->next, 1);
        if (t >= p->n_tasks) break;
        p->fn(p->ctx, t, thread);
    }
}

static void *worker(void *arg) {
    worker_arg wa = *(worker_arg *)arg;
    free(arg);
    gk_pool *p = wa.p;
    uint64_t seen = 0;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->quit && p->generation == seen) pthread_cond_wait(&p->cv_start, &p->mu);
        if (p->quit) break;
        seen = p->generation;
        pthread_mutex_unlock(&p->mu);
        drain(p, wa.idx);
        pthread_mutex_lock(&p->mu);
        if (--p->active == 0) pthread_cond_signal(&p->cv_done);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

gk_status gk_pool_create(int n_threads, gk_pool **out, gk_err *err) {
    if (!out) return gk_err_set(err, GK_E_INVALID_ARG, "gk_pool_create: out is NULL");
    *out = NULL;
    if (n_threads <= 0) {
        long c = sysconf(_SC_NPROCESSORS_ONLN);
        n_threads = c > 0 ? (int)c : 1;
    }
    if (n_threads > 1024) n_threads = 1024;
    gk_pool *p = calloc(1, sizeof *p);
    if (!p) return gk_err_set(err, GK_E_NOMEM, "thread pool: out of memory");
    p->n = n_threads;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv_start, NULL);
    pthread_cond_init(&p->cv_done, NULL);
    atomic_init(&p->next, 0);
    if (n_threads > 1) {
        p->th = calloc((size_t)n_threads - 1, sizeof *p->th);
        if (!p->th) { gk_pool_free(p); return gk_err_set(err, GK_E_NOMEM, "thread pool: out of memory"); }
        for (int i = 0; i < n_threads - 1; i++) {
            worker_arg *wa = malloc(sizeof *wa);
            if (!wa || pthread_create(&p->th[i], NULL, worker, wa ? (wa->p = p, wa->idx = i + 1, wa) : NULL) != 0) {
                free(wa);
                p->n = i + 1;       /* threads started so far plus the caller */
                gk_pool_free(p);
                return gk_err_set(err, GK_E_IO, "thread pool: cannot start thread %d", i + 1);
            }
        }
    }
    *out = p;
    return GK_OK;
}

int gk_pool_size(const gk_pool *p) { return p ? p->n : 1; }

void gk_pool_run(gk_pool *p, int64_t n_tasks, void (*fn)(void *, int64_t, int), void *ctx) {
    if (n_tasks <= 0) return;
    if (!p || p->n <= 1 || n_tasks == 1) {
        for (int64_t t = 0; t < n_tasks; t++) fn(ctx, t, 0);
        return;
    }
    pthread_mutex_lock(&p->mu);
    p->fn = fn;
    p->ctx = ctx;
    p->n_tasks = n_tasks;
    atomic_store(&p->next, 0);
    p->active = p->n - 1;
    p->generation++;
    pthread_cond_broadcast(&p->cv_start);
    pthread_mutex_unlock(&p->mu);
    drain(p, 0);
    pthread_mutex_lock(&p->mu);
    while (p->active > 0) pthread_cond_wait(&p->cv_done, &p->mu);
    pthread_mutex_unlock(&p->mu);
}

void gk_pool_free(gk_pool *p) {
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    p->quit = 1;
    pthread_cond_broadcast(&p->cv_start);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; p->th && i < p->n - 1; i++) pthread_join(p->th[i], NULL);
    free(p->th);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv_start);
    pthread_cond_destroy(&p->cv_done);
    free(p);
}
