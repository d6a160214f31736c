// Per-dataset results of a generate task with several datasets (`data: [a, b]`): the same
// metrics, drift comparisons and paired CIs as the task level, computed on each dataset's prompts alone.
// They sit under `by_dataset` inside each model's results and each variant's comparison, so the
// task-level keys (pooled over every prompt) that reports and the verdict read stay as they are.
import type { TaskOutcome } from "../../run/taskContext.js";
import type { GenerateItem } from "./dataset.js";
import type { Distances } from "./distances.js";
import { type DriftInput, driftComparisons, modelResults } from "./driftResults.js";
import type { DistanceColumns } from "./embeddingDrift.js";
import { type PairedOptions, pairedGeneration } from "./pairedDrift.js";

/** The drift input restricted to the prompts at `idx` (probe generations are not per dataset). */
function subset(x: DriftInput, idx: number[]): DriftInput {
  const pick = <T>(a: T[]): T[] => (a.length ? idx.map((i) => a[i]) : a);
  const outputs = new Map([...x.outputs].map(([m, o]) => [m, { clean: pick(o.clean), perturbed: pick(o.perturbed), probes: [] }]));
  const pickRows = (d: DistanceColumns): DistanceColumns => (d.length ? d.pick(idx) : d);
  const dist: Distances = new Map(
    [...x.dist].map(([id, per]) => [id, new Map([...per].map(([m, d]) => [m, { clean: pickRows(d.clean), perturbed: pickRows(d.perturbed), selfShift: pickRows(d.selfShift) }]))]),
  );
  return { ...x, outputs, dist, references: pick(x.references), hasItems: idx.length > 0 };
}

/**
 * Adds `by_dataset: {label: …}` to every model's results and every variant's comparison when the
 * task has more than one dataset (with one, the task level already is that dataset).
 */
export function addPerDataset(x: DriftInput, items: GenerateItem[], labels: string[], paired: PairedOptions, results: TaskOutcome["results"], comparisons: TaskOutcome["comparisons"]): void {
  if (labels.length < 2) return;
  const byModel = new Map<string, Record<string, unknown>>(x.models.map((m) => [m, {}]));
  const byVariant = new Map<string, Record<string, unknown>>(x.variants.map((v) => [v, {}]));
  for (const label of labels) {
    const sub = subset(
      x,
      items.flatMap((it, i) => (it.dataset === label ? [i] : [])),
    );
    const r = modelResults(sub);
    const c: TaskOutcome["comparisons"] = {};
    driftComparisons(sub, r, c);
    for (const [v, p] of Object.entries(pairedGeneration(sub, paired))) c[v] = { ...c[v], paired: p };
    for (const m of x.models) byModel.get(m)![label] = r[m];
    for (const v of x.variants) byVariant.get(v)![label] = c[v];
  }
  for (const m of x.models) results[m] = { ...results[m], by_dataset: byModel.get(m) };
  for (const v of x.variants) comparisons[v] = { ...comparisons[v], by_dataset: byVariant.get(v) };
}
