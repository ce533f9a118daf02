/* `ggufkit inspect`: summary, type table, precision layout, metadata and tensor listings. */
#include "report.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* ---- summary --------------------------------------------------------------------------------- */

static uint64_t n_elements(const gk_tensor *t) {
    uint64_t n = 1;
    for (uint32_t d = 0; d < GK_MAX_DIMS; d++) n *= t->ne[d];   /* reader checked overflow */
    return n;
}

/* Canonical column order for the roles people compare (Q4_K_M vs Q4_K_S); others follow in
 * order of first appearance. */
static const char *const canonical_roles[] = {
    "attn_norm", "attn_q", "attn_k", "attn_v", "attn_qkv", "attn_output", "attn_q_norm",
    "attn_k_norm", "ffn_norm", "ffn_gate", "ffn_up", "ffn_down", "ffn_gate_inp",
    "ffn_gate_exps", "ffn_up_exps", "ffn_down_exps",
};
#define N_CANONICAL (sizeof canonical_roles / sizeof canonical_roles[0])

/* "blk.12.attn_q.weight" -> layer 12, role "attn_q" (role points into name, role_len set).
 * Returns 0 if the name is not a layer tensor. */
static int parse_layer_name(const gk_str *name, uint32_t *layer, const char **role,
                            size_t *role_len) {
    const char *s = name->ptr;
    size_t n = (size_t)name->len;
    if (n < 6 || memcmp(s, "blk.", 4) != 0) return 0;
    size_t i = 4;
    uint64_t v = 0;
    if (i >= n || s[i] < '0' || s[i] > '9') return 0;
    while (i < n && s[i] >= '0' && s[i] <= '9') {
        v = v * 10 + (uint64_t)(s[i] - '0');
        if (v > 1000000) return 0;
        i++;
    }
    if (i >= n || s[i] != '.' || i + 1 >= n) return 0;
    i++;
    size_t len = n - i;
    if (len > 7 && memcmp(s + n - 7, ".weight", 7) == 0) len -= 7;
    *layer = (uint32_t)v;
    *role = s + i;
    *role_len = len;
    return 1;
}

static int find_role(const gk_layout *L, const char *role, size_t len) {
    for (uint32_t r = 0; r < L->n_roles; r++)
        if (strlen(L->roles[r]) == len && memcmp(L->roles[r], role, len) == 0) return (int)r;
    return -1;
}

static int add_role(gk_layout *L, const char *role, size_t len, uint32_t *cap) {
    if (L->n_roles == *cap) {
        uint32_t nc = *cap ? *cap * 2 : 16;
        char **nr = realloc(L->roles, nc * sizeof *nr);
        if (!nr) return -1;
        L->roles = nr;
        *cap = nc;
    }
    char *copy = malloc(len + 1);
    if (!copy) return -1;
    memcpy(copy, role, len);
    copy[len] = '\0';
    L->roles[L->n_roles] = copy;
    return (int)L->n_roles++;
}

static int cmp_stat(const void *a, const void *b) {
    const gk_type_stat *x = a, *y = b;
    if (x->bytes != y->bytes) return x->bytes < y->bytes ? 1 : -1;
    return x->type < y->type ? -1 : x->type > y->type;
}

static gk_status build_layout(const gk_model *m, gk_layout *L, gk_err *err) {
    memset(L, 0, sizeof *L);
    uint32_t cap = 0, max_layer = 0;
    int any_layer = 0;
    /* columns: canonical roles present first, then the rest in order of appearance */
    for (size_t c = 0; c <= N_CANONICAL; c++) {
        for (uint64_t i = 0; i < m->n_tensors; i++) {
            uint32_t layer;
            const char *role;
            size_t len;
            if (!parse_layer_name(&m->tensors[i].t->name, &layer, &role, &len)) continue;
            if (c < N_CANONICAL) {
                if (strlen(canonical_roles[c]) != len || memcmp(canonical_roles[c], role, len))
                    continue;
            } else {
                int canonical = 0;
                for (size_t k = 0; k < N_CANONICAL; k++)
                    if (strlen(canonical_roles[k]) == len && !memcmp(canonical_roles[k], role, len))
                        canonical = 1;
                if (canonical) continue;
            }
            if (find_role(L, role, len) < 0 && add_role(L, role, len, &cap) < 0)
                return gk_err_set(err, GK_E_NOMEM, "inspect: out of memory");
            if (c < N_CANONICAL) break;   /* one match is enough to place this column */
        }
    }
    for (uint64_t i = 0; i < m->n_tensors; i++) {
        uint32_t layer;
        const char *role;
        size_t len;
        if (!parse_layer_name(&m->tensors[i].t->name, &layer, &role, &len)) continue;
        any_layer = 1;
        if (layer > max_layer) max_layer = layer;
    }
    L->n_layers = any_layer ? max_layer + 1 : 0;
    if (L->n_layers && L->n_roles) {
        L->cell = malloc((size_t)L->n_layers * L->n_roles * sizeof *L->cell);
        if (!L->cell) return gk_err_set(err, GK_E_NOMEM, "inspect: out of memory");
        for (size_t k = 0; k < (size_t)L->n_layers * L->n_roles; k++) L->cell[k] = -1;
    }
    L->other = malloc((m->n_tensors ? m->n_tensors : 1) * sizeof *L->other);
    if (!L->other) return gk_err_set(err, GK_E_NOMEM, "inspect: out of memory");
    for (uint64_t i = 0; i < m->n_tensors; i++) {
        const gk_tensor *t = m->tensors[i].t;
        uint32_t layer;
        const char *role;
        size_t len;
        if (parse_layer_name(&t->name, &layer, &role, &len)) {
            int r = find_role(L, role, len);
            if (r >= 0 && L->cell && layer < L->n_layers) {
                L->cell[(size_t)layer * L->n_roles + (size_t)r] = (int32_t)t->type;
                continue;
            }
        }
        L->other[L->n_other++] = i;
    }
    return GK_OK;
}

gk_status gk_summary_build(const gk_model *m, gk_summary *s, gk_err *err) {
    memset(s, 0, sizeof *s);
    for (uint32_t p = 0; p < m->n_parts; p++) s->file_size += m->parts[p]->file_size;
    gk_type_stat by_type[GK_TYPE_COUNT];
    memset(by_type, 0, sizeof by_type);
    for (uint64_t i = 0; i < m->n_tensors; i++) {
        const gk_tensor *t = m->tensors[i].t;
        uint64_t n = n_elements(t);
        s->params += n;
        s->tensor_bytes += t->nbytes;
        gk_type_stat *st = &by_type[t->type];
        st->type = t->type;
        st->tensors++;
        st->params += n;
        st->bytes += t->nbytes;
    }
    for (uint32_t t = 0; t < GK_TYPE_COUNT; t++)
        if (by_type[t].tensors) s->types[s->n_types++] = by_type[t];
    qsort(s->types, s->n_types, sizeof s->types[0], cmp_stat);
    gk_status st = build_layout(m, &s->layout, err);
    if (st != GK_OK) gk_summary_free(s);
    return st;
}

void gk_summary_free(gk_summary *s) {
    if (!s) return;
    for (uint32_t r = 0; r < s->layout.n_roles; r++) free(s->layout.roles[r]);
    free(s->layout.roles);
    free(s->layout.cell);
    free(s->layout.other);
    memset(&s->layout, 0, sizeof s->layout);
}

/* ---- helpers --------------------------------------------------------------------------------- */

static const char *type_name(uint32_t t) {
    const gk_type_info *ti = gk_type_info_get(t);
    return ti ? ti->name : "?";
}

static const gk_value *model_kv(const gk_model *m, const char *key) {
    int64_t i = gk_gguf_find_kv(m->parts[0], key);
    return i < 0 ? NULL : &m->parts[0]->kv[i].val;
}

static void human_bytes(char *buf, size_t cap, uint64_t b) {
    const char *u[] = {"B", "kB", "MB", "GB", "TB", "PB"};
    double v = (double)b;
    int k = 0;
    while (v >= 1000.0 && k < 5) { v /= 1000.0; k++; }
    if (k == 0) snprintf(buf, cap, "%" PRIu64 " B", b);
    else snprintf(buf, cap, "%.2f %s", v, u[k]);
}

static void human_count(char *buf, size_t cap, uint64_t n) {
    const char *u[] = {"", "K", "M", "B", "T"};
    double v = (double)n;
    int k = 0;
    while (v >= 1000.0 && k < 4) { v /= 1000.0; k++; }
    if (k == 0) snprintf(buf, cap, "%" PRIu64, n);
    else snprintf(buf, cap, "%.2f%s", v, u[k]);
}

static void print_shape(FILE *f, const gk_tensor *t) {
    fputc('[', f);
    for (uint32_t d = 0; d < t->n_dims; d++) fprintf(f, "%s%" PRIu64, d ? ", " : "", t->ne[d]);
    fputc(']', f);
}

/* Printable form of a string value for text output: control bytes escaped. */
static void print_text(FILE *f, const char *s, uint64_t n, uint64_t max) {
    fputc('"', f);
    uint64_t lim = n < max ? n : max;
    for (uint64_t i = 0; i < lim; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\n') fputs("\\n", f);
        else if (c == '\t') fputs("\\t", f);
        else if (c == '"' || c == '\\') { fputc('\\', f); fputc(c, f); }
        else if (c < 0x20 || c == 0x7f) fprintf(f, "\\x%02x", c);
        else fputc(c, f);
    }
    fputc('"', f);
    if (lim < n) fprintf(f, "... (%" PRIu64 " bytes)", n);
}

static void print_scalar_text(FILE *f, uint32_t type, const void *p) {
    switch (type) {
    case GK_V_U8: fprintf(f, "%u", *(const uint8_t *)p); break;
    case GK_V_I8: fprintf(f, "%d", *(const int8_t *)p); break;
    case GK_V_U16: { uint16_t v; memcpy(&v, p, 2); fprintf(f, "%u", v); break; }
    case GK_V_I16: { int16_t v; memcpy(&v, p, 2); fprintf(f, "%d", v); break; }
    case GK_V_U32: { uint32_t v; memcpy(&v, p, 4); fprintf(f, "%" PRIu32, v); break; }
    case GK_V_I32: { int32_t v; memcpy(&v, p, 4); fprintf(f, "%" PRId32, v); break; }
    case GK_V_F32: { float v; memcpy(&v, p, 4); fprintf(f, "%.9g", (double)v); break; }
    case GK_V_BOOL: fprintf(f, "%s", *(const uint8_t *)p ? "true" : "false"); break;
    case GK_V_U64: { uint64_t v; memcpy(&v, p, 8); fprintf(f, "%" PRIu64, v); break; }
    case GK_V_I64: { int64_t v; memcpy(&v, p, 8); fprintf(f, "%" PRId64, v); break; }
    case GK_V_F64: { double v; memcpy(&v, p, 8); fprintf(f, "%.17g", v); break; }
    default: fputs("?", f);
    }
}

static void print_value_text(FILE *f, const gk_value *v, int full) {
    const uint64_t max_elems = full ? UINT64_MAX : 8, max_str = full ? UINT64_MAX : 200;
    if (v->type == GK_V_STR) {
        print_text(f, v->str.ptr, v->str.len, max_str);
    } else if (v->type == GK_V_ARR) {
        uint64_t n = v->arr.n, lim = n < max_elems ? n : max_elems;
        fputc('[', f);
        for (uint64_t i = 0; i < lim; i++) {
            if (i) fputs(", ", f);
            if (v->arr.type == GK_V_STR) {
                const gk_str *s = (const gk_str *)v->arr.data + i;
                print_text(f, s->ptr, s->len, max_str);
            } else if (v->arr.type == GK_V_ARR) {
                print_value_text(f, (const gk_value *)v->arr.data + i, full);
            } else {
                print_scalar_text(f, v->arr.type, (const uint8_t *)v->arr.data +
                                                      i * gk_vtype_size(v->arr.type));
            }
        }
        if (lim < n) fprintf(f, ", ... (%" PRIu64 " total)", n);
        fputc(']', f);
    } else {
        print_scalar_text(f, v->type, &v->v);
    }
}

/* ---- JSON ------------------------------------------------------------------------------------ */

static void json_scalar(gk_json *j, uint32_t type, const void *p) {
    switch (type) {
    case GK_V_U8: gk_json_u64(j, *(const uint8_t *)p); break;
    case GK_V_I8: gk_json_i64(j, *(const int8_t *)p); break;
    case GK_V_U16: { uint16_t v; memcpy(&v, p, 2); gk_json_u64(j, v); break; }
    case GK_V_I16: { int16_t v; memcpy(&v, p, 2); gk_json_i64(j, v); break; }
    case GK_V_U32: { uint32_t v; memcpy(&v, p, 4); gk_json_u64(j, v); break; }
    case GK_V_I32: { int32_t v; memcpy(&v, p, 4); gk_json_i64(j, v); break; }
    case GK_V_F32: { float v; memcpy(&v, p, 4); gk_json_f32(j, v); break; }
    case GK_V_BOOL: gk_json_bool(j, *(const uint8_t *)p != 0); break;
    case GK_V_U64: { uint64_t v; memcpy(&v, p, 8); gk_json_u64(j, v); break; }
    case GK_V_I64: { int64_t v; memcpy(&v, p, 8); gk_json_i64(j, v); break; }
    case GK_V_F64: { double v; memcpy(&v, p, 8); gk_json_f64(j, v); break; }
    default: gk_json_null(j);
    }
}

void gk_report_json_value(gk_json *j, const gk_value *v) {
    gk_json_obj(j);
    gk_json_key(j, "type");
    gk_json_str(j, gk_vtype_name(v->type));
    if (v->type == GK_V_ARR) {
        gk_json_key(j, "element_type");
        gk_json_str(j, gk_vtype_name(v->arr.type));
    }
    gk_json_key(j, "value");
    if (v->type == GK_V_STR) {
        gk_json_strn(j, v->str.ptr, (size_t)v->str.len);
    } else if (v->type == GK_V_ARR) {
        gk_json_arr(j);
        for (uint64_t i = 0; i < v->arr.n; i++) {
            if (v->arr.type == GK_V_STR) {
                const gk_str *s = (const gk_str *)v->arr.data + i;
                gk_json_strn(j, s->ptr, (size_t)s->len);
            } else if (v->arr.type == GK_V_ARR) {
                gk_report_json_value(j, (const gk_value *)v->arr.data + i);
            } else {
                json_scalar(j, v->arr.type,
                            (const uint8_t *)v->arr.data + i * gk_vtype_size(v->arr.type));
            }
        }
        gk_json_arr_end(j);
    } else {
        json_scalar(j, v->type, &v->v);
    }
    gk_json_obj_end(j);
}

static void json_str_or_null(gk_json *j, const gk_value *v) {
    if (v && v->type == GK_V_STR) gk_json_strn(j, v->str.ptr, (size_t)v->str.len);
    else gk_json_null(j);
}

static void report_json(FILE *out, const gk_model *m, const char *path, const gk_summary *s) {
    const gk_gguf *g = m->parts[0];
    gk_json j;
    gk_json_init(&j, out, 1);
    gk_json_obj(&j);
    gk_json_key(&j, "file"); gk_json_str(&j, path);
    gk_json_key(&j, "parts");
    gk_json_arr(&j);
    for (uint32_t p = 0; p < m->n_parts; p++) gk_json_str(&j, m->paths[p]);
    gk_json_arr_end(&j);
    gk_json_key(&j, "file_size"); gk_json_u64(&j, s->file_size);
    gk_json_key(&j, "version"); gk_json_u64(&j, g->version);
    gk_json_key(&j, "byte_order"); gk_json_str(&j, g->big_endian ? "big" : "little");
    gk_json_key(&j, "alignment"); gk_json_u64(&j, g->alignment);
    gk_json_key(&j, "data_offset"); gk_json_u64(&j, g->data_start);
    gk_json_key(&j, "architecture"); json_str_or_null(&j, model_kv(m, "general.architecture"));
    gk_json_key(&j, "name"); json_str_or_null(&j, model_kv(m, "general.name"));
    gk_json_key(&j, "file_type");
    {
        const gk_value *ft = model_kv(m, "general.file_type");
        int ok = 0;
        uint64_t v = ft ? gk_value_as_u64(ft, &ok) : 0;
        const gk_ftype_info *fi = ok && v <= UINT32_MAX ? gk_ftype_get((uint32_t)v) : NULL;
        if (!ok) gk_json_null(&j);
        else {
            gk_json_obj(&j);
            gk_json_key(&j, "id"); gk_json_u64(&j, v);
            gk_json_key(&j, "name"); gk_json_str(&j, fi ? fi->name : NULL);
            gk_json_obj_end(&j);
        }
    }
    gk_json_key(&j, "parameters"); gk_json_u64(&j, s->params);
    gk_json_key(&j, "tensor_bytes"); gk_json_u64(&j, s->tensor_bytes);
    gk_json_key(&j, "bits_per_weight");
    if (s->params) gk_json_f64(&j, 8.0 * (double)s->tensor_bytes / (double)s->params);
    else gk_json_null(&j);

    gk_json_key(&j, "metadata");
    gk_json_obj(&j);
    for (uint64_t i = 0; i < g->n_kv; i++) {
        /* keys may contain any bytes: print them as JSON strings */
        char small[256];
        const gk_str *k = &g->kv[i].key;
        if (k->len < sizeof small) {
            memcpy(small, k->ptr, (size_t)k->len);
            small[k->len] = '\0';
            gk_json_key(&j, small);
        } else {
            char *big = malloc((size_t)k->len + 1);
            if (!big) continue;
            memcpy(big, k->ptr, (size_t)k->len);
            big[k->len] = '\0';
            gk_json_key(&j, big);
            free(big);
        }
        gk_report_json_value(&j, &g->kv[i].val);
    }
    gk_json_obj_end(&j);

    gk_json_key(&j, "tensors");
    gk_json_arr(&j);
    for (uint64_t i = 0; i < m->n_tensors; i++) {
        const gk_tensor *t = m->tensors[i].t;
        gk_json_obj(&j);
        gk_json_key(&j, "name"); gk_json_strn(&j, t->name.ptr, (size_t)t->name.len);
        gk_json_key(&j, "type"); gk_json_str(&j, type_name(t->type));
        gk_json_key(&j, "type_id"); gk_json_u64(&j, t->type);
        gk_json_key(&j, "shape");
        gk_json_arr(&j);
        for (uint32_t d = 0; d < t->n_dims; d++) gk_json_u64(&j, t->ne[d]);
        gk_json_arr_end(&j);
        gk_json_key(&j, "offset"); gk_json_u64(&j, t->offset);
        gk_json_key(&j, "bytes"); gk_json_u64(&j, t->nbytes);
        if (m->n_parts > 1) { gk_json_key(&j, "part"); gk_json_u64(&j, m->tensors[i].file); }
        gk_json_obj_end(&j);
    }
    gk_json_arr_end(&j);

    gk_json_key(&j, "types");
    gk_json_arr(&j);
    for (uint32_t k = 0; k < s->n_types; k++) {
        const gk_type_stat *st = &s->types[k];
        gk_json_obj(&j);
        gk_json_key(&j, "type"); gk_json_str(&j, type_name(st->type));
        gk_json_key(&j, "tensors"); gk_json_u64(&j, st->tensors);
        gk_json_key(&j, "parameters"); gk_json_u64(&j, st->params);
        gk_json_key(&j, "bytes"); gk_json_u64(&j, st->bytes);
        gk_json_key(&j, "bits_per_weight"); gk_json_f64(&j, gk_type_bpw(st->type));
        gk_json_key(&j, "file_share");
        if (s->file_size) gk_json_f64(&j, (double)st->bytes / (double)s->file_size);
        else gk_json_null(&j);
        gk_json_obj_end(&j);
    }
    gk_json_arr_end(&j);

    const gk_layout *L = &s->layout;
    gk_json_key(&j, "layers");
    gk_json_arr(&j);
    for (uint32_t l = 0; l < L->n_layers; l++) {
        gk_json_obj(&j);
        gk_json_key(&j, "layer"); gk_json_u64(&j, l);
        gk_json_key(&j, "types");
        gk_json_obj(&j);
        for (uint32_t r = 0; r < L->n_roles; r++) {
            int32_t c = L->cell[(size_t)l * L->n_roles + r];
            if (c < 0) continue;
            gk_json_key(&j, L->roles[r]);
            gk_json_str(&j, type_name((uint32_t)c));
        }
        gk_json_obj_end(&j);
        gk_json_obj_end(&j);
    }
    gk_json_arr_end(&j);
    gk_json_key(&j, "non_layer_tensors");
    gk_json_obj(&j);
    for (uint64_t k = 0; k < L->n_other; k++) {
        const gk_tensor *t = m->tensors[L->other[k]].t;
        char small[512];
        size_t n = t->name.len < sizeof small - 1 ? (size_t)t->name.len : sizeof small - 1;
        memcpy(small, t->name.ptr, n);
        small[n] = '\0';
        gk_json_key(&j, small);
        gk_json_str(&j, type_name(t->type));
    }
    gk_json_obj_end(&j);
    gk_json_obj_end(&j);
}

/* ---- text ------------------------------------------------------------------------------------ */

static int same_row(const gk_layout *L, uint32_t a, uint32_t b) {
    return memcmp(&L->cell[(size_t)a * L->n_roles], &L->cell[(size_t)b * L->n_roles],
                  L->n_roles * sizeof *L->cell) == 0;
}

static void report_layout(FILE *f, const gk_model *m, const gk_layout *L) {
    if (L->n_layers && L->n_roles) {
        fprintf(f, "\nprecision layout (rows: layers blk.N; identical consecutive layers merged)\n");
        int *w = malloc(L->n_roles * sizeof *w);
        if (!w) return;
        for (uint32_t r = 0; r < L->n_roles; r++) {
            w[r] = (int)strlen(L->roles[r]);
            if (w[r] < 7) w[r] = 7;
        }
        fprintf(f, "  %-9s", "layers");
        for (uint32_t r = 0; r < L->n_roles; r++) fprintf(f, " %-*s", w[r], L->roles[r]);
        fputc('\n', f);
        for (uint32_t l = 0; l < L->n_layers;) {
            uint32_t e = l;
            while (e + 1 < L->n_layers && same_row(L, l, e + 1)) e++;
            char lab[32];
            if (e == l) snprintf(lab, sizeof lab, "%u", l);
            else snprintf(lab, sizeof lab, "%u-%u", l, e);
            fprintf(f, "  %-9s", lab);
            for (uint32_t r = 0; r < L->n_roles; r++) {
                int32_t c = L->cell[(size_t)l * L->n_roles + r];
                fprintf(f, " %-*s", w[r], c < 0 ? "-" : type_name((uint32_t)c));
            }
            fputc('\n', f);
            l = e + 1;
        }
        free(w);
    }
    if (L->n_other) {
        fprintf(f, "\nother tensors\n");
        for (uint64_t k = 0; k < L->n_other; k++) {
            const gk_tensor *t = m->tensors[L->other[k]].t;
            fprintf(f, "  %-32.*s %-8s ", (int)(t->name.len > 200 ? 200 : t->name.len), t->name.ptr,
                    type_name(t->type));
            print_shape(f, t);
            fputc('\n', f);
        }
    }
}

static void report_text(FILE *f, const gk_model *m, const char *path, const gk_summary *s,
                        const gk_report_opts *o) {
    const gk_gguf *g = m->parts[0];
    char b1[64], b2[64];
    human_bytes(b1, sizeof b1, s->file_size);
    fprintf(f, "file          %s (%s, %" PRIu64 " bytes", path, b1, s->file_size);
    if (m->n_parts > 1) fprintf(f, ", %u parts", m->n_parts);
    fprintf(f, ")\n");
    fprintf(f, "gguf          version %u, %s-endian, alignment %u, data at offset %" PRIu64 "\n",
            g->version, g->big_endian ? "big" : "little", g->alignment, g->data_start);
    fprintf(f, "contents      %" PRIu64 " metadata keys, %" PRIu64 " tensors\n", g->n_kv,
            m->n_tensors);
    const gk_value *arch = model_kv(m, "general.architecture");
    const gk_value *name = model_kv(m, "general.name");
    fprintf(f, "architecture  %.*s\n", arch && arch->type == GK_V_STR ? (int)arch->str.len : 1,
            arch && arch->type == GK_V_STR ? arch->str.ptr : "-");
    if (name && name->type == GK_V_STR) fprintf(f, "name          %.*s\n", (int)name->str.len, name->str.ptr);
    const gk_value *ft = model_kv(m, "general.file_type");
    if (ft) {
        int ok = 0;
        uint64_t v = gk_value_as_u64(ft, &ok);
        const gk_ftype_info *fi = ok && v <= UINT32_MAX ? gk_ftype_get((uint32_t)v) : NULL;
        if (ok) fprintf(f, "file type     %" PRIu64 " (%s)\n", v, fi ? fi->name : "unknown");
    }
    human_count(b1, sizeof b1, s->params);
    human_bytes(b2, sizeof b2, s->tensor_bytes);
    fprintf(f, "parameters    %s (%" PRIu64 "), tensor data %s", b1, s->params, b2);
    if (s->params) fprintf(f, ", %.4f bits per weight", 8.0 * (double)s->tensor_bytes / (double)s->params);
    fputc('\n', f);

    if (s->n_types) {
        fprintf(f, "\n  %-8s %8s %16s %16s %7s %8s\n", "type", "tensors", "parameters", "bytes",
                "bpw", "of file");
        for (uint32_t k = 0; k < s->n_types; k++) {
            const gk_type_stat *st = &s->types[k];
            fprintf(f, "  %-8s %8" PRIu64 " %16" PRIu64 " %16" PRIu64 " %7.4g %7.2f%%\n",
                    type_name(st->type), st->tensors, st->params, st->bytes, gk_type_bpw(st->type),
                    s->file_size ? 100.0 * (double)st->bytes / (double)s->file_size : 0.0);
        }
    }
    report_layout(f, m, &s->layout);

    if (o->kv) {
        fprintf(f, "\nmetadata\n");
        for (uint32_t p = 0; p < m->n_parts; p++) {
            const gk_gguf *gp = m->parts[p];
            if (m->n_parts > 1) fprintf(f, " part %u: %s\n", p + 1, m->paths[p]);
            for (uint64_t i = 0; i < gp->n_kv; i++) {
                const gk_kv *kv = &gp->kv[i];
                const gk_value *v = &kv->val;
                char tn[32];
                if (v->type == GK_V_ARR)
                    snprintf(tn, sizeof tn, "arr[%s]", gk_vtype_name(v->arr.type));
                else
                    snprintf(tn, sizeof tn, "%s", gk_vtype_name(v->type));
                fprintf(f, "  %-44.*s %-9s ", (int)(kv->key.len > 200 ? 200 : kv->key.len),
                        kv->key.ptr, tn);
                if (v->type == GK_V_ARR) fprintf(f, "(%" PRIu64 ") ", v->arr.n);
                print_value_text(f, v, o->full);
                fputc('\n', f);
            }
        }
    }
    if (o->tensors) {
        fprintf(f, "\ntensors\n  %-40s %-8s %-24s %14s %14s %8s\n", "name", "type", "shape",
                "offset", "bytes", "bpw");
        for (uint64_t i = 0; i < m->n_tensors; i++) {
            const gk_tensor *t = m->tensors[i].t;
            char shape[128];
            int n = snprintf(shape, sizeof shape, "[");
            for (uint32_t d = 0; d < t->n_dims && n < (int)sizeof shape; d++)
                n += snprintf(shape + n, sizeof shape - (size_t)n, "%s%" PRIu64, d ? ", " : "", t->ne[d]);
            if (n < (int)sizeof shape) snprintf(shape + n, sizeof shape - (size_t)n, "]");
            fprintf(f, "  %-40.*s %-8s %-24s %14" PRIu64 " %14" PRIu64 " %8.4g\n",
                    (int)(t->name.len > 200 ? 200 : t->name.len), t->name.ptr, type_name(t->type),
                    shape, t->offset, t->nbytes, gk_type_bpw(t->type));
        }
    }
}

gk_status gk_report_print(FILE *out, const gk_model *m, const char *path,
                          const gk_report_opts *opts, gk_err *err) {
    gk_report_opts none = {0};
    if (!opts) opts = &none;
    if (!m || !m->n_parts) return gk_err_set(err, GK_E_INVALID_ARG, "inspect: no model");
    gk_summary s;
    gk_status st = gk_summary_build(m, &s, err);
    if (st != GK_OK) return st;
    if (opts->json) report_json(out, m, path, &s);
    else report_text(out, m, path, &s, opts);
    gk_summary_free(&s);
    if (fflush(out) != 0 || ferror(out))
        return gk_err_set(err, GK_E_IO, "inspect: cannot write the report");
    return GK_OK;
}
