#!/usr/bin/env bash
# Interop for the GGUF container and `ggufkit inspect`:
#  1. for every GGUF in ../shared/data, `ggufkit inspect --json` agrees with @huggingface/gguf;
#  2. files ggufkit writes (each data file read and written back) parse in @huggingface/gguf the
#     same way, and load in llama.cpp (node-llama-cpp; vocab-only files with vocabOnly), the
#     stories260K ones computing the known logits.
# Skips (77) without ../shared/data or npm outside CI; fails in CI.
set -uo pipefail
skip_or_fail() { if [ "${CI:-}" = true ]; then echo "FAIL (CI=true): $1" >&2; exit 1; fi; echo "SKIP: $1"; exit 77; }
data="${GGUFKIT_DATA:?}"; src="${GGUFKIT_SRC:?}"; bin="${GGUFKIT_BIN:?}"; rewrite="${1:?interop_rewrite path}"
[ -d "$data" ] || skip_or_fail "shared test data not found at $data"
npm_dir=$(bash "$src/tests/npm/ensure.sh") || skip_or_fail "cannot install the npm clients"
export GGUFKIT_NPM_DIR="$npm_dir"
mapfile -t files < <(find "$data" -name '*.gguf' | sort)
[ ${#files[@]} -gt 0 ] || skip_or_fail "no GGUF files in $data"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
"$rewrite" "$tmp" "${files[@]}" >/dev/null || { echo "rewrite failed"; exit 1; }
mapfile -t written < <(find "$tmp" -name '*.gguf' | sort)
status=0
for i in "${!files[@]}"; do
  cmp -s "${files[$i]}" "$tmp/$(basename "${files[$i]}")" || { echo "not byte-identical after rewrite: ${files[$i]}"; status=1; }
done
echo "-- inspect --json vs @huggingface/gguf (data files)"
node "$src/tests/interop/inspect_vs_hfgguf.mjs" "$bin" "${files[@]}" || status=1
echo "-- inspect --json vs @huggingface/gguf (files written by ggufkit)"
node "$src/tests/interop/inspect_vs_hfgguf.mjs" "$bin" "${written[@]}" || status=1
echo "-- llama.cpp loads the files written by ggufkit"
node "$src/tests/interop/llama_load.mjs" "${written[@]}" || status=1
exit $status
