/* config.json -> gk_cv_config, applying transformers' defaults for the class (format-facts §9.4).
 * config.json is hostile input: every member's JSON type and range is checked, and the numbers
 * must agree with each other (heads dividing dims, ...) before anything uses them. */
#include "gk_convert.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define MAX_DIM (1u << 30)     /* no real model dimension comes near this */

/* First present (non-null) member among names; NULL if none. */
static json_t *first(json_t *o, const char *const *names, const char **which) {
    if (!json_is_object(o)) return NULL;
    for (size_t i = 0; names[i]; i++) {
        json_t *v = json_object_get(o, names[i]);
        if (v && !json_is_null(v)) {
            if (which) *which = names[i];
            return v;
        }
    }
    return NULL;
}

/* A positive number member (first of the aliases present), or the default: an integer in
 * 1..MAX_DIM when integral, else a finite number in (0, 1e30]. */
static gk_status get_num(json_t *o, const char *const *names, int integral, double def,
                         double *out, int *given, gk_err *err) {
    const char *which = names[0];
    json_t *v = first(o, names, &which);
    if (given) *given = v != NULL;
    if (!v) {
        *out = def;
        return GK_OK;
    }
    if (integral) {
        if (!json_is_integer(v))
            return gk_err_set(err, GK_E_BAD_JSON, "config.json: '%s' must be an integer", which);
        json_int_t x = json_integer_value(v);
        if (x < 1 || (uint64_t)x > MAX_DIM)
            return gk_err_set(err, GK_E_BAD_JSON, "config.json: '%s' = %lld is out of range (1..%u)",
                              which, (long long)x, MAX_DIM);
        *out = (double)x;
        return GK_OK;
    }
    if (!json_is_number(v))
        return gk_err_set(err, GK_E_BAD_JSON, "config.json: '%s' must be a number", which);
    double x = json_number_value(v);
    if (!isfinite(x) || x <= 0 || x > 1e30)
        return gk_err_set(err, GK_E_BAD_JSON, "config.json: '%s' = %g must be positive and finite",
                          which, x);
    *out = x;
    return GK_OK;
}

static gk_status get_u32(json_t *o, const char *const *names, uint32_t def, uint32_t *out,
                         int *given, gk_err *err) {
    double d = 0;
    gk_status st = get_num(o, names, 1, def, &d, given, err);
    if (!st) *out = (uint32_t)d;
    return st;
}

static gk_status get_pos(json_t *o, const char *const *names, double def, double *out,
                         int *given, gk_err *err) {
    return get_num(o, names, 0, def, out, given, err);
}

static gk_status get_bool(json_t *o, const char *name, int def, int *out, gk_err *err) {
    json_t *v = json_object_get(o, name);
    if (!v || json_is_null(v)) {
        *out = def;
        return GK_OK;
    }
    if (!json_is_boolean(v))
        return gk_err_set(err, GK_E_BAD_JSON, "config.json: '%s' must be true or false", name);
    *out = json_is_true(v);
    return GK_OK;
}

static gk_status parse_rope(json_t *root, gk_cv_config *c, const gk_cv_arch *a, gk_err *err) {
    gk_status st;
    /* rope_theta: top level, else inside rope_parameters (transformers v5) or rope_scaling. */
    static const char *const theta[] = {"rope_theta", NULL};
    json_t *rp = json_object_get(root, "rope_parameters");
    json_t *rs = json_object_get(root, "rope_scaling");
    if (rp && !json_is_null(rp) && !json_is_object(rp))
        return gk_err_set(err, GK_E_BAD_JSON, "config.json: 'rope_parameters' must be an object");
    if (rs && !json_is_null(rs) && !json_is_object(rs))
        return gk_err_set(err, GK_E_BAD_JSON, "config.json: 'rope_scaling' must be an object or null");
    int given = 0;
    if ((st = get_pos(root, theta, a->def.rope_theta, &c->rope_theta, &given, err))) return st;
    if (!given && json_is_object(rp))
        if ((st = get_pos(rp, theta, a->def.rope_theta, &c->rope_theta, &given, err))) return st;
    if (!given && json_is_object(rs))
        if ((st = get_pos(rs, theta, a->def.rope_theta, &c->rope_theta, &given, err))) return st;

    json_t *sc = json_is_object(rs) ? rs : (json_is_object(rp) ? rp : NULL);
    c->rope_type = GK_ROPE_NONE;
    if (!sc) return GK_OK;
    static const char *const type_names[] = {"rope_type", "type", NULL};
    const char *which = "rope_type";
    json_t *ty = first(sc, type_names, &which);
    if (!ty) return GK_OK;
    if (!json_is_string(ty))
        return gk_err_set(err, GK_E_BAD_JSON, "config.json: rope scaling '%s' must be a string", which);
    const char *t = json_string_value(ty);
    if (!strcmp(t, "default")) return GK_OK;
    static const char *const factor[] = {"factor", NULL};
    static const char *const orig[] = {"original_max_position_embeddings", NULL};
    if (!strcmp(t, "linear")) {
        c->rope_type = GK_ROPE_LINEAR;
        if ((st = get_pos(sc, factor, 1.0, &c->rope_factor, NULL, err))) return st;
    } else if (!strcmp(t, "yarn")) {
        c->rope_type = GK_ROPE_YARN;
        if ((st = get_pos(sc, factor, 1.0, &c->rope_factor, NULL, err))) return st;
        if ((st = get_u32(sc, orig, c->context_length, &c->rope_orig_ctx, NULL, err))) return st;
    } else if (!strcmp(t, "llama3")) {
        if (!a->allow_llama3_rope)
            return gk_err_set(err, GK_E_UNSUPPORTED,
                              "config.json: rope type 'llama3' is not supported for %s", a->hf_class);
        c->rope_type = GK_ROPE_LLAMA3;
        static const char *const low[] = {"low_freq_factor", NULL};
        static const char *const high[] = {"high_freq_factor", NULL};
        if ((st = get_pos(sc, factor, 8.0, &c->rope_factor, NULL, err))) return st;
        if ((st = get_pos(sc, low, 1.0, &c->rope_low_freq, NULL, err))) return st;
        if ((st = get_pos(sc, high, 4.0, &c->rope_high_freq, NULL, err))) return st;
        if ((st = get_u32(sc, orig, 8192, &c->rope_orig_ctx, NULL, err))) return st;
        if (c->rope_high_freq == c->rope_low_freq)
            return gk_err_set(err, GK_E_BAD_JSON,
                              "config.json: llama3 rope needs high_freq_factor != low_freq_factor");
    } else {
        return gk_err_set(err, GK_E_UNSUPPORTED,
                          "config.json: rope scaling type '%s' is not supported "
                          "(supported: default, linear, yarn, llama3)", t);
    }
    return GK_OK;
}

gk_status gk_cv_config_parse(const char *text, size_t len, gk_cv_config *c,
                             const gk_cv_arch **arch_out, gk_err *err) {
    if (!text || !c || !arch_out) return gk_err_set(err, GK_E_INVALID_ARG, "config: NULL argument");
    memset(c, 0, sizeof *c);
    *arch_out = NULL;
    json_error_t je;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        return gk_err_set(err, GK_E_BAD_JSON, "config.json: line %d column %d: %s", je.line,
                          je.column, je.text);
    gk_status st = GK_OK;
    char list[512];
    gk_cv_arch_list(list, sizeof list);
    if (!json_is_object(root)) {
        st = gk_err_set(err, GK_E_BAD_JSON, "config.json: not a JSON object");
        goto done;
    }
    json_t *archs = json_object_get(root, "architectures");
    if (!json_is_array(archs) || json_array_size(archs) < 1 ||
        !json_is_string(json_array_get(archs, 0))) {
        st = gk_err_set(err, GK_E_BAD_JSON,
                        "config.json: 'architectures' must be a list naming the model class "
                        "(supported: %s)", list);
        goto done;
    }
    const char *cls = json_string_value(json_array_get(archs, 0));
    const gk_cv_arch *a = gk_cv_arch_find(cls);
    if (!a) {
        st = gk_err_set(err, GK_E_UNSUPPORTED,
                        "architecture '%.80s' is not supported; supported: %s", cls, list);
        goto done;
    }
    snprintf(c->arch_class, sizeof c->arch_class, "%s", cls);

    static const char *const k_layers[] = {"n_layers", "num_hidden_layers", "n_layer", "num_layers", NULL};
    static const char *const k_ctx[] = {"max_position_embeddings", "n_ctx", "n_positions", "max_length",
                                        "max_sequence_length", "model_max_length", NULL};
    static const char *const k_hidden[] = {"hidden_size", "n_embd", "dim", NULL};
    static const char *const k_ff[] = {"intermediate_size", "n_inner", "hidden_dim", NULL};
    static const char *const k_heads[] = {"num_attention_heads", "n_head", "n_heads", NULL};
    static const char *const k_kv[] = {"num_key_value_heads", "n_kv_heads", NULL};
    static const char *const k_eps[] = {"rms_norm_eps", "norm_eps", NULL};
    static const char *const k_vocab[] = {"vocab_size", NULL};
    static const char *const k_hd[] = {"head_dim", NULL};
    const gk_cv_defaults *d = &a->def;
    int given;
    if ((st = get_u32(root, k_layers, d->n_layer, &c->n_layer, NULL, err))) goto done;
    if ((st = get_u32(root, k_ctx, d->context_length, &c->context_length, NULL, err))) goto done;
    if ((st = get_u32(root, k_hidden, d->hidden_size, &c->hidden_size, NULL, err))) goto done;
    if ((st = get_u32(root, k_ff, d->intermediate_size, &c->intermediate_size, NULL, err))) goto done;
    if ((st = get_u32(root, k_heads, d->n_head, &c->n_head, NULL, err))) goto done;
    if ((st = get_u32(root, k_kv, d->n_head_kv ? d->n_head_kv : c->n_head, &c->n_head_kv, NULL, err)))
        goto done;
    if ((st = get_pos(root, k_eps, d->rms_norm_eps, &c->rms_norm_eps, NULL, err))) goto done;
    if ((st = get_u32(root, k_vocab, d->vocab_size, &c->vocab_size, NULL, err))) goto done;
    uint32_t hd_def = d->head_dim ? d->head_dim : c->hidden_size / c->n_head;
    if (!d->head_dim && c->hidden_size % c->n_head) {
        /* only fatal if head_dim is not given explicitly */
        json_t *hv = json_object_get(root, "head_dim");
        if (!hv || json_is_null(hv)) {
            st = gk_err_set(err, GK_E_BAD_JSON,
                            "config.json: num_attention_heads %u does not divide hidden_size %u "
                            "and there is no head_dim", c->n_head, c->hidden_size);
            goto done;
        }
    }
    if ((st = get_u32(root, k_hd, hd_def ? hd_def : 1, &c->head_dim, &given, err))) goto done;
    c->head_dim_given = given;
    if ((st = get_bool(root, "tie_word_embeddings", 0, &c->tie_word_embeddings, err))) goto done;
    if ((st = get_bool(root, "attention_bias", 0, &c->attention_bias, err))) goto done;
    if ((st = parse_rope(root, c, a, err))) goto done;

    /* consistency */
    if (c->n_head_kv > c->n_head || c->n_head % c->n_head_kv) {
        st = gk_err_set(err, GK_E_BAD_JSON,
                        "config.json: num_key_value_heads %u must divide num_attention_heads %u",
                        c->n_head_kv, c->n_head);
        goto done;
    }
    if ((uint64_t)c->n_head * c->head_dim > MAX_DIM) {
        st = gk_err_set(err, GK_E_BAD_JSON, "config.json: heads x head_dim overflows");
        goto done;
    }
    if (a->permute_qk && c->head_dim % 2) {
        st = gk_err_set(err, GK_E_BAD_JSON,
                        "config.json: head_dim %u must be even for rotary embeddings", c->head_dim);
        goto done;
    }
    if (c->rope_type == GK_ROPE_LLAMA3 && c->head_dim % 2) {
        st = gk_err_set(err, GK_E_BAD_JSON, "config.json: llama3 rope needs an even head_dim");
        goto done;
    }
    *arch_out = a;
done:
    json_decref(root);
    return st;
}
