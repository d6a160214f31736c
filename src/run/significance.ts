// Marks which variant changes are real, by one stated rule per metric (src/metrics/metricInfo.ts):
// exact McNemar for accuracies (a mean of per-item 0/1 outcomes), the paired-bootstrap CI for F1
// and other aggregates; either way the change must also exceed the noise floor (the baseline
// re-run under another batch layout). Records the test that decided, and checks whether each
// accuracy task can detect a loss at all (baseline above chance, not one class). Also checks the
// baseline against published reference scores before anyone reads the variant deltas.
import { type BaselineCheck, checkBaseline } from "../compare/baselineCheck.js";
import type { ModelSpec } from "../config/schema.js";
import { accuracyMetricsOf, metricInfo, TEST_LABEL } from "../metrics/metricInfo.js";
import { samplePages } from "./evaluationStore.js";
import type { SampleRow, TaskOutcome } from "./taskContext.js";

type Cmp = Record<string, unknown> & { delta?: number; ci_low?: number; ci_high?: number; mcnemar_p?: number };

/** Significance level of every paired test. */
export const ALPHA = 0.05;

/** How a change compares: `significant`, `inconclusive` (the tests or the noise floor disagree), or `none`. */
export type ChangeStatus = "significant" | "inconclusive" | "none";

export function markSignificance(outcome: TaskOutcome, noiseName: string | null): void {
  const noise = noiseName ? outcome.comparisons[noiseName] : undefined;
  const accMetrics = accuracyMetricsOf(outcome.comparisons);
  for (const [variant, perMetric] of Object.entries(outcome.comparisons)) {
    for (const metric of accMetrics) {
      const c = (perMetric as Record<string, Cmp>)[metric];
      if (!c || c.ci_low === undefined) continue;
      markPaired(metric, c, variant === noiseName, noise ? ((noise[metric] as Cmp | undefined)?.delta ?? 0) : null);
    }
    if (outcome.type === "perplexity") {
      const c = perMetric as Cmp & { kld_mean?: number; kld_err?: number };
      if (c.kld_mean === undefined) continue;
      const n = noise as (Cmp & { kld_mean?: number; kld_err?: number }) | undefined;
      const floor = n?.kld_mean !== undefined ? n.kld_mean + 2 * (n.kld_err ?? 0) : 0;
      c.noise_floor_kld = n?.kld_mean ?? null;
      c.significant = variant !== noiseName && c.kld_mean - 2 * (c.kld_err ?? 0) > floor;
    }
  }
  if (accMetrics.length > 0) {
    const baseline = Object.keys(outcome.samples).find((m) => !(m in outcome.comparisons));
    // Only what checkBaseline reads, page by page: a large task's samples are never all in memory.
    const rows = baseline ? slimRows(outcome.samples, baseline) : undefined;
    if (rows) outcome.extra = { ...outcome.extra, baseline_check: checkBaseline(rows) satisfies BaselineCheck };
  }
}

/** The fields of a model's samples that checkBaseline reads (choices only as their count). */
function slimRows(samples: Record<string, SampleRow[]>, model: string): Array<Record<string, unknown>> {
  const rows: Array<Record<string, unknown>> = [];
  for (const page of samplePages(samples, model)) {
    for (const s of page) rows.push({ correct: s.correct, is_greedy: s.is_greedy, pred: s.pred, choices: Array.isArray(s.choices) ? new Array(s.choices.length) : undefined });
  }
  return rows;
}

/** Applies the metric's registered test to one paired comparison, in place. */
function markPaired(metric: string, c: Cmp, isNoiseRow: boolean, noiseDelta: number | null): void {
  const test = metricInfo(metric)!.test;
  const ciExcludesZero = !((c.ci_low ?? 0) <= 0 && (c.ci_high ?? 0) >= 0);
  const mcnemarRejects = typeof c.mcnemar_p === "number" && c.mcnemar_p < ALPHA;
  const decisive = test === "mcnemar_exact" ? mcnemarRejects : ciExcludesZero;
  const other = test === "mcnemar_exact" ? ciExcludesZero : mcnemarRejects;
  const floor = Math.abs(noiseDelta ?? 0);
  const insideFloor = !isNoiseRow && noiseDelta !== null && Math.abs(c.delta ?? 0) <= floor;
  c.test = test;
  c.p_value = test === "mcnemar_exact" ? (c.mcnemar_p ?? null) : null;
  c.noise_floor_delta = noiseDelta !== null ? floor : null;
  c.significant = !isNoiseRow && decisive && !insideFloor;
  const status: ChangeStatus = c.significant ? "significant" : !isNoiseRow && (decisive || other) ? "inconclusive" : "none";
  c.change = status;
  c.not_significant_reason = c.significant
    ? null
    : isNoiseRow
      ? "noise-floor row"
      : decisive
        ? "inside the noise floor"
        : test === "mcnemar_exact"
          ? `${TEST_LABEL[test]} p = ${(c.mcnemar_p ?? 1).toPrecision(2)} ≥ ${ALPHA}${other ? " (the bootstrap CI excludes 0)" : ""}`
          : `95% CI covers 0${other ? ` (McNemar p = ${(c.mcnemar_p ?? 1).toPrecision(2)})` : ""}`;
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
      out.push(
        `baseline does not reproduce reference: ${taskName} ${metric} measured ${m.toFixed(4)} vs reference ${ref.toFixed(4)} (±${ci.toFixed(4)}); check prompts, few-shot and model before reading variant deltas`,
      );
    }
  }
  return out;
}
