// Per-model results and per-variant comparisons of a generate task: reference metrics,
// embedding drift, typo degradation, metric deltas against the baseline.
import type { TaskOutcome } from "../../run/taskContext.js";
import { type Distances, embedSummary } from "./distances.js";
import { summarizeDistances } from "./embeddingDrift.js";
import type { ModelOutputs } from "./requests.js";
import { aggregateGenerations } from "./textMetrics.js";

/** Metrics whose change under typo noise is reported as degradation (perturbed − clean). */
const DEGRADATION_METRICS = ["token_f1", "rouge1", "rougeL", "exact_match_quasi", "mean_length", "embed_l1_to_reference", "embed_cos_to_reference", "embed_l1_to_baseline", "embed_cos_to_baseline"];
/** Reference metrics whose variant − baseline difference is reported per variant. */
const DELTA_METRICS = ["token_f1", "rouge1", "rougeL", "exact_match_quasi", "mean_length", "distinct_2", "embed_cos_to_reference", "embed_l1_to_reference"];
/** Degradations whose variant − baseline difference is also a flat `<metric>_degradation_delta` (the paired CIs' point figures). */
const FLAT_DEGRADATION = ["token_f1", "rougeL"];

/** What the drift results are computed from. */
export interface DriftInput {
  models: string[];
  baseline: string;
  variants: string[];
  outputs: Map<string, ModelOutputs>;
  references: Array<string | undefined>;
  dist: Distances;
  hasItems: boolean;
  perturb: boolean;
}

export function modelResults(x: DriftInput): TaskOutcome["results"] {
  const base = x.outputs.get(x.baseline)!;
  const firstId = [...x.dist.keys()][0];
  const results: TaskOutcome["results"] = {};
  for (const m of x.models) {
    const o = x.outputs.get(m)!;
    const r: Record<string, unknown> = {};
    if (x.hasItems) {
      const e = embedSummary(x.dist, m, "clean");
      Object.assign(r, aggregateGenerations(o.clean, base.clean, x.references), e.flat);
      if (firstId) Object.assign(r, { embedder: firstId, embedders: e.perEmb });
      if (x.perturb) {
        const pe = embedSummary(x.dist, m, "perturbed");
        const p: Record<string, number> = { ...aggregateGenerations(o.perturbed, base.perturbed, x.references), ...pe.flat };
        if (firstId) {
          const shift = summarizeDistances(x.dist.get(firstId)!.get(m)!.selfShift);
          p.embed_l1_clean_to_perturbed = shift.embed_l1_to_baseline;
          p.embed_cos_clean_to_perturbed = shift.embed_cos_to_baseline;
        }
        r.perturbed = p;
        const deg: Record<string, number> = {};
        for (const k of DEGRADATION_METRICS) if (typeof r[k] === "number" && typeof p[k] === "number") deg[k] = p[k] - (r[k] as number);
        r.degradation = deg;
      }
    }
    results[m] = r;
  }
  return results;
}

/** Embedding drift (first embedder flattened) and metric deltas, merged into `comparisons`. */
export function driftComparisons(x: DriftInput, results: TaskOutcome["results"], comparisons: TaskOutcome["comparisons"]): void {
  const firstId = [...x.dist.keys()][0];
  for (const v of x.variants) {
    const c: Record<string, unknown> = { ...comparisons[v] };
    if (x.hasItems) {
      const e = embedSummary(x.dist, v, "clean");
      if (firstId) Object.assign(c, { embedder: firstId }, e.flat, { embedders: e.perEmb });
      const rv = results[v];
      const rb = results[x.baseline];
      for (const k of DELTA_METRICS) if (typeof rv[k] === "number") c[`${k}_delta`] = (rv[k] as number) - (rb[k] as number);
      c.identical_to_baseline = rv.identical_to_baseline;
      c.length_ratio_to_baseline = rv.length_ratio_to_baseline;
      if (x.perturb) {
        const pe = embedSummary(x.dist, v, "perturbed");
        c.perturbed = { ...pe.flat };
        const dv = rv.degradation as Record<string, number>;
        const db = rb.degradation as Record<string, number>;
        c.degradation_vs_baseline = Object.fromEntries(
          Object.keys(dv)
            .filter((k) => k in db)
            .map((k) => [k, dv[k] - db[k]]),
        );
        for (const k of FLAT_DEGRADATION) if (typeof dv[k] === "number" && typeof db[k] === "number") c[`${k}_degradation_delta`] = dv[k] - db[k];
      }
    }
    comparisons[v] = c;
  }
}
