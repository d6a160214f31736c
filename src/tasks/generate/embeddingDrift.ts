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
 * Per-sample distances as columns, one Float64Array a distance (a row a prompt): ~32 bytes a
 * prompt instead of an object and four boxed numbers, which a large task's models × embedders ×
 * (clean, perturbed, self-shift) rows would otherwise hold (issue 14). A reference distance of a
 * prompt without a reference is null, marked apart (a NaN distance stays NaN).
 */
export class DistanceColumns {
  private readonly columns: Record<DistanceKey, Float64Array>;
  /** 1 where the prompt has a reference (its reference distances are numbers). */
  private readonly withReference: Uint8Array;

  constructor(readonly length: number) {
    this.columns = Object.fromEntries(DISTANCE_KEYS.map((k) => [k, new Float64Array(length)])) as Record<DistanceKey, Float64Array>;
    this.withReference = new Uint8Array(length);
  }

  /** Writes `rows` from row `at` on. */
  set(at: number, rows: readonly SampleDistances[]): void {
    for (const [j, r] of rows.entries()) {
      for (const k of DISTANCE_KEYS) this.columns[k][at + j] = r[k] ?? NaN;
      this.withReference[at + j] = r.l1_to_reference === null ? 0 : 1;
    }
  }

  /** One distance of row `i` (null: a reference distance without a reference). */
  get(i: number, k: DistanceKey): number | null {
    return k.endsWith("reference") && !this.withReference[i] ? null : this.columns[k][i];
  }

  /** Row `i` as an object, keys in {@link DISTANCE_KEYS} order. */
  row(i: number): SampleDistances {
    return {
      l1_to_baseline: this.get(i, "l1_to_baseline")!,
      cos_to_baseline: this.get(i, "cos_to_baseline")!,
      l1_to_reference: this.get(i, "l1_to_reference"),
      cos_to_reference: this.get(i, "cos_to_reference"),
    };
  }

  /** The rows at `idx`, in that order. */
  pick(idx: readonly number[]): DistanceColumns {
    const out = new DistanceColumns(idx.length);
    for (const k of DISTANCE_KEYS) for (const [j, i] of idx.entries()) out.columns[k][j] = this.columns[k][i];
    for (const [j, i] of idx.entries()) out.withReference[j] = this.withReference[i];
    return out;
  }
}

/**
 * Mean and median of each distance over samples (every row, or the rows at `idx`):
 * `embed_<distance>` (mean) and `embed_<distance>_median`; reference distances are left out when
 * there are no references.
 */
export function summarizeDistances(rows: DistanceColumns, idx?: readonly number[]): Record<string, number> {
  const out: Record<string, number> = {};
  const at = idx ?? Array.from({ length: rows.length }, (_, i) => i);
  for (const k of DISTANCE_KEYS) {
    const vals = at.map((i) => rows.get(i, k)).filter((x): x is number => x !== null);
    if (vals.length === 0 && k.endsWith("reference")) continue;
    const s = summarize(vals);
    out[`embed_${k}`] = s.mean;
    out[`embed_${k}_median`] = s.median;
  }
  return out;
}
