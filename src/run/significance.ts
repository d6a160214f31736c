// Marks which variant deltas are real: outside the bootstrap CI of zero and beyond the
// noise floor (the baseline re-run under another batch layout). Also checks the baseline
// against published reference scores before anyone reads the variant deltas.
import type { ModelSpec } from "../config/schema.js";
import type { TaskOutcome } from "./taskContext.js";

type Cmp = Record<string, unknown> & { delta?: number; ci_low?: number; ci_high?: number };

export function markSignificance(outcome: TaskOutcome, noiseName: string | null): void {
  const noise = noiseName ? outcome.comparisons[noiseName] : undefined;
  for (const [variant, perMetric] of Object.entries(outcome.comparisons)) {
    if (outcome.type === "multiple_choice" || outcome.type === "loglikelihood" || outcome.type.startsWith("llamacpp_")) {
      for (const [metric, c] of Object.entries(perMetric as Record<string, Cmp>)) {
        if (c.ci_low === undefined) continue;
        const ciCoversZero = (c.ci_low ?? 0) <= 0 && (c.ci_high ?? 0) >= 0;
        const floor = Math.abs(((noise?.[metric] as Cmp | undefined)?.delta as number | undefined) ?? 0);
        const insideFloor = variant !== noiseName && noise !== undefined && Math.abs(c.delta ?? 0) <= floor;
        c.noise_floor_delta = noise ? floor : null;
        c.significant = variant !== noiseName && !ciCoversZero && !insideFloor;
        c.not_significant_reason = c.significant ? null : ciCoversZero ? "95% CI covers 0" : insideFloor ? "inside the noise floor" : "noise-floor row";
      }
    } else if (outcome.type === "perplexity") {
      const c = perMetric as Cmp & { kld_mean?: number; kld_err?: number };
      if (c.kld_mean === undefined) continue;
      const n = noise as (Cmp & { kld_mean?: number; kld_err?: number }) | undefined;
      const floor = n?.kld_mean !== undefined ? n.kld_mean + 2 * (n.kld_err ?? 0) : 0;
      c.noise_floor_kld = n?.kld_mean ?? null;
      c.significant = variant !== noiseName && c.kld_mean - 2 * (c.kld_err ?? 0) > floor;
    }
  }
}

/** Warnings when the measured baseline differs from its published score by more than the CI. */
export function referenceWarnings(taskName: string, outcome: TaskOutcome, baseline: ModelSpec): string[] {
  const refs = baseline.reference_scores?.[taskName];
  if (!refs) return [];
  const measured = outcome.results[baseline.name] ?? {};
  const out: string[] = [];
  for (const [metric, ref] of Object.entries(refs)) {
    if (metric.endsWith("_ci")) continue;
    const m = measured[metric];
    if (typeof m !== "number") {
      out.push(`baseline '${baseline.name}' has a reference ${taskName}/${metric} but the task does not report ${metric}`);
      continue;
    }
    const se = measured[`${metric}_stderr`];
    const ci = refs[`${metric}_ci`] ?? (typeof se === "number" ? 1.96 * se : 0);
    if (Math.abs(m - ref) > ci) {
      out.push(`baseline does not reproduce reference: ${taskName} ${metric} measured ${m.toFixed(4)} vs reference ${ref.toFixed(4)} (±${ci.toFixed(4)}); check prompts, few-shot and model before reading variant deltas`);
    }
  }
  return out;
}
