// The llama_context that equal-length token windows (perplexity chunks) are decoded on, shaped
// as llama-perplexity shapes its own: n_batch / window chunks per llama_decode, each chunk a
// sequence with a KV stream of its own (kv_unified off).
//
// Why a context of its own rather than the scoring context: the scoring context keeps one
// unified KV stream, which multiple-choice requests need (a context's cells are shared by every
// choice's sequence), but in one stream each token's attention scans every cell of the session,
// so it decodes one chunk per session (20 llama_decode calls for 20 chunks of 512). With one
// stream per sequence, llama.cpp splits the 2048-token batch into micro-batches that take
// n_ubatch / n_seq tokens of every chunk (llama_batch_allocr::split_equal), and the early
// micro-batches attend over fewer cells: the same micro-batches and attention as
// llama-perplexity, a quarter of the llama_decode calls (bench/README.md), and every log-prob
// row bit-identical to the one-chunk-per-session layout (test/backends/windowContext.test.ts).
import type { ContextShape } from "./options.js";
import { ScoringContext } from "./scoringContext.js";
import { decodePlan } from "../ggufBatcher.js";
import type { LlamaLib, LlamaModel } from "../llamaLib.js";

/** llama-perplexity's shape for windows of `len` tokens: n_batch / len streams of `len` cells (at most n_seq_max). */
export function windowShape(base: ContextShape, len: number): ContextShape {
  const nSeq = Math.max(1, Math.min(base.nSeqMax, Math.floor(base.nBatch / len)));
  return { ...base, nCtx: nSeq * len, nSeqMax: nSeq, kvUnified: false };
}

/**
 * A lazily made context for windows of up to one length, remade only when a longer window
 * comes (a shorter one fits a stream as it is); freed with the backend.
 */
export class WindowContexts {
  private current: { len: number; sc: ScoringContext } | undefined;

  constructor(
    private readonly lib: LlamaLib,
    private readonly model: LlamaModel,
    private readonly base: ContextShape,
    readonly nVocab: number,
    private readonly path: string,
  ) {}

  /**
   * A context whose streams hold windows of `len` tokens, warmed up when it is made: one
   * one-token llama_decode, then its memory cleared, as llama.cpp's tools warm up the context
   * they create at load (common_init_from_params). The first decode of a context pays for the
   * CPU backend's thread team, its compute buffers' first touch and the graph allocator; done
   * here, that cost falls where the context is made (GgufBackend.prepareWindows, before a
   * perplexity task's clock starts, as llama-perplexity makes its context before its own) and
   * not in the first chunk. Rows are unchanged: every session starts from cleared memory.
   */
  async prepare(len: number): Promise<ScoringContext> {
    if (this.current && this.current.len >= len) return this.current.sc;
    this.free();
    const sc = new ScoringContext(this.lib, this.model, windowShape(this.base, len), this.nVocab, this.path);
    this.current = { len, sc };
    await decodePlan(this.lib, sc.ctx, sc.batch, this.nVocab, [{ token: 0, pos: 0, seqs: [0], output: true }], () => {});
    sc.clearMemory();
    return sc;
  }

  free(): void {
    this.current?.sc.free();
    this.current = undefined;
  }
}
