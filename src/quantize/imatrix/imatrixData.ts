// The in-memory form of an importance matrix, as llama.cpp's GGUF imatrix format stores it
// (tools/imatrix/imatrix.cpp, save_imatrix): per weight tensor, raw sums of squared activations
// (`<name>.in_sum2`, ne0 × n_mat) and token counts per matrix (`<name>.counts`, 1 × n_mat).

/** One weight tensor's statistics. */
export interface ImatrixEntry {
  /** Σ x² per input column, matrix after matrix (length ne0 · nMat). */
  sums: Float32Array;
  /** Rows (tokens) accumulated, per matrix; one value for a dense tensor. */
  counts: number[];
  /** Input columns (the weight's ne[0]). */
  ne0: number;
  /** Matrices (experts) in the weight: ne[2]·ne[3]. */
  nMat: number;
}

export interface ImatrixData {
  entries: Map<string, ImatrixEntry>;
  /** `imatrix.datasets`: where the calibration text came from. */
  datasets: string[];
  /** `imatrix.chunk_count`. */
  chunkCount: number;
  /** `imatrix.chunk_size`: tokens per chunk. */
  chunkSize: number;
}

/**
 * The per-column importance llama-quantize hands to the quantizer: sums / count per matrix
 * (a matrix that saw no tokens gets 1s), as tools/quantize/quantize.cpp's load_imatrix.
 */
export function importanceOf(e: ImatrixEntry): Float32Array {
  const out = new Float32Array(e.sums.length);
  const nCounts = e.counts.length;
  const per = e.sums.length / nCounts;
  for (let m = 0; m < nCounts; m++) {
    const c = e.counts[m];
    for (let i = 0; i < per; i++) out[m * per + i] = c > 0 ? e.sums[m * per + i] / c : 1;
  }
  return out;
}
