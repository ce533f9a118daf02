#!/usr/bin/env bash
# Installs the real clients the interop tests use (pinned versions) into one cache directory and
# prints that directory. Idempotent. GGUFKIT_NPM_DIR overrides the location.
#   @huggingface/gguf        - GGUF metadata parser
#   node-llama-cpp + linux-x64 bins - llama.cpp itself (also ships libggml-*.so for kernel parity)
#   @anush008/tokenizers     - Hugging Face tokenizers
set -euo pipefail
dir="${GGUFKIT_NPM_DIR:-${HOME:-/root}/.cache/ggufkit-npm}"
pkgs=(@huggingface/gguf@0.4.6 node-llama-cpp@3.22.1 @node-llama-cpp/linux-x64@3.22.1
      @anush008/tokenizers@0.6.0 @anush008/tokenizers-linux-x64-gnu@0.6.0)
mkdir -p "$dir"
stamp="$dir/.ggufkit-installed"
want="${pkgs[*]}"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] \
   && [ -d "$dir/node_modules/@node-llama-cpp/linux-x64/bins" ]; then
  echo "$dir"; exit 0
fi
command -v npm >/dev/null || { echo "npm not found" >&2; exit 1; }
(
  cd "$dir"
  [ -f package.json ] || echo '{"name":"ggufkit-interop","private":true}' > package.json
  npm install --no-audit --no-fund --omit=optional --loglevel=error "${pkgs[@]}" >&2
)
echo "$want" > "$stamp"
echo "$dir"
