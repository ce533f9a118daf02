/* ggufkit-bench hash: throughput of `ggufkit hash` (per-tensor + model XXH3-128, optionally the
 * whole-file SHA-256 in the same pass) against `cat FILE > /dev/null`, from the page cache (warm)
 * and cold (caches dropped before each run: /proc/sys/vm/drop_caches when permitted, else
 * posix_fadvise(DONTNEED) on the file). Median of --runs. --make writes a synthetic GGUF of
 * --gib GiB (Q8_0 tensors of pseudo-random bytes) to benchmark on. */
#include "ggufkit.h"
#include "gk_inspect.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int gk_bench_hash(int argc, char **argv);

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Drops the file from the page cache; returns the method used or NULL. */
static const char *drop_cache(const char *path) {
    sync();
    FILE *f = fopen("/proc/sys/vm/drop_caches", "w");
    if (f) {
        int ok = fputs("3\n", f) >= 0;
        if (fclose(f) == 0 && ok) return "drop_caches";
    }
    int fd = open(path, O_RDONLY);
    if (fd < 0) return NULL;
    int rc = posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    close(fd);
    return rc == 0 ? "fadvise" : NULL;
}

static void warm(const char *path) {
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "cat '%s' > /dev/null", path);
    if (system(cmd) != 0) fprintf(stderr, "warning: cat failed\n");
}

/* cat FILE > /dev/null (GNU cat may splice to /dev/null without copying the bytes to user
 * space), and dd bs=4M, which read()s every byte into a buffer as any consumer must. */
static double time_cmd(const char *path, int dd) {
    char cmd[4200];
    if (dd) snprintf(cmd, sizeof cmd, "dd if='%s' of=/dev/null bs=4M status=none", path);
    else snprintf(cmd, sizeof cmd, "cat '%s' > /dev/null", path);
    double t0 = now();
    int rc = system(cmd);
    double t = now() - t0;
    return rc == 0 ? t : -1;
}

static double time_hash(const char *path, const gk_hash_opts *o) {
    gk_hash_result r;
    gk_err e = {0};
    double t0 = now();
    gk_status st = gk_hash_model(path, o, &r, &e);
    double t = now() - t0;
    if (st != GK_OK) {
        fprintf(stderr, "hash: %s\n", e.msg);
        return -1;
    }
    gk_hash_result_free(&r);
    return t;
}

static int make_file(const char *path, double gib) {
    uint64_t total = (uint64_t)(gib * 1073741824.0);
    uint64_t per = 64ull << 20; /* 64 MiB tensors: 4096 x 15420 q8_0 */
    uint64_t rows = per / (4096 / 32 * 34);
    uint64_t tb = rows * (4096 / 32 * 34);
    uint64_t n = total / tb ? total / tb : 1;
    gk_tensor *ts = calloc(n, sizeof *ts);
    char (*names)[48] = calloc(n, 48);
    for (uint64_t i = 0; i < n; i++) {
        snprintf(names[i], 48, "blk.%llu.ffn_up.weight", (unsigned long long)i);
        ts[i].name = (gk_str){names[i], strlen(names[i])};
        ts[i].n_dims = 2;
        ts[i].ne[0] = 4096;
        ts[i].ne[1] = rows;
        ts[i].ne[2] = ts[i].ne[3] = 1;
        ts[i].type = GK_TYPE_Q8_0;
    }
    gk_kv kv = {.key = {"general.architecture", 20}, .val = {.type = GK_V_STR, .str = {"bench", 5}}};
    gk_writer *w = NULL;
    gk_err e = {0};
    gk_status st = gk_writer_open(path, NULL, &w, &e);
    if (!st) st = gk_writer_begin(w, &kv, 1, ts, n, &e);
    size_t chunk = 16u << 20;
    uint8_t *buf = malloc(chunk);
    uint64_t s = 1;
    for (size_t i = 0; i < chunk; i += 8) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        memcpy(buf + i, &s, 8);
    }
    for (uint64_t left = n * tb; !st && left;) {
        size_t k = left < chunk ? (size_t)left : chunk;
        buf[0]++; /* chunks differ */
        st = gk_writer_write(w, buf, k, &e);
        left -= k;
    }
    if (!st) st = gk_writer_finish(w, &e);
    gk_writer_free(w);
    free(buf);
    free(ts);
    free(names);
    if (st) fprintf(stderr, "make: %s\n", e.msg);
    return st ? 1 : 0;
}

int gk_bench_hash(int argc, char **argv) {
    const char *path = NULL;
    int runs = 3, cold = 0, json = 0, sha = 1, make = 0;
    double gib = 4;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--runs") && i + 1 < argc) runs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--cold")) cold = 1;
        else if (!strcmp(argv[i], "--json")) json = 1;
        else if (!strcmp(argv[i], "--no-sha256")) sha = 0;
        else if (!strcmp(argv[i], "--make")) make = 1;
        else if (!strcmp(argv[i], "--gib") && i + 1 < argc) gib = atof(argv[++i]);
        else if (argv[i][0] != '-') path = argv[i];
        else {
            fprintf(stderr, "usage: ggufkit-bench hash FILE [--runs N] [--cold] [--no-sha256] "
                            "[--json] | hash --make FILE [--gib G]\n");
            return 2;
        }
    }
    if (!path || runs < 1 || runs > 100) {
        fprintf(stderr, "usage: ggufkit-bench hash FILE [--runs N] [--cold] [--no-sha256] [--json]\n");
        return 2;
    }
    if (make) return make_file(path, gib);
    struct stat sb;
    if (stat(path, &sb) != 0) {
        perror(path);
        return 3;
    }
    double gb = (double)sb.st_size / 1e9;
    gk_hash_opts x3 = {1u << GK_H_XXH3_128, 1u << GK_H_XXH3_128, 0, 0, 0};
    gk_hash_opts x3s = x3;
    x3s.file_algos = 1u << GK_H_SHA256;
    const char *names[4] = {"cat FILE > /dev/null", "dd bs=4M (read every byte)",
                            "hash xxh3-128 (tensors + model)", "hash xxh3-128 + file sha256"};
    int n_modes = sha ? 4 : 3;
    double med[4] = {0};
    const char *method = "warm (page cache)";
    for (int m = 0; m < n_modes; m++) {
        double *t = calloc((size_t)runs, sizeof *t);
        for (int r = 0; r < runs; r++) {
            if (cold) {
                const char *how = drop_cache(path);
                if (!how) { fprintf(stderr, "cannot drop the page cache\n"); free(t); return 3; }
                method = !strcmp(how, "drop_caches") ? "cold (drop_caches)" : "cold (fadvise DONTNEED)";
            } else if (r == 0 && m == 0) {
                warm(path);
            }
            t[r] = m < 2 ? time_cmd(path, m == 1) : time_hash(path, m == 2 ? &x3 : &x3s);
            if (t[r] < 0) { free(t); return 3; }
        }
        qsort(t, (size_t)runs, sizeof *t, cmp_d);
        med[m] = t[runs / 2];
        free(t);
    }
    if (json) {
        printf("{\"file\": \"%s\", \"bytes\": %lld, \"mode\": \"%s\", \"runs\": %d, \"results\": [", path,
               (long long)sb.st_size, method, runs);
        for (int m = 0; m < n_modes; m++)
            printf("%s{\"name\": \"%s\", \"seconds\": %.6f, \"gb_per_s\": %.4f, \"of_cat\": %.4f, "
                   "\"of_dd\": %.4f}", m ? ", " : "", names[m], med[m], gb / med[m], med[0] / med[m],
                   med[1] / med[m]);
        printf("]}\n");
    } else {
        printf("%s: %.3f GB, %s, median of %d\n", path, gb, method, runs);
        for (int m = 0; m < n_modes; m++)
            printf("  %-34s %8.3f s  %7.2f GB/s  %5.1f%% of cat  %5.1f%% of dd\n", names[m], med[m],
                   gb / med[m], 100.0 * med[0] / med[m], 100.0 * med[1] / med[m]);
    }
    return 0;
}
