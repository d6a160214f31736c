// Exact one-sided binomial test, written by hand because it is three lines over the log-space
// binomial coefficient mcnemar.ts already has; a statistics package would add a dependency for it.
import { logBinomialCoefficient } from "./mcnemar.js";

/**
 * P(X ≥ k) for X ~ Bin(n, p): the exact one-sided p-value of "k successes in n trials are more
 * than chance p would give" (scipy `binomtest(k, n, p, alternative="greater").pvalue`).
 *
 * @throws RangeError when n, k are not integers with 0 ≤ k ≤ n, or p is outside [0, 1]
 */
export function binomialUpperTailP(k: number, n: number, p: number): number {
  if (!Number.isInteger(n) || n < 0 || !Number.isInteger(k) || k < 0 || k > n) throw new RangeError(`binomialUpperTailP: need integers 0 ≤ k ≤ n, got k=${k}, n=${n}`);
  if (!(p >= 0 && p <= 1)) throw new RangeError(`binomialUpperTailP: p must be in [0, 1], got ${p}`);
  if (k === 0) return 1;
  if (p === 0) return 0;
  if (p === 1) return 1;
  const lp = Math.log(p);
  const lq = Math.log1p(-p);
  let sum = 0;
  for (let i = k; i <= n; i++) sum += Math.exp(logBinomialCoefficient(n, i) + i * lp + (n - i) * lq);
  return Math.min(1, sum);
}

/** z for a two-sided 95% test and for 80% power. */
const Z_ALPHA = 1.959963984540054;
const Z_POWER = 0.8416212335729143;

/**
 * Minimum detectable change of an accuracy at 80% power and two-sided α = 0.05 for n items and
 * a baseline accuracy p: (z₀.₉₇₅ + z₀.₈) · √(2p(1−p)/n). This is the bound for independent errors;
 * a paired test on correlated errors detects smaller changes, so it never overstates what a task
 * can see.
 */
export function accuracyMde(p: number, n: number): number {
  if (n <= 0) return Infinity;
  // At p = 0 or 1 the binomial variance vanishes; use the variance of one item in n instead.
  const v = Math.max(p * (1 - p), 1 / n);
  return (Z_ALPHA + Z_POWER) * Math.sqrt((2 * v) / n);
}
