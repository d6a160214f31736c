// Embedding distances of every model's generations: to the baseline's, to the references and
// (under typo noise) to the model's own clean outputs, per embedder.
import type { Embedder } from "../../embedders/embedder.js";
import { DistanceColumns, EmbeddingTable, sampleDistances, summarizeDistances } from "./embeddingDrift.js";
import type { ModelOutputs } from "./requests.js";

/** One model's per-sample distances under one embedder. */
export interface ModelDistances {
  clean: DistanceColumns;
  perturbed: DistanceColumns;
  /** How far typos moved this model's own output (its clean output as the "baseline"). */
  selfShift: DistanceColumns;
}

/** dist.get(embedder id).get(model). */
export type Distances = Map<string, Map<string, ModelDistances>>;

/** Prompts whose texts are embedded together: only one page's vectors are held at once. */
const PAGE_PROMPTS = 2048;

/**
 * Per-sample distances of every model's generations, a page of prompts at a time: each page's
 * distinct texts (references and every model's outputs) are embedded, measured and let go, so a
 * task's memory does not grow with its prompts by a vector per text (an embedder's vector of a
 * text does not depend on the other texts of its batch).
 */
export async function computeDistances(embedders: Embedder[], outputs: Map<string, ModelOutputs>, baseline: string, references: Array<string | undefined>, perturb: boolean): Promise<Distances> {
  const base = outputs.get(baseline)!;
  const dist: Distances = new Map();
  const n = base.clean.length;
  for (const e of embedders) {
    const m = perturb ? n : 0;
    const perModel = new Map<string, ModelDistances>(
      [...outputs.keys()].map((name) => [name, { clean: new DistanceColumns(n), perturbed: new DistanceColumns(m), selfShift: new DistanceColumns(m) }]),
    );
    for (let from = 0; from < Math.max(n, 1); from += PAGE_PROMPTS) {
      const to = Math.min(n, from + PAGE_PROMPTS);
      const page = <T>(a: readonly T[]): T[] => a.slice(from, to);
      const refs = page(references);
      const table = new EmbeddingTable(e);
      const texts: string[] = refs.filter((r): r is string => r !== undefined);
      for (const o of outputs.values()) for (const g of [...page(o.clean), ...page(o.perturbed)]) texts.push(g.text);
      await table.add(texts);
      const textsOf = (gs: readonly { text: string }[]) => page(gs).map((g) => g.text);
      for (const [name, o] of outputs) {
        const d = perModel.get(name)!;
        d.clean.set(from, sampleDistances(table, textsOf(o.clean), textsOf(base.clean), refs));
        if (perturb) {
          d.perturbed.set(from, sampleDistances(table, textsOf(o.perturbed), textsOf(base.perturbed), refs));
          d.selfShift.set(from, sampleDistances(table, textsOf(o.perturbed), textsOf(o.clean), []));
        }
      }
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
