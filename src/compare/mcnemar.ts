/**
 * Exact (binomial) McNemar test on the discordant pairs of a paired comparison.
 *
 * Under H0 (both models equally good) each discordant item is equally likely to be a
 * correct→wrong flip (`b`) or a wrong→correct flip (`c`), so `min(b, c)` follows
 * Bin(b + c, 0.5). The two-sided p-value is `min(1, 2 · P(X ≤ min(b, c)))`
 * (same as scipy `binomtest(b, b + c, 0.5).pvalue` / statsmodels `mcnemar(exact=True)`).
 *
 * Computed in log space so it is stable for b + c up to 1e5 and beyond: the tail is
 * `pmf(k) · Σ_{i≤k} pmf(i)/pmf(k)` where the ratios are accumulated from i = k downward
 * (each ratio ≤ 1 since k ≤ n/2, so nothing overflows), and `ln pmf(k)` is a sum of logs.
 *
 * @param b number of items the baseline got right and the variant got wrong
 * @param c number of items the baseline got wrong and the variant got right
 * @returns two-sided exact p-value in [0, 1]; 1 when b + c = 0
 * @throws RangeError when b or c is not a non-negative integer
 */
export function mcnemarExactP(b: number, c: number): number {
  if (!Number.isInteger(b) || b < 0) throw new RangeError(`mcnemarExactP: b must be a non-negative integer, got ${b}`);
  if (!Number.isInteger(c) || c < 0) throw new RangeError(`mcnemarExactP: c must be a non-negative integer, got ${c}`);
  const n = b + c;
  if (n === 0) return 1;
  const k = Math.min(b, c);
  // |b - c| ≤ 1: by symmetry P(X ≤ k) ≥ 0.5 exactly, so the doubled tail is ≥ 1
  if (2 * k + 1 >= n) return 1;
  // Σ_{i=0..k} pmf(i)/pmf(k), with pmf(i-1)/pmf(i) = i / (n - i + 1)
  let ratio = 1;
  let tailRatioSum = 1;
  for (let i = k; i > 0; i--) {
    ratio *= i / (n - i + 1);
    tailRatioSum += ratio;
    if (ratio < 1e-17 * tailRatioSum) break; // remaining terms cannot change the sum
  }
  const logP = logBinomialCoefficient(n, k) - n * Math.LN2 + Math.log(tailRatioSum) + Math.LN2;
  return Math.min(1, Math.exp(logP));
}

/**
 * ln C(n, k) as a sum of logs of the k factors (n-k+j)/j; exact to a few ulps per factor,
 * which keeps the relative error of the p-value around 1e-10 even for n = 1e5.
 */
export function logBinomialCoefficient(n: number, k: number): number {
  if (k < 0 || k > n) return -Infinity;
  const kk = Math.min(k, n - k);
  let s = 0;
  for (let j = 1; j <= kk; j++) s += Math.log((n - kk + j) / j);
  return s;
}
