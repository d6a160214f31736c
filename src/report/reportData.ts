// Structured rows drawn from results.json, shared by the HTML report, the terminal tables, the CSV and the
// Markdown exports: one comparison record per (task, metric, variant), KLD percentiles,
// the size/quality frontier and generation-drift values.
import { metricInfo, primaryAccuracyMetric, TEST_LABEL } from "../metrics/metricInfo.js";
import type { RunResults } from "../run/runEvaluation.js";
import { costRuns } from "./verdict.js";
import { kldIsApproximate } from "./verdictEvidence.js";
import { generationRecords } from "./generationRecords.js";
import { comparedModels, isObj, num } from "./resultFields.js";

// test/report reads the drift values from here, with the other rows.
export { driftValues } from "./generationRecords.js";

/** One variant's paired comparison with the baseline on one task metric. */
export interface ComparisonRecord {
  task: string;
  type: string;
  metric: string;
  variant: string;
  /** The baseline re-run under another batch layout (the noise floor), not a real variant. */
  is_noise_floor: boolean;
  baseline: number | null;
  value: number | null;
  delta: number | null;
  ci_low: number | null;
  ci_high: number | null;
  recovery_pct: number | null;
  p_value: number | null;
  flips_correct_to_wrong: number | null;
  flips_wrong_to_correct: number | null;
  n: number | null;
  /** |Δ| of the noise-floor row (KLD mean for perplexity), when the run measured one. */
  noise_floor: number | null;
  significant: boolean | null;
  /** The test that decided (metricInfo), e.g. "McNemar exact", "bootstrap CI", "CI vs tolerance"; "–" when none applies. */
  test: string;
  /** The figure is approximate (KLD from a server's top-k log-probs): marked, never ranked against exact ones. */
  approximate: boolean;
  /** Why it is not significant, or another remark (e.g. a skipped comparison). */
  note: string;
}

/** One KLD percentile of one variant on one perplexity task. */
export interface KldPercentile {
  task: string;
  variant: string;
  percentile: string;
  order: number;
  kld: number;
  /** From a server's top-k log-probs: marked wherever shown. */
  approximate: boolean;
}

/** One model on the size/quality/speed plane. */
export interface FrontierPoint {
  model: string;
  label: string;
  quantization: string;
  is_baseline: boolean;
  bits_per_weight: number | null;
  file_mb: number | null;
  prefill_tps: number | null;
  decode_tps: number | null;
  /** Slowest and fastest timed decode repetition (the median is decode_tps). */
  decode_tps_min: number | null;
  decode_tps_max: number | null;
  /** Mean KLD against the baseline on the first perplexity task (0 for the baseline). */
  kld_mean: number | null;
  /** The KLD came from top-k log-probs: approximate, left off the KLD frontier. */
  kld_approximate: boolean;
  /** Mean accuracy delta (acc, else the task's first accuracy metric, per metricInfo) over accuracy tasks (0 for the baseline). */
  acc_delta: number | null;
  /** On the Pareto frontier of size against KLD. */
  pareto_kld: boolean;
  /** On the Pareto frontier of size against accuracy delta. */
  pareto_acc: boolean;
}

const runsExtreme = (runs: unknown, f: (...xs: number[]) => number): number | null =>
  Array.isArray(runs) && runs.length > 0 && runs.every((x) => typeof x === "number") ? f(...(runs as number[])) : null;

function pairedRecord(task: string, type: string, metric: string, variant: string, c: Record<string, unknown>, noiseName: string | null): ComparisonRecord {
  const significant = typeof c.significant === "boolean" ? c.significant : null;
  return {
    task,
    type,
    metric,
    variant,
    is_noise_floor: variant === noiseName,
    baseline: num(c.baseline),
    value: num(c.variant),
    delta: num(c.delta),
    ci_low: num(c.ci_low),
    ci_high: num(c.ci_high),
    recovery_pct: num(c.recovery_pct),
    p_value: num(c.mcnemar_p) ?? num(c.p_value),
    flips_correct_to_wrong: num(c.flips_correct_to_wrong),
    flips_wrong_to_correct: num(c.flips_wrong_to_correct),
    n: num(c.n),
    noise_floor: num(c.noise_floor_delta),
    significant,
    test: TEST_LABEL[metricInfo(metric)?.test ?? "none"],
    approximate: false,
    note: significant === false && typeof c.not_significant_reason === "string" ? c.not_significant_reason : "",
  };
}

/** Every comparison of every task, in task order, variants in display order. */
export function comparisonRecords(r: RunResults): ComparisonRecord[] {
  const out: ComparisonRecord[] = [];
  for (const [task, t] of Object.entries(r.tasks)) {
    for (const variant of comparedModels(r)) {
      const cmp = t.comparisons[variant];
      if (!isObj(cmp)) continue;
      if (t.type === "perplexity") {
        out.push(...perplexityRecords(task, variant, cmp, r.noise_floor, kldIsApproximate(r, variant)));
        continue;
      }
      if (t.type === "generate") {
        out.push(...generationRecords(task, variant, cmp, r.noise_floor));
        continue;
      }
      for (const [metric, c] of Object.entries(cmp)) {
        if (isObj(c) && num(c.delta) !== null) out.push(pairedRecord(task, t.type, metric, variant, c, r.noise_floor));
      }
    }
  }
  return out;
}

function perplexityRecords(task: string, variant: string, c: Record<string, unknown>, noiseName: string | null, approximate: boolean): ComparisonRecord[] {
  const base = {
    task,
    type: "perplexity",
    variant,
    is_noise_floor: variant === noiseName,
    p_value: null,
    flips_correct_to_wrong: null,
    flips_wrong_to_correct: null,
    n: num(c.n_tokens),
    test: TEST_LABEL.ci_vs_tolerance,
    approximate: false,
  };
  if (typeof c.skipped === "string") {
    return [{ ...base, metric: "ppl", baseline: null, value: null, delta: null, ci_low: null, ci_high: null, recovery_pct: null, noise_floor: null, significant: null, note: `skipped: ${c.skipped}` }];
  }
  const pb = num(c.ppl_base);
  const pv = num(c.ppl_variant);
  const diff = num(c.ppl_diff);
  const diffErr = num(c.ppl_diff_err);
  const kld = num(c.kld_mean);
  const kldErr = num(c.kld_err);
  const significant = typeof c.significant === "boolean" ? c.significant : null;
  const rows: ComparisonRecord[] = [
    {
      ...base,
      metric: "ppl",
      baseline: pb,
      value: pv,
      delta: diff,
      ci_low: diff !== null && diffErr !== null ? diff - 1.96 * diffErr : null,
      ci_high: diff !== null && diffErr !== null ? diff + 1.96 * diffErr : null,
      // Perplexity is lower-is-better, so recovery is baseline over variant.
      recovery_pct: pb !== null && pv !== null && pv > 0 ? (100 * pb) / pv : null,
      noise_floor: null,
      significant: null,
      note: "significance: see kld",
    },
  ];
  if (kld !== null) {
    rows.push({
      ...base,
      metric: "kld",
      baseline: 0,
      value: kld,
      delta: kld,
      ci_low: kldErr !== null ? kld - 1.96 * kldErr : null,
      ci_high: kldErr !== null ? kld + 1.96 * kldErr : null,
      recovery_pct: null,
      noise_floor: num(c.noise_floor_kld),
      // An approximate KLD (top-k log-probs) is biased upward by the missing tail: shown, never judged.
      significant: approximate ? null : significant,
      approximate,
      note: approximate ? "approximate (top-k log-probs): not judged" : significant === false ? (num(c.noise_floor_kld) !== null ? "within 2σ of the noise floor" : "within 2σ of 0") : "",
    });
  }
  return rows;
}

/** The KLD percentile fields of perplexity comparisons, highest first. */
export const KLD_PERCENTILES: Array<[field: string, label: string]> = [
  ["kld_max", "max"],
  ["kld_p999", "99.9%"],
  ["kld_p99", "99%"],
  ["kld_p95", "95%"],
  ["kld_p90", "90%"],
  ["kld_median", "median"],
  ["kld_p10", "10%"],
  ["kld_p05", "5%"],
  ["kld_p01", "1%"],
  ["kld_p001", "0.1%"],
  ["kld_min", "min"],
];

export function kldPercentiles(r: RunResults): KldPercentile[] {
  const out: KldPercentile[] = [];
  for (const [task, t] of Object.entries(r.tasks)) {
    if (t.type !== "perplexity") continue;
    for (const variant of comparedModels(r)) {
      const c = t.comparisons[variant];
      if (!isObj(c)) continue;
      const approximate = kldIsApproximate(r, variant);
      KLD_PERCENTILES.forEach(([field, label], order) => {
        const v = num(c[field]);
        if (v !== null) out.push({ task, variant, percentile: label, order, kld: v, approximate });
      });
    }
  }
  return out;
}

/** Marks the points no other point beats on both axes (smaller x and better y). */
export function paretoFlags(points: Array<{ x: number | null; y: number | null }>, higherIsBetter: boolean): boolean[] {
  return points.map((p, i) => {
    if (p.x === null || p.y === null) return false;
    const better = (a: number, b: number) => (higherIsBetter ? a > b : a < b);
    return !points.some((q, j) => j !== i && q.x !== null && q.y !== null && q.x <= p.x! && !better(p.y!, q.y) && (q.x < p.x! || better(q.y, p.y!)));
  });
}

/** Baseline and variants with their size, speed and quality loss, with Pareto flags. */
export function frontierPoints(r: RunResults): FrontierPoint[] {
  const ppl = Object.values(r.tasks).find((t) => t.type === "perplexity" && Object.values(t.comparisons).some((c) => isObj(c) && num(c.kld_mean) !== null));
  // Accuracy tasks and their primary metric, as metricInfo decides (never a perplexity Δ).
  const mc = Object.values(r.tasks).flatMap((t) => {
    const metric = primaryAccuracyMetric(t.comparisons);
    return metric ? [{ t, metric }] : [];
  });
  const accDelta = (model: string): number | null => {
    const ds: number[] = [];
    for (const { t, metric } of mc) {
      const c = t.comparisons[model];
      if (!isObj(c)) continue;
      const d = num((c[metric] as Record<string, unknown> | undefined)?.delta);
      if (d !== null) ds.push(d);
    }
    return ds.length ? ds.reduce((a, b) => a + b, 0) / ds.length : null;
  };
  const models = [r.baseline, ...r.variants];
  const points = models.map((m): FrontierPoint => {
    const d = (r.models[m] ?? {}) as Record<string, unknown>;
    const isBase = m === r.baseline;
    const bytes = num(d.file_bytes);
    const bpw = num(d.bits_per_weight);
    const quant = typeof d.quantization === "string" ? d.quantization : "";
    return {
      model: m,
      label: quant && quant.toLowerCase() !== m.toLowerCase() ? `${m} (${quant})` : m,
      quantization: quant,
      is_baseline: isBase,
      bits_per_weight: bpw,
      file_mb: bytes !== null ? bytes / 1e6 : null,
      prefill_tps: num(d.prefill_tps),
      decode_tps: num(d.decode_tps),
      decode_tps_min: runsExtreme(costRuns(d, "decode_tps_runs"), Math.min),
      decode_tps_max: runsExtreme(costRuns(d, "decode_tps_runs"), Math.max),
      kld_mean: ppl ? (isBase ? 0 : num((ppl.comparisons[m] as Record<string, unknown> | undefined)?.kld_mean)) : null,
      kld_approximate: ppl ? kldIsApproximate(r, m) : false,
      acc_delta: mc.length ? (isBase ? 0 : accDelta(m)) : null,
      pareto_kld: false,
      pareto_acc: false,
    };
  });
  const x = (p: FrontierPoint) => p.bits_per_weight ?? p.file_mb;
  // An approximate KLD is not ranked against exact ones: left off the KLD frontier.
  paretoFlags(
    points.map((p) => ({ x: x(p), y: p.kld_approximate ? null : p.kld_mean })),
    false,
  ).forEach((f, i) => (points[i].pareto_kld = f));
  paretoFlags(
    points.map((p) => ({ x: x(p), y: p.acc_delta })),
    true,
  ).forEach((f, i) => (points[i].pareto_acc = f));
  return points;
}
