// Embedding drift: how far each output moved from the baseline's output for the same prompt,
// and from the reference answer, under one sentence embedder (L1 and cosine distance).
import type { Embedder } from "../../embedders/embedder.js";
import { cosineDistance, l1Distance, summarize } from "../../metrics/embeddingDistance.js";

/** The four per-sample distances; the reference ones are null without a reference. */
export interface SampleDistances {
  l1_to_baseline: number;
  cos_to_baseline: number;
  l1_to_reference: number | null;
  cos_to_reference: number | null;
}

export const DISTANCE_KEYS = ["l1_to_baseline", "cos_to_baseline", "l1_to_reference", "cos_to_reference"] as const;
export type DistanceKey = (typeof DISTANCE_KEYS)[number];

/** Embeds each distinct text once and remembers its vector. */
export class EmbeddingTable {
  private readonly vectors = new Map<string, Float32Array>();
  constructor(readonly embedder: Embedder) {}

  /** Embeds the texts not seen yet, in batches. */
  async add(texts: Iterable<string>): Promise<void> {
    const todo = [...new Set(texts)].filter((t) => !this.vectors.has(t));
    for (let i = 0; i < todo.length; i += 256) {
      const batch = todo.slice(i, i + 256);
      const vs = await this.embedder.embed(batch);
      if (vs.length !== batch.length) throw new Error(`${this.embedder.id}: returned ${vs.length} vectors for ${batch.length} texts`);
      batch.forEach((t, k) => this.vectors.set(t, vs[k]));
    }
  }

  get(text: string): Float32Array {
    const v = this.vectors.get(text);
    if (!v) throw new Error(`internal: text not embedded by ${this.embedder.id}`);
    return v;
  }
}

/** Per-sample distances of `outputs` to the baseline's outputs and to the references (paired by index). */
export function sampleDistances(table: EmbeddingTable, outputs: readonly string[], baseline: readonly string[], references: ReadonlyArray<string | undefined>): SampleDistances[] {
  return outputs.map((o, i) => {
    const v = table.get(o);
    const b = table.get(baseline[i]);
    const ref = references[i];
    const r = ref === undefined ? undefined : table.get(ref);
    return {
      l1_to_baseline: l1Distance(v, b),
      cos_to_baseline: cosineDistance(v, b),
      l1_to_reference: r ? l1Distance(v, r) : null,
      cos_to_reference: r ? cosineDistance(v, r) : null,
    };
  });
}

/**
 * Mean and median of each distance over samples: `embed_<distance>` (mean) and
 * `embed_<distance>_median`; reference distances are left out when there are no references.
 */
export function summarizeDistances(rows: readonly SampleDistances[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of DISTANCE_KEYS) {
    const vals = rows.map((r) => r[k]).filter((x): x is number => x !== null);
    if (vals.length === 0 && k.endsWith("reference")) continue;
    const s = summarize(vals);
    out[`embed_${k}`] = s.mean;
    out[`embed_${k}_median`] = s.median;
  }
  return out;
}
