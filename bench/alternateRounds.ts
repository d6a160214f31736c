// Alternating rounds of two tools on a shared machine, and the load they ran under.
//
// Why: on a few cores shared with other jobs, a run's speed follows the load of that minute.
// Running the tools in turn, swapping which goes first every round (A B, B A, A B …), spreads
// a rising or falling load over both; the per-round ratio of two adjacent runs and the
// load average printed beside it show how much a figure can be trusted.
import { availableParallelism, loadavg } from "node:os";
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

/** Medians of a per-run figure for each side and the median of the per-round ratios b / a. */
export function roundStats<T>(rounds: Array<Round<T>>, figure: (x: T) => number): { a: number; b: number; ratio: number } {
  return {
    a: median(rounds.map((r) => figure(r.a))),
    b: median(rounds.map((r) => figure(r.b))),
    ratio: median(rounds.map((r) => figure(r.b) / figure(r.a))),
  };
}

/** "load average 0.42 / 1.10 / 2.05 (1/5/15 min) on 2 cores". */
export function loadLine(): string {
  return `load average ${loadavg()
    .map((x) => x.toFixed(2))
    .join(" / ")} (1/5/15 min) on ${availableParallelism()} cores`;
}
