/* `ggufkit inspect`: a summary of a GGUF model (one file or a split set) — sizes, types, the
 * precision layout (layer x tensor role) — plus full metadata / tensor listings, as text or as
 * one JSON document. */
#ifndef GK_REPORT_H
#define GK_REPORT_H

#include "ggufkit.h"

#include <stdio.h>

typedef struct gk_report_opts {
    int kv;          /* print all metadata */
    int full;        /* do not abbreviate long arrays (text mode) */
    int tensors;     /* print the per-tensor table */
    int json;        /* one JSON document instead of text */
} gk_report_opts;

/* One row of the type table. */
typedef struct gk_type_stat {
    uint32_t type;
    uint64_t tensors, params, bytes;
} gk_type_stat;

/* The precision layout: layers (blk.N) x roles (attn_q, ffn_down, ...), each cell a type id or
 * -1 where that layer has no such tensor; plus the tensors outside any layer. */
typedef struct gk_layout {
    uint32_t n_layers;          /* max N + 1 over blk.N.* names (0 if none) */
    uint32_t n_roles;
    char **roles;               /* column names: the name after "blk.N." without ".weight" */
    int32_t *cell;              /* n_layers x n_roles, row-major */
    uint64_t n_other;
    uint64_t *other;            /* indices into the model's tensor list */
} gk_layout;

typedef struct gk_summary {
    uint64_t file_size;         /* all parts */
    uint64_t params;            /* total elements */
    uint64_t tensor_bytes;      /* total tensor data bytes */
    uint32_t n_types;
    gk_type_stat types[GK_TYPE_COUNT];   /* sorted by bytes, descending */
    gk_layout layout;
} gk_summary;

gk_status gk_summary_build(const gk_model *m, gk_summary *s, gk_err *err);
void gk_summary_free(gk_summary *s);

/* Prints the report for m (path is shown as given). Returns GK_OK or an I/O status. */
gk_status gk_report_print(FILE *out, const gk_model *m, const char *path,
                          const gk_report_opts *opts, gk_err *err);

/* Prints a metadata value as JSON: {"type": name, "value": ...}; arrays as {"type": "arr",
 * "element_type": name, "value": [...]} (nested arrays as such objects). */
void gk_report_json_value(gk_json *j, const gk_value *v);

#endif
