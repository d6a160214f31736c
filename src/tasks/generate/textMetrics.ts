// Reference metrics, diversity and length statistics of one model's generations.
import type { GenerateResult } from "../../backends/backend.js";
import { distinct123 } from "../../metrics/distinctN.js";
import { codePoints, meanLengthRatio, uniqueSentenceRatio } from "../../metrics/diversity.js";
import { exactMatchScores } from "../../metrics/exactMatch.js";
import { rouge1F, rougeLF } from "../../metrics/rouge.js";
import { tokenF1 } from "../../metrics/tokenF1.js";

/** Per-sample scores against the reference, by metric name. */
export const REFERENCE_METRICS = ["exact_match", "exact_match_prefix", "exact_match_suffix", "exact_match_quasi", "token_f1", "rouge1", "rougeL"] as const;

export type ReferenceScores = Record<(typeof REFERENCE_METRICS)[number], number>;

/** Every reference metric for one (output, reference) pair. */
export function referenceScores(output: string, reference: string): ReferenceScores {
  return { ...exactMatchScores(output, reference), token_f1: tokenF1(output, reference), rouge1: rouge1F(output, reference), rougeL: rougeLF(output, reference) };
}

/** Arithmetic mean; NaN (JSON null) for an empty list. */
export function mean(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  let s = 0;
  for (const v of values) s += v;
  return s / values.length;
}

/**
 * Aggregates of one model's generations: reference metric means (when references exist),
 * distinct-1/2/3, unique-sentence ratio, mean length (code points) and tokens, length ratio
 * to the baseline's output for the same prompt, finish-reason rates and the share of outputs
 * identical to the baseline's.
 */
export function aggregateGenerations(gens: readonly GenerateResult[], baseline: readonly GenerateResult[], references: ReadonlyArray<string | undefined>): Record<string, number> {
  const texts = gens.map((g) => g.text);
  const out: Record<string, number> = { n: gens.length };
  // Sums in prompt order, as mean() adds a list: the same figures without a list of every prompt's scores.
  const sums = new Float64Array(REFERENCE_METRICS.length);
  let withRef = 0;
  for (const [i, g] of gens.entries()) {
    const r = references[i];
    if (r === undefined) continue;
    const s = referenceScores(g.text, r);
    for (const [k, m] of REFERENCE_METRICS.entries()) sums[k] += s[m];
    withRef++;
  }
  if (withRef > 0) for (const [k, m] of REFERENCE_METRICS.entries()) out[m] = sums[k] / withRef;
  Object.assign(out, distinct123(texts));
  out.unique_sentence_ratio = uniqueSentenceRatio(texts);
  const meanOf = (value: (g: GenerateResult, i: number) => number): number => {
    let s = 0;
    for (const [i, g] of gens.entries()) s += value(g, i);
    return gens.length === 0 ? NaN : s / gens.length;
  };
  out.mean_length = meanOf((g) => codePoints(g.text));
  out.mean_tokens = meanOf((g) => g.nTokens);
  out.length_ratio_to_baseline = meanLengthRatio(
    texts,
    baseline.map((b) => b.text),
  );
  out.identical_to_baseline = meanOf((g, i) => (g.text === baseline[i].text ? 1 : 0));
  for (const reason of ["eos", "length", "stop"] as const) out[`finish_${reason}_rate`] = meanOf((g) => (g.finishReason === reason ? 1 : 0));
  return out;
}
