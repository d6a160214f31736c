// ROUGE-1 and ROUGE-L (F-measure) between a candidate text and a reference text.
//
// Written by hand on purpose: both are a few lines, and no maintained JavaScript package computes
// them offline with a clear tokenization. Tokenization follows Google's `rouge_score` default
// (lower-case, everything that is not a letter or digit separates tokens, no stemming), except
// that letters and digits of every script count, not only ASCII [a-z0-9], so non-English
// outputs are not scored as empty.

/** Precision, recall and F-measure (harmonic mean, beta = 1) of one ROUGE variant. */
export interface RougeScore {
  precision: number;
  recall: number;
  f: number;
}

/** Lower-cased word tokens as ROUGE sees them: maximal runs of letters, marks and digits. */
export function rougeTokens(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{M}\p{N}]+/gu) ?? [];
}

/** ROUGE-1: clipped unigram overlap between candidate and reference. */
export function rouge1(candidate: string, reference: string): RougeScore {
  const cand = rougeTokens(candidate);
  const ref = rougeTokens(reference);
  const refCounts = new Map<string, number>();
  for (const t of ref) refCounts.set(t, (refCounts.get(t) ?? 0) + 1);
  let overlap = 0;
  for (const t of cand) {
    const left = refCounts.get(t) ?? 0;
    if (left > 0) {
      overlap++;
      refCounts.set(t, left - 1);
    }
  }
  return score(overlap, cand.length, ref.length);
}

/** ROUGE-L: longest common subsequence of the token sequences (summary-level LCS is not used). */
export function rougeL(candidate: string, reference: string): RougeScore {
  const cand = rougeTokens(candidate);
  const ref = rougeTokens(reference);
  return score(lcsLength(cand, ref), cand.length, ref.length);
}

/** ROUGE-1 F-measure (0..1). */
export function rouge1F(candidate: string, reference: string): number {
  return rouge1(candidate, reference).f;
}

/** ROUGE-L F-measure (0..1). */
export function rougeLF(candidate: string, reference: string): number {
  return rougeL(candidate, reference).f;
}

/** Length of the longest common subsequence of two token sequences (O(n·m) time, O(m) memory). */
export function lcsLength(a: readonly string[], b: readonly string[]): number {
  if (a.length === 0 || b.length === 0) return 0;
  let prev = new Uint32Array(b.length + 1);
  let cur = new Uint32Array(b.length + 1);
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      cur[j] = a[i - 1] === b[j - 1] ? prev[j - 1] + 1 : Math.max(prev[j], cur[j - 1]);
    }
    [prev, cur] = [cur, prev];
  }
  return prev[b.length];
}

function score(hits: number, candLen: number, refLen: number): RougeScore {
  const precision = candLen === 0 ? 0 : hits / candLen;
  const recall = refLen === 0 ? 0 : hits / refLen;
  const f = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return { precision, recall, f };
}
