// A paired CI for figures that are a ratio of sums over prompts (the judge's win rate: score over
// parsed verdicts; fact retention: facts found over facts asked): a seeded bootstrap that
// resamples whole prompts, so the judgments or facts of one prompt stay together.
import { pairedBootstrapCI } from "./pairedBootstrap.js";

/** Σnum / Σden over the prompts, with the 95% percentile CI of that ratio. */
export interface RatioCI {
  value: number;
  ci_low: number;
  ci_high: number;
  /** Prompts that carry a denominator (> 0): the bootstrap's units. */
  n: number;
}

/**
 * Seeded bootstrap CI of Σnum/Σden, resampling prompts (units) with replacement. Prompts with a
 * zero denominator (e.g. both judge verdicts unparseable) hold no evidence and are left out of the
 * resampling, so no resample divides by zero. Null when no prompt carries a denominator.
 */
export function ratioBootstrapCI(num: readonly number[], den: readonly number[], opts: { seed: number; resamples?: number }): RatioCI | null {
  if (num.length !== den.length) throw new RangeError(`ratioBootstrapCI: ${num.length} numerators, ${den.length} denominators`);
  const keep = den.flatMap((d, i) => (d > 0 ? [i] : []));
  if (keep.length === 0) return null;
  const n = Float64Array.from(keep, (i) => num[i]);
  const d = Float64Array.from(keep, (i) => den[i]);
  const ratio = (idx: Iterable<number>): number => {
    let a = 0;
    let b = 0;
    for (const i of idx) {
      a += n[i];
      b += d[i];
    }
    return a / b;
  };
  const ci = pairedBootstrapCI(keep.length, ratio, opts);
  return { value: ratio(n.keys()), ci_low: ci.low, ci_high: ci.high, n: keep.length };
}

/** A variant's paired Δ against the baseline with its bootstrap CI, judged against the noise floor. */
export interface PairedDelta {
  delta: number;
  /** 95% CI of delta. */
  ci_low: number;
  ci_high: number;
  n: number;
  /** `none`: the CI is shown for context, never judged (metricInfo says which). */
  test: "bootstrap_ci" | "none";
  /** The CI excludes 0 and |Δ| exceeds the noise floor's (false on the noise-floor row itself, and for `none`). */
  significant: boolean;
  noise_floor_delta: number | null;
}

/** One variant's paired ratio against its reference point, judged like the other generation CIs. */
export interface PairedRatioDelta extends PairedDelta {
  /** The ratio itself (win rate, Δ fact retention); `delta` is value − the reference point (0.5 for a win rate: even with the baseline; 0 for a Δ). */
  value: number;
}

/**
 * Paired ratio CIs of every variant (one seed: the same resampled prompts for each), with the
 * noise-floor re-run's |Δ| as the floor a real change must exceed. Variants without any
 * denominator are left out.
 */
export function pairedRatioDeltas(
  perVariant: ReadonlyMap<string, { num: readonly number[]; den: readonly number[] }>,
  reference: number,
  opts: { seed: number; resamples?: number; noiseFloor?: string },
): Record<string, PairedRatioDelta> {
  const cis = new Map([...perVariant].map(([v, u]) => [v, ratioBootstrapCI(u.num, u.den, opts)]));
  const floorCi = opts.noiseFloor ? cis.get(opts.noiseFloor) : undefined;
  const floor = floorCi ? Math.abs(floorCi.value - reference) : null;
  const out: Record<string, PairedRatioDelta> = {};
  for (const [v, c] of cis) {
    if (!c) continue;
    const delta = c.value - reference;
    const isFloor = v === opts.noiseFloor;
    const excludesZero = c.ci_low > reference || c.ci_high < reference;
    out[v] = {
      value: c.value,
      delta,
      ci_low: c.ci_low - reference,
      ci_high: c.ci_high - reference,
      n: c.n,
      test: "bootstrap_ci",
      significant: !isFloor && excludesZero && Math.abs(delta) > (isFloor ? 0 : (floor ?? 0)),
      noise_floor_delta: isFloor ? null : floor,
    };
  }
  return out;
}
