// Generation-drift rows of `generate` tasks, drawn from results.json: the comparison records of
// each drift measure with its paired CI (bootstrap over prompts), and the plain drift values
// (embedding distances, win rates…) the drift charts plot.
import { metricInfo, TEST_LABEL } from "../metrics/metricInfo.js";
import type { RunResults } from "../run/runEvaluation.js";
import type { ComparisonRecord } from "./reportData.js";
import { comparedModels, isObj, num } from "./resultFields.js";

/** One numeric generation-drift value (embedding distances, win rates…) of one variant. */
export interface DriftValue {
  task: string;
  variant: string;
  metric: string;
  value: number;
}

/** Generation-drift measures of a variant's comparison (generate tasks), in display order. */
export const DRIFT_KEYS = [
  "embed_l1_to_baseline",
  "embed_cos_to_baseline",
  "embed_l1_to_reference",
  "embed_cos_to_reference",
  "length_ratio_to_baseline",
  "identical_to_baseline",
  "token_f1_delta",
  "rougeL_delta",
  "exact_match_quasi_delta",
  "judge_win_rate",
  "fact_retention_delta",
  "token_f1_degradation_delta",
  "rougeL_degradation_delta",
  "embed_cos_to_reference_delta",
  "embed_l1_to_reference_delta",
  "distinct_2_delta",
  "mean_length_delta",
];
const EMBED_KEYS = DRIFT_KEYS.slice(0, 4);

/** The paired CI of a drift measure: `paired[key]`, or `paired[metric]` for a Δ (token_f1_delta ← token_f1). */
function pairedOf(c: Record<string, unknown>, key: string): Record<string, unknown> | undefined {
  if (!isObj(c.paired)) return undefined;
  const p = c.paired[key] ?? c.paired[key.replace(/_delta$/, "")];
  return isObj(p) ? p : undefined;
}

/**
 * Generation-drift figures of a generate task as records (one per measure in DRIFT_KEYS), so
 * they reach the CSV, Markdown, HTML and terminal, with the paired CI (bootstrap over prompts) of
 * `comparisons[v].paired` when the run measured one:
 * - a Δ (token F1, ROUGE-L, fact retention) or the judge's win rate: Δ against the baseline (the
 *   win rate against 0.5, an even split) with its CI, judged by the bootstrap test;
 * - an embedding distance to the baseline's output: Δ from the baseline's own distance, 0, with
 *   its CI, judged against the noise floor's distance (shown only without a noise floor);
 * - diversity and length Δ: with their CI, shown and not judged (metricInfo test `none`).
 */
export function generationRecords(task: string, variant: string, c: Record<string, unknown>, noiseName: string | null): ComparisonRecord[] {
  return DRIFT_KEYS.filter((k) => num(c[k]) !== null).map((metric) => {
    const p = pairedOf(c, metric);
    const value = num(p?.value) ?? num(p?.mean) ?? num(c[metric]);
    const delta = p ? (num(p.delta) ?? num(p.mean)) : metric.endsWith("_delta") ? num(c[metric]) : null;
    const significant = typeof p?.significant === "boolean" ? p.significant : null;
    const test = metricInfo(metric)?.test ?? "none";
    return {
      task,
      type: "generate",
      metric,
      variant,
      is_noise_floor: variant === noiseName,
      baseline: value !== null && delta !== null && p ? value - delta : null,
      value,
      delta,
      ci_low: num(p?.ci_low),
      ci_high: num(p?.ci_high),
      recovery_pct: null,
      p_value: null,
      flips_correct_to_wrong: null,
      flips_wrong_to_correct: null,
      n: num(p?.n),
      noise_floor: num(p?.noise_floor_delta),
      significant,
      test: TEST_LABEL[test],
      approximate: false,
      note: !p
        ? "no paired CI (no per-prompt values)"
        : significant === true
          ? ""
          : test === "none"
            ? "shown, not judged"
            : variant === noiseName
              ? "noise-floor row"
              : significant === null
                ? "shown, not judged (no noise floor)"
                : num(p.ci_low)! <= 0 && num(p.ci_high)! >= 0
                  ? "95% CI covers 0"
                  : "inside the noise floor",
    };
  });
}

/**
 * Generation-drift values of `generate` tasks: each variant's embedding distances to the
 * baseline's outputs and to the references (every embedder), length ratio, metric deltas, judge
 * win rate and fact retention; plus the baseline's own distances to the references, to compare.
 */
export function driftValues(r: RunResults): DriftValue[] {
  const out: DriftValue[] = [];
  for (const [task, t] of Object.entries(r.tasks)) {
    if (t.type !== "generate") continue;
    const base = t.results[r.baseline] ?? {};
    for (const k of EMBED_KEYS.filter((k) => k.endsWith("_to_reference"))) {
      const v = num(base[k]);
      if (v !== null) out.push({ task, variant: r.baseline, metric: k, value: v });
    }
    for (const variant of comparedModels(r)) {
      const c = t.comparisons[variant];
      if (!isObj(c)) continue;
      for (const k of DRIFT_KEYS) {
        const v = num(c[k]);
        if (v !== null) out.push({ task, variant, metric: k, value: v });
      }
      // Embedders beyond the first (whose values are the flat keys above).
      if (isObj(c.embedders)) {
        for (const [id, e] of Object.entries(c.embedders)) {
          if (id === c.embedder || !isObj(e)) continue;
          for (const k of EMBED_KEYS) {
            const v = num(e[k]);
            if (v !== null) out.push({ task, variant, metric: `${k} (${id})`, value: v });
          }
        }
      }
    }
  }
  return out;
}
