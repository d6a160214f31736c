import assert from "node:assert/strict";
import { test } from "node:test";

import { mcnemarExactP } from "../../src/compare/mcnemar.js";
import { comparePaired, type PairedComparison } from "../../src/compare/pairedComparison.js";
import { pairedBootstrapCI } from "../../src/compare/pairedBootstrap.js";
import { macroF1 } from "../../src/metrics/f1.js";

const KEYS = [
  "metric",
  "baseline",
  "variant",
  "delta",
  "recovery_pct",
  "ci_low",
  "ci_high",
  "mcnemar_p",
  "flips_correct_to_wrong",
  "flips_wrong_to_correct",
  "flip_rate_correct_to_wrong",
  "flip_rate_wrong_to_correct",
  "n",
].sort();

const correctness = Array.from({ length: 120 }, (_, i) => (i * 13) % 10 < 6);

test("acc: baseline vs itself is a no-op", () => {
  const r: PairedComparison = comparePaired({ baselineCorrect: correctness, variantCorrect: [...correctness], metric: "acc" }, { seed: 1 });
  assert.deepEqual(Object.keys(r).sort(), KEYS);
  assert.deepEqual(r, {
    metric: "acc",
    baseline: 0.6,
    variant: 0.6,
    delta: 0,
    recovery_pct: 100,
    ci_low: 0,
    ci_high: 0,
    mcnemar_p: 1,
    flips_correct_to_wrong: 0,
    flips_wrong_to_correct: 0,
    flip_rate_correct_to_wrong: 0,
    flip_rate_wrong_to_correct: 0,
    n: 120,
  });
  assert.ok(Object.is(r.ci_low, 0) && Object.is(r.ci_high, 0));
});

test("f1: baseline vs itself is a no-op", () => {
  const gold = Array.from({ length: 90 }, (_, i) => i % 3);
  const pred = gold.map((g, i) => (i % 4 === 0 ? (g + 1) % 3 : g));
  const r = comparePaired(
    {
      baselineCorrect: pred.map((p, i) => p === gold[i]),
      variantCorrect: pred.map((p, i) => p === gold[i]),
      metric: "f1",
      gold,
      baselinePred: pred,
      variantPred: [...pred],
    },
    { seed: 9 },
  );
  assert.equal(r.baseline, macroF1(gold, pred));
  assert.equal(r.delta, 0);
  assert.equal(r.recovery_pct, 100);
  assert.ok(Object.is(r.ci_low, 0) && Object.is(r.ci_high, 0));
  assert.equal(r.mcnemar_p, 1);
  assert.equal(r.flips_correct_to_wrong + r.flips_wrong_to_correct, 0);
});

test("acc: flips, rates, McNemar and delta of a constructed case", () => {
  // 20 items. baseline right on 0..14 (15/20), variant right on 0..9 and 15..16 (12/20)
  // correct→wrong: 10..14 (b = 5); wrong→correct: 15, 16 (c = 2)
  const n = 20;
  const baselineCorrect = Array.from({ length: n }, (_, i) => i < 15);
  const variantCorrect = Array.from({ length: n }, (_, i) => i < 10 || i === 15 || i === 16);
  const r = comparePaired({ baselineCorrect, variantCorrect, metric: "acc_norm" }, { seed: 3 });
  assert.equal(r.metric, "acc_norm");
  assert.equal(r.baseline, 0.75);
  assert.equal(r.variant, 0.6);
  assert.ok(Math.abs(r.delta - -0.15) < 1e-15);
  assert.ok(Math.abs(r.recovery_pct! - 80) < 1e-12);
  assert.equal(r.flips_correct_to_wrong, 5);
  assert.equal(r.flips_wrong_to_correct, 2);
  assert.equal(r.flip_rate_correct_to_wrong, 0.25);
  assert.equal(r.flip_rate_wrong_to_correct, 0.1);
  // n=7, k=2: 2·(1 + 7 + 21)/128 = 58/128
  assert.ok(Math.abs(r.mcnemar_p - 58 / 128) < 1e-14);
  assert.equal(r.mcnemar_p, mcnemarExactP(5, 2));
  assert.equal(r.n, n);
  assert.ok(r.ci_low <= r.delta && r.delta <= r.ci_high, `[${r.ci_low}, ${r.ci_high}]`);
  // deterministic under the seed
  assert.deepEqual(comparePaired({ baselineCorrect, variantCorrect, metric: "acc_norm" }, { seed: 3 }), r);
});

test("reported scores override the recomputed ones; baseline 0 gives recovery null", () => {
  const r = comparePaired({ baselineCorrect: [true, false], variantCorrect: [true, true], baselineScore: 0.5, variantScore: 0.75, metric: "acc" }, { seed: 1 });
  assert.equal(r.baseline, 0.5);
  assert.equal(r.variant, 0.75);
  assert.equal(r.delta, 0.25);
  assert.equal(r.recovery_pct, 150);
  const z = comparePaired({ baselineCorrect: [false, false], variantCorrect: [true, false], metric: "acc" }, { seed: 1 });
  assert.equal(z.baseline, 0);
  assert.equal(z.recovery_pct, null);
});

test("f1: each resample recomputes macro-F1 on the resampled gold/pred of both models", () => {
  const n = 60;
  const gold = Array.from({ length: n }, (_, i) => (i * 7) % 4);
  const basePred = gold.map((g, i) => (i % 5 === 0 ? (g + 1) % 4 : g));
  const varPred = gold.map((g, i) => (i % 3 === 0 ? (g + 2) % 4 : i % 11 === 0 ? 9 : g)); // 9: label only the variant predicts
  const r = comparePaired(
    {
      baselineCorrect: basePred.map((p, i) => p === gold[i]),
      variantCorrect: varPred.map((p, i) => p === gold[i]),
      metric: "f1",
      gold,
      baselinePred: basePred,
      variantPred: varPred,
    },
    { seed: 77, resamples: 1000 },
  );
  assert.equal(r.baseline, macroF1(gold, basePred));
  assert.equal(r.variant, macroF1(gold, varPred));
  assert.equal(r.delta, r.variant - r.baseline);
  // the same bootstrap with the slow, literal statistic gives the identical interval
  const pick = (a: number[], idx: Uint32Array) => Array.from(idx, (i) => a[i]);
  const ref = pairedBootstrapCI(n, (idx) => macroF1(pick(gold, idx), pick(varPred, idx)) - macroF1(pick(gold, idx), pick(basePred, idx)), { seed: 77, resamples: 1000 });
  assert.equal(r.ci_low, ref.low);
  assert.equal(r.ci_high, ref.high);
  assert.ok(r.ci_low <= r.delta && r.delta <= r.ci_high);
});

test("invalid input throws", () => {
  assert.throws(() => comparePaired({ baselineCorrect: [], variantCorrect: [], metric: "acc" }, { seed: 1 }), RangeError);
  assert.throws(() => comparePaired({ baselineCorrect: [true], variantCorrect: [true, false], metric: "acc" }, { seed: 1 }), RangeError);
  assert.throws(() => comparePaired({ baselineCorrect: [true], variantCorrect: [true], metric: "f1", gold: [1] }, { seed: 1 }), RangeError);
  assert.throws(() => comparePaired({ baselineCorrect: [true], variantCorrect: [true], metric: "f1", gold: [1], baselinePred: [1], variantPred: [1, 2] }, { seed: 1 }), RangeError);
});

test("the metric's registered paired test (metricInfo) picks the statistic: acc_norm_chars resamples like acc, ppl is refused", () => {
  const base = [true, true, false, true, false, true, true, false];
  const variant = [true, false, false, true, true, false, true, false];
  const acc = comparePaired({ baselineCorrect: base, variantCorrect: variant, metric: "acc" }, { seed: 7 });
  const chars = comparePaired({ baselineCorrect: base, variantCorrect: variant, metric: "acc_norm_chars" }, { seed: 7 });
  assert.deepEqual({ ...chars, metric: "acc" }, acc);
  assert.throws(() => comparePaired({ baselineCorrect: base, variantCorrect: variant, metric: "ppl" }, { seed: 7 }), /ppl is not an accuracy metric with a paired test in src\/metrics\/metricInfo.ts/);
});
