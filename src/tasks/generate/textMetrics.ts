// Reference metrics, diversity and length statistics of one model's generations.
import type { GenerateResult } from "../../backends/backend.js";
import { distinct123, meanLengthRatio, uniqueSentenceRatio } from "../../metrics/diversity.js";
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
  const withRef = gens.map((g, i) => [g.text, references[i]] as const).filter((p): p is readonly [string, string] => p[1] !== undefined);
  if (withRef.length > 0) {
    const scores = withRef.map(([o, r]) => referenceScores(o, r));
    for (const m of REFERENCE_METRICS) out[m] = mean(scores.map((s) => s[m]));
  }
  Object.assign(out, distinct123(texts));
  out.unique_sentence_ratio = uniqueSentenceRatio(texts);
  out.mean_length = mean(texts.map((t) => Array.from(t).length));
  out.mean_tokens = mean(gens.map((g) => g.nTokens));
  out.length_ratio_to_baseline = meanLengthRatio(
    texts,
    baseline.map((b) => b.text),
  );
  out.identical_to_baseline = mean(gens.map((g, i) => (g.text === baseline[i].text ? 1 : 0)));
  for (const reason of ["eos", "length", "stop"] as const) out[`finish_${reason}_rate`] = mean(gens.map((g) => (g.finishReason === reason ? 1 : 0)));
  return out;
}
