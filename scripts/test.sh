#!/usr/bin/env bash
# Runs the test suite on the real models and data in ../shared (override with QUANTEVAL_SHARED_DIR).
#   bash scripts/test.sh                      every test file under test/
#   bash scripts/test.sh FILE|DIR …           only those files (a folder means its *.test.ts files)
#   bash scripts/test.sh --unit               the unit lane: the model-free files listed in test/unit-tests.txt
# Any other argument (e.g. --test-name-pattern=copa) is passed to node's test runner.
set -euo pipefail
cd "$(dirname "$0")/.."
export QUANTEVAL_SHARED_DIR="${QUANTEVAL_SHARED_DIR:-$(cd .. && pwd)/shared}"
export QUANTEVAL_DATA_DIR="${QUANTEVAL_DATA_DIR:-$QUANTEVAL_SHARED_DIR/datasets}"
export QUANTEVAL_MODELS_DIR="${QUANTEVAL_MODELS_DIR:-$QUANTEVAL_SHARED_DIR/models}"
export HF_HUB_OFFLINE="${HF_HUB_OFFLINE:-1}"

mapfile -t unit < <(sed -e 's/#.*//' -e 's/[[:space:]]*$//' test/unit-tests.txt | grep -v '^$')
files=()
opts=()
for arg in "$@"; do
  if [ "$arg" = "--unit" ]; then
    for f in "${unit[@]}"; do [ -f "$f" ] || { echo "scripts/test.sh: test/unit-tests.txt lists $f, which does not exist; fix the list" >&2; exit 2; }; done
    files+=("${unit[@]}")
  elif [ -d "$arg" ]; then
    mapfile -t -O "${#files[@]}" files < <(find "$arg" -name '*.test.ts' | sort)
  elif [[ "$arg" == *.ts ]]; then
    [ -f "$arg" ] || { echo "scripts/test.sh: no such test file: $arg" >&2; exit 2; }
    files+=("$arg")
  else
    opts+=("$arg")
  fi
done
[ "${#files[@]}" -gt 0 ] || mapfile -t files < <(find test -name '*.test.ts' | sort)
mapfile -t files < <(printf '%s\n' "${files[@]}" | awk '!seen[$0]++')

# llama.cpp is built only when a selected file is outside the unit lane (the unit lane loads no model).
needs_llama=0
for f in "${files[@]}"; do
  printf '%s\n' "${unit[@]}" | grep -qxF "${f#./}" || { needs_llama=1; break; }
done
if [ "$needs_llama" = 1 ]; then
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
fi
exec node --import tsx --test --test-concurrency=1 --test-timeout=900000 "${opts[@]}" "${files[@]}"
