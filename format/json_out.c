/* A small streaming JSON writer for reports (--json on every command; design.md conventions):
 * floats so that they round-trip (%.9g for f32, %.17g for f64), 64-bit integers exact, NaN/Inf as
 * the strings "nan", "inf", "-inf", absent values null. Strings are escaped; bytes that are not
 * valid UTF-8 are written as U+FFFD (as a JavaScript TextDecoder would show them). */
#include "ggufkit.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static void sep(gk_json *j) {
    if (j->after_key) {
        j->after_key = 0;
        return;
    }
    if (j->depth > 0 && j->count[j->depth - 1]++ > 0) fputc(',', j->f);
    if (j->pretty && j->depth > 0) {
        fputc('\n', j->f);
        for (int i = 0; i < j->depth; i++) fputs("  ", j->f);
    }
}

void gk_json_init(gk_json *j, FILE *f, int pretty) {
    memset(j, 0, sizeof *j);
    j->f = f;
    j->pretty = pretty;
}

static void open_(gk_json *j, char c) {
    sep(j);
    fputc(c, j->f);
    if (j->depth < GK_JSON_MAX_DEPTH) j->count[j->depth] = 0;
    j->depth++;
}

static void close_(gk_json *j, char c) {
    if (j->depth <= 0) return;
    j->depth--;
    if (j->pretty && j->depth < GK_JSON_MAX_DEPTH && j->count[j->depth] > 0) {
        fputc('\n', j->f);
        for (int i = 0; i < j->depth; i++) fputs("  ", j->f);
    }
    fputc(c, j->f);
    if (j->depth == 0) fputc('\n', j->f);
}

void gk_json_obj(gk_json *j) { open_(j, '{'); }
void gk_json_obj_end(gk_json *j) { close_(j, '}'); }
void gk_json_arr(gk_json *j) { open_(j, '['); }
void gk_json_arr_end(gk_json *j) { close_(j, ']'); }

/* Length of the valid UTF-8 sequence at p (1..4), or 0 if invalid. */
static size_t utf8_len(const unsigned char *p, size_t n) {
    unsigned c = p[0];
    if (c < 0x80) return 1;
    size_t len;
    uint32_t cp;
    if ((c & 0xe0) == 0xc0) { len = 2; cp = c & 0x1f; }
    else if ((c & 0xf0) == 0xe0) { len = 3; cp = c & 0x0f; }
    else if ((c & 0xf8) == 0xf0) { len = 4; cp = c & 0x07; }
    else return 0;
    if (len > n) return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80) return 0;
        cp = (cp << 6) | (p[i] & 0x3f);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

static void put_str(FILE *f, const char *s, size_t n) {
    const unsigned char *p = (const unsigned char *)s;
    fputc('"', f);
    size_t i = 0;
    while (i < n) {
        unsigned c = p[i];
        if (c == '"' || c == '\\') { fputc('\\', f); fputc((int)c, f); i++; }
        else if (c == '\n') { fputs("\\n", f); i++; }
        else if (c == '\r') { fputs("\\r", f); i++; }
        else if (c == '\t') { fputs("\\t", f); i++; }
        else if (c < 0x20 || c == 0x7f) { fprintf(f, "\\u%04x", c); i++; }
        else if (c < 0x80) { fputc((int)c, f); i++; }
        else {
            size_t l = utf8_len(p + i, n - i);
            if (l == 0) { fputs("\\ufffd", f); i++; }
            else { fwrite(p + i, 1, l, f); i += l; }
        }
    }
    fputc('"', f);
}

void gk_json_key(gk_json *j, const char *k) {
    sep(j);
    put_str(j->f, k, strlen(k));
    fputs(j->pretty ? ": " : ":", j->f);
    j->after_key = 1;
}

void gk_json_strn(gk_json *j, const char *s, size_t n) {
    sep(j);
    put_str(j->f, s, n);
}
void gk_json_str(gk_json *j, const char *s) {
    if (!s) { gk_json_null(j); return; }
    gk_json_strn(j, s, strlen(s));
}
void gk_json_null(gk_json *j) { sep(j); fputs("null", j->f); }
void gk_json_bool(gk_json *j, int b) { sep(j); fputs(b ? "true" : "false", j->f); }
void gk_json_i64(gk_json *j, int64_t v) { sep(j); fprintf(j->f, "%" PRId64, v); }
void gk_json_u64(gk_json *j, uint64_t v) { sep(j); fprintf(j->f, "%" PRIu64, v); }

static int nonfinite(gk_json *j, double v) {
    if (isnan(v)) { fputs("\"nan\"", j->f); return 1; }
    if (isinf(v)) { fputs(v > 0 ? "\"inf\"" : "\"-inf\"", j->f); return 1; }
    return 0;
}
void gk_json_f32(gk_json *j, float v) {
    sep(j);
    if (!nonfinite(j, v)) fprintf(j->f, "%.9g", (double)v);
}
void gk_json_f64(gk_json *j, double v) {
    sep(j);
    if (!nonfinite(j, v)) fprintf(j->f, "%.17g", v);
}
