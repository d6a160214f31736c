// Hypotheses as win rates: each states an expectation about embedding distances that is checked
// in every dataset × model cell, and reported per metric (embedder) × distance as the number of
// cells where it holds and the rate — the table format of the generation-drift write-ups.
import { QuantevalError } from "../../util/errors.js";
import type { HypothesisEntry } from "./spec.js";

/** One cell value: a model's mean/median distance on one dataset under one embedder. */
export interface CellValue {
  dataset: string;
  model: string;
  /** The embedder id. */
  metric: string;
  distance: "l1" | "cos";
  target: "baseline" | "reference";
  mean: number;
  median: number;
}

export interface HypothesisRow {
  metric: string;
  distance: "l1" | "cos";
  hypothesis: string;
  target: "baseline" | "reference";
  /** Cells where the expectation holds. */
  win: number;
  /** Cells evaluated (cells with a missing or non-finite value are left out). */
  cells: number;
  win_rate: number | null;
  /**
   * True when the expectation holds by construction rather than by measurement (e.g. the
   * baseline's self-distance is 0 in every cell: without a noise-floor re-run, or because greedy
   * decoding reproduced the baseline exactly, so "≤ any variant" cannot fail). A trivial row is
   * no evidence: its win rate must not be counted for or against the hypothesis.
   */
  trivial: boolean;
  /** Why the row is trivial (absent when it is not). */
  trivial_reason?: string;
}

export interface HypothesisModels {
  baseline: string;
  /** Variants, noise-floor model excluded. */
  variants: string[];
  /** The baseline's re-run (noise floor), whose distance is the baseline's self-distance when present. */
  selfModel?: string;
}

/** A readable name for a hypothesis row. */
export function hypothesisLabel(h: HypothesisEntry): string {
  if (h.expect === "closer") return `${h.a} closer than ${h.b}`;
  if (h.expect === "within") return `within ${h.factor}× of min`;
  return "baseline self-distance is min";
}

function defaultTarget(h: HypothesisEntry): "baseline" | "reference" {
  return h.target ?? (h.expect === "within" ? "reference" : "baseline");
}

/** Why a self-distance of 0 in every cell makes "baseline self-distance is min" hold by construction. */
function selfZeroReason(selfModel: string | undefined): string {
  return selfModel
    ? `the noise-floor re-run '${selfModel}' reproduced the baseline's outputs exactly (as greedy decoding does): self-distance 0 in every cell, so it is ≤ any variant's`
    : "no noise-floor re-run: the self-distance is the baseline against itself, 0 by construction, so it is ≤ any variant's";
}

/**
 * Evaluates every hypothesis for every (metric, distance) pair found in `cells`.
 * - baseline_self_distance_is_min: cell = dataset × variant; holds when the baseline's own
 *   distance (its noise-floor re-run when there is one, else the baseline itself: 0 to the
 *   baseline) is ≤ the variant's. When that self-distance is 0 in every cell the row is
 *   marked `trivial` (it cannot fail, so it is no evidence).
 * - closer {a, b}: cell = dataset; holds when a's distance < b's.
 * - within {factor}: cell = dataset × variant; holds when the variant's distance ≤ factor × the
 *   smallest distance of any model (baseline included) on that dataset.
 */
export function evaluateHypotheses(hyps: readonly HypothesisEntry[], cells: readonly CellValue[], models: HypothesisModels, where: string): HypothesisRow[] {
  const all = [models.baseline, ...models.variants, ...(models.selfModel ? [models.selfModel] : [])];
  hyps.forEach((h, i) => {
    for (const [k, name] of [
      ["a", h.a],
      ["b", h.b],
    ] as const) {
      if (name !== undefined && !all.includes(name)) throw new QuantevalError(`${where}: hypotheses[${i}].${k}: no model named '${name}' in this run (models: ${all.join(", ")})`);
    }
    h.models?.forEach((m, j) => {
      if (!all.includes(m)) throw new QuantevalError(`${where}: hypotheses[${i}].models[${j}]: no model named '${m}' in this run (models: ${all.join(", ")})`);
    });
  });
  const index = new Map<string, CellValue>();
  const key = (d: string, m: string, metric: string, dist: string, t: string) => `${d}\u0000${m}\u0000${metric}\u0000${dist}\u0000${t}`;
  for (const c of cells) index.set(key(c.dataset, c.model, c.metric, c.distance, c.target), c);
  const datasets = [...new Set(cells.map((c) => c.dataset))];
  const metrics = [...new Set(cells.map((c) => c.metric))];
  const rows: HypothesisRow[] = [];
  for (const h of hyps) {
    const target = defaultTarget(h);
    const cellModels = h.models ?? models.variants;
    for (const metric of metrics) {
      for (const distance of ["l1", "cos"] as const) {
        const value = (d: string, m: string): number | undefined => {
          const c = index.get(key(d, m, metric, distance, target));
          const v = c?.[h.stat];
          return v !== undefined && Number.isFinite(v) ? v : undefined;
        };
        let win = 0;
        let n = 0;
        // Cells whose baseline self-distance is exactly 0: "self ≤ variant" holds for any variant.
        let zeroSelf = 0;
        const check = (holds: boolean | undefined) => {
          if (holds === undefined) return;
          n++;
          if (holds) win++;
        };
        for (const d of datasets) {
          if (h.expect === "closer") {
            const a = value(d, h.a!);
            const b = value(d, h.b!);
            check(a === undefined || b === undefined ? undefined : a < b);
          } else if (h.expect === "baseline_self_distance_is_min") {
            const self = value(d, models.selfModel ?? models.baseline);
            for (const m of cellModels) {
              if (m === models.selfModel || m === models.baseline) continue;
              const v = value(d, m);
              if (self !== undefined && v !== undefined && self === 0) zeroSelf++;
              check(self === undefined || v === undefined ? undefined : self <= v);
            }
          } else {
            const vals = all.map((m) => value(d, m)).filter((v): v is number => v !== undefined);
            const min = vals.length ? Math.min(...vals) : undefined;
            for (const m of cellModels) {
              const v = value(d, m);
              check(min === undefined || v === undefined ? undefined : v <= h.factor! * min);
            }
          }
        }
        const trivial = n > 0 && zeroSelf === n;
        rows.push({
          metric,
          distance,
          hypothesis: hypothesisLabel(h),
          target,
          win,
          cells: n,
          win_rate: n > 0 ? win / n : null,
          trivial,
          ...(trivial ? { trivial_reason: selfZeroReason(models.selfModel) } : {}),
        });
      }
    }
  }
  return rows;
}
