/* ggufkit convert: a Hugging Face checkpoint (directory, HF cache snapshot, or archive) -> GGUF.
 * One plan, then one write (design.md); --dry-run prints the plan and stops. */
#include "cli.h"
#include "gk_convert.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* SIGINT/SIGTERM: ask the write to stop; it removes its temporary files and returns. */
static volatile int interrupted;
static void on_signal(int sig) {
    (void)sig;
    interrupted = 1;
}

static void help(FILE *f) {
    fprintf(f,
        "usage: ggufkit convert SOURCE -o OUT.gguf [options]\n"
        "\n"
        "Converts a Hugging Face checkpoint to GGUF the way llama.cpp's converter does.\n"
        "SOURCE: a checkpoint directory (config.json, tokenizer files, *.safetensors; a Hugging\n"
        "Face cache snapshot works too), or the same packed as .tar, .tar.gz, .tar.zst or .zip.\n"
        "\n"
        "options:\n"
        "  -o, --output OUT.gguf       output file (with splits: OUT-00001-of-0000N.gguf, ...)\n"
        "  --type T                    f32, f16, bf16, q8_0, tq1_0, tq2_0, or any ggml type this\n"
        "                              build can quantize (q4_0, q4_K, ...); default auto: bf16\n"
        "                              for a bf16 checkpoint, else f16. Norms and 1-D tensors stay\n"
        "                              F32; rows the type cannot hold fall back to F16\n"
        "  --threads N                 worker threads (default: all CPUs)\n"
        "  --split-max-tensors N       at most N tensors per output file\n"
        "  --split-max-size SIZE       at most SIZE bytes of tensor data per file (K/M/G/T =\n"
        "                              10^3.. as gguf-split counts them)\n"
        "  --dry-run                   print the plan (types, shapes, bytes, fallbacks, metadata)\n"
        "  --json                      with --dry-run: the plan as one JSON document on stdout\n"
        "  --name NAME                 general.name (default: the checkpoint's folder name)\n"
        "  --pre NAME                  tokenizer.ggml.pre for a byte-level BPE tokenizer whose\n"
        "                              fingerprint is unknown\n"
        "  --metadata KEY=TYPE:VALUE   add or override a KV; TYPE is int, float, bool, str or an\n"
        "                              explicit u8/i8/u16/i16/u32/i32/u64/i64/f32/f64 (repeatable)\n"
        "  -h, --help                  this text\n"
        "\n"
        "Supported architectures: ");
    char list[512];
    gk_cv_arch_list(list, sizeof list);
    fprintf(f, "%s\nExit codes: 0 done, 1 the checkpoint is bad, 2 usage, 3 I/O or system error.\n", list);
}

static int usage_err(const char *msg, const char *arg) {
    fprintf(stderr, "ggufkit convert: %s%s%s\n", msg, arg ? ": " : "", arg ? arg : "");
    fprintf(stderr, "'ggufkit convert --help' for usage.\n");
    return GK_EXIT_USAGE;
}

/* "4G", "500M", "123" -> bytes (decimal units, as gguf-split). */
static int parse_size(const char *s, uint64_t *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || v <= 0) return -1;
    double m = 1;
    switch (*end) {
    case 'K': case 'k': m = 1e3; end++; break;
    case 'M': case 'm': m = 1e6; end++; break;
    case 'G': case 'g': m = 1e9; end++; break;
    case 'T': case 't': m = 1e12; end++; break;
    default: break;
    }
    if (*end == 'B' || *end == 'b') end++;
    if (*end) return -1;
    double b = v * m;
    if (b < 1 || b > 1.8e19) return -1;
    *out = (uint64_t)b;
    return 0;
}

static int parse_u64(const char *s, uint64_t *out) {
    char *end;
    errno = 0;
    if (*s == '-') return -1;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || v == 0) return -1;
    *out = v;
    return 0;
}

static uint32_t auto_type(const gk_cv_source *src) {
    for (uint64_t i = 0; i < src->n_tensors; i++)
        if (src->tensors[i].n_dims >= 2) {
            if (src->tensors[i].type == GK_TYPE_BF16) return GK_TYPE_BF16;
            return GK_TYPE_F16;
        }
    return GK_TYPE_F16;
}

int gk_cmd_convert(int argc, char **argv) {
    const char *source = NULL, *out = NULL, *type = "auto", *name = NULL, *pre = NULL;
    int threads = 0, dry = 0, json = 0;
    uint64_t max_t = 0, max_b = 0;
    const char **meta = calloc((size_t)argc + 1, sizeof *meta);
    size_t n_meta = 0;
    int rc = GK_EXIT_OK;
    if (!meta) {
        fprintf(stderr, "ggufkit convert: out of memory\n");
        return GK_EXIT_IO;
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define NEED()                                                 \
    do {                                                       \
        if (!v) { rc = usage_err("missing value for", a); goto done; } \
        i++;                                                   \
    } while (0)
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            help(stdout);
            goto done;
        } else if (!strcmp(a, "-o") || !strcmp(a, "--output")) {
            NEED();
            out = v;
        } else if (!strcmp(a, "--type") || !strcmp(a, "--outtype")) {
            NEED();
            type = v;
        } else if (!strcmp(a, "--threads")) {
            NEED();
            uint64_t n;
            if (parse_u64(v, &n) || n > 4096) { rc = usage_err("bad --threads", v); goto done; }
            threads = (int)n;
        } else if (!strcmp(a, "--split-max-tensors")) {
            NEED();
            if (parse_u64(v, &max_t)) { rc = usage_err("bad --split-max-tensors", v); goto done; }
        } else if (!strcmp(a, "--split-max-size")) {
            NEED();
            if (parse_size(v, &max_b)) { rc = usage_err("bad --split-max-size", v); goto done; }
        } else if (!strcmp(a, "--dry-run")) {
            dry = 1;
        } else if (!strcmp(a, "--json")) {
            json = 1;
        } else if (!strcmp(a, "--name")) {
            NEED();
            name = v;
        } else if (!strcmp(a, "--pre")) {
            NEED();
            pre = v;
        } else if (!strcmp(a, "--metadata")) {
            NEED();
            meta[n_meta++] = v;
        } else if (a[0] == '-' && a[1]) {
            rc = usage_err("unknown option", a);
            goto done;
        } else if (!source) {
            source = a;
        } else {
            rc = usage_err("unexpected argument", a);
            goto done;
        }
#undef NEED
    }
    if (!source) { rc = usage_err("no SOURCE given", NULL); goto done; }
    if (!out && !dry) { rc = usage_err("no output given (-o OUT.gguf)", NULL); goto done; }
    if (json && !dry) { rc = usage_err("--json goes with --dry-run", NULL); goto done; }
    if (max_t && max_b) { rc = usage_err("give one of --split-max-tensors / --split-max-size", NULL); goto done; }
    int want_type = -1;
    if (strcmp(type, "auto") != 0) {
        want_type = gk_type_from_name(type);
        if (want_type < 0) { rc = usage_err("unknown --type", type); goto done; }
    }
    /* validate metadata items before opening anything */
    for (size_t i = 0; i < n_meta; i++) {
        char buf[1024];
        gk_kv kv;
        gk_err e = {0};
        if (strlen(meta[i]) + 2 > sizeof buf) { rc = usage_err("--metadata item too long", NULL); goto done; }
        if (gk_cv_parse_kv_override(meta[i], &kv, buf, sizeof buf, &e)) {
            rc = usage_err(e.msg, NULL);
            goto done;
        }
    }

    gk_err err = {0};
    gk_kctx kctx;
    gk_cv_source *src = NULL;
    gk_cv_plan *plan = NULL;
    if (gk_kctx_init(&kctx, -1, &err)) { rc = gk_cli_fail(&err); goto done; }
    if (gk_cv_source_open_ex(source, pre, 1, &src, &err)) { rc = gk_cli_fail(&err); goto done; }
    gk_cv_plan_opts po = {0};
    po.outtype = want_type >= 0 ? (uint32_t)want_type : auto_type(src);
    po.name = name;
    po.metadata = meta;
    po.split_max_tensors = max_t;
    po.split_max_bytes = max_b;
    if (gk_cv_plan_build(src, &po, &kctx, &plan, &err)) {
        rc = gk_cli_fail(&err);
        gk_cv_source_free(src);
        goto done;
    }
    if (dry) {
        if (json) gk_cv_plan_json(plan, src, stdout);
        else gk_cv_plan_print(plan, src, stdout);
    } else {
        if (plan->n_fallbacks)
            fprintf(stderr, "ggufkit convert: %u tensor(s) fell back to another type "
                            "(--dry-run lists them)\n", plan->n_fallbacks);
        gk_cv_write_opts wo = {out, threads, isatty(2), 0, &interrupted};
        struct sigaction sa, old_int, old_term;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_signal;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, &old_int);
        sigaction(SIGTERM, &sa, &old_term);
        if (gk_cv_write(plan, src, &kctx, &wo, &err)) rc = gk_cli_fail(&err);
        else if (plan->n_splits > 1)
            fprintf(stderr, "ggufkit convert: wrote %u files\n", plan->n_splits);
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGTERM, &old_term, NULL);
    }
    gk_cv_plan_free(plan);
    gk_cv_source_free(src);
done:
    free(meta);
    return rc;
}
