import assert from "node:assert/strict";
import { test } from "node:test";

import { pairedBootstrapCI, quantileSorted } from "../../src/compare/pairedBootstrap.js";

/** mean(variant[idx]) − mean(baseline[idx]) */
const accDelta = (baseline: number[], variant: number[]) => (idx: Uint32Array) => {
  let s = 0;
  for (const i of idx) s += variant[i] - baseline[i];
  return s / idx.length;
};

test("identical baseline and variant give exactly [0, 0]", () => {
  const items = Array.from({ length: 200 }, (_, i) => (i % 3 === 0 ? 1 : 0));
  const ci = pairedBootstrapCI(items.length, accDelta(items, items), { seed: 1 });
  assert.deepEqual(ci, { low: 0, high: 0, resamples: 1000 });
  assert.ok(Object.is(ci.low, 0) && Object.is(ci.high, 0));
});

test("CI contains the true delta of a constructed case", () => {
  // baseline right on all 400 items, variant right on the first 300: delta = −0.25,
  // bootstrap SE ≈ sqrt(0.25·0.75/400) ≈ 0.0217 so the 95% CI is about ±0.042 wide.
  const n = 400;
  const baseline = new Array<number>(n).fill(1);
  const variant = baseline.map((_, i) => (i < 300 ? 1 : 0));
  const ci = pairedBootstrapCI(n, accDelta(baseline, variant), { seed: 42, resamples: 2000 });
  assert.equal(ci.resamples, 2000);
  assert.ok(ci.low < -0.25 && -0.25 < ci.high, `[${ci.low}, ${ci.high}]`);
  assert.ok(ci.low > -0.32 && ci.high < -0.18, `too wide: [${ci.low}, ${ci.high}]`);
});

test("pairing: a variant that is the baseline shifted on a few items has a tight CI", () => {
  // baseline is noisy (half right), variant = baseline except 10 items it loses:
  // an unpaired bootstrap would be ±0.1 wide, the paired one stays within [−0.05, 0].
  const n = 200;
  const baseline = Array.from({ length: n }, (_, i) => (i % 2 === 0 ? 1 : 0));
  const variant = baseline.map((v, i) => (i < 20 ? 0 : v)); // loses items 0,2,…,18
  const ci = pairedBootstrapCI(n, accDelta(baseline, variant), { seed: 7 });
  assert.ok(ci.low >= -0.1 && ci.high <= 0, `[${ci.low}, ${ci.high}]`);
  assert.ok(ci.low < -0.05 && -0.05 < ci.high);
});

test("deterministic under the seed", () => {
  const n = 150;
  const baseline = Array.from({ length: n }, (_, i) => ((i * 7) % 5 < 3 ? 1 : 0));
  const variant = Array.from({ length: n }, (_, i) => ((i * 11) % 7 < 4 ? 1 : 0));
  const stat = accDelta(baseline, variant);
  const a = pairedBootstrapCI(n, stat, { seed: 123 });
  const b = pairedBootstrapCI(n, stat, { seed: 123 });
  const c = pairedBootstrapCI(n, stat, { seed: 124 });
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
});

test("indices are in range, resamples and default options honoured", () => {
  const n = 37;
  let calls = 0;
  let sum = 0;
  pairedBootstrapCI(
    n,
    (idx) => {
      calls++;
      assert.equal(idx.length, n);
      for (const i of idx) {
        assert.ok(i < n);
        sum += i;
      }
      return 0;
    },
    { seed: 5 },
  );
  assert.equal(calls, 1000);
  const mean = sum / (1000 * n);
  assert.ok(Math.abs(mean - (n - 1) / 2) < 0.5, `mean index ${mean}`);
});

test("percentiles of the resampled statistics use alpha", () => {
  // statistic = first index: uniform on 0..99, so quantiles ≈ alpha/2·99 and (1 − alpha/2)·99
  const ci = pairedBootstrapCI(100, (idx) => idx[0], { seed: 3, resamples: 4000, alpha: 0.2 });
  assert.ok(Math.abs(ci.low - 9.9) < 3 && Math.abs(ci.high - 89.1) < 3, `[${ci.low}, ${ci.high}]`);
});

test("invalid options throw", () => {
  const stat = () => 0;
  assert.throws(() => pairedBootstrapCI(10, stat, { seed: 1, resamples: 999 }), RangeError);
  assert.throws(() => pairedBootstrapCI(0, stat, { seed: 1 }), RangeError);
  assert.throws(() => pairedBootstrapCI(10, stat, { seed: 1.5 }), RangeError);
  assert.throws(() => pairedBootstrapCI(10, stat, { seed: 1, alpha: 0 }), RangeError);
  assert.throws(() => pairedBootstrapCI(10, () => Number.NaN, { seed: 1 }), RangeError);
});

test("quantileSorted matches numpy's linear method", () => {
  // numpy.quantile([1,2,3,4], [0, 0.025, 0.5, 0.975, 1]) = [1, 1.075, 2.5, 3.925, 4]
  const v = [1, 2, 3, 4];
  assert.equal(quantileSorted(v, 0), 1);
  assert.ok(Math.abs(quantileSorted(v, 0.025) - 1.075) < 1e-12);
  assert.equal(quantileSorted(v, 0.5), 2.5);
  assert.ok(Math.abs(quantileSorted(v, 0.975) - 3.925) < 1e-12);
  assert.equal(quantileSorted(v, 1), 4);
  assert.equal(quantileSorted([7], 0.3), 7);
});
