// Embedding distances of every model's generations: to the baseline's, to the references and
// (under typo noise) to the model's own clean outputs, per embedder.
import type { Embedder } from "../../embedders/embedder.js";
import { EmbeddingTable, sampleDistances, summarizeDistances, type SampleDistances } from "./embeddingDrift.js";
import type { ModelOutputs } from "./requests.js";

/** One model's per-sample distances under one embedder. */
export interface ModelDistances {
  clean: SampleDistances[];
  perturbed: SampleDistances[];
  /** How far typos moved this model's own output (its clean output as the "baseline"). */
  selfShift: SampleDistances[];
}

/** dist.get(embedder id).get(model). */
export type Distances = Map<string, Map<string, ModelDistances>>;

export async function computeDistances(embedders: Embedder[], outputs: Map<string, ModelOutputs>, baseline: string, references: Array<string | undefined>, perturb: boolean): Promise<Distances> {
  const base = outputs.get(baseline)!;
  const dist: Distances = new Map();
  for (const e of embedders) {
    const table = new EmbeddingTable(e);
    const texts: string[] = references.filter((r): r is string => r !== undefined);
    for (const o of outputs.values()) for (const g of [...o.clean, ...o.perturbed]) texts.push(g.text);
    await table.add(texts);
    const perModel = new Map<string, ModelDistances>();
    for (const [name, o] of outputs) {
      const clean = sampleDistances(
        table,
        o.clean.map((g) => g.text),
        base.clean.map((g) => g.text),
        references,
      );
      const pert = perturb
        ? sampleDistances(
            table,
            o.perturbed.map((g) => g.text),
            base.perturbed.map((g) => g.text),
            references,
          )
        : [];
      const selfShift = perturb
        ? sampleDistances(
            table,
            o.perturbed.map((g) => g.text),
            o.clean.map((g) => g.text),
            [],
          )
        : [];
      perModel.set(name, { clean, perturbed: pert, selfShift });
    }
    dist.set(e.id, perModel);
  }
  return dist;
}

/** A model's distance summary: flattened for the first embedder, and per embedder. */
export function embedSummary(dist: Distances, model: string, which: "clean" | "perturbed"): { flat: Record<string, number>; perEmb: Record<string, Record<string, number>> } {
  const perEmb: Record<string, Record<string, number>> = {};
  for (const [id, per] of dist) perEmb[id] = summarizeDistances(per.get(model)![which]);
  const firstId = [...dist.keys()][0];
  return { flat: firstId ? perEmb[firstId] : {}, perEmb };
}
