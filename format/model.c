/* A model over one GGUF file or a split set <prefix>-NNNNN-of-MMMMM.gguf (format-facts §6):
 * split.no (u16, 0-based), split.count (u16) in every part, split.tensors.count (i32) in part 0;
 * tensor names unique across all parts. */
#include "gguf_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

size_t gk_split_path(char *buf, size_t cap, const char *prefix, uint32_t split_no,
                     uint32_t split_count) {
    int n = snprintf(buf, buf ? cap : 0, "%s-%05" PRIu64 "-of-%05" PRIu32 ".gguf",
                     prefix ? prefix : "", (uint64_t)split_no + 1, split_count);
    return n < 0 ? 0 : (size_t)n;
}

/* If path ends in -NNNNN-of-MMMMM.gguf: the prefix length, *no (1-based) and *count. */
static int parse_split_name(const char *path, size_t *prefix_len, uint32_t *no, uint32_t *count) {
    static const size_t tail = 21; /* "-00001-of-00003.gguf" plus the 5+5 digits */
    size_t n = strlen(path);
    if (n < tail - 1) return 0;
    const char *s = path + n - 20;
    if (s[0] != '-' || memcmp(s + 6, "-of-", 4) != 0 || memcmp(s + 15, ".gguf", 5) != 0) return 0;
    uint32_t a = 0, b = 0;
    for (int i = 0; i < 5; i++) {
        if (s[1 + i] < '0' || s[1 + i] > '9' || s[10 + i] < '0' || s[10 + i] > '9') return 0;
        a = a * 10 + (uint32_t)(s[1 + i] - '0');
        b = b * 10 + (uint32_t)(s[10 + i] - '0');
    }
    *prefix_len = n - 20;
    *no = a;
    *count = b;
    return 1;
}

/* Reads an integer split key of the required type; 0 = absent, 1 = ok, -1 = wrong type. */
static int split_key(const gk_gguf *g, const char *key, uint32_t type, int64_t *v) {
    int64_t i = gk_gguf_find_kv(g, key);
    if (i < 0) return 0;
    if (g->kv[i].val.type != type) return -1;
    int ok = 0;
    *v = gk_value_as_i64(&g->kv[i].val, &ok);
    return ok ? 1 : -1;
}

static gk_str mt_name(const void *ctx, uint64_t i) {
    return ((const gk_model *)ctx)->tensors[i].t->name;
}

void gk_model_close(gk_model *m) {
    if (!m) return;
    for (uint32_t i = 0; i < m->n_parts; i++) {
        if (m->parts) gk_gguf_close(m->parts[i]);
        if (m->paths) free(m->paths[i]);
    }
    free(m->parts);
    free(m->paths);
    free(m->tensors);
    free(m);
}

static gk_status split_err(gk_err *err, const char *path, const char *fmt, const char *detail) {
    return gk_err_set(err, GK_E_SPLIT, fmt, path, detail);
}

static gk_status check_part(const gk_gguf *g, const char *path, uint32_t k, uint32_t count,
                            gk_err *err) {
    int64_t no = -1, cnt = -1;
    int r1 = split_key(g, "split.no", GK_V_U16, &no);
    int r2 = split_key(g, "split.count", GK_V_U16, &cnt);
    if (r1 <= 0 || r2 <= 0)
        return split_err(err, path, "split part %s: %s", r1 < 0 || r2 < 0 ?
                         "split.no / split.count must be u16" : "split.no or split.count missing");
    if (no != (int64_t)k || cnt != (int64_t)count)
        return gk_err_set(err, GK_E_SPLIT, "split part %s: split.no %" PRId64 " / split.count %"
                          PRId64 ", expected %" PRIu32 " / %" PRIu32, path, no, cnt, k, count);
    return GK_OK;
}

gk_status gk_model_open(const char *path, unsigned flags, gk_model **out, gk_err *err) {
    if (!path || !out) return gk_err_set(err, GK_E_INVALID_ARG, "gk_model_open: NULL argument");
    *out = NULL;
    gk_gguf *g0 = NULL;
    gk_status st = gk_gguf_open(path, flags, &g0, err);
    if (st) return st;
    int64_t count = 0, no = 0;
    int rc = split_key(g0, "split.count", GK_V_U16, &count);
    if (rc < 0) {
        gk_gguf_close(g0);
        return split_err(err, path, "%s: split.count is not a u16%s", "");
    }
    gk_model *m = calloc(1, sizeof *m);
    if (!m) { gk_gguf_close(g0); return gk_err_set(err, GK_E_NOMEM, "out of memory"); }
    uint32_t n_parts = rc > 0 && count > 1 ? (uint32_t)count : 1;
    m->parts = calloc(n_parts, sizeof *m->parts);
    m->paths = calloc(n_parts, sizeof *m->paths);
    if (!m->parts || !m->paths) { gk_gguf_close(g0); gk_model_close(m); return gk_err_set(err, GK_E_NOMEM, "out of memory"); }
    m->n_parts = n_parts;
    if (n_parts == 1) {
        m->parts[0] = g0;
        m->paths[0] = strdup(path);
        if (!m->paths[0]) { gk_model_close(m); return gk_err_set(err, GK_E_NOMEM, "out of memory"); }
    } else {
        if (split_key(g0, "split.no", GK_V_U16, &no) <= 0) {
            gk_gguf_close(g0);
            gk_model_close(m);
            return split_err(err, path, "%s: split.count > 1 but split.no is missing or not u16%s", "");
        }
        size_t plen;
        uint32_t nno, ncount;
        if (!parse_split_name(path, &plen, &nno, &ncount) || ncount != n_parts ||
            nno != (uint64_t)no + 1) {
            gk_gguf_close(g0);
            gk_model_close(m);
            return gk_err_set(err, GK_E_SPLIT, "%s: split.no %" PRId64 " of split.count %" PRIu32
                              ", but the name does not end in -%05" PRId64 "-of-%05" PRIu32
                              ".gguf, so the other parts cannot be found", path, no, n_parts,
                              no + 1, n_parts);
        }
        char *prefix = strndup(path, plen);
        if (!prefix) { gk_gguf_close(g0); gk_model_close(m); return gk_err_set(err, GK_E_NOMEM, "out of memory"); }
        for (uint32_t k = 0; k < n_parts && !st; k++) {
            size_t need = gk_split_path(NULL, 0, prefix, k, n_parts) + 1;
            m->paths[k] = malloc(need);
            if (!m->paths[k]) { st = gk_err_set(err, GK_E_NOMEM, "out of memory"); break; }
            gk_split_path(m->paths[k], need, prefix, k, n_parts);
            if (k == (uint32_t)no) {
                m->parts[k] = g0;
                g0 = NULL;
            } else {
                struct stat sb;
                if (stat(m->paths[k], &sb) != 0) {
                    st = gk_err_set(err, GK_E_SPLIT, "split part %" PRIu32 " of %" PRIu32 " (%s) "
                                    "is missing: %s", k + 1, n_parts, m->paths[k], strerror(errno));
                    break;
                }
                st = gk_gguf_open(m->paths[k], flags, &m->parts[k], err);
                if (st) break;
            }
            st = check_part(m->parts[k], m->paths[k], k, n_parts, err);
        }
        free(prefix);
        gk_gguf_close(g0);
        if (st) { gk_model_close(m); return st; }
    }
    uint64_t total = 0;
    for (uint32_t k = 0; k < n_parts; k++) total += m->parts[k]->n_tensors;
    if (n_parts > 1) {
        int64_t tc = -1;
        int r = split_key(m->parts[0], "split.tensors.count", GK_V_I32, &tc);
        if (r <= 0 || tc != (int64_t)total) {
            gk_model_close(m);
            return gk_err_set(err, GK_E_SPLIT, "split set %s: split.tensors.count %s%" PRId64
                              ", but the %" PRIu32 " parts hold %" PRIu64 " tensors",
                              path, r < 0 ? "(not i32) " : r == 0 ? "(missing) " : "", tc, n_parts,
                              total);
        }
    }
    m->tensors = calloc(total ? (size_t)total : 1, sizeof *m->tensors);
    if (!m->tensors) { gk_model_close(m); return gk_err_set(err, GK_E_NOMEM, "out of memory"); }
    gk_name_index ix = {0};
    for (uint32_t k = 0; k < n_parts && !st; k++) {
        const gk_gguf *g = m->parts[k];
        for (uint64_t i = 0; i < g->n_tensors; i++) {
            uint64_t j = m->n_tensors;
            m->tensors[j].t = &g->tensors[i];
            m->tensors[j].file = k;
            uint64_t dup = 0;
            int r = gk_name_index_add(&ix, g->tensors[i].name, j, mt_name, m, &dup);
            if (r < 0) { st = gk_err_set(err, GK_E_NOMEM, "out of memory"); break; }
            if (r == 0) {
                char nm[112];
                st = gk_err_set(err, GK_E_SPLIT, "tensor '%s' appears in %s and again in %s",
                                gk_name_fmt(nm, sizeof nm, g->tensors[i].name.ptr,
                                            g->tensors[i].name.len),
                                m->paths[m->tensors[dup].file], m->paths[k]);
                break;
            }
            m->n_tensors++;
        }
    }
    gk_name_index_free(&ix);
    if (st) { gk_model_close(m); return st; }
    *out = m;
    return GK_OK;
}
