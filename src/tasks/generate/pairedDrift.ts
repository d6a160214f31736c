// Paired confidence intervals for generation drift, so the verdict can judge it like any other
// measure: a seeded paired bootstrap over prompts (src/compare/pairedBootstrap.ts). One seed for
// every variant and measure, so each resample draws the same prompts for the baseline and every
// variant. Which of these count toward the verdict is stated in src/metrics/metricInfo.ts.
// - Per-prompt Δ (variant − baseline, mean over prompts): token F1 and ROUGE-L against the
//   references; their typo degradation (perturbed − clean) against the baseline's; the embedding
//   distance to the reference; the output length. A change is significant when the CI excludes 0
//   and |Δ| exceeds the noise floor's.
// - Δ distinct-2: a corpus-level figure, so each resample recomputes it on the resampled prompts'
//   outputs of both models (repeated prompts repeat their n-grams in both, so the bias cancels in Δ);
//   each prompt's bigrams are counted once, and a resample only merges them.
// - Embedding distance to the baseline's output: the baseline's own distance is 0 by construction,
//   so the null is not 0 but the noise floor's distance: significant when the CI lies above it;
//   without a noise floor it is shown only.
import { pairedBootstrapCI } from "../../compare/pairedBootstrap.js";
import type { PairedDelta } from "../../compare/ratioBootstrap.js";
import { distinctNOver } from "../../metrics/distinctN.js";
import { codePoints } from "../../metrics/diversity.js";
import { metricInfo } from "../../metrics/metricInfo.js";
import type { DriftInput } from "./driftResults.js";
import { referenceScores } from "./textMetrics.js";

/** The paired comparison of one per-prompt measure (variant − baseline). */
export type PairedGenerationDelta = PairedDelta;

/** Mean and paired-bootstrap CI of a per-prompt distance to the baseline's output, judged against the noise floor's. */
export interface DistanceCI {
  mean: number;
  ci_low: number;
  ci_high: number;
  n: number;
  test: "ci_vs_tolerance";
  /** The CI lies above the noise floor's mean distance; absent without a noise floor (shown only). */
  significant?: boolean;
  /** The noise-floor re-run's mean distance to the baseline (null on its own row or without one). */
  noise_floor_delta: number | null;
}

/** What `comparisons[variant].paired` holds. */
export type PairedGeneration = Record<string, PairedGenerationDelta | DistanceCI>;

/** Reference metrics compared per prompt. */
export const PAIRED_REFERENCE_METRICS = ["token_f1", "rougeL"] as const;

const meanAt = (v: Float64Array, idx: Uint32Array): number => {
  let s = 0;
  for (const i of idx) s += v[i];
  return s / idx.length;
};
const allOf = (n: number) => Uint32Array.from({ length: n }, (_, i) => i);

/** Point value (statistic on every prompt) and percentile CI of a statistic of resampled prompts. */
function ci(n: number, stat: (idx: Uint32Array) => number, opts: PairedOptions): { mean: number; ci_low: number; ci_high: number; n: number } {
  const { low, high } = pairedBootstrapCI(n, stat, { seed: opts.seed, resamples: opts.resamples });
  return { mean: stat(allOf(n)), ci_low: low, ci_high: high, n };
}

/** Bootstrap seed and resamples, and the noise-floor re-run's name when the run has one. */
export interface PairedOptions {
  seed: number;
  resamples: number;
  noiseFloor?: string;
}

/** A measure's statistic on resampled prompt indices, per model (variants and the noise floor). */
type Statistic = (idx: Uint32Array) => number;
interface Measure {
  /** Key in `paired` (and metricInfo name, or its `_delta`). */
  key: string;
  /** Prompts the statistic resamples. */
  n: number;
  perModel: Map<string, Statistic>;
}

/** Per-prompt differences variant − baseline as a mean statistic. */
function meanDiff(x: DriftInput, value: (m: string) => Float64Array): Map<string, Statistic> {
  const base = value(x.baseline);
  return new Map(
    x.variants.map((v) => {
      const vs = value(v);
      const d = vs.map((s, i) => s - base[i]);
      return [v, (idx: Uint32Array) => meanAt(d, idx)];
    }),
  );
}

/** The per-prompt Δ measures of a drift input, in report order (judged ones first). */
function deltaMeasures(x: DriftInput): Measure[] {
  const out: Measure[] = [];
  const docs = x.references.flatMap((r, i) => (r === undefined ? [] : [i]));
  const add = (key: string, n: number, value: (m: string) => Float64Array) => n > 0 && out.push({ key, n, perModel: meanDiff(x, value) });
  // Only the paired metrics' per-prompt scores are kept (a column a metric), not every reference score.
  type Columns = Record<(typeof PAIRED_REFERENCE_METRICS)[number], Float64Array>;
  const scoresOf = (m: string, which: "clean" | "perturbed"): Columns => {
    const cols = Object.fromEntries(PAIRED_REFERENCE_METRICS.map((k) => [k, new Float64Array(docs.length)])) as Columns;
    for (const [j, i] of docs.entries()) {
      const s = referenceScores(x.outputs.get(m)![which][i].text, x.references[i]!);
      for (const k of PAIRED_REFERENCE_METRICS) cols[k][j] = s[k];
    }
    return cols;
  };
  const clean = new Map(x.models.map((m) => [m, scoresOf(m, "clean")]));
  for (const k of PAIRED_REFERENCE_METRICS) add(k, docs.length, (m) => clean.get(m)![k]);
  if (x.perturb && docs.length) {
    const pert = new Map(x.models.map((m) => [m, scoresOf(m, "perturbed")]));
    for (const k of PAIRED_REFERENCE_METRICS) add(`${k}_degradation_delta`, docs.length, (m) => pert.get(m)![k].map((s, j) => s - clean.get(m)![k][j]));
  }
  const firstId = [...x.dist.keys()][0];
  if (firstId) {
    const rows = (m: string) => x.dist.get(firstId)!.get(m)!.clean;
    const base = rows(x.baseline);
    const withRef = Array.from({ length: base.length }, (_, i) => i).filter((i) => base.get(i, "cos_to_reference") !== null);
    for (const k of ["cos_to_reference", "l1_to_reference"] as const) add(`embed_${k}_delta`, withRef.length, (m) => Float64Array.from(withRef, (i) => rows(m).get(i, k)!));
  }
  const n = x.outputs.get(x.baseline)!.clean.length;
  add("mean_length_delta", n, (m) => Float64Array.from(x.outputs.get(m)!.clean, (g) => codePoints(g.text)));
  // Corpus-level: recomputed on each resample's outputs of both models.
  const d2 = (m: string) =>
    distinctNOver(
      x.outputs.get(m)!.clean.map((g) => g.text),
      2,
    );
  const baseD2 = d2(x.baseline);
  if (n > 0 && Number.isFinite(baseD2(allOf(n)))) {
    const perModel = new Map<string, Statistic>(
      x.variants.map((v) => {
        const variantD2 = d2(v);
        return [v, (idx: Uint32Array) => variantD2(idx) - baseD2(idx)];
      }),
    );
    out.push({ key: "distinct_2_delta", n, perModel });
  }
  return out;
}

/** The paired Δ of one measure for every variant, judged by the test metricInfo names for it. */
function judgeMeasure(m: Measure, opts: PairedOptions): Record<string, PairedDelta> {
  const test = (metricInfo(m.key) ?? metricInfo(`${m.key}_delta`))?.test === "bootstrap_ci" ? "bootstrap_ci" : "none";
  const floorStat = opts.noiseFloor ? m.perModel.get(opts.noiseFloor) : undefined;
  const floor = floorStat ? Math.abs(floorStat(allOf(m.n))) : null;
  const out: Record<string, PairedDelta> = {};
  for (const [v, stat] of m.perModel) {
    const c = ci(m.n, stat, opts);
    if (!Number.isFinite(c.mean) || !Number.isFinite(c.ci_low) || !Number.isFinite(c.ci_high)) continue;
    const isFloor = v === opts.noiseFloor;
    const excludesZero = c.ci_high < 0 || c.ci_low > 0;
    out[v] = {
      delta: c.mean,
      ci_low: c.ci_low,
      ci_high: c.ci_high,
      n: c.n,
      test,
      // A shown-only measure is never significant: its CI is context, not a test.
      significant: test === "bootstrap_ci" && !isFloor && excludesZero && Math.abs(c.mean) > (floor ?? 0),
      noise_floor_delta: isFloor ? null : floor,
    };
  }
  return out;
}

/** Mean distance to the baseline's output with its CI, against the noise floor's mean distance. */
function distanceCIs(x: DriftInput, opts: PairedOptions): Map<string, Record<string, DistanceCI>> {
  const out = new Map<string, Record<string, DistanceCI>>(x.variants.map((v) => [v, {}]));
  const firstId = [...x.dist.keys()][0];
  if (!firstId) return out;
  for (const k of ["l1_to_baseline", "cos_to_baseline"] as const) {
    const values = (m: string) => {
      const rows = x.dist.get(firstId)!.get(m)!.clean;
      return Float64Array.from({ length: rows.length }, (_, i) => rows.get(i, k)!);
    };
    const floorValues = opts.noiseFloor && x.variants.includes(opts.noiseFloor) ? values(opts.noiseFloor) : undefined;
    const floor = floorValues?.length ? meanAt(floorValues, allOf(floorValues.length)) : null;
    for (const v of x.variants) {
      const vals = values(v);
      if (vals.length === 0) continue;
      const c = ci(vals.length, (idx) => meanAt(vals, idx), opts);
      const isFloor = v === opts.noiseFloor;
      const judged = floor !== null && !isFloor;
      out.get(v)![`embed_${k}`] = { ...c, test: "ci_vs_tolerance", ...(judged ? { significant: c.ci_low > floor } : {}), noise_floor_delta: isFloor ? null : floor };
    }
  }
  return out;
}

/**
 * Paired CIs of every variant's generation drift (the noise-floor re-run included, as the floor
 * the others are measured against). Empty when the task has no prompts.
 */
export function pairedGeneration(x: DriftInput, opts: PairedOptions): Record<string, PairedGeneration> {
  const out: Record<string, PairedGeneration> = {};
  if (!x.hasItems) return out;
  for (const v of x.variants) out[v] = {};
  for (const m of deltaMeasures(x)) for (const [v, p] of Object.entries(judgeMeasure(m, opts))) out[v][m.key] = p;
  for (const [v, d] of distanceCIs(x, opts)) Object.assign(out[v], d);
  return out;
}
