// Packs many sequences and positions into llama_decode calls over one llama_context.
//
// A plan is a list of token entries (token, position, the sequences it belongs to, whether
// its logits are needed). Entries shared by several sequences (a multiple-choice context)
// occupy one KV cell and are evaluated once. The plan is streamed in n_batch slices; the
// logits of the output entries are handed to a callback row by row, so memory stays
// bounded by one slice of outputs.
import koffi from "koffi";
import type { LlamaBatch, LlamaContext, LlamaLib } from "./llamaLib.js";
import { decodeAsync } from "./decodeThread.js";

export interface PlanEntry {
  token: number;
  pos: number;
  seqs: number[];
  output: boolean;
}

/** Native batch buffers with typed-array views over them (written without copies). */
export class NativeBatch {
  readonly capacity: number;
  readonly maxSeqs: number;
  private readonly batch: LlamaBatch;
  private readonly token: Int32Array;
  private readonly pos: Int32Array;
  private readonly nSeqId: Int32Array;
  private readonly logits: Int8Array;
  private readonly seqIds: Int32Array[];

  constructor(
    private readonly lib: LlamaLib,
    capacity: number,
    maxSeqs: number,
  ) {
    this.capacity = capacity;
    this.maxSeqs = maxSeqs;
    this.batch = lib.batch_init(capacity, 0, maxSeqs);
    this.token = new Int32Array(koffi.view(this.batch.token, capacity * 4));
    this.pos = new Int32Array(koffi.view(this.batch.pos, capacity * 4));
    this.nSeqId = new Int32Array(koffi.view(this.batch.n_seq_id, capacity * 4));
    this.logits = new Int8Array(koffi.view(this.batch.logits, capacity));
    const ptrs = koffi.decode(this.batch.seq_id, koffi.array("void *", capacity)) as unknown[];
    this.seqIds = ptrs.map((p) => new Int32Array(koffi.view(p, maxSeqs * 4)));
  }

  /** Fills the batch from entries[from, to) and returns the struct to pass to llama_decode. */
  fill(entries: PlanEntry[], from: number, to: number): LlamaBatch {
    const n = to - from;
    for (let i = 0; i < n; i++) {
      const e = entries[from + i];
      this.token[i] = e.token;
      this.pos[i] = e.pos;
      this.nSeqId[i] = e.seqs.length;
      const ids = this.seqIds[i];
      for (let s = 0; s < e.seqs.length; s++) ids[s] = e.seqs[s];
      this.logits[i] = e.output ? 1 : 0;
    }
    return { ...this.batch, n_tokens: n };
  }

  free(): void {
    this.lib.batch_free(this.batch);
  }
}

/**
 * The output rows of one llama_decode: row k of `logits` (nVocab floats each) belongs to
 * entry `outputs[k]`. `logits` is a view over llama.cpp's own buffer (no copy), valid only
 * during the callback: the next decode overwrites or reallocates it.
 */
export type OnOutputs = (outputs: number[], logits: Float32Array) => void;

/**
 * Evaluates `entries` (positions within each sequence must ascend) in n_batch slices and calls
 * `onOutputs` after each llama_decode that produced output rows, with their entry indices in order.
 */
export async function decodePlan(lib: LlamaLib, ctx: LlamaContext, batch: NativeBatch, nVocab: number, entries: PlanEntry[], onOutputs: OnOutputs): Promise<void> {
  // On one thread for the whole process (./decodeThread.ts), as llama.cpp's tools decode.
  const decode = decodeAsync(lib);
  for (let from = 0; from < entries.length; from += batch.capacity) {
    const to = Math.min(entries.length, from + batch.capacity);
    const b = batch.fill(entries, from, to);
    const rc = await decode(ctx, b);
    if (rc !== 0) throw new Error(`llama_decode failed with code ${rc} (KV cache full or batch invalid)`);
    const outputs: number[] = [];
    for (let i = from; i < to; i++) if (entries[i].output) outputs.push(i);
    if (outputs.length === 0) continue;
    const ptr = lib.get_logits(ctx);
    if (!ptr) throw new Error("internal: llama_get_logits returned NULL after a decode with outputs");
    onOutputs(outputs, new Float32Array(koffi.view(ptr, outputs.length * nVocab * 4)));
  }
}

/**
 * {@link decodePlan} row by row: `onRow` gets the entry index and a view of its logits for every
 * output entry, in order. The view is only valid during the callback.
 */
export async function runPlan(lib: LlamaLib, ctx: LlamaContext, batch: NativeBatch, nVocab: number, entries: PlanEntry[], onRow: (entryIndex: number, logits: Float32Array) => void): Promise<void> {
  await decodePlan(lib, ctx, batch, nVocab, entries, (outputs, all) => {
    outputs.forEach((i, row) => onRow(i, all.subarray(row * nVocab, (row + 1) * nVocab)));
  });
}

/** log(sum(exp(row))) in float64, and the argmax. */
export function rowStats(row: Float32Array): { lse: number; argmax: number } {
  let max = -Infinity;
  let argmax = 0;
  for (let i = 0; i < row.length; i++) {
    if (row[i] > max) {
      max = row[i];
      argmax = i;
    }
  }
  let sum = 0;
  for (let i = 0; i < row.length; i++) sum += Math.exp(row[i] - max);
  return { lse: max + Math.log(sum), argmax };
}
