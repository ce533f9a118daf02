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
