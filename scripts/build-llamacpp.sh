#!/usr/bin/env bash
# Builds llama.cpp's own reference tools (llama-perplexity, llama-bench, llama-server, llama-quantize)
# from the exact llama.cpp source that the pinned node-llama-cpp ships (llama/gitRelease.bundle),
# so that tests and benchmarks compare quanteval with the real tools on the same code.
# Output goes to a cache outside the repository; a finished build is reused.
#   QUANTEVAL_CACHE   cache root (default: ~/.cache/quanteval)
# Prints the bin directory on its last line.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bundle="$root/node_modules/node-llama-cpp/llama/gitRelease.bundle"
[ -f "$bundle" ] || { echo "build-llamacpp: $bundle not found; run npm install first" >&2; exit 1; }
tag="$(node -e "process.stdout.write(require('$root/node_modules/node-llama-cpp/llama/llama.cpp.info.json').tag)")"
cache="${QUANTEVAL_CACHE:-$HOME/.cache/quanteval}"
src="$cache/llama.cpp-$tag"
bin="$src/build/bin"
targets=(llama-perplexity llama-bench llama-server llama-quantize)
done_all=1
for t in "${targets[@]}"; do [ -x "$bin/$t" ] || done_all=0; done
if [ "$done_all" = 1 ]; then echo "$bin"; exit 0; fi
mkdir -p "$cache"
if [ ! -d "$src/.git" ]; then
  rm -rf "$src"
  git clone -q "$bundle" "$src" >&2
fi
cmake -S "$src" -B "$src/build" -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON -DLLAMA_CURL=OFF \
  -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=ON -DBUILD_SHARED_LIBS=OFF >&2
cmake --build "$src/build" --config Release -j "$(nproc)" --target "${targets[@]}" >&2
echo "$bin"
