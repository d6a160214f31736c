#!/usr/bin/env bash
# Builds llama.cpp's own reference tools (llama-perplexity, llama-bench, llama-batched-bench, llama-server, llama-quantize, llama-imatrix)
# from the exact llama.cpp source that the pinned node-llama-cpp ships (llama/gitRelease.bundle),
# so that tests and benchmarks compare quanteval with the real tools on the same code.
# Output goes to a cache outside the repository; a finished build is reused.
#
#   bash scripts/build-llamacpp.sh               the tools; prints their bin folder
#   bash scripts/build-llamacpp.sh --native-lib  shared libllama/libggml built for this CPU
#                                                (GGML_NATIVE, OpenMP as the tools); prints the folder to put in
#                                                QUANTEVAL_LLAMA_LIB_DIR
#   QUANTEVAL_CACHE   cache root (default: ~/.cache/quanteval)
# Prints the folder on its last line.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bundle="$root/node_modules/node-llama-cpp/llama/gitRelease.bundle"
[ -f "$bundle" ] || { echo "build-llamacpp: $bundle not found; run npm install first" >&2; exit 1; }
tag="$(node -e "process.stdout.write(require('$root/node_modules/node-llama-cpp/llama/llama.cpp.info.json').tag)")"
cache="${QUANTEVAL_CACHE:-$HOME/.cache/quanteval}"
src="$cache/llama.cpp-$tag"
common=(-DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF)
if [ "${1:-}" = "--native-lib" ]; then
  build="$src/build-lib-nsi"
  # With OpenMP, as llama.cpp's own tools are built. ggml's own threadpool (the build without
  # OpenMP) polls between graph nodes; on a loaded 2-core machine that doubled the CPU time of a
  # stories260K perplexity run (16.7 s against 9.3 s, wall 43 s against 31 s at load 6-10) and on
  # an idle one it was 0.92-0.94x llama-perplexity against 0.96x with OpenMP. libgomp keeps one
  # team per calling thread; its idle teams sleep after a short spin. (The folder was build-shared
  # when it was built without OpenMP, then build-lib.)
  # Without semantic interposition, as the static tools are compiled: in a shared library built
  # with -fPIC, GCC must assume any exported function may be replaced by another library at load
  # time, so it neither inlines nor calls it directly, and every such call goes through the PLT;
  # an executable (llama-perplexity) has no such calls. -fno-semantic-interposition lets the
  # compiler treat the library's functions as the static build does, and -Bsymbolic-functions
  # binds the calls that remain to the library's own definitions. Same code, so the same rows:
  # PPL of stories260K F32 and Q4_0 is bit-identical with and without; stories260K PPL went from
  # 0.97x to 1.00x llama-perplexity (bench/README.md). The folder name changed with the flags
  # (build-lib before), so an old cache is rebuilt rather than reused.
  flags=("${common[@]}" -DBUILD_SHARED_LIBS=ON -DGGML_BACKEND_DL=OFF -DGGML_OPENMP=ON -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_SERVER=OFF
    -DCMAKE_C_FLAGS=-fno-semantic-interposition -DCMAKE_CXX_FLAGS=-fno-semantic-interposition -DCMAKE_SHARED_LINKER_FLAGS=-Wl,-Bsymbolic-functions)
  targets=(llama)
  outputs=(libllama.so libggml.so libggml-base.so libggml-cpu.so)
else
  build="$src/build"
  flags=("${common[@]}" -DLLAMA_BUILD_SERVER=ON -DBUILD_SHARED_LIBS=OFF)
  targets=(llama-perplexity llama-bench llama-batched-bench llama-server llama-quantize llama-imatrix)
  outputs=("${targets[@]}")
fi
bin="$build/bin"
done_all=1
for t in "${outputs[@]}"; do [ -e "$bin/$t" ] || done_all=0; done
if [ "$done_all" = 1 ]; then echo "$bin"; exit 0; fi
mkdir -p "$cache"
# One build at a time per cache: two concurrent cmake runs in one build tree corrupt each other's
# objects (seen when two test runs started at once). The second waits, then finds the build done.
exec 9>"$cache/build.lock"
flock 9
done_all=1
for t in "${outputs[@]}"; do [ -e "$bin/$t" ] || done_all=0; done
if [ "$done_all" = 1 ]; then echo "$bin"; exit 0; fi
if [ ! -d "$src/.git" ]; then
  rm -rf "$src"
  git clone -q "$bundle" "$src" >&2
fi
cmake -S "$src" -B "$build" "${flags[@]}" >&2
cmake --build "$build" --config Release -j "$(nproc)" --target "${targets[@]}" >&2
echo "$bin"
