/* Manifests: writing ggufkit's grammar, parsing it and llama-gguf-hash's output, and checking a
 * hash result against one by tensor name (spec/hash.md). */
#include "gk_inspect.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------------------------ */
/* Name escaping: the subject field runs to the end of the line, so names may hold spaces; bytes
 * that would break the line grammar are escaped. */

static void put_escaped(FILE *f, const char *s, size_t n) {
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\\') fputs("\\\\", f);
        else if (c == '\n') fputs("\\n", f);
        else if (c == '\r') fputs("\\r", f);
        else if (c == '\t') fputs("\\t", f);
        else if (c < 0x20 || c == 0x7f || (c == ' ' && (i == 0 || i + 1 == n)))
            fprintf(f, "\\x%02x", c);
        else if (c == '@' && i == 0) fputs("\\@", f);
        else fputc(c, f);
    }
}

static int hexval(int c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Unescapes [s, s+n) into a malloc'd string; NULL on a bad escape (errno EINVAL) or memory. */
static char *unescape(const char *s, size_t n, size_t *out_len) {
    char *o = malloc(n + 1);
    if (!o) return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '\\') { o[k++] = s[i]; continue; }
        if (++i >= n) goto bad;
        switch (s[i]) {
        case '\\': o[k++] = '\\'; break;
        case 'n': o[k++] = '\n'; break;
        case 'r': o[k++] = '\r'; break;
        case 't': o[k++] = '\t'; break;
        case '@': o[k++] = '@'; break;
        case 'x': {
            if (i + 2 >= n) goto bad;
            int a = hexval((unsigned char)s[i + 1]), b = hexval((unsigned char)s[i + 2]);
            if (a < 0 || b < 0 || (a == 0 && b == 0)) goto bad;
            o[k++] = (char)(a * 16 + b);
            i += 2;
        } break;
        default: goto bad;
        }
    }
    o[k] = 0;
    *out_len = k;
    return o;
bad:
    free(o);
    errno = EINVAL;
    return NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* Writing                                                                                     */

gk_status gk_manifest_write(FILE *f, const gk_hash_result *r, gk_err *err) {
    char hex[2 * GK_HASH_MAX + 1];
    fprintf(f, "%s\n", GK_MANIFEST_HEADER);
    for (uint64_t i = 0; i < r->n_tensors; i++)
        for (int a = 0; a < GK_H_COUNT; a++)
            if (r->tensor_algos & (1u << a)) {
                fprintf(f, "%-8s  %s  ", gk_halgo_name((gk_halgo)a),
                        gk_digest_hex(&r->tensors[i].d[a], (gk_halgo)a, hex));
                put_escaped(f, r->tensors[i].name, r->tensors[i].name_len);
                fputc('\n', f);
            }
    for (int a = 0; a < GK_H_COUNT; a++)
        if (r->model_algos & (1u << a))
            fprintf(f, "%-8s  %s  @model\n", gk_halgo_name((gk_halgo)a),
                    gk_digest_hex(&r->model[a], (gk_halgo)a, hex));
    for (uint32_t p = 0; p < r->n_parts; p++)
        for (int a = 0; a < GK_H_COUNT; a++)
            if (r->file_algos & (1u << a)) {
                fprintf(f, "%-8s  %s  @file ", gk_halgo_name((gk_halgo)a),
                        gk_digest_hex(&r->parts[p].d[a], (gk_halgo)a, hex));
                put_escaped(f, r->parts[p].base, strlen(r->parts[p].base));
                fputc('\n', f);
            }
    if (fflush(f) != 0 || ferror(f)) return gk_err_set(err, GK_E_IO, "write error: %s", strerror(errno));
    return GK_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* Parsing                                                                                     */

void gk_manifest_free(gk_manifest *m) {
    if (!m) return;
    for (size_t i = 0; i < m->n; i++) free(m->e[i].name);
    free(m->e);
    free(m->llama_file);
    memset(m, 0, sizeof *m);
}

static gk_mentry *push(gk_manifest *m) {
    if (m->n == m->cap) {
        size_t nc = m->cap ? 2 * m->cap : 64;
        gk_mentry *ne = realloc(m->e, nc * sizeof *ne);
        if (!ne) return NULL;
        m->e = ne;
        m->cap = nc;
    }
    gk_mentry *e = &m->e[m->n++];
    memset(e, 0, sizeof *e);
    return e;
}

static int parse_hex(const char *s, size_t n, gk_digest *d) {
    memset(d, 0, sizeof *d);
    if (n % 2 || n / 2 > GK_HASH_MAX) return 0;
    for (size_t i = 0; i < n / 2; i++) {
        int a = hexval((unsigned char)s[2 * i]), b = hexval((unsigned char)s[2 * i + 1]);
        if (a < 0 || b < 0) return 0;
        d->b[i] = (uint8_t)(a * 16 + b);
    }
    return 1;
}

static int starts_with_colon(const char *x, size_t xn, const char *m, size_t mn) {
    return xn > mn && !memcmp(x, m, mn) && x[mn] == ':';
}

/* llama-gguf-hash names are "<file>:<tensor>" for tensors and "<file>" for the model. Model
 * names are those that prefix another name followed by ':', or the only name there is. */
static gk_status resolve_llama(gk_manifest *m, const char *for_file, gk_err *err) {
    size_t n = m->n;
    char *chosen = NULL;
    size_t chosen_len = 0;
    int n_models = 0;
    /* candidate model names */
    for (size_t i = 0; i < n; i++) {
        gk_mentry *e = &m->e[i];
        int is_model = 0;
        for (size_t j = 0; j < n && !is_model; j++)
            if (j != i && starts_with_colon(m->e[j].name, m->e[j].name_len, e->name, e->name_len))
                is_model = 1;
        e->scope = is_model ? GK_MS_MODEL : GK_MS_TENSOR;
    }
    int only_one_name = 1;
    for (size_t i = 1; i < n; i++)
        if (m->e[i].name_len != m->e[0].name_len || memcmp(m->e[i].name, m->e[0].name, m->e[0].name_len))
            only_one_name = 0;
    if (n && only_one_name)
        for (size_t i = 0; i < n; i++) m->e[i].scope = GK_MS_MODEL;
    /* distinct model names; pick one */
    for (size_t i = 0; i < n; i++) {
        gk_mentry *e = &m->e[i];
        if (e->scope != GK_MS_MODEL) continue;
        if (chosen && chosen_len == e->name_len && !memcmp(chosen, e->name, chosen_len)) continue;
        const char *b = strrchr(e->name, '/');
        b = b ? b + 1 : e->name;
        int match = for_file && !strcmp(b, for_file);
        if (!chosen || match) {
            if (chosen && match) n_models = 0; /* a name match wins over ambiguity */
            chosen = e->name;
            chosen_len = e->name_len;
        }
        n_models++;
        if (match) break;
    }
    if (n_models > 1)
        return gk_err_set(err, GK_E_INVALID_ARG,
                          "the llama-gguf-hash manifest covers several files and none is named '%s'",
                          for_file ? for_file : "");
    /* keep the chosen file's lines, strip "<file>:" from tensor names */
    if (chosen && !(chosen = strndup(chosen, chosen_len)))
        return gk_err_set(err, GK_E_NOMEM, "out of memory");
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        gk_mentry e = m->e[i];
        int keep = 0;
        if (!chosen) {
            keep = 1; /* tensor lines only: the file prefix is up to the first ':' */
            char *c = memchr(e.name, ':', e.name_len);
            if (c) {
                size_t off = (size_t)(c - e.name) + 1;
                memmove(e.name, e.name + off, e.name_len - off + 1);
                e.name_len -= off;
            }
        } else if (e.scope == GK_MS_MODEL) {
            keep = e.name_len == chosen_len && !memcmp(e.name, chosen, chosen_len);
            if (keep) {
                if (!m->llama_file) m->llama_file = strdup(e.name);
                free(e.name);
                e.name = NULL;
                e.name_len = 0;
            }
        } else if (starts_with_colon(e.name, e.name_len, chosen, chosen_len)) {
            keep = 1;
            memmove(e.name, e.name + chosen_len + 1, e.name_len - chosen_len);
            e.name_len -= chosen_len + 1;
        }
        if (keep) m->e[k++] = e;
        else free(e.name);
    }
    m->n = k;
    free(chosen);
    return GK_OK;
}

gk_status gk_manifest_parse(const char *text, size_t len, const char *for_file, gk_manifest *m,
                            gk_err *err) {
    memset(m, 0, sizeof *m);
    /* "# ggufkit-manifest N": versions 1 and 2 (spec/hash.md); a later one is refused */
    size_t hl = strlen(GK_MANIFEST_HEADER_PREFIX);
    int ours = 0;
    if (len > hl && !memcmp(text, GK_MANIFEST_HEADER_PREFIX, hl)) {
        size_t i = hl;
        unsigned long v = 0;
        while (i < len && text[i] >= '0' && text[i] <= '9' && v < 1000000) v = v * 10 + (unsigned long)(text[i++] - '0');
        if (i > hl && (i == len || text[i] == '\n' || text[i] == '\r')) {
            if (v < 1 || v > GK_MANIFEST_VERSION)
                return gk_err_set(err, GK_E_MISMATCH,
                                  "manifest line 1: ggufkit manifest version %lu (this ggufkit reads "
                                  "versions 1 to %d)", v, GK_MANIFEST_VERSION);
            ours = 1;
            m->version = (int)v;
        }
    }
    m->llama = !ours;
    uint32_t lineno = 0;
    size_t pos = 0;
    while (pos < len) {
        const char *line = text + pos;
        const char *nl = memchr(line, '\n', len - pos);
        size_t ll = nl ? (size_t)(nl - line) : len - pos;
        pos += ll + (nl ? 1 : 0);
        lineno++;
        if (ll && line[ll - 1] == '\r') ll--;
        if (!ll || line[0] == '#') continue;
        size_t i = 0;
        while (i < ll && line[i] != ' ' && line[i] != '\t') i++;
        int algo = gk_halgo_from_name(line, i);
        if (algo < 0) {
            /* llama-gguf-hash also prints uuid lines and, in check mode, a "manifest" header */
            if (!ours) continue;
            gk_manifest_free(m);
            return gk_err_set(err, GK_E_MISMATCH, "manifest line %u: unknown algorithm '%.*s'",
                              lineno, (int)(i < 32 ? i : 32), line);
        }
        while (i < ll && (line[i] == ' ' || line[i] == '\t')) i++;
        size_t h0 = i;
        while (i < ll && line[i] != ' ' && line[i] != '\t') i++;
        size_t hn = i - h0;
        while (i < ll && (line[i] == ' ' || line[i] == '\t')) i++;
        const char *subj = line + i;
        size_t sn = ll - i;
        gk_digest d;
        if (hn != 2 * gk_halgo_size((gk_halgo)algo) || !parse_hex(line + h0, hn, &d) || !sn) {
            gk_manifest_free(m);
            return gk_err_set(err, GK_E_MISMATCH,
                              "manifest line %u: expected '<algorithm>  <%zu hex digits>  <name>'",
                              lineno, 2 * gk_halgo_size((gk_halgo)algo));
        }
        gk_mentry *e = push(m);
        if (!e) {
            gk_manifest_free(m);
            return gk_err_set(err, GK_E_NOMEM, "out of memory");
        }
        e->algo = (gk_halgo)algo;
        e->d = d;
        e->line = lineno;
        if (ours && sn == 6 && !memcmp(subj, "@model", 6)) {
            e->scope = GK_MS_MODEL;
        } else {
            const char *nm = subj;
            size_t nn = sn;
            e->scope = GK_MS_TENSOR;
            if (ours && sn > 6 && !memcmp(subj, "@file ", 6)) {
                e->scope = GK_MS_FILE;
                nm += 6;
                nn -= 6;
            } else if (ours && subj[0] == '@') {
                gk_manifest_free(m);
                return gk_err_set(err, GK_E_MISMATCH,
                                  "manifest line %u: unknown subject '%.*s' (tensor names that "
                                  "start with '@' are written '\\@')", lineno,
                                  (int)(sn < 40 ? sn : 40), subj);
            }
            if (ours) {
                e->name = unescape(nm, nn, &e->name_len);
                if (!e->name && errno == EINVAL) {
                    gk_manifest_free(m);
                    return gk_err_set(err, GK_E_MISMATCH, "manifest line %u: bad escape in name",
                                      lineno);
                }
            } else {
                e->name = malloc(nn + 1);
                if (e->name) {
                    memcpy(e->name, nm, nn);
                    e->name[nn] = 0;
                    e->name_len = nn;
                }
            }
            if (!e->name) {
                gk_manifest_free(m);
                return gk_err_set(err, GK_E_NOMEM, "out of memory");
            }
        }
    }
    if (m->llama) {
        gk_status st = resolve_llama(m, for_file, err);
        if (st != GK_OK) {
            gk_manifest_free(m);
            return st;
        }
    }
    if (m->n == 0) {
        gk_manifest_free(m);
        return gk_err_set(err, GK_E_MISMATCH,
                          "manifest has no hash lines (xxh3-128, xxh64, sha1 or sha256)");
    }
    return GK_OK;
}

gk_status gk_manifest_load(const char *path, const char *for_file, gk_manifest *m, gk_err *err) {
    FILE *f = fopen(path, "rb");
    if (!f) return gk_err_set(err, GK_E_IO, "%s: %s", path, strerror(errno));
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    gk_status st = GK_OK;
    while (buf) {
        if (n == cap) {
            if (cap > ((size_t)1 << 30)) { st = gk_err_set(err, GK_E_INVALID_ARG, "%s: manifest larger than 1 GiB", path); break; }
            char *nb = realloc(buf, cap * 2);
            if (!nb) break;
            buf = nb;
            cap *= 2;
        }
        size_t k = fread(buf + n, 1, cap - n, f);
        n += k;
        if (k == 0) break;
    }
    if (!buf) st = gk_err_set(err, GK_E_NOMEM, "out of memory");
    else if (st == GK_OK && ferror(f)) st = gk_err_set(err, GK_E_IO, "%s: read error", path);
    fclose(f);
    if (st == GK_OK) {
        st = gk_manifest_parse(buf, n, for_file, m, err);
        if (st != GK_OK && err) {
            char tmp[sizeof err->msg];
            memcpy(tmp, err->msg, sizeof tmp);
            tmp[sizeof tmp - 1] = 0;
            gk_err_set(err, st, "%.200s: %.300s", path, tmp);
        }
    }
    free(buf);
    return st;
}

void gk_manifest_algos(const gk_manifest *m, unsigned *tensor, unsigned *model, unsigned *file) {
    unsigned t = 0, mo = 0, f = 0;
    for (size_t i = 0; i < m->n; i++) {
        unsigned bit = 1u << m->e[i].algo;
        if (m->e[i].scope == GK_MS_TENSOR) t |= bit;
        else if (m->e[i].scope == GK_MS_MODEL) mo |= bit;
        else f |= bit;
    }
    if (tensor) *tensor = t;
    if (model) *model = mo;
    if (file) *file = f;
}

void gk_check_opts(const gk_manifest *m, gk_hash_opts *opts) {
    gk_manifest_algos(m, &opts->tensor_algos, &opts->model_algos, &opts->file_algos);
    /* a version-1 xxh3-128 @model line hashed the concatenated bytes: not checked, not computed */
    if (m->version == 1) opts->model_algos &= ~(1u << GK_H_XXH3_128);
}

/* ------------------------------------------------------------------------------------------ */
/* Checking                                                                                    */

const char *gk_ckind_name(gk_ckind k) {
    switch (k) {
    case GK_CK_MISMATCH: return "mismatch";
    case GK_CK_MISSING: return "missing";
    case GK_CK_EXTRA: return "extra";
    case GK_CK_ORDER: return "order";
    }
    return "?";
}

void gk_check_free(gk_check *c) {
    if (!c) return;
    for (size_t i = 0; i < c->n; i++) free(c->f[i].name);
    free(c->f);
    memset(c, 0, sizeof *c);
}

static gk_status add_find(gk_check *c, gk_ckind k, gk_mscope sc, gk_halgo a, const char *name,
                          const gk_digest *exp, const gk_digest *got, gk_err *err) {
    if (c->n == c->cap) {
        size_t nc = c->cap ? 2 * c->cap : 16;
        gk_cfinding *nf = realloc(c->f, nc * sizeof *nf);
        if (!nf) return gk_err_set(err, GK_E_NOMEM, "out of memory");
        c->f = nf;
        c->cap = nc;
    }
    gk_cfinding *f = &c->f[c->n];
    memset(f, 0, sizeof *f);
    f->kind = k;
    f->scope = sc;
    f->algo = a;
    if (name && !(f->name = strdup(name))) return gk_err_set(err, GK_E_NOMEM, "out of memory");
    if (exp) gk_digest_hex(exp, a, f->expected);
    if (got) gk_digest_hex(got, a, f->got);
    c->n++;
    return GK_OK;
}

typedef struct name_ref {
    const char *name;
    size_t len;
    uint64_t idx;
} name_ref;

static int ref_cmp(const void *a, const void *b) {
    const name_ref *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->name, y->name, n);
    if (c) return c;
    return x->len < y->len ? -1 : x->len > y->len;
}

gk_status gk_check_compare(gk_manifest *m, const gk_hash_result *r, gk_check *c, gk_err *err) {
    memset(c, 0, sizeof *c);
    gk_status st = GK_OK;
    uint64_t nt = r->n_tensors;
    name_ref *refs = malloc((nt ? nt : 1) * sizeof *refs);
    uint8_t *seen = calloc(nt ? nt : 1, 1);     /* bit 0: some line; bit 1: some mismatch */
    if (!refs || !seen) {
        free(refs);
        free(seen);
        return gk_err_set(err, GK_E_NOMEM, "out of memory");
    }
    for (uint64_t i = 0; i < nt; i++) {
        refs[i].name = r->tensors[i].name;
        refs[i].len = r->tensors[i].name_len;
        refs[i].idx = i;
    }
    qsort(refs, (size_t)nt, sizeof *refs, ref_cmp);
    int any_tensor_lines = 0, tensor_problem = 0;
    for (size_t i = 0; i < m->n && st == GK_OK; i++) {
        gk_mentry *e = &m->e[i];
        if (e->scope != GK_MS_TENSOR) continue;
        any_tensor_lines = 1;
        name_ref key = {e->name, e->name_len, 0};
        name_ref *hit = nt ? bsearch(&key, refs, (size_t)nt, sizeof *refs, ref_cmp) : NULL;
        if (!hit) {
            st = add_find(c, GK_CK_MISSING, GK_MS_TENSOR, e->algo, e->name, &e->d, NULL, err);
            tensor_problem = 1;
            continue;
        }
        const gk_hash_tensor *t = &r->tensors[hit->idx];
        if (!(r->tensor_algos & (1u << e->algo))) continue;
        c->n_checked++;
        seen[hit->idx] |= 1;
        e->used = 1;
        if (memcmp(t->d[e->algo].b, e->d.b, gk_halgo_size(e->algo))) {
            seen[hit->idx] |= 2;
            tensor_problem = 1;
            st = add_find(c, GK_CK_MISMATCH, GK_MS_TENSOR, e->algo, e->name, &e->d,
                          &t->d[e->algo], err);
        }
    }
    if (any_tensor_lines)
        for (uint64_t i = 0; i < nt && st == GK_OK; i++) {
            if (!(seen[i] & 1)) {
                tensor_problem = 1;
                st = add_find(c, GK_CK_EXTRA, GK_MS_TENSOR, GK_H_XXH3_128, r->tensors[i].name, NULL,
                              NULL, err);
            } else if (!(seen[i] & 2)) {
                c->n_tensors_ok++;
            }
        }
    for (size_t i = 0; i < m->n && st == GK_OK; i++) {
        gk_mentry *e = &m->e[i];
        if (e->scope != GK_MS_MODEL) continue;
        if (m->version == 1 && e->algo == GK_H_XXH3_128) {
            /* version 1 defined it over the concatenated bytes: reported, not checked */
            c->n_v1_model++;
            e->used = 1;
            continue;
        }
        if (!(r->model_algos & (1u << e->algo))) continue;
        c->n_checked++;
        e->used = 1;
        if (memcmp(r->model[e->algo].b, e->d.b, gk_halgo_size(e->algo)))
            st = add_find(c, (any_tensor_lines && !tensor_problem) ? GK_CK_ORDER : GK_CK_MISMATCH,
                          GK_MS_MODEL, e->algo, NULL, &e->d, &r->model[e->algo], err);
    }
    /* file lines: by base name; a lone file line also matches a lone (renamed) part */
    size_t n_file_lines = 0;
    for (size_t i = 0; i < m->n; i++)
        if (m->e[i].scope == GK_MS_FILE) n_file_lines++;
    for (int a = 0; a < GK_H_COUNT && st == GK_OK; a++) {
        if (!(r->file_algos & (1u << a))) continue;
        size_t lines_a = 0;
        gk_mentry *lone = NULL;
        for (size_t i = 0; i < m->n; i++)
            if (m->e[i].scope == GK_MS_FILE && m->e[i].algo == (gk_halgo)a) { lines_a++; lone = &m->e[i]; }
        for (uint32_t p = 0; p < r->n_parts && st == GK_OK; p++) {
            gk_mentry *hit = NULL;
            for (size_t i = 0; i < m->n && !hit; i++)
                if (m->e[i].scope == GK_MS_FILE && m->e[i].algo == (gk_halgo)a && !m->e[i].used &&
                    !strcmp(m->e[i].name, r->parts[p].base))
                    hit = &m->e[i];
            if (!hit && lines_a == 1 && r->n_parts == 1 && !lone->used) hit = lone;
            if (!hit) continue;
            hit->used = 1;
            c->n_checked++;
            if (memcmp(hit->d.b, r->parts[p].d[a].b, gk_halgo_size((gk_halgo)a)))
                st = add_find(c, GK_CK_MISMATCH, GK_MS_FILE, (gk_halgo)a, r->parts[p].base, &hit->d,
                              &r->parts[p].d[a], err);
        }
    }
    for (size_t i = 0; i < m->n && st == GK_OK; i++)
        if (m->e[i].scope == GK_MS_FILE && !m->e[i].used)
            st = add_find(c, GK_CK_MISSING, GK_MS_FILE, m->e[i].algo, m->e[i].name, &m->e[i].d, NULL,
                          err);
    (void)n_file_lines;
    free(refs);
    free(seen);
    if (st != GK_OK) gk_check_free(c);
    return st;
}
