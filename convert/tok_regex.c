/* A small backtracking regex matcher for pre-tokenizer patterns (see tok_regex.h).
 *
 * The pattern is parsed into a tree: an alternation is a list of sequences, a sequence a list of
 * atoms. Matching walks a sequence with an explicit continuation (the rest of the enclosing
 * sequences), so recursion depth is bounded by the pattern, not by the input: quantifiers apply
 * only to single-character atoms and are matched by a counting loop. */
#include "tok_regex.h"

#include "unicode_table.h"

#include <stdlib.h>
#include <string.h>

enum { A_CHAR, A_CLASS, A_ANY, A_GROUP, A_LOOK };

typedef struct rx_item {     /* one class item */
    uint32_t lo, hi;         /* range, when prop == 0 */
    int prop;                /* 0: range; 1+major: \p{X}; 20: \s */
    int neg;                 /* \P{..} or \S */
} rx_item;

typedef struct rx_alt rx_alt;
typedef struct rx_atom {
    int kind;
    uint32_t ch;             /* A_CHAR */
    int icase;
    rx_item *items;          /* A_CLASS */
    size_t n_items;
    int neg;                 /* A_CLASS negated, A_LOOK negative */
    rx_alt *alt;             /* A_GROUP, A_LOOK */
    uint32_t min, max;       /* quantifier (1,1 when none); max UINT32_MAX = unbounded */
    int lazy;
} rx_atom;

typedef struct rx_seq {
    rx_atom *atoms;
    size_t n, cap;
} rx_seq;

struct rx_alt {
    rx_seq *seqs;
    size_t n, cap;
};

struct gk_regex {
    rx_alt *top;
};

/* ---------------------------------------------------------------------------------------- */

typedef struct parser {
    const uint32_t *p;
    size_t n, i;
    gk_err *err;
    gk_status st;
    int depth;
} parser;

static void free_alt(rx_alt *a);

static void free_seq(rx_seq *s) {
    for (size_t i = 0; i < s->n; i++) {
        free(s->atoms[i].items);
        if (s->atoms[i].alt) free_alt(s->atoms[i].alt);
    }
    free(s->atoms);
}

static void free_alt(rx_alt *a) {
    if (!a) return;
    for (size_t i = 0; i < a->n; i++) free_seq(&a->seqs[i]);
    free(a->seqs);
    free(a);
}

static int fail(parser *ps, gk_status st, const char *what) {
    if (ps->st == GK_OK) {
        ps->st = st;
        gk_err_set(ps->err, st, "pre-tokenizer regex: %s at pattern position %zu", what, ps->i);
    }
    return -1;
}

static int push_atom(parser *ps, rx_seq *s, const rx_atom *a) {
    if (s->n == s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 8;
        rx_atom *na = realloc(s->atoms, nc * sizeof *na);
        if (!na) return fail(ps, GK_E_NOMEM, "out of memory");
        s->atoms = na;
        s->cap = nc;
    }
    s->atoms[s->n++] = *a;
    return 0;
}

static int push_item(parser *ps, rx_atom *a, rx_item it) {
    rx_item *ni = realloc(a->items, (a->n_items + 1) * sizeof *ni);
    if (!ni) return fail(ps, GK_E_NOMEM, "out of memory");
    a->items = ni;
    a->items[a->n_items++] = it;
    return 0;
}

static int peek(const parser *ps) { return ps->i < ps->n ? (int)ps->p[ps->i] : -1; }

/* \p{X} / \P{X}: returns the prop code (1 + major category) or -1. */
static int parse_prop(parser *ps) {
    if (peek(ps) != '{') return fail(ps, GK_E_UNSUPPORTED, "\\p without {name}");
    ps->i++;
    char name[16];
    size_t k = 0;
    while (ps->i < ps->n && ps->p[ps->i] != '}' && k < sizeof name - 1) name[k++] = (char)ps->p[ps->i++];
    name[k] = 0;
    if (peek(ps) != '}') return fail(ps, GK_E_UNSUPPORTED, "unterminated \\p{...}");
    ps->i++;
    static const struct { const char *n; int m; } props[] = {
        {"L", GK_UNI_L}, {"Letter", GK_UNI_L}, {"M", GK_UNI_M}, {"Mark", GK_UNI_M},
        {"N", GK_UNI_N}, {"Number", GK_UNI_N}, {"P", GK_UNI_P}, {"Punctuation", GK_UNI_P},
        {"S", GK_UNI_S}, {"Symbol", GK_UNI_S}, {"Z", GK_UNI_Z}, {"Separator", GK_UNI_Z},
        {"C", GK_UNI_C}, {"Other", GK_UNI_C},
    };
    for (size_t j = 0; j < sizeof props / sizeof props[0]; j++)
        if (!strcmp(name, props[j].n)) return 1 + props[j].m;
    return fail(ps, GK_E_UNSUPPORTED, "unsupported Unicode property (only major categories)");
}

/* An escape after '\\' (already consumed). Sets either *ch (literal) or *item (class item).
 * Returns 0 literal, 1 item, -1 error. */
static int parse_escape(parser *ps, uint32_t *ch, rx_item *item) {
    int c = peek(ps);
    if (c < 0) return fail(ps, GK_E_UNSUPPORTED, "pattern ends with a backslash");
    ps->i++;
    memset(item, 0, sizeof *item);
    switch (c) {
    case 'n': *ch = '\n'; return 0;
    case 'r': *ch = '\r'; return 0;
    case 't': *ch = '\t'; return 0;
    case 'f': *ch = '\f'; return 0;
    case 'v': *ch = '\v'; return 0;
    case 's': item->prop = 20; return 1;
    case 'S': item->prop = 20; item->neg = 1; return 1;
    case 'p': case 'P': {
        int pr = parse_prop(ps);
        if (pr < 0) return -1;
        item->prop = pr;
        item->neg = c == 'P';
        return 1;
    }
    default:
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
            return fail(ps, GK_E_UNSUPPORTED, "unsupported escape");
        *ch = (uint32_t)c;
        return 0;
    }
}

static int parse_class(parser *ps, rx_atom *a) {
    a->kind = A_CLASS;
    if (peek(ps) == '^') { a->neg = 1; ps->i++; }
    int first = 1;
    for (;;) {
        int c = peek(ps);
        if (c < 0) return fail(ps, GK_E_UNSUPPORTED, "unterminated character class");
        if (c == ']' && !first) { ps->i++; return 0; }
        first = 0;
        if (c == '[') return fail(ps, GK_E_UNSUPPORTED, "nested character class");
        ps->i++;
        uint32_t lo = (uint32_t)c;
        if (c == '\\') {
            rx_item it;
            int r = parse_escape(ps, &lo, &it);
            if (r < 0) return -1;
            if (r == 1) { if (push_item(ps, a, it)) return -1; continue; }
        }
        uint32_t hi = lo;
        if (peek(ps) == '-' && ps->i + 1 < ps->n && ps->p[ps->i + 1] != ']') {
            ps->i++;
            int d = peek(ps);
            ps->i++;
            hi = (uint32_t)d;
            if (d == '\\') {
                rx_item it;
                int r = parse_escape(ps, &hi, &it);
                if (r < 0) return -1;
                if (r == 1) return fail(ps, GK_E_UNSUPPORTED, "class escape as a range bound");
            }
            if (hi < lo) return fail(ps, GK_E_UNSUPPORTED, "reversed range in class");
        }
        rx_item it = {lo, hi, 0, 0};
        if (push_item(ps, a, it)) return -1;
    }
}

static int parse_uint(parser *ps, uint32_t *v) {
    int c = peek(ps);
    if (c < '0' || c > '9') return 0;
    uint64_t x = 0;
    while ((c = peek(ps)) >= '0' && c <= '9') {
        x = x * 10 + (uint64_t)(c - '0');
        if (x > 100000) return -1;
        ps->i++;
    }
    *v = (uint32_t)x;
    return 1;
}

static rx_alt *parse_alt(parser *ps, int icase);

static int parse_quant(parser *ps, rx_atom *a) {
    int c = peek(ps);
    a->min = a->max = 1;
    if (c == '?') { a->min = 0; a->max = 1; }
    else if (c == '*') { a->min = 0; a->max = UINT32_MAX; }
    else if (c == '+') { a->min = 1; a->max = UINT32_MAX; }
    else if (c == '{') {
        size_t save = ps->i;
        ps->i++;
        uint32_t lo = 0, hi = 0;
        int r = parse_uint(ps, &lo);
        if (r <= 0) { ps->i = save; return 0; } /* a literal '{' is not supported either */
        if (peek(ps) == '}') hi = lo;
        else if (peek(ps) == ',') {
            ps->i++;
            if (peek(ps) == '}') hi = UINT32_MAX;
            else if (parse_uint(ps, &hi) <= 0) return fail(ps, GK_E_UNSUPPORTED, "bad {n,m}");
        } else return fail(ps, GK_E_UNSUPPORTED, "bad {n,m}");
        if (peek(ps) != '}') return fail(ps, GK_E_UNSUPPORTED, "bad {n,m}");
        if (hi < lo) return fail(ps, GK_E_UNSUPPORTED, "{n,m} with m < n");
        a->min = lo;
        a->max = hi;
    } else return 0;
    ps->i++;
    if (a->kind == A_GROUP || a->kind == A_LOOK)
        return fail(ps, GK_E_UNSUPPORTED, "quantifier on a group");
    if (peek(ps) == '?') { a->lazy = 1; ps->i++; }
    else if (peek(ps) == '+') return fail(ps, GK_E_UNSUPPORTED, "possessive quantifier");
    int d = peek(ps);
    if (d == '?' || d == '*' || d == '+' || d == '{')
        return fail(ps, GK_E_UNSUPPORTED, "stacked quantifiers");
    return 0;
}

static int parse_seq(parser *ps, rx_seq *s, int icase) {
    for (;;) {
        int c = peek(ps);
        if (c < 0 || c == '|' || c == ')') return 0;
        rx_atom a;
        memset(&a, 0, sizeof a);
        a.icase = icase;
        ps->i++;
        if (c == '(') {
            int inner_icase = icase, look = 0, neg = 0;
            if (peek(ps) == '?') {
                ps->i++;
                int d = peek(ps);
                ps->i++;
                if (d == ':') {}
                else if (d == '=') look = 1;
                else if (d == '!') { look = 1; neg = 1; }
                else if (d == 'i' && peek(ps) == ':') { ps->i++; inner_icase = 1; }
                else return fail(ps, GK_E_UNSUPPORTED, "unsupported group kind");
            }
            if (++ps->depth > 32) return fail(ps, GK_E_UNSUPPORTED, "groups nested too deeply");
            a.alt = parse_alt(ps, inner_icase);
            ps->depth--;
            if (!a.alt) return -1;
            if (peek(ps) != ')') { free_alt(a.alt); return fail(ps, GK_E_UNSUPPORTED, "missing )"); }
            ps->i++;
            a.kind = look ? A_LOOK : A_GROUP;
            a.neg = neg;
        } else if (c == '[') {
            if (parse_class(ps, &a)) { free(a.items); return -1; }
        } else if (c == '.') {
            a.kind = A_ANY;
        } else if (c == '\\') {
            uint32_t ch = 0;
            rx_item it;
            int r = parse_escape(ps, &ch, &it);
            if (r < 0) return -1;
            if (r == 1) {
                a.kind = A_CLASS;
                if (push_item(ps, &a, it)) return -1;
            } else {
                a.kind = A_CHAR;
                a.ch = ch;
            }
        } else if (c == '^' || c == '$') {
            return fail(ps, GK_E_UNSUPPORTED, "anchors");
        } else if (c == '*' || c == '+' || c == '?' || c == '{') {
            return fail(ps, GK_E_UNSUPPORTED, "quantifier without an operand");
        } else {
            a.kind = A_CHAR;
            a.ch = (uint32_t)c;
        }
        if (parse_quant(ps, &a) || push_atom(ps, s, &a)) {
            free(a.items);
            free_alt(a.alt);
            return -1;
        }
    }
}

static rx_alt *parse_alt(parser *ps, int icase) {
    rx_alt *alt = calloc(1, sizeof *alt);
    if (!alt) { fail(ps, GK_E_NOMEM, "out of memory"); return NULL; }
    for (;;) {
        if (alt->n == alt->cap) {
            size_t nc = alt->cap ? alt->cap * 2 : 4;
            rx_seq *ns = realloc(alt->seqs, nc * sizeof *ns);
            if (!ns) { free_alt(alt); fail(ps, GK_E_NOMEM, "out of memory"); return NULL; }
            alt->seqs = ns;
            alt->cap = nc;
        }
        rx_seq *s = &alt->seqs[alt->n++];
        memset(s, 0, sizeof *s);
        if (parse_seq(ps, s, icase)) { free_alt(alt); return NULL; }
        if (peek(ps) != '|') return alt;
        ps->i++;
    }
}

gk_status gk_regex_compile(const char *pattern, size_t len, gk_regex **out, gk_err *err) {
    *out = NULL;
    if (len > GK_REGEX_MAX_PATTERN)
        return gk_err_set(err, GK_E_UNSUPPORTED, "pre-tokenizer regex of %zu bytes (limit %d)", len, GK_REGEX_MAX_PATTERN);
    uint32_t *cps = malloc((len + 1) * sizeof *cps);
    if (!cps) return gk_err_set(err, GK_E_NOMEM, "out of memory");
    size_t n = 0;
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        i += (size_t)gk_utf8_decode((const unsigned char *)pattern + i, len - i, &cp);
        cps[n++] = cp;
    }
    parser ps = {cps, n, 0, err, GK_OK, 0};
    rx_alt *top = parse_alt(&ps, 0);
    if (top && ps.i != n) {
        fail(&ps, GK_E_UNSUPPORTED, "unbalanced )");
        free_alt(top);
        top = NULL;
    }
    free(cps);
    if (!top) return ps.st != GK_OK ? ps.st : gk_err_set(err, GK_E_INTERNAL, "regex parse failed");
    gk_regex *re = calloc(1, sizeof *re);
    if (!re) { free_alt(top); return gk_err_set(err, GK_E_NOMEM, "out of memory"); }
    re->top = top;
    *out = re;
    return GK_OK;
}

void gk_regex_free(gk_regex *re) {
    if (!re) return;
    free_alt(re->top);
    free(re);
}

/* ---------------------------------------------------------------------------------------- */

static uint32_t fold(uint32_t c) {
    if (c >= 'A' && c <= 'Z') return c + 32;
    if (c == 0x17F) return 's';   /* LATIN SMALL LETTER LONG S folds to s */
    if (c == 0x212A) return 'k';  /* KELVIN SIGN folds to k */
    return c;
}

static int item_match(const rx_item *it, uint32_t c, int icase) {
    int r;
    if (it->prop == 20) r = gk_uni_is_space(c);
    else if (it->prop > 0) r = gk_uni_major(c) == (unsigned)(it->prop - 1);
    else {
        r = c >= it->lo && c <= it->hi;
        if (!r && icase) {
            uint32_t f = fold(c);
            for (uint32_t x = it->lo; !r && x <= it->hi && x - it->lo < 128; x++) r = fold(x) == f;
        }
        return r;
    }
    return it->neg ? !r : r;
}

static int atom_match1(const rx_atom *a, uint32_t c) {
    switch (a->kind) {
    case A_CHAR: return a->icase ? fold(c) == fold(a->ch) : c == a->ch;
    case A_ANY: return c != '\n';
    case A_CLASS: {
        int r = 0;
        for (size_t i = 0; i < a->n_items && !r; i++) r = item_match(&a->items[i], c, a->icase);
        return a->neg ? !r : r;
    }
    default: return 0;
    }
}

typedef struct rx_cont {
    const rx_seq *seq;
    size_t k;
    const struct rx_cont *up;
} rx_cont;

typedef struct rx_in {
    const uint32_t *s;
    size_t n;
    uint64_t budget;  /* backtracking steps left for this search (hostile patterns) */
} rx_in;

static long match_alt(rx_in *in, const rx_alt *alt, size_t pos, const rx_cont *up);

/* Matches seq[k..] at pos, then the continuation. Returns the end position or -1. */
static long match_seq(rx_in *in, const rx_seq *seq, size_t k, size_t pos, const rx_cont *up) {
    for (;;) {
        if (in->budget == 0) return -1;
        in->budget--;
        if (k == seq->n) {
            if (!up) return (long)pos;
            seq = up->seq;
            k = up->k;
            up = up->up;
            continue;
        }
        const rx_atom *a = &seq->atoms[k];
        if (a->kind == A_GROUP) {
            rx_cont c = {seq, k + 1, up};
            return match_alt(in, a->alt, pos, &c);
        }
        if (a->kind == A_LOOK) {
            long r = match_alt(in, a->alt, pos, NULL);
            if ((r >= 0) == (a->neg != 0)) return -1;
            k++;
            continue;
        }
        if (a->min == 1 && a->max == 1) {
            if (pos >= in->n || !atom_match1(a, in->s[pos])) return -1;
            pos++;
            k++;
            continue;
        }
        size_t cnt = 0;
        while (cnt < a->max && pos + cnt < in->n && atom_match1(a, in->s[pos + cnt])) cnt++;
        if (cnt < a->min) return -1;
        if (a->lazy) {
            for (size_t j = a->min; j <= cnt; j++) {
                long r = match_seq(in, seq, k + 1, pos + j, up);
                if (r >= 0) return r;
            }
        } else {
            for (size_t j = cnt + 1; j-- > a->min;) {
                long r = match_seq(in, seq, k + 1, pos + j, up);
                if (r >= 0) return r;
            }
        }
        return -1;
    }
}

static long match_alt(rx_in *in, const rx_alt *alt, size_t pos, const rx_cont *up) {
    for (size_t i = 0; i < alt->n; i++) {
        long r = match_seq(in, &alt->seqs[i], 0, pos, up);
        if (r >= 0) return r;
    }
    return -1;
}

int gk_regex_search(const gk_regex *re, const uint32_t *cps, size_t n, size_t from, size_t *ms,
                    size_t *me) {
    rx_in in = {cps, n, GK_REGEX_STEP_BUDGET};
    for (size_t p = from; p <= n; p++) {
        long r = match_alt(&in, re->top, p, NULL);
        if (in.budget == 0) return -1;
        if (r >= 0) {
            *ms = p;
            *me = (size_t)r;
            return 1;
        }
    }
    return 0;
}
