import assert from "node:assert/strict";
import { test } from "node:test";

import { logBinomialCoefficient, mcnemarExactP } from "../../src/compare/mcnemar.js";

const relClose = (actual: number, expected: number, rel: number) => assert.ok(Math.abs(actual - expected) <= rel * Math.abs(expected), `expected ${expected}, got ${actual}`);

test("no discordant pairs → p = 1", () => {
  assert.equal(mcnemarExactP(0, 0), 1);
});

test("small cases by hand", () => {
  // n=5, k=0: 2 · 1/32
  assert.equal(mcnemarExactP(0, 5), 0.0625);
  assert.equal(mcnemarExactP(5, 0), 0.0625);
  // n=10, k=1: 2 · (1 + 10)/1024 = 22/1024
  relClose(mcnemarExactP(1, 9), 22 / 1024, 1e-14);
  // n=10, k=2: 2 · (1 + 10 + 45)/1024 = 112/1024
  relClose(mcnemarExactP(2, 8), 112 / 1024, 1e-14);
  // n=30, k=10: 2 · Σ_{i≤10} C(30,i) / 2^30 = 2 · 53009102 / 2^30
  relClose(mcnemarExactP(10, 20), (2 * 53009102) / 2 ** 30, 1e-14);
});

test("balanced or nearly balanced discordant pairs → p = 1", () => {
  assert.equal(mcnemarExactP(0, 1), 1); // 2 · 1/2
  assert.equal(mcnemarExactP(3, 3), 1);
  assert.equal(mcnemarExactP(4, 5), 1); // P(X ≤ 4 | n=9) = 1/2 exactly
  assert.equal(mcnemarExactP(50000, 50000), 1);
  assert.equal(mcnemarExactP(50000, 50001), 1);
});

test("symmetric in b and c", () => {
  for (const [b, c] of [
    [3, 11],
    [17, 40],
    [123, 170],
  ])
    assert.equal(mcnemarExactP(b, c), mcnemarExactP(c, b));
});

test("stable for n up to 1e5", () => {
  // all-one-sided: 2 · 2^-1000 = 2^-999
  relClose(mcnemarExactP(0, 1000), 2 ** -999, 1e-12);
  // reference: scipy.stats.binomtest(49000, 100000, 0.5).pvalue = 2.5887160383468943e-10
  relClose(mcnemarExactP(49000, 51000), 2.5887160383468943e-10, 1e-8);
  // scipy.stats.binomtest(400, 1000, 0.5).pvalue = 2.728464156065947e-10
  relClose(mcnemarExactP(400, 600), 2.728464156065947e-10, 1e-9);
  // far tail underflows to 0 instead of NaN
  assert.equal(mcnemarExactP(40000, 60000), 0);
  let prev = 1;
  for (let d = 0; d <= 2000; d += 100) {
    const p = mcnemarExactP(50000 - d, 50000 + d);
    assert.ok(Number.isFinite(p) && p >= 0 && p <= 1 && p <= prev, `p(${d}) = ${p}`);
    prev = p;
  }
});

test("logBinomialCoefficient", () => {
  assert.equal(logBinomialCoefficient(5, 0), 0);
  relClose(logBinomialCoefficient(10, 3), Math.log(120), 1e-15);
  relClose(logBinomialCoefficient(52, 5), Math.log(2598960), 1e-15);
  assert.equal(logBinomialCoefficient(3, 4), -Infinity);
});

test("invalid counts throw", () => {
  assert.throws(() => mcnemarExactP(-1, 2), RangeError);
  assert.throws(() => mcnemarExactP(1.5, 2), RangeError);
  assert.throws(() => mcnemarExactP(1, Number.NaN), RangeError);
});
