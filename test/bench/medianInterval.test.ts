// The interval the benchmarks print around a median ratio (bench/alternateRounds.ts): the
// order statistics and coverages of the published table for a median's distribution-free
// confidence interval (e.g. Conover, Practical Nonparametric Statistics, table A3).
import assert from "node:assert/strict";
import { test } from "node:test";
import { medianInterval, ratioLine } from "../../bench/alternateRounds.js";

test("medianInterval: the order statistics of the binomial table at 95%, with their exact coverage", () => {
  // n: [k, coverage of [x(k), x(n+1-k)]]
  const table: Record<number, [number, number]> = { 6: [1, 0.96875], 9: [2, 0.9609375], 15: [4, 0.96484375], 21: [6, 0.9733963] };
  for (const [n, [k, coverage]] of Object.entries(table).map(([n, v]) => [Number(n), v] as const)) {
    // Shuffled values 1..n: the interval is the k-th smallest and the k-th largest.
    const values = Array.from({ length: n }, (_, i) => ((i * 11) % n) + 1);
    const ci = medianInterval(values);
    assert.equal(ci.lo, k, `n=${n}`);
    assert.equal(ci.hi, n + 1 - k, `n=${n}`);
    assert.ok(Math.abs(ci.coverage - coverage) < 1e-6, `n=${n}: coverage ${ci.coverage}`);
  }
});

test("medianInterval: too few rounds for 95% give the whole range and say how little it covers", () => {
  const ci = medianInterval([1.02, 0.97, 0.99]);
  assert.deepEqual([ci.lo, ci.hi], [0.97, 1.02]);
  assert.equal(ci.coverage, 0.75);
  assert.equal(ratioLine({ ratio: 0.99, ratioInterval: ci }), "0.99 (0.97–1.02, 75% interval)");
});
