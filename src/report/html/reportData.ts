// Structured rows drawn from results.json, shared by the HTML report, the CSV and the
// Markdown exports: one comparison record per (task, metric, variant), KLD percentiles,
// the size/quality frontier and generation-drift values.
import { metricInfo, primaryAccuracyMetric, TEST_LABEL } from "../../metrics/metricInfo.js";
import type { RunResults } from "../../run/runEvaluation.js";
import { costRuns } from "../verdict.js";
import { kldIsApproximate } from "../verdictEvidence.js";

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

/** One numeric generation-drift value (embedding distances, win rates…) of one variant. */
export interface DriftValue {
  task: string;
  variant: string;
  metric: string;
  value: number;
}

const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

const runsExtreme = (runs: unknown, f: (...xs: number[]) => number): number | null =>
  Array.isArray(runs) && runs.length > 0 && runs.every((x) => typeof x === "number") ? f(...(runs as number[])) : null;

/** Variants in display order: the real ones, then the noise-floor row. */
export function comparedModels(r: RunResults): string[] {
  return [...r.variants, ...(r.noise_floor ? [r.noise_floor] : [])];
}

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
function generationRecords(task: string, variant: string, c: Record<string, unknown>, noiseName: string | null): ComparisonRecord[] {
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
