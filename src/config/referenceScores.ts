// `reference_scores: PATH`: the published scores a baseline should reproduce, read from an
// lm-evaluation-harness results file (or its --output_path folder) instead of typed in.
import { resolveLocalPath } from "../data/resolveDataset.js";
import { readLmEvalResults } from "../lmeval/readLmEvalResults.js";
import { QuantevalError } from "../util/errors.js";

/** {task: {metric: value, metric_ci: 1.96 × lm-eval's stderr}} from an lm-eval results file. */
export function referenceScoresFromLmEval(path: string): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const [task, t] of Object.entries(readLmEvalResults(path).tasks)) {
    const scores: Record<string, number> = {};
    for (const [metric, v] of Object.entries(t.metrics)) {
      if (metric.endsWith("_stderr") || !Number.isFinite(v)) continue;
      scores[metric] = v;
      const se = t.metrics[`${metric}_stderr`];
      if (Number.isFinite(se)) scores[`${metric}_ci`] = 1.96 * se;
    }
    out[task] = scores;
  }
  return out;
}

/**
 * Replaces every model's `reference_scores` that names a file (resolved beside the config, then
 * in the working directory) by the scores in it, before the config is validated.
 */
export function inlineReferenceScores(raw: unknown, configDir: string, file: string): void {
  if (raw === null || typeof raw !== "object") return;
  const r = raw as Record<string, unknown>;
  const specs = [r.baseline, ...(Array.isArray(r.variants) ? r.variants : [])];
  for (const spec of specs) {
    if (spec === null || typeof spec !== "object") continue;
    const s = spec as Record<string, unknown>;
    if (typeof s.reference_scores !== "string") continue;
    const path = resolveLocalPath(s.reference_scores, configDir);
    if (!path) throw new QuantevalError(`${file}: reference_scores file not found: ${s.reference_scores}; give an lm-eval results_*.json or its --output_path folder`);
    s.reference_scores = referenceScoresFromLmEval(path);
  }
}
