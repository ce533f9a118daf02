/* tok_regex.h - a small backtracking regex matcher over Unicode code points, for the
 * pre-tokenizer patterns of Hugging Face tokenizers (Oniguruma semantics: leftmost match, the
 * first alternative that leads to a match wins, greedy quantifiers backtrack).
 *
 * Supported: literals and escapes (\r \n \t \f \v \\ and escaped punctuation), '.', classes
 * [...] / [^...] with ranges, \s \S \p{L} \p{N} \p{P} \p{M} \p{S} \p{Z} \p{C} and \P{..};
 * groups (...), (?:...), case-insensitive (?i:...), lookahead (?=...) (?!...); alternation;
 * quantifiers ? * + {n} {n,} {n,m} (greedy, or lazy with a trailing ?) on single-character
 * atoms. Anything else is rejected at compile time with a message (GK_E_UNSUPPORTED). */
#ifndef GK_TOK_REGEX_H
#define GK_TOK_REGEX_H

#include "ggufkit.h"

#include <stddef.h>
#include <stdint.h>

typedef struct gk_regex gk_regex;

/* Limits for hostile patterns: pattern length in bytes (real ones are ~150), and backtracking
 * steps per search (a search that exceeds it fails with -1). */
#define GK_REGEX_MAX_PATTERN 4096
#define GK_REGEX_STEP_BUDGET 10000000u

gk_status gk_regex_compile(const char *pattern, size_t len, gk_regex **out, gk_err *err);
void gk_regex_free(gk_regex *re);

/* Leftmost match in cps[from..n): returns 1 and sets [*ms, *me), 0 if there is none, -1 if the
 * step budget ran out. Lengths are in code points. */
int gk_regex_search(const gk_regex *re, const uint32_t *cps, size_t n, size_t from, size_t *ms,
                    size_t *me);

#endif
