// SQuAD token-overlap F1 between a generated answer and a reference answer.
import { normalizeQuasi } from "./exactMatch.js";

/** Precision, recall and F1 of the token overlap between a prediction and a reference. */
export interface TokenF1Result {
  precision: number;
  recall: number;
  f1: number;
}

/**
 * SQuAD token F1 with its precision and recall: both strings are normalized with
 * {@link normalizeQuasi} and split on whitespace; the overlap counts each shared token as often
 * as it occurs in both (multiset intersection). As in the SQuAD v2.0 script, if either side has
 * no tokens the score is 1 when both are empty and 0 otherwise.
 */
export function tokenF1Detailed(prediction: string, reference: string): TokenF1Result {
  const pred = tokens(prediction);
  const ref = tokens(reference);
  if (pred.length === 0 || ref.length === 0) {
    const same = pred.length === ref.length ? 1 : 0;
    return { precision: same, recall: same, f1: same };
  }
  const refCounts = new Map<string, number>();
  for (const t of ref) refCounts.set(t, (refCounts.get(t) ?? 0) + 1);
  let common = 0;
  for (const t of pred) {
    const left = refCounts.get(t) ?? 0;
    if (left > 0) {
      common++;
      refCounts.set(t, left - 1);
    }
  }
  if (common === 0) return { precision: 0, recall: 0, f1: 0 };
  const precision = common / pred.length;
  const recall = common / ref.length;
  return { precision, recall, f1: (2 * precision * recall) / (precision + recall) };
}

/** SQuAD token F1 (0..1) of a prediction against a reference; see {@link tokenF1Detailed}. */
export function tokenF1(prediction: string, reference: string): number {
  return tokenF1Detailed(prediction, reference).f1;
}

function tokens(s: string): string[] {
  const n = normalizeQuasi(s);
  return n.length === 0 ? [] : n.split(" ");
}
