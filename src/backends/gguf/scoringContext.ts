// The llama_context that scoring runs on: one unified KV cache shared by up to nSeqMax
// sequences, filled with groups of sequences (a multiple-choice context and its choices, a
// rolling window, a perplexity chunk) session by session.
import { NativeBatch, type PlanEntry, decodePlan } from "../ggufBatcher.js";
import type { LlamaContext, LlamaLib, LlamaModel } from "../llamaLib.js";
import { type AttachedThreadpool, attachThreadpool } from "../threadpool.js";
import { QuantevalError } from "../../util/errors.js";
import { type ContextShape, contextParams } from "./options.js";

/** A set of sequences evaluated together: `build` appends its plan entries, numbering its sequences from `seqBase`. */
export interface PlanGroup {
  /** KV cells the group occupies. */
  cells: number;
  /** Sequences the group uses. */
  seqs: number;
  build: (seqBase: number, entries: PlanEntry[]) => void;
}

export class ScoringContext {
  readonly ctx: LlamaContext;
  readonly batch: NativeBatch;
  /** Persistent ggml worker threads (see ../threadpool.ts for why). */
  private pool: AttachedThreadpool | null;
  private freed = false;

  constructor(
    private readonly lib: LlamaLib,
    model: LlamaModel,
    readonly shape: ContextShape,
    readonly nVocab: number,
    path: string,
  ) {
    const ctx = lib.init_from_model(model, contextParams(lib, shape));
    if (!ctx) throw new QuantevalError(`${path}: could not create a llama.cpp context (n_ctx ${shape.nCtx}); lower kv_size or n_ctx`);
    this.ctx = ctx;
    this.batch = new NativeBatch(lib, shape.nBatch, shape.nSeqMax);
    this.pool = attachThreadpool(lib, ctx, shape.threads);
  }

  /** KV cells shared by all sequences. */
  get kvSize(): number {
    return this.shape.nCtx;
  }

  get nSeqMax(): number {
    return this.shape.nSeqMax;
  }

  clearMemory(): void {
    this.lib.memory_clear(this.lib.get_memory(this.ctx), true);
  }

  /**
   * Packs groups into sessions that fit the KV cache and the sequence limit, evaluates each,
   * and clears the cache between sessions. `onRow` receives every output entry's logits.
   */
  async runGroups(groups: PlanGroup[], onRow: (entry: PlanEntry, logits: Float32Array) => void, onGroupsDone?: (n: number) => void): Promise<void> {
    const n = this.nVocab;
    await this.runGroupsOutputs(groups, (rows, all) => rows.forEach((e, k) => onRow(e, all.subarray(k * n, (k + 1) * n))), onGroupsDone);
  }

  /**
   * {@link runGroups} a decode at a time: `onOutputs` receives the output entries of one
   * llama_decode and their logits as one view over llama.cpp's buffer (row k is `rows[k]`'s),
   * valid only during the callback. A session holds at most `sessionCells` KV cells (a larger
   * group gets one of its own): every token attends over all cells of its session, masked or
   * not, so smaller sessions spend less on attention.
   */
  async runGroupsOutputs(groups: PlanGroup[], onOutputs: (rows: PlanEntry[], logits: Float32Array) => void, onGroupsDone?: (n: number) => void, sessionCells = this.kvSize): Promise<void> {
    let i = 0;
    while (i < groups.length) {
      const entries: PlanEntry[] = [];
      let cells = 0;
      let seqs = 0;
      const start = i;
      while (i < groups.length) {
        const g = groups[i];
        if (i > start && (cells + g.cells > Math.min(sessionCells, this.kvSize) || seqs + g.seqs > this.nSeqMax)) break;
        if (g.cells > this.kvSize || g.seqs > this.nSeqMax) throw new Error(`internal: request needs ${g.cells} KV cells, context has ${this.kvSize}`);
        g.build(seqs, entries);
        cells += g.cells;
        seqs += g.seqs;
        i++;
      }
      this.clearMemory();
      await decodePlan(this.lib, this.ctx, this.batch, this.nVocab, entries, (outputs, logits) =>
        onOutputs(
          outputs.map((k) => entries[k]),
          logits,
        ),
      );
      onGroupsDone?.(i - start);
    }
    this.clearMemory();
  }

  /** Frees the threadpool, the batch and the context (idempotent). */
  free(): void {
    if (this.freed) return;
    this.freed = true;
    this.pool?.dispose();
    this.pool = null;
    this.batch.free();
    this.lib.free(this.ctx);
  }
}
