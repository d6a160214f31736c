// The distribution kernels in plain JavaScript, one thread: the reference the native kernels
// (native/distmath.cpp) are tested against, and the fallback when no C++ compiler is present.
import type { DistMathKernels } from "./distMathKernels.js";

/** Max of a row; NaN when the row holds NaN or +∞ (a broken model). */
function rowMax(row: Float32Array, off: number, n: number): number {
  let max = -Infinity;
  for (let i = off; i < off + n; i++) {
    const v = row[i];
    if (v > max) max = v;
    else if (Number.isNaN(v)) return NaN;
  }
  return max === Infinity ? NaN : max;
}

/** First index of the maximum (ties: lowest index, as llama.cpp's strict '>'). */
function argmax(row: Float32Array, off: number, n: number): number {
  let best = 0;
  let m = row[off];
  for (let i = 1; i < n; i++) {
    if (row[off + i] > m) {
      m = row[off + i];
      best = i;
    }
  }
  return best;
}

/** {@link DistMathKernels} on the main thread in float64. */
export const jsKernels: DistMathKernels = {
  name: "js",
  threads: 1,
  logSoftmax(rows, nRows, nVocab) {
    let bad = 0;
    for (let r = 0; r < nRows; r++) {
      const off = r * nVocab;
      const max = rowMax(rows, off, nVocab);
      if (!Number.isFinite(max)) {
        rows.fill(NaN, off, off + nVocab);
        bad++;
        continue;
      }
      let sum = 0;
      for (let i = off; i < off + nVocab; i++) sum += Math.exp(rows[i] - max);
      const lse = Math.log(sum);
      for (let i = off; i < off + nVocab; i++) rows[i] = rows[i] - max - lse;
    }
    return bad;
  },
  logSoftmaxInto(src, dst, nRows, nVocab) {
    dst.set(src.subarray(0, nRows * nVocab));
    return this.logSoftmax(dst, nRows, nVocab);
  },
  drift(base, variant, nRows, nVocab, floor, out) {
    for (let r = 0; r < nRows; r++) {
      const off = r * nVocab;
      let sum = 0;
      for (let i = off; i < off + nVocab; i++) {
        const lb = base[i];
        if (lb > floor) sum += Math.exp(lb) * (lb - variant[i]);
      }
      out.kld[r] = sum;
      out.argBase[r] = argmax(base, off, nVocab);
      out.argVariant[r] = argmax(variant, off, nVocab);
    }
  },
  topK(rows, nRows, nVocab, k, out) {
    for (let r = 0; r < nRows; r++) {
      const off = r * nVocab;
      const ids = out.ids.subarray(r * k, (r + 1) * k);
      const lps = out.logprobs.subarray(r * k, (r + 1) * k);
      let filled = 0;
      for (let i = 0; i < nVocab; i++) {
        const v = rows[off + i];
        if (filled === k && !(v > lps[k - 1])) continue;
        let j = filled < k ? filled++ : k - 1;
        while (j > 0 && v > lps[j - 1]) {
          lps[j] = lps[j - 1];
          ids[j] = ids[j - 1];
          j--;
        }
        lps[j] = v;
        ids[j] = i;
      }
      let tail = 0;
      if (filled === k) {
        const last = lps[k - 1];
        const lastId = ids[k - 1];
        for (let i = 0; i < nVocab; i++) {
          const v = rows[off + i];
          if (!(v > last || (v === last && i <= lastId))) tail += Math.exp(v);
        }
      }
      ids.fill(-1, filled);
      lps.fill(-Infinity, filled);
      out.tail[r] = tail;
    }
  },
};
