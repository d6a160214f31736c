import { uniformInt } from "pure-rand/distribution/uniformInt";
import { xoroshiro128plus } from "pure-rand/generator/xoroshiro128plus";

/** Options of {@link pairedBootstrapCI}. */
export interface PairedBootstrapOptions {
  /** Seed of the generator (an integer; only its low 32 bits are used, as pure-rand does). */
  seed: number;
  /** Number of bootstrap resamples; default 1000, must be ≥ 1000. */
  resamples?: number;
  /** Two-sided miscoverage; the CI is the [alpha/2, 1 − alpha/2] percentile range. Default 0.05. */
  alpha?: number;
}

/** Percentile bootstrap confidence interval. */
export interface BootstrapCI {
  low: number;
  high: number;
  resamples: number;
}

export const DEFAULT_BOOTSTRAP_RESAMPLES = 1000;
export const MIN_BOOTSTRAP_RESAMPLES = 1000;

/**
 * Seeded paired bootstrap over items (percentile method).
 *
 * Each resample draws `n` item indices uniformly with replacement (xoroshiro128+ from
 * pure-rand, unbiased integer sampling) and calls `statistic(idx)`. Because the same indices
 * are applied to baseline and variant, the statistic should return
 * `metric(variant on idx) − metric(baseline on idx)`; that keeps the pairing, and works for
 * acc, acc_norm and macro-F1 alike.
 *
 * The interval is the `alpha/2` and `1 − alpha/2` quantiles of the resampled statistics,
 * using linear interpolation between order statistics (numpy's default `linear` method).
 * The result depends only on (n, statistic, seed, resamples, alpha).
 *
 * @param n number of paired items (> 0)
 * @param statistic receives a reused buffer of `n` indices in [0, n); it must not keep it
 * @param opts seed, resamples (default 1000, min 1000), alpha (default 0.05)
 * @throws RangeError on invalid arguments or when the statistic returns NaN
 */
export function pairedBootstrapCI(n: number, statistic: (idx: Uint32Array) => number, opts: PairedBootstrapOptions): BootstrapCI {
  if (!Number.isInteger(n) || n <= 0) throw new RangeError(`pairedBootstrapCI: n must be a positive integer, got ${n}`);
  if (n > 0xffffffff) throw new RangeError("pairedBootstrapCI: n too large");
  if (!Number.isInteger(opts.seed)) throw new RangeError(`pairedBootstrapCI: seed must be an integer, got ${opts.seed}`);
  const resamples = opts.resamples ?? DEFAULT_BOOTSTRAP_RESAMPLES;
  if (!Number.isInteger(resamples) || resamples < MIN_BOOTSTRAP_RESAMPLES) {
    throw new RangeError(`pairedBootstrapCI: resamples must be an integer ≥ ${MIN_BOOTSTRAP_RESAMPLES}, got ${resamples}`);
  }
  const alpha = opts.alpha ?? 0.05;
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`pairedBootstrapCI: alpha must be in (0, 1), got ${alpha}`);

  const rng = xoroshiro128plus(opts.seed);
  const idx = new Uint32Array(n);
  const stats = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    for (let i = 0; i < n; i++) idx[i] = uniformInt(rng, 0, n - 1);
    const s = statistic(idx);
    if (Number.isNaN(s)) throw new RangeError(`pairedBootstrapCI: statistic returned NaN on resample ${r}`);
    stats[r] = s;
  }
  stats.sort();
  return { low: quantileSorted(stats, alpha / 2), high: quantileSorted(stats, 1 - alpha / 2), resamples };
}

/**
 * Quantile of ascending-sorted values by linear interpolation between order statistics
 * (numpy `quantile(..., method="linear")`, R type 7): h = q·(n−1).
 */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) throw new RangeError("quantileSorted: empty input");
  const h = q * (n - 1);
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, n - 1);
  const frac = h - lo;
  const a = sorted[lo];
  const b = sorted[hi];
  // a === b keeps the result exact (and avoids ∞ − ∞)
  return frac === 0 || a === b ? a : a + frac * (b - a);
}
