/* --dry-run: the plan as text. Per tensor: name, input dtype -> output type, shape, bytes, bits
 * per weight, transform; then totals, the splits, every fallback and why, and the KVs. */
#include "gk_convert.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static const char *tname(uint32_t t) {
    const gk_type_info *ti = gk_type_info_get(t);
    return ti && ti->name ? ti->name : "?";
}

static void shape_str(const gk_cv_out_tensor *t, char *buf, size_t cap) {
    size_t u = 0;
    buf[0] = 0;
    for (uint32_t d = 0; d < t->n_dims && u < cap; d++) {
        int n = snprintf(buf + u, cap - u, "%s%" PRIu64, d ? " x " : "", t->ne[d]);
        if (n < 0) break;
        u += (size_t)n;
    }
}

static void print_value(const gk_value *v, FILE *f) {
    switch (v->type) {
    case GK_V_STR: {
        uint64_t n = v->str.len > 60 ? 60 : v->str.len;
        fprintf(f, "\"%.*s\"%s", (int)n, v->str.ptr, v->str.len > 60 ? "..." : "");
        break;
    }
    case GK_V_ARR:
        fprintf(f, "[%s x %" PRIu64 "]", gk_vtype_name(v->arr.type) ? gk_vtype_name(v->arr.type) : "?",
                v->arr.n);
        break;
    case GK_V_F32: fprintf(f, "%.9g", (double)v->v.f32); break;
    case GK_V_F64: fprintf(f, "%.17g", v->v.f64); break;
    case GK_V_BOOL: fprintf(f, "%s", v->v.b ? "true" : "false"); break;
    default: {
        int ok = 0;
        int64_t i = gk_value_as_i64(v, &ok);
        if (ok) fprintf(f, "%" PRId64, i);
        else fprintf(f, "%" PRIu64, gk_value_as_u64(v, &ok));
        break;
    }
    }
}

void gk_cv_plan_print(const gk_cv_plan *p, const gk_cv_source *src, FILE *f) {
    fprintf(f, "plan: %s -> GGUF arch '%s', outtype %s (general.file_type %u), %" PRIu64
               " tensors, %" PRIu64 " KVs\n",
            p->arch->hf_class, p->arch->gguf_arch, tname(p->outtype), p->ftype, p->n_t, p->n_kv);
    fprintf(f, "%-32s %-6s    %-6s %-14s %12s %7s  %s\n", "tensor", "input", "output", "shape", "bytes",
            "bpw", "notes");
    for (uint64_t i = 0; i < p->n_t; i++) {
        const gk_cv_out_tensor *t = &p->t[i];
        char sh[96];
        shape_str(t, sh, sizeof sh);
        const char *in = t->src >= 0 && src ? src->tensors[t->src].dtype : "gen";
        uint64_t nel = t->n_rows * t->ne[0];
        double bpw = nel ? 8.0 * (double)t->nbytes / (double)nel : 0;
        char notes[256] = "";
        if (t->xform == GK_XF_PERMUTE)
            snprintf(notes, sizeof notes, "rotary permute (%u heads)", t->perm_heads);
        else if (t->xform == GK_XF_GENERATED)
            snprintf(notes, sizeof notes, "generated");
        if (t->type != t->wanted) {
            size_t u = strlen(notes);
            snprintf(notes + u, sizeof notes - u, "%sFALLBACK %s -> %s: %s", u ? "; " : "",
                     tname(t->wanted), tname(t->type), t->why);
        }
        if (p->n_splits > 1) {
            size_t u = strlen(notes);
            snprintf(notes + u, sizeof notes - u, "%ssplit %u", u ? "; " : "", t->split + 1);
        }
        fprintf(f, "%-32s %-6s -> %-6s %-14s %12" PRIu64 " %7.3f  %s\n", t->name, in, tname(t->type),
                sh, t->nbytes, bpw, notes);
    }
    double bpw = p->n_params ? 8.0 * (double)p->total_bytes / (double)p->n_params : 0;
    fprintf(f, "total: %" PRIu64 " parameters, %" PRIu64 " bytes of tensor data (%.3f bpw), from %"
               PRIu64 " source bytes\n", p->n_params, p->total_bytes, bpw, p->src_bytes);
    if (p->n_splits > 1) fprintf(f, "splits: %u files\n", p->n_splits);
    fprintf(f, "fallbacks: %u\n", p->n_fallbacks);
    for (uint64_t i = 0; i < p->n_t; i++)
        if (p->t[i].type != p->t[i].wanted)
            fprintf(f, "  %s: %s\n", p->t[i].name, p->t[i].why);
    fprintf(f, "metadata:\n");
    for (uint64_t i = 0; i < p->n_kv; i++) {
        const gk_kv *kv = &p->kv[i];
        fprintf(f, "  %-44.*s %-4s ", (int)kv->key.len, kv->key.ptr,
                gk_vtype_name(kv->val.type) ? gk_vtype_name(kv->val.type) : "?");
        print_value(&kv->val, f);
        fputc('\n', f);
    }
}

/* --dry-run --json: the same plan as one JSON document (design.md JSON conventions). */
static void json_value(gk_json *j, const gk_value *v) {
    switch (v->type) {
    case GK_V_STR: gk_json_strn(j, v->str.ptr, (size_t)v->str.len); break;
    case GK_V_F32: gk_json_f32(j, v->v.f32); break;
    case GK_V_F64: gk_json_f64(j, v->v.f64); break;
    case GK_V_BOOL: gk_json_bool(j, v->v.b); break;
    case GK_V_ARR:
        gk_json_obj(j);
        gk_json_key(j, "element_type");
        gk_json_str(j, gk_vtype_name(v->arr.type));
        gk_json_key(j, "count");
        gk_json_u64(j, v->arr.n);
        gk_json_obj_end(j);
        break;
    default: {
        int ok = 0;
        if (v->type == GK_V_U64) gk_json_u64(j, v->v.u64);
        else gk_json_i64(j, gk_value_as_i64(v, &ok));
        break;
    }
    }
}

void gk_cv_plan_json(const gk_cv_plan *p, const gk_cv_source *src, FILE *f) {
    gk_json j;
    gk_json_init(&j, f, 1);
    gk_json_obj(&j);
    gk_json_key(&j, "hf_class");
    gk_json_str(&j, p->arch->hf_class);
    gk_json_key(&j, "architecture");
    gk_json_str(&j, p->arch->gguf_arch);
    gk_json_key(&j, "outtype");
    gk_json_str(&j, tname(p->outtype));
    gk_json_key(&j, "file_type");
    gk_json_u64(&j, p->ftype);
    gk_json_key(&j, "tensors");
    gk_json_arr(&j);
    for (uint64_t i = 0; i < p->n_t; i++) {
        const gk_cv_out_tensor *t = &p->t[i];
        uint64_t nel = t->n_rows * t->ne[0];
        gk_json_obj(&j);
        gk_json_key(&j, "name");
        gk_json_str(&j, t->name);
        gk_json_key(&j, "source");
        gk_json_str(&j, t->src >= 0 && src ? src->tensors[t->src].name : NULL);
        gk_json_key(&j, "input");
        gk_json_str(&j, t->src >= 0 && src ? src->tensors[t->src].dtype : "generated");
        gk_json_key(&j, "type");
        gk_json_str(&j, tname(t->type));
        gk_json_key(&j, "wanted");
        gk_json_str(&j, tname(t->wanted));
        gk_json_key(&j, "shape");
        gk_json_arr(&j);
        for (uint32_t d = 0; d < t->n_dims; d++) gk_json_u64(&j, t->ne[d]);
        gk_json_arr_end(&j);
        gk_json_key(&j, "bytes");
        gk_json_u64(&j, t->nbytes);
        gk_json_key(&j, "bpw");
        gk_json_f64(&j, nel ? 8.0 * (double)t->nbytes / (double)nel : 0);
        gk_json_key(&j, "transform");
        gk_json_str(&j, t->xform == GK_XF_PERMUTE ? "rotary_permute"
                        : t->xform == GK_XF_GENERATED ? "generated" : "copy");
        gk_json_key(&j, "fallback");
        gk_json_str(&j, t->type != t->wanted ? t->why : NULL);
        gk_json_key(&j, "split");
        gk_json_u64(&j, t->split);
        gk_json_obj_end(&j);
    }
    gk_json_arr_end(&j);
    gk_json_key(&j, "parameters");
    gk_json_u64(&j, p->n_params);
    gk_json_key(&j, "tensor_bytes");
    gk_json_u64(&j, p->total_bytes);
    gk_json_key(&j, "source_bytes");
    gk_json_u64(&j, p->src_bytes);
    gk_json_key(&j, "fallbacks");
    gk_json_u64(&j, p->n_fallbacks);
    gk_json_key(&j, "splits");
    gk_json_u64(&j, p->n_splits);
    gk_json_key(&j, "metadata");
    gk_json_arr(&j);
    for (uint64_t i = 0; i < p->n_kv; i++) {
        gk_json_obj(&j);
        gk_json_key(&j, "key");
        gk_json_strn(&j, p->kv[i].key.ptr, (size_t)p->kv[i].key.len);
        gk_json_key(&j, "type");
        gk_json_str(&j, gk_vtype_name(p->kv[i].val.type));
        gk_json_key(&j, "value");
        json_value(&j, &p->kv[i].val);
        gk_json_obj_end(&j);
    }
    gk_json_arr_end(&j);
    gk_json_obj_end(&j);
    fputc('\n', f);
}
