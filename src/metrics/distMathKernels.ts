// The kernels behind perplexity, KLD, top-1, Δp and stored top-K distributions, and the choice
// between their native build (native/distmath.cpp: every core, SIMD) and the JavaScript reference.
import { jsKernels } from "./distMathJs.js";
import { loadNativeDistMath } from "./nativeDistMath.js";

/** Per-row outputs of {@link DistMathKernels.drift}. */
export interface DriftRows {
  /** KL(base ‖ variant) per row, nats (float64 sum). */
  kld: Float64Array;
  /** argmax of each base row (first index on ties). */
  argBase: Int32Array;
  /** argmax of each variant row. */
  argVariant: Int32Array;
}

/** Per-row outputs of {@link DistMathKernels.topK}: row r owns [r·k, (r+1)·k). */
export interface TopKRows {
  /** token ids, best first; −1 pads rows with fewer than k entries */
  ids: Int32Array;
  /** their log-probs (exact float32 values of the row) */
  logprobs: Float32Array;
  /** probability mass of every entry not in the top k (float64 sum) */
  tail: Float64Array;
}

/** Row-wise distribution math over `nRows` contiguous rows of `nVocab` floats. */
export interface DistMathKernels {
  /** "native" or "js" (recorded in manifests and bench output). */
  readonly name: string;
  /** Threads the kernels split rows over. */
  readonly threads: number;
  /**
   * Raw logits → log-probabilities in place (float64 max/sum). A row holding NaN or +∞ is
   * filled with NaN, never averaged: the caller names it. Returns the number of such rows.
   */
  logSoftmax(rows: Float32Array, nRows: number, nVocab: number): number;
  /**
   * {@link logSoftmax} of `src` written to `dst` (same values, bit for bit), reading `src` once:
   * the GGUF backend passes a view over llama.cpp's logits buffer, so the rows are never copied
   * into JavaScript before the math.
   */
  logSoftmaxInto(src: Float32Array, dst: Float32Array, nRows: number, nVocab: number): number;
  /** KLD (terms with base log-prob ≤ floor skipped) and both argmaxes per row of two log-prob matrices. */
  drift(base: Float32Array, variant: Float32Array, nRows: number, nVocab: number, floor: number, out: DriftRows): void;
  /** Exact top-k log-probs and the tail mass per row, for stored baseline distributions. */
  topK(rows: Float32Array, nRows: number, nVocab: number, k: number, out: TopKRows): void;
}

let chosen: DistMathKernels | undefined;

/**
 * The kernels this process uses: native (built once per machine into the quanteval cache, see
 * nativeDistMath.ts) unless QUANTEVAL_DISTMATH=js or no compiler is present, in which case the
 * JavaScript path runs after a one-line note on stderr.
 */
export function distMath(): DistMathKernels {
  if (chosen) return chosen;
  if (process.env.QUANTEVAL_DISTMATH === "js") return (chosen = jsKernels);
  const native = loadNativeDistMath();
  if (typeof native === "string") {
    process.stderr.write(`note: distribution math runs in JavaScript on one thread (${native})\n`);
    return (chosen = jsKernels);
  }
  return (chosen = native);
}

/**
 * Selects the kernels for this process (tests and benchmarks compare the two paths);
 * undefined returns to the default choice of {@link distMath}.
 */
export function chooseDistMath(kernels: DistMathKernels | undefined): void {
  chosen = kernels;
}

/** Allocates {@link DriftRows} for n rows. */
export function driftRows(n: number): DriftRows {
  return { kld: new Float64Array(n), argBase: new Int32Array(n), argVariant: new Int32Array(n) };
}

/** Allocates {@link TopKRows} for n rows of k entries. */
export function topKRows(n: number, k: number): TopKRows {
  return { ids: new Int32Array(n * k), logprobs: new Float32Array(n * k), tail: new Float64Array(n) };
}
