#!/usr/bin/env bash
# The demo: quantize stories260K into several types with llama.cpp's quantizer, evaluate each
# against F32 (KoBEST subset, WikiText-2 perplexity + KLD, cost) and print the verdict.
# Models and data come from ../shared here; online users can point the config at hf: URIs.
set -euo pipefail
cd "$(dirname "$0")/.."
export QUANTEVAL_SHARED_DIR="${QUANTEVAL_SHARED_DIR:-$(cd .. && pwd)/shared}"
export QUANTEVAL_DATA_DIR="${QUANTEVAL_DATA_DIR:-$QUANTEVAL_SHARED_DIR/datasets}"
export QUANTEVAL_MODELS_DIR="${QUANTEVAL_MODELS_DIR:-$QUANTEVAL_SHARED_DIR/models}"
out="${1:-runs/demo}"
rm -rf "$out"
exec node dist/cli/main.js run examples/demo.yaml --out "$out"
