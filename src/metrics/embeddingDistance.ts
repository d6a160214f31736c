// Distances between two embedding vectors (e.g. a baseline output and a quantized variant's
// output for the same prompt), and their summary over a prompt set.

/** Any vector the distance functions accept. */
export type Vector = ArrayLike<number>;

function checkDims(a: Vector, b: Vector, name: string): void {
  if (a.length !== b.length) throw new Error(`${name}: vectors have different dimensions (${a.length} vs ${b.length})`);
  if (a.length === 0) throw new Error(`${name}: vectors are empty`);
}

/** Mean absolute per-dimension difference: Σ|aᵢ − bᵢ| / dim. */
export function l1Distance(a: Vector, b: Vector): number {
  checkDims(a, b, "l1Distance");
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i] - b[i]);
  return sum / a.length;
}

/**
 * 1 − cosine similarity, in [0, 2]. Exactly 0 when the vectors are element-wise identical
 * (rounding could otherwise give ±1e-8); also clamped to [0, 2] against rounding. If exactly
 * one vector is all zeros the cosine is undefined and the distance is taken as 1 (orthogonal).
 */
export function cosineDistance(a: Vector, b: Vector): number {
  checkDims(a, b, "cosineDistance");
  let identical = true;
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (x !== y) identical = false;
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  if (identical) return 0;
  if (na === 0 || nb === 0) return 1;
  const d = 1 - dot / (Math.sqrt(na) * Math.sqrt(nb));
  return Math.min(2, Math.max(0, d));
}

/** Mean and median of a list of values; both NaN (JSON null) for an empty list. */
export function summarize(values: readonly number[]): { mean: number; median: number } {
  if (values.length === 0) return { mean: NaN, median: NaN };
  const sorted = [...values].sort((x, y) => x - y);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  let sum = 0;
  for (const v of values) sum += v;
  return { mean: sum / values.length, median };
}
