// Paired confidence intervals for generation drift, so the verdict can judge it like any other
// measure: a seeded paired bootstrap over documents (src/compare/pairedBootstrap.ts).
// - Reference metrics (token F1, ROUGE-L): per document, variant − baseline against the same
//   reference; the CI of the mean Δ decides (a drop is significant when the CI lies below 0 and
//   the drop exceeds the noise floor's |Δ|).
// - Embedding distance to the baseline's output: its mean and CI are reported; the baseline's own
//   distance is 0 by construction, so there is no Δ to test and no tolerance to judge it against.
import { pairedBootstrapCI } from "../../compare/pairedBootstrap.js";
import type { PairedDelta } from "../../compare/ratioBootstrap.js";
import type { DriftInput } from "./driftResults.js";
import { referenceScores } from "./textMetrics.js";

/** The paired comparison of one reference metric (variant − baseline, per document). */
export type PairedGenerationDelta = PairedDelta;

/** Mean and paired-bootstrap CI of a per-document distance. */
export interface DistanceCI {
  mean: number;
  ci_low: number;
  ci_high: number;
  n: number;
}

/** What `comparisons[variant].paired` holds. */
export type PairedGeneration = Record<string, PairedGenerationDelta | DistanceCI>;

/** Reference metrics compared per document. */
export const PAIRED_REFERENCE_METRICS = ["token_f1", "rougeL"] as const;

const meanAt = (v: Float64Array, idx: Uint32Array): number => {
  let s = 0;
  for (const i of idx) s += v[i];
  return s / idx.length;
};

function ci(values: Float64Array, seed: number, resamples: number): { mean: number; ci_low: number; ci_high: number; n: number } {
  const all = Uint32Array.from(values.keys());
  const { low, high } = pairedBootstrapCI(values.length, (idx) => meanAt(values, idx), { seed, resamples });
  return { mean: meanAt(values, all), ci_low: low, ci_high: high, n: values.length };
}

/** Bootstrap seed and resamples, and the noise-floor re-run's name when the run has one. */
export interface PairedOptions {
  seed: number;
  resamples: number;
  noiseFloor?: string;
}

/**
 * Paired CIs of every variant's generation drift (the noise-floor re-run included, as the floor
 * the others are measured against). Empty when the task has no prompts.
 */
export function pairedGeneration(x: DriftInput, opts: PairedOptions): Record<string, PairedGeneration> {
  const out: Record<string, PairedGeneration> = {};
  if (!x.hasItems) return out;
  const docs = x.references.flatMap((r, i) => (r === undefined ? [] : [i]));
  const scores = (m: string) => docs.map((i) => referenceScores(x.outputs.get(m)!.clean[i].text, x.references[i]!));
  const baseScores = docs.length ? scores(x.baseline) : [];
  const deltas = new Map<string, Record<string, Float64Array>>();
  for (const v of x.variants) {
    const vs = docs.length ? scores(v) : [];
    deltas.set(v, Object.fromEntries(PAIRED_REFERENCE_METRICS.map((k) => [k, Float64Array.from(vs, (s, j) => s[k] - baseScores[j][k])])));
  }
  const firstId = [...x.dist.keys()][0];
  for (const v of x.variants) {
    const p: PairedGeneration = {};
    for (const [k, d] of Object.entries(deltas.get(v)!)) {
      if (d.length === 0) continue;
      // One seed: the same resampled documents for every variant and metric.
      const c = ci(d, opts.seed, opts.resamples);
      const floorD = opts.noiseFloor && opts.noiseFloor !== v ? deltas.get(opts.noiseFloor)?.[k] : undefined;
      const floor = floorD?.length ? Math.abs(meanAt(floorD, Uint32Array.from(floorD.keys()))) : null;
      const excludesZero = c.ci_high < 0 || c.ci_low > 0;
      p[k] = {
        delta: c.mean,
        ci_low: c.ci_low,
        ci_high: c.ci_high,
        n: c.n,
        test: "bootstrap_ci",
        significant: v !== opts.noiseFloor && excludesZero && Math.abs(c.mean) > (floor ?? 0),
        noise_floor_delta: floor,
      };
    }
    if (firstId) {
      const rows = x.dist.get(firstId)!.get(v)!.clean;
      for (const k of ["l1_to_baseline", "cos_to_baseline"] as const)
        p[`embed_${k}`] = ci(
          Float64Array.from(rows, (r) => r[k]),
          opts.seed,
          opts.resamples,
        );
    }
    out[v] = p;
  }
  return out;
}
