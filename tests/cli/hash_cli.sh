#!/usr/bin/env bash
# CLI behaviour of hash / validate / pack / unpack: exit codes (0 clean, 1 finding, 2 usage,
# 3 I/O), manifests, --check against ours and llama-gguf-hash's format, --json, --strict.
# Uses $GGUFKIT_BIN and copies of ../shared/data files in a temp dir.
set -u
bin="${GGUFKIT_BIN:?GGUFKIT_BIN not set}"
data="${GGUFKIT_DATA:-}"
if [ -z "$data" ] || [ ! -d "$data" ]; then
  if [ "${CI:-}" = "true" ]; then echo "FAIL: shared data folder missing"; exit 1; fi
  echo "SKIP: shared data folder missing"; exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0; fail=0
expect() { # expect RC DESCRIPTION -- command...
  local want=$1 what=$2; shift 3
  "$@" >"$tmp/out" 2>"$tmp/err"; local rc=$?
  if [ "$rc" = "$want" ]; then pass=$((pass+1)); else
    fail=$((fail+1)); echo "FAIL: $what: exit $rc, want $want"; head -5 "$tmp/out" "$tmp/err"; fi
}
grep_out() { # grep_out DESCRIPTION PATTERN
  if grep -q -- "$2" "$tmp/out"; then pass=$((pass+1)); else fail=$((fail+1)); echo "FAIL: $1: no '$2' in output"; head -5 "$tmp/out"; fi
}
cp "$data/gguf-py-written/stories260K-q8_0.gguf" "$tmp/m.gguf"
cp "$data/tiny-random-llama/llama-2-tiny-random.gguf" "$tmp/tiny.gguf"

expect 2 "no args" -- "$bin" hash
expect 2 "bad option" -- "$bin" hash --bogus "$tmp/m.gguf"
expect 3 "missing file" -- "$bin" hash "$tmp/nope.gguf"
expect 0 "hash" -- "$bin" hash --sha256 --xxh64 "$tmp/m.gguf"
grep_out "manifest header" "^# ggufkit-manifest 2$"
grep_out "model line" "^xxh3-128  [0-9a-f]\{32\}  @model$"
grep_out "file sha256 (the Hub's value)" "^sha256    6b352babf61ddaa8a40464824f8bd478d4a3eb4537df31da637ca9fac3d4f91b  @file m.gguf$"
grep_out "xxh64 line" "^xxh64     [0-9a-f]\{16\}  token_embd.weight$"
expect 0 "manifest" -- "$bin" hash --sha256 "$tmp/m.gguf" --manifest "$tmp/m.man"
expect 0 "check clean" -- "$bin" hash --check "$tmp/m.man" "$tmp/m.gguf"
grep_out "check OK" "OK (47 tensors"
# version 1 manifests: the xxh3-128 model line (concatenated bytes then) is reported, not checked
sed -e '1s/ 2$/ 1/' -e 's/^xxh3-128  [0-9a-f]\{32\}  @model$/xxh3-128  00000000000000000000000000000000  @model/' "$tmp/m.man" > "$tmp/v1.man"
expect 0 "check version-1 manifest" -- "$bin" hash --check "$tmp/v1.man" "$tmp/m.gguf"
grep_out "v1 model line note" "manifest version 1: model line not checked"
grep_out "v1 tensors checked" "OK (47 tensors"
expect 0 "check version-1 manifest json" -- "$bin" hash --check "$tmp/v1.man" "$tmp/m.gguf" --json
grep_out "v1 json" '"v1_model_unchecked": 1'
sed -e 's/^xxh3-128  [0-9a-f]\{32\}  @model$/xxh3-128  00000000000000000000000000000000  @model/' "$tmp/m.man" > "$tmp/badmodel.man"
expect 1 "check version-2 manifest, wrong model line" -- "$bin" hash --check "$tmp/badmodel.man" "$tmp/m.gguf"
grep_out "model line checked" "model xxh3-128 mismatch"
sed -e '1s/ 2$/ 3/' "$tmp/m.man" > "$tmp/v3.man"
expect 1 "check version-3 manifest refused" -- "$bin" hash --check "$tmp/v3.man" "$tmp/m.gguf"
cp "$tmp/m.gguf" "$tmp/renamed.gguf"
expect 0 "check renamed file (tensors by name, lone file line)" -- "$bin" hash --check "$tmp/m.man" "$tmp/renamed.gguf"
# a flipped bit in tensor data: found by name
off=$("$bin" hash --json "$tmp/m.gguf" >/dev/null; python3 -c "
import struct,sys
b=open('$tmp/m.gguf','rb').read(); print(len(b)//2)" 2>/dev/null || echo 170000)
cp "$tmp/m.gguf" "$tmp/flip.gguf"
printf '\x5a' | dd of="$tmp/flip.gguf" bs=1 seek="$off" conv=notrunc status=none
expect 1 "check flipped" -- "$bin" hash --check "$tmp/m.man" "$tmp/flip.gguf"
grep_out "names the tensor" "tensor '.*': xxh3-128 mismatch"
grep_out "failed summary" "FAILED"
expect 1 "check flipped json" -- "$bin" hash --check "$tmp/m.man" "$tmp/flip.gguf" --json
grep_out "json kind" '"kind": "mismatch"'
# llama-gguf-hash style manifest (xxh64 lines named <file>:<tensor>)
"$bin" hash --xxh64 "$tmp/m.gguf" | awk '$1=="xxh64" && $3!="@model" {printf "%-8s  %s  some/path/m.gguf:%s\n", $1, $2, $3} $1=="xxh64" && $3=="@model" {printf "%-8s  %s  some/path/m.gguf\n", $1, $2}' > "$tmp/llama.man"
expect 0 "llama manifest" -- "$bin" hash --check "$tmp/llama.man" "$tmp/m.gguf"
expect 1 "llama manifest, flipped" -- "$bin" hash --check "$tmp/llama.man" "$tmp/flip.gguf"
# validate
expect 0 "validate clean" -- "$bin" validate "$tmp/tiny.gguf"
expect 0 "validate warning only" -- "$bin" validate "$tmp/m.gguf"
expect 1 "validate --strict with a warning" -- "$bin" validate --strict "$tmp/m.gguf"
expect 0 "validate json" -- "$bin" validate --json "$tmp/m.gguf"
grep_out "json files" '"files": \['
grep_out "json warning code" '"code": "missing_quantization_version"'
printf 'version https://git-lfs.github.com/spec/v1\noid sha256:00\nsize 1\n' > "$tmp/lfs.gguf"
expect 1 "validate lfs" -- "$bin" validate "$tmp/lfs.gguf"
grep_out "lfs message" "git lfs pull"
head -c 300000 "$tmp/m.gguf" > "$tmp/cut.gguf"
expect 1 "validate truncated" -- "$bin" validate "$tmp/cut.gguf"
grep_out "bytes missing" "bytes missing"
expect 2 "validate usage" -- "$bin" validate
expect 3 "validate missing file" -- "$bin" validate "$tmp/nope.gguf"
# pack / unpack
echo "# readme" > "$tmp/README.md"
expect 0 "pack" -- "$bin" pack "$tmp/m.gguf" --add "$tmp/README.md" -o "$tmp/b.tar.zst"
mkdir "$tmp/x"
expect 0 "unpack" -- "$bin" unpack "$tmp/b.tar.zst" -C "$tmp/x"
if cmp -s "$tmp/x/m.gguf" "$tmp/m.gguf"; then pass=$((pass+1)); else fail=$((fail+1)); echo "FAIL: round trip differs"; fi
expect 0 "validate bundle" -- "$bin" validate "$tmp/b.tar.zst"
expect 0 "hash --check bundle" -- "$bin" hash --check "$tmp/m.man" "$tmp/b.tar.zst"
expect 2 "pack usage" -- "$bin" pack "$tmp/m.gguf"
expect 2 "unpack usage" -- "$bin" unpack "$tmp/b.tar.zst"

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
