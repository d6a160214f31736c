import assert from "node:assert/strict";
import { test } from "node:test";

import { xoroshiro128plus } from "pure-rand/generator/xoroshiro128plus";

import { DistributionDriftAccumulator, klDivergence, llamaMedian, llamaPercentile, logSoftmaxInPlace, meanAndUncertainty, meanCovariance } from "../../src/metrics/distributionDrift.js";

const close = (actual: number | null, expected: number, tol: number, what = "") => assert.ok(actual !== null && Math.abs(actual - expected) <= tol, `${what} expected ${expected}, got ${actual}`);

const logRow = (...p: number[]) => Float32Array.from(p, Math.log);

test("logSoftmaxInPlace: closed form, offset, stability, −∞", () => {
  const row = new Float32Array([9, 9, 1, 2, 3, 9]);
  logSoftmaxInPlace(row, 2, 3);
  const lse = Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3));
  assert.deepEqual(Array.from(row.subarray(0, 2)), [9, 9]);
  assert.equal(row[5], 9);
  for (let i = 0; i < 3; i++) close(row[2 + i], 1 + i - lse, 1e-6);
  close(Math.exp(row[2]) + Math.exp(row[3]) + Math.exp(row[4]), 1, 1e-6);

  // exp(1000) overflows float64: only works with the max subtracted
  const big = new Float32Array([1000, 1001, -Infinity]);
  logSoftmaxInPlace(big, 0, 3);
  close(big[0], -Math.log1p(Math.E), 1e-6);
  close(big[1], 1 - Math.log1p(Math.E), 1e-6);
  assert.equal(big[2], -Infinity);

  assert.throws(() => logSoftmaxInPlace(new Float32Array([-Infinity, -Infinity]), 0, 2), RangeError);
  assert.throws(() => logSoftmaxInPlace(new Float32Array(3), 1, 3), RangeError);
});

test("klDivergence: identical rows give exactly 0", () => {
  const a = logRow(0.1, 0.2, 0.3, 0.4);
  assert.equal(klDivergence(a, 0, Float32Array.from(a), 0, 4), 0);
});

test("klDivergence: closed forms", () => {
  // KL([½,¼,¼] ‖ [¼,¼,½]) = ½ ln 2 + 0 + ¼ ln ½ = ¼ ln 2
  close(klDivergence(logRow(0.5, 0.25, 0.25), 0, logRow(0.25, 0.25, 0.5), 0, 3), 0.25 * Math.LN2, 1e-7);
  // Bernoulli: KL(Ber(a) ‖ Ber(b)) = a ln(a/b) + (1−a) ln((1−a)/(1−b)), with offsets
  const [a, b] = [0.9, 0.6];
  const base = new Float32Array(5);
  base.set(logRow(a, 1 - a), 3);
  const variant = new Float32Array(4);
  variant.set(logRow(b, 1 - b), 1);
  close(klDivergence(base, 3, variant, 1, 2), a * Math.log(a / b) + (1 - a) * Math.log((1 - a) / (1 - b)), 1e-7);
  // p_base = 0 terms contribute nothing (no NaN from 0·∞)
  close(klDivergence(logRow(1, 0), 0, logRow(0.5, 0.5), 0, 2), Math.LN2, 1e-7);
});

test("klDivergence: llama.cpp's −16 floor on the baseline log-prob", () => {
  const tiny = Math.exp(-20);
  const base = logRow(1 - tiny, tiny);
  const variant = logRow(0.5, 0.5);
  const full = (1 - tiny) * Math.log((1 - tiny) / 0.5) + tiny * Math.log(tiny / 0.5);
  close(klDivergence(base, 0, variant, 0, 2), full, 1e-7);
  close(klDivergence(base, 0, variant, 0, 2, -16), (1 - tiny) * Math.log((1 - tiny) / 0.5), 1e-7);
  assert.notEqual(klDivergence(base, 0, variant, 0, 2), klDivergence(base, 0, variant, 0, 2, -16));
  // the accumulator uses the floor by default, and can be told not to
  const withFloor = new DistributionDriftAccumulator(2);
  const noFloor = new DistributionDriftAccumulator(2, { baseLogProbFloor: -Infinity });
  withFloor.add(base, 0, variant, 0, 0);
  noFloor.add(base, 0, variant, 0, 0);
  assert.equal(withFloor.finish().kld_mean, klDivergence(base, 0, variant, 0, 2, -16));
  assert.equal(noFloor.finish().kld_mean, klDivergence(base, 0, variant, 0, 2));
});

test("llamaPercentile / llamaMedian follow llama.cpp's float32 definition", () => {
  const v = Float32Array.from([0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100]);
  assert.equal(llamaPercentile(v, 0), 0);
  assert.equal(llamaPercentile(v, 1), 100);
  assert.equal(llamaPercentile(v, 0.5), 50);
  // p = 0.95f·10 = 9.5 → ½·90 + ½·100
  assert.equal(llamaPercentile(v, 0.95), 95);
  // p = 0.999f·10 = 9.99 (float) → ip 9, frac ≈ 0.99 → ≈ 99.9
  close(llamaPercentile(v, 0.999), 99.9, 1e-4);
  // p = 0.001f·10 = 0.01 → ≈ 0.1
  close(llamaPercentile(v, 0.001), 0.1, 1e-6);
  // the result is a float32 value, as llama.cpp's lambda returns float
  const r = llamaPercentile(Float32Array.from([1, 2, 3, 4, 5]), 0.1); // p = 0.4 → 0.6·1 + 0.4·2
  assert.equal(r, Math.fround(r));
  close(r, 1.4, 1e-6);
  assert.equal(llamaPercentile([7], 0.3), 7);
  assert.equal(llamaMedian(Float32Array.from([1, 2, 3])), 2);
  assert.equal(llamaMedian(Float32Array.from([1, 2, 3, 10])), 2.5);
  assert.throws(() => llamaPercentile([], 0.5), RangeError);
});

test("meanAndUncertainty / meanCovariance (llama.cpp's ± helpers)", () => {
  // x = 1..11: mean 6, Σx² = 506, population variance 506/11 − 36 = 10, ± = sqrt(10/(11−1)) = 1
  const [m, e] = meanAndUncertainty(66, 506, 11);
  assert.equal(m, 6);
  close(e, 1, 1e-12);
  // ≤ 10 values: llama.cpp reports no uncertainty
  assert.deepEqual(meanAndUncertainty(55, 385, 10), [5.5, 0]);
  assert.deepEqual(meanAndUncertainty(0, 0, 0), [0, 0]);
  // y = 2x: cov of the means = (Σxy/n − x̄ȳ)/(n−1) = (2·46 − 72)/10 = 2
  close(meanCovariance(66, 132, 1012, 11), 2, 1e-12);
  assert.equal(meanCovariance(1, 1, 1, 9), 0);
});

test("self-comparison: KLD 0, same top 1, PPL ratio 1, Δp 0", () => {
  const V = 50;
  const acc = new DistributionDriftAccumulator(V);
  const rng = xoroshiro128plus(5);
  for (let t = 0; t < 40; t++) {
    const row = Float32Array.from({ length: V }, () => rng.next() / 2 ** 28);
    logSoftmaxInPlace(row, 0, V);
    acc.add(row, 0, Float32Array.from(row), 0, t % V);
  }
  const r = acc.finish();
  assert.equal(r.n_tokens, 40);
  assert.equal(r.kld_mean, 0);
  assert.equal(r.kld_err, 0);
  assert.equal(r.kld_max, 0);
  assert.equal(r.kld_min, 0);
  assert.equal(r.top1_agreement, 1);
  assert.equal(r.top1_agreement_err, 0);
  assert.equal(r.ppl_ratio, 1);
  assert.equal(r.ln_ppl_ratio_mean, 0);
  assert.equal(r.ppl_base, r.ppl_variant);
  close(r.ln_ppl_ratio_err, 0, 1e-6);
  assert.equal(r.delta_p_mean, 0);
  assert.equal(r.delta_p_rms, 0);
  assert.equal(r.delta_p_rms_err, 0); // llama.cpp would print nan (0.5/0 · 0)
  assert.equal(r.delta_p_max, 0);
  assert.equal(r.delta_p_min, 0);
});

test("± formulas on a hand-checked two-token example", () => {
  // 20 positions, target always token 0, base always [½, ½].
  // 10 positions: variant = base.  10 positions: variant = [¼, ¾] (top-1 differs: base tie → token 0).
  const acc = new DistributionDriftAccumulator(2);
  const base = logRow(0.5, 0.5);
  const other = logRow(0.25, 0.75);
  for (let t = 0; t < 20; t++) acc.add(base, 0, t % 2 === 0 ? base : other, 0, 0);
  const r = acc.finish();
  const L = Math.LN2;
  const s19 = Math.sqrt(19);
  const tol = 1e-6;
  assert.equal(r.n_tokens, 20);
  // nll_base = ln 2 always → PPL(base) = 2 ± 0
  close(r.ppl_base, 2, tol, "ppl_base");
  close(r.ppl_base_err, 0, tol, "ppl_base_err");
  // nll ∈ {ln 2, ln 4}: mean 1.5 ln 2, population sd 0.5 ln 2 → ± 0.5 ln 2/√19; PPL(Q) = 2^1.5
  close(r.ppl_variant, 2 ** 1.5, tol, "ppl_variant");
  close(r.ppl_variant_err, 2 ** 1.5 * ((0.5 * L) / s19), tol, "ppl_variant_err");
  // cov = 0 since nll_base is constant → ln ratio = 0.5 ln 2 ± 0.5 ln 2/√19, ratio = √2 ± √2·that
  close(r.ln_ppl_ratio_mean, 0.5 * L, tol, "ln_ppl_ratio_mean");
  close(r.ln_ppl_ratio_err, (0.5 * L) / s19, tol, "ln_ppl_ratio_err");
  close(r.ppl_ratio, Math.SQRT2, tol, "ppl_ratio");
  close(r.ppl_ratio_err, Math.SQRT2 * ((0.5 * L) / s19), tol, "ppl_ratio_err");
  close(r.ppl_diff, 2 ** 1.5 - 2, tol, "ppl_diff");
  // KLD ∈ {0, k}, k = KL([½,½] ‖ [¼,¾]) = ½ ln 2 + ½ ln(2/3) = ½ ln(4/3); mean k/2 ± (k/2)/√19
  const k = 0.5 * Math.log(4 / 3);
  close(r.kld_mean, k / 2, tol, "kld_mean");
  close(r.kld_err, k / 2 / s19, tol, "kld_err");
  close(r.kld_max, k, tol);
  close(r.kld_p99, k, tol); // p = 0.99·19 = 18.81 → v[18] = v[19] = k
  close(r.kld_p90, k, tol); // p = 17.1
  close(r.kld_median, k / 2, tol); // ½(v[9] + v[10]) = ½(0 + k)
  assert.equal(r.kld_p10, 0); // p = 1.9
  assert.equal(r.kld_min, 0);
  // Δp ∈ {0, −¼}: mean −⅛ ± ⅛/√19; Δp² ∈ {0, 1/16}: MSE 1/32 ± (1/32)/√19; RMS = √(1/32) ± ½/RMS·that
  close(r.delta_p_mean, -0.125, tol, "delta_p_mean");
  close(r.delta_p_err, 0.125 / s19, tol, "delta_p_err");
  close(r.delta_p_rms, Math.sqrt(1 / 32), tol, "delta_p_rms");
  close(r.delta_p_rms_err, (0.5 / Math.sqrt(1 / 32)) * (1 / 32 / s19), tol, "delta_p_rms_err");
  close(r.delta_p_min, -0.25, tol);
  assert.equal(r.delta_p_max, 0);
  close(r.delta_p_median, -0.125, tol);
  // same top: ½ ± sqrt(½·½/19)
  assert.equal(r.top1_agreement, 0.5);
  close(r.top1_agreement_err, 0.5 / s19, 1e-15);
});

test("≤ 10 tokens: no uncertainties (llama.cpp's mean_and_uncertainty)", () => {
  const acc = new DistributionDriftAccumulator(2);
  for (let t = 0; t < 10; t++) acc.add(logRow(0.5, 0.5), 0, t % 2 ? logRow(0.5, 0.5) : logRow(0.2, 0.8), 0, t % 2);
  const r = acc.finish();
  assert.equal(r.ppl_variant_err, 0);
  assert.equal(r.kld_err, 0);
  assert.equal(r.delta_p_err, 0);
  assert.equal(r.ln_ppl_ratio_err, 0);
  assert.equal(r.ln_ppl_cor, null);
});

/** The generator used to produce the llama.cpp reference below (see that test). */
function syntheticPositions(V: number, T: number, noise: number, scale: number) {
  const rng = xoroshiro128plus(11);
  const u = () => (rng.next() >>> 0) / 2 ** 32;
  const gauss = () => Math.sqrt(-2 * Math.log(u() + 1e-300)) * Math.cos(2 * Math.PI * u());
  const out: { b: Float32Array; v: Float32Array; tok: number }[] = [];
  for (let t = 0; t < T; t++) {
    const b = new Float32Array(V);
    const v = new Float32Array(V);
    for (let i = 0; i < V; i++) {
      b[i] = scale * gauss();
      v[i] = b[i] + noise * gauss();
    }
    let tok = Math.floor(u() * V);
    if (u() < 0.6) {
      let m = 0;
      for (let i = 1; i < V; i++) if (b[i] > b[m]) m = i;
      tok = m;
    }
    out.push({ b, v, tok });
  }
  return out;
}

test("agrees with llama.cpp's own code on synthetic logits", () => {
  // Reference: the functions of tools/perplexity/perplexity.cpp (log_softmax with uint16 base,
  // log_softmax(..., kl_divergence_result&), mean_and_uncertainty, covariance, percentile and
  // the final printout) compiled verbatim and run on the same raw logits (200 vocab, 150
  // positions). Differences come only from llama.cpp's uint16 base log-probs / float32 math.
  const acc = new DistributionDriftAccumulator(200);
  for (const { b, v, tok } of syntheticPositions(200, 150, 0.3, 2)) {
    logSoftmaxInPlace(b, 0, 200);
    logSoftmaxInPlace(v, 0, 200);
    acc.add(b, 0, v, 0, tok);
  }
  const r = acc.finish();
  const rel = (actual: number | null, expected: number, what: string) => close(actual, expected, 5e-4 * Math.abs(expected), what);
  assert.equal(r.n_tokens, 150);
  rel(r.ppl_variant, 48.34618175, "Mean PPL(Q)");
  rel(r.ppl_variant_err, 11.50990717, "PPL(Q) ±");
  rel(r.ppl_base, 46.08001549, "Mean PPL(base)");
  rel(r.ppl_base_err, 10.99121595, "PPL(base) ±");
  rel(r.ln_ppl_cor, 0.9951898524, "Cor");
  rel(r.ln_ppl_ratio_mean, 0.04800789515, "Mean ln(PPL(Q)/PPL(base))");
  rel(r.ln_ppl_ratio_err, 0.02337742747, "ln ratio ±");
  rel(r.ppl_ratio, 1.049178939, "Mean PPL(Q)/PPL(base)");
  rel(r.ppl_ratio_err, 0.02452710455, "ratio ±");
  rel(r.ppl_diff, 2.266166258, "Mean PPL(Q)-PPL(base)");
  rel(r.ppl_diff_err, 1.219050316, "diff ±");
  rel(r.kld_mean, 0.0406875019, "Mean KLD");
  rel(r.kld_err, 0.00114437211, "KLD ±");
  rel(r.kld_max, 0.1098764688, "Maximum KLD");
  rel(r.kld_p999, 0.1057039201, "99.9% KLD");
  rel(r.kld_p99, 0.08077116311, "99.0% KLD");
  rel(r.kld_p95, 0.06401871145, "95.0% KLD");
  rel(r.kld_p90, 0.0607283935, "90.0% KLD");
  rel(r.kld_median, 0.03876689821, "Median KLD");
  rel(r.kld_p10, 0.02665621787, "10.0% KLD");
  rel(r.kld_p05, 0.02421325445, "5.0% KLD");
  rel(r.kld_p01, 0.01552025229, "1.0% KLD");
  rel(r.kld_p001, 0.01238893718, "0.1% KLD");
  rel(r.kld_min, 0.0120228678, "Minimum KLD");
  const pct = (x: number) => x / 100; // llama.cpp prints Δp and Same top p in %
  rel(r.delta_p_mean, pct(-0.3673071925), "Mean Δp");
  rel(r.delta_p_err, pct(0.3091717335), "Δp ±");
  rel(r.delta_p_max, pct(19.96814609), "Maximum Δp");
  rel(r.delta_p_p999, pct(18.73407662), "99.9% Δp");
  rel(r.delta_p_p99, pct(11.5886122), "99.0% Δp");
  rel(r.delta_p_p95, pct(5.05618006), "95.0% Δp");
  rel(r.delta_p_p90, pct(3.109606542), "90.0% Δp");
  rel(r.delta_p_p75, pct(0.3449689131), "75.0% Δp");
  close(r.delta_p_median, pct(-0.004734071263), 1e-6, "Median Δp");
  rel(r.delta_p_p25, pct(-1.901340298), "25.0% Δp");
  rel(r.delta_p_p10, pct(-4.584607109), "10.0% Δp");
  rel(r.delta_p_p05, pct(-6.022837013), "5.0% Δp");
  rel(r.delta_p_p01, pct(-8.747267723), "1.0% Δp");
  rel(r.delta_p_p001, pct(-10.20938307), "0.1% Δp");
  rel(r.delta_p_min, pct(-10.43667942), "Minimum Δp");
  rel(r.delta_p_rms, pct(3.791754413), "RMS Δp");
  rel(r.delta_p_rms_err, pct(0.4287014424), "RMS Δp ±");
  close(r.top1_agreement, 124 / 150, 1e-15, "Same top p"); // 82.66666667 %
  rel(r.top1_agreement_err, pct(3.101081094), "Same top p ±");
});

test("grows past its initial capacity; finish() is repeatable; bad input throws", () => {
  const acc = new DistributionDriftAccumulator(3);
  const a = logRow(0.2, 0.3, 0.5);
  const b = logRow(0.3, 0.3, 0.4);
  assert.throws(() => acc.finish(), RangeError);
  for (let t = 0; t < 3000; t++) acc.add(a, 0, b, 0, t % 3);
  assert.equal(acc.nTokens, 3000);
  const r1 = acc.finish();
  assert.equal(r1.n_tokens, 3000);
  assert.deepEqual(acc.finish(), r1);
  assert.throws(() => acc.add(a, 0, b, 0, 3), RangeError);
  assert.throws(() => acc.add(a, 1, b, 0, 0), RangeError);
  assert.throws(() => new DistributionDriftAccumulator(0), RangeError);
});
