// Alternating rounds of two tools on a shared machine, and the load they ran under.
//
// Why: on a few cores shared with other jobs, a run's speed follows the load of that minute.
// Running the tools in turn, swapping which goes first every round (A B, B A, A B …), spreads
// a rising or falling load over both; the per-round ratio of two adjacent runs and the
// load average printed beside it show how much a figure can be trusted.
import { availableParallelism, loadavg } from "node:os";
import { binomialUpperTailP } from "../src/compare/binomialTest.js";
import { median } from "../src/cost/costMetrics.js";

/** One round: both results and the 1-minute load average just before each run. */
export interface Round<T> {
  a: T;
  b: T;
  loadA: number;
  loadB: number;
  /** Which tool ran first this round. */
  first: "a" | "b";
}

/** Runs `a` and `b` `rounds` times each, alternating which goes first; `onRound` sees each round as it ends. */
export async function alternateRounds<T>(rounds: number, a: () => T | Promise<T>, b: () => T | Promise<T>, onRound?: (r: Round<T>, index: number) => void): Promise<Array<Round<T>>> {
  const out: Array<Round<T>> = [];
  for (let i = 0; i < rounds; i++) {
    const first = i % 2 === 0 ? "a" : "b";
    const run = async (f: () => T | Promise<T>) => ({ load: loadavg()[0], v: await f() });
    const [x, y] = first === "a" ? [await run(a), await run(b)] : [await run(b), await run(a)];
    const [ra, rb] = first === "a" ? [x, y] : [y, x];
    const r: Round<T> = { a: ra.v, b: rb.v, loadA: ra.load, loadB: rb.load, first };
    out.push(r);
    onRound?.(r, i);
  }
  return out;
}

/** A distribution-free interval for a median: two order statistics and their exact coverage. */
export interface MedianInterval {
  lo: number;
  hi: number;
  /** P(lo ≤ true median ≤ hi), exact for independent draws of a continuous figure. */
  coverage: number;
}

/**
 * The narrowest order-statistic interval [x₍ₖ₎, x₍ₙ₊₁₋ₖ₎] covering the median with probability
 * at least `level` (k from the Bin(n, ½) tail), or the whole range when even that covers less
 * (fewer than 6 values for 95%). Why this and not a bootstrap: with 5–20 rounds a bootstrap
 * interval of a median is too narrow, and this one is exact without assuming a distribution.
 */
export function medianInterval(values: number[], level = 0.95): MedianInterval {
  const x = [...values].sort((p, q) => p - q);
  const n = x.length;
  if (n === 0) return { lo: Number.NaN, hi: Number.NaN, coverage: 0 };
  // Coverage of [x₍ₖ₎, x₍ₙ₊₁₋ₖ₎] is 1 − 2·P(X ≤ k − 1) = 2·P(X ≥ k) − 1 for X ~ Bin(n, ½).
  const coverage = (k: number) => 2 * binomialUpperTailP(k, n, 0.5) - 1;
  let k = 1;
  while (k + 1 <= (n + 1) / 2 && coverage(k + 1) >= level) k++;
  return { lo: x[k - 1], hi: x[n - k], coverage: coverage(k) };
}

/** Medians of a per-run figure for each side, the median of the per-round ratios b / a and its interval. */
export function roundStats<T>(rounds: Array<Round<T>>, figure: (x: T) => number): { a: number; b: number; ratio: number; ratioInterval: MedianInterval } {
  const ratios = rounds.map((r) => figure(r.b) / figure(r.a));
  return {
    a: median(rounds.map((r) => figure(r.a))),
    b: median(rounds.map((r) => figure(r.b))),
    ratio: median(ratios),
    ratioInterval: medianInterval(ratios),
  };
}

/** "0.99 (0.96–1.02, 96% interval)": a median ratio and the interval it is known to. */
export function ratioLine(s: { ratio: number; ratioInterval: MedianInterval }): string {
  const { lo, hi, coverage } = s.ratioInterval;
  return `${s.ratio.toFixed(2)} (${lo.toFixed(2)}–${hi.toFixed(2)}, ${Math.floor(coverage * 100)}% interval)`;
}

/** "load average 0.42 / 1.10 / 2.05 (1/5/15 min) on 2 cores". */
export function loadLine(): string {
  return `load average ${loadavg()
    .map((x) => x.toFixed(2))
    .join(" / ")} (1/5/15 min) on ${availableParallelism()} cores`;
}
