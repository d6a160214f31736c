import { accuracy } from "../metrics/accuracy.js";
import { macroF1 } from "../metrics/f1.js";
import { metricInfo } from "../metrics/metricInfo.js";
import { mcnemarExactP } from "./mcnemar.js";
import { pairedBootstrapCI } from "./pairedBootstrap.js";

/**
 * An accuracy-kind metric of src/metrics/metricInfo.ts. Its registered paired test decides what
 * {@link comparePaired} resamples: `mcnemar_exact` metrics (acc, acc_norm, acc_norm_chars…) are a
 * mean of per-item 0/1 outcomes; `bootstrap_ci` metrics (f1) are macro-F1 over gold/pred labels.
 */
export type PairedMetric = string;

/** Per-item outcomes of one task for a baseline and a variant, aligned by item. */
export interface PairedComparisonInput {
  /** Per-item correctness of the baseline under `metric` (for f1: pred === gold). */
  baselineCorrect: boolean[];
  /** Per-item correctness of the variant, same items in the same order. */
  variantCorrect: boolean[];
  /** Reported task score of the baseline; defaults to the score recomputed from the items. */
  baselineScore?: number;
  /** Reported task score of the variant; defaults to the score recomputed from the items. */
  variantScore?: number;
  metric: PairedMetric;
  /** f1 only: gold labels per item. */
  gold?: number[];
  /** f1 only: baseline predicted labels per item. */
  baselinePred?: number[];
  /** f1 only: variant predicted labels per item. */
  variantPred?: number[];
}

/** Options of {@link comparePaired}; forwarded to the paired bootstrap. */
export interface PairedComparisonOptions {
  seed: number;
  /** Bootstrap resamples (default 1000, min 1000). */
  resamples?: number;
}

/** Result of a paired baseline-vs-variant comparison on one metric. */
export interface PairedComparison {
  metric: PairedMetric;
  baseline: number;
  variant: number;
  /** variant − baseline */
  delta: number;
  /** variant / baseline · 100; null when baseline is 0 */
  recovery_pct: number | null;
  /** 95% paired-bootstrap percentile CI of delta */
  ci_low: number;
  ci_high: number;
  /** exact McNemar p-value on the discordant items */
  mcnemar_p: number;
  /** items the baseline got right and the variant got wrong (McNemar b) */
  flips_correct_to_wrong: number;
  /** items the baseline got wrong and the variant got right (McNemar c) */
  flips_wrong_to_correct: number;
  /** flips_correct_to_wrong / n (fraction of all items, not of baseline-correct ones) */
  flip_rate_correct_to_wrong: number;
  /** flips_wrong_to_correct / n */
  flip_rate_wrong_to_correct: number;
  /** number of paired items */
  n: number;
}

/**
 * Compares a variant to its baseline on the same items.
 *
 * - `baseline`/`variant` are `baselineScore`/`variantScore` when given, else recomputed
 *   (accuracy of the correctness flags, or macro-F1 of gold vs pred for `f1`).
 *   The CI is always computed from the per-item data.
 * - CI: seeded paired bootstrap of delta (see `pairedBootstrapCI`); the metric's registered test
 *   (metricInfo) picks the statistic: for `mcnemar_exact` metrics (acc, acc_norm…) it is
 *   mean(variantCorrect) − mean(baselineCorrect), for `bootstrap_ci` ones (f1) it is
 *   macroF1(gold, variantPred) − macroF1(gold, baselinePred) recomputed on the resample.
 * - Flips and McNemar use the correctness flags.
 *
 * Comparing a model with itself yields delta 0, CI [0, 0], 0 flips and p = 1 exactly.
 *
 * @throws RangeError when arrays are empty or misaligned, or f1 inputs are missing
 */
export function comparePaired(input: PairedComparisonInput, opts: PairedComparisonOptions): PairedComparison {
  const { baselineCorrect, variantCorrect, metric } = input;
  const n = baselineCorrect.length;
  if (n === 0) throw new RangeError("comparePaired: no items");
  if (variantCorrect.length !== n) {
    throw new RangeError(`comparePaired: baseline has ${n} items, variant has ${variantCorrect.length}`);
  }

  let b = 0;
  let c = 0;
  for (let i = 0; i < n; i++) {
    if (baselineCorrect[i] && !variantCorrect[i]) b++;
    else if (!baselineCorrect[i] && variantCorrect[i]) c++;
  }

  let baselineComputed: number;
  let variantComputed: number;
  let statistic: (idx: Uint32Array) => number;

  const test = metricInfo(metric)?.kind === "accuracy" ? metricInfo(metric)!.test : undefined;
  if (test === "bootstrap_ci") {
    const { gold, baselinePred, variantPred } = input;
    if (!gold || !baselinePred || !variantPred) {
      throw new RangeError(`comparePaired: metric ${metric} needs gold, baselinePred and variantPred`);
    }
    if (gold.length !== n || baselinePred.length !== n || variantPred.length !== n) {
      throw new RangeError(`comparePaired: gold/baselinePred/variantPred must all have ${n} items`);
    }
    baselineComputed = macroF1(gold, baselinePred);
    variantComputed = macroF1(gold, variantPred);
    statistic = f1DeltaStatistic(gold, baselinePred, variantPred);
  } else if (test === "mcnemar_exact") {
    baselineComputed = accuracy(baselineCorrect);
    variantComputed = accuracy(variantCorrect);
    const diff = new Int8Array(n);
    for (let i = 0; i < n; i++) diff[i] = (variantCorrect[i] ? 1 : 0) - (baselineCorrect[i] ? 1 : 0);
    statistic = (idx) => {
      let s = 0;
      for (let i = 0; i < idx.length; i++) s += diff[idx[i]];
      return s / n; // integer sum: exactly 0 for identical inputs
    };
  } else {
    throw new RangeError(`comparePaired: ${String(metric)} is not an accuracy metric with a paired test in src/metrics/metricInfo.ts`);
  }

  const baseline = input.baselineScore ?? baselineComputed;
  const variant = input.variantScore ?? variantComputed;
  const ci = pairedBootstrapCI(n, statistic, { seed: opts.seed, resamples: opts.resamples });

  return {
    metric,
    baseline,
    variant,
    delta: variant - baseline,
    recovery_pct: baseline === 0 ? null : (variant / baseline) * 100,
    ci_low: ci.low,
    ci_high: ci.high,
    mcnemar_p: mcnemarExactP(b, c),
    flips_correct_to_wrong: b,
    flips_wrong_to_correct: c,
    flip_rate_correct_to_wrong: b / n,
    flip_rate_wrong_to_correct: c / n,
    n,
  };
}

/**
 * Builds the per-resample f1 statistic. Labels are mapped to dense ids in ascending label
 * order and counted in typed arrays; labels absent from a resample (in gold and pred) are
 * skipped, so each value equals `macroF1` on the resampled arrays, summed in the same order.
 */
function f1DeltaStatistic(gold: number[], basePred: number[], varPred: number[]): (idx: Uint32Array) => number {
  const n = gold.length;
  const labels = [...new Set([...gold, ...basePred, ...varPred])].sort((x, y) => x - y);
  const id = new Map<number, number>(labels.map((l, i) => [l, i]));
  const L = labels.length;
  const g = new Uint32Array(n);
  const bp = new Uint32Array(n);
  const vp = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    g[i] = id.get(gold[i])!;
    bp[i] = id.get(basePred[i])!;
    vp[i] = id.get(varPred[i])!;
  }
  const tp = new Float64Array(L);
  const nGold = new Float64Array(L);
  const nPred = new Float64Array(L);
  const f1 = (pred: Uint32Array, idx: Uint32Array): number => {
    tp.fill(0);
    nGold.fill(0);
    nPred.fill(0);
    for (let k = 0; k < idx.length; k++) {
      const i = idx[k];
      nGold[g[i]]++;
      nPred[pred[i]]++;
      if (g[i] === pred[i]) tp[g[i]]++;
    }
    let sum = 0;
    let present = 0;
    for (let l = 0; l < L; l++) {
      if (nGold[l] + nPred[l] === 0) continue;
      present++;
      sum += tp[l] === 0 ? 0 : (2 * tp[l]) / (nGold[l] + nPred[l]);
    }
    return sum / present;
  };
  return (idx) => f1(vp, idx) - f1(bp, idx);
}
