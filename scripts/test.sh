#!/usr/bin/env bash
# Runs the test suite on the real models and data in ../shared (override with QUANTEVAL_SHARED_DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
export QUANTEVAL_SHARED_DIR="${QUANTEVAL_SHARED_DIR:-$(cd .. && pwd)/shared}"
export QUANTEVAL_DATA_DIR="${QUANTEVAL_DATA_DIR:-$QUANTEVAL_SHARED_DIR/datasets}"
export QUANTEVAL_MODELS_DIR="${QUANTEVAL_MODELS_DIR:-$QUANTEVAL_SHARED_DIR/models}"
export HF_HUB_OFFLINE="${HF_HUB_OFFLINE:-1}"
# llama.cpp's own tools (llama-perplexity, llama-bench, llama-server), built once from the source
# node-llama-cpp ships, for the cross-check tests.
if [ -z "${QUANTEVAL_LLAMA_BIN:-}" ]; then
  echo "building llama.cpp reference tools (cached after the first time)…" >&2
  QUANTEVAL_LLAMA_BIN="$(bash scripts/build-llamacpp.sh | tail -n 1)"
  export QUANTEVAL_LLAMA_BIN
fi
# The same llama.cpp as shared libraries built for this CPU, for test/backends/nativeLib.test.ts.
if [ -z "${QUANTEVAL_TEST_NATIVE_LIB:-}" ]; then
  echo "building llama.cpp as native shared libraries (cached after the first time)…" >&2
  QUANTEVAL_TEST_NATIVE_LIB="$(bash scripts/build-llamacpp.sh --native-lib | tail -n 1)"
  export QUANTEVAL_TEST_NATIVE_LIB
fi
mapfile -t files < <(find test -name '*.test.ts' | sort)
exec node --import tsx --test --test-concurrency=1 --test-timeout=900000 "$@" "${files[@]}"
