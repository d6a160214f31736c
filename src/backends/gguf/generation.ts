// Text generation on its own llama_context, with continuous batching.
import type { GenerateRequest, GenerateResult, ProgressFn } from "../backend.js";
import { NativeBatch, type PlanEntry, runPlan } from "../ggufBatcher.js";
import { type LlamaContext, type LlamaLib, type LlamaModel, cString } from "../llamaLib.js";
import { sampleToken } from "../sampling.js";
import { type AttachedThreadpool, attachThreadpool } from "../threadpool.js";
import { QuantevalError } from "../../util/errors.js";
import { type ContextShape, contextParams } from "./options.js";
import type { GgufVocab } from "./vocab.js";

/** What generation shares with the scoring side of the backend. */
export interface GeneratorDeps {
  lib: LlamaLib;
  model: LlamaModel;
  vocab: GgufVocab;
  /** Tokens per llama_decode (the generation context's batch is made with the context). */
  nBatch: number;
  /** The scoring context's shape: threads, flash attention and KV cache type carry over. */
  shape: ContextShape;
  /** Per-sequence window. */
  nCtx: number;
  /** Sequences generated together; defaults to min(16, nSeqMax). */
  parallel: number | undefined;
  name: string;
  path: string;
}

export class GgufGenerator {
  private gen: { ctx: LlamaContext; batch: NativeBatch; seqs: number; perSeq: number; pool: AttachedThreadpool | null } | undefined;

  constructor(private readonly d: GeneratorDeps) {}

  /** Renders a user message with the model's own chat template (from the GGUF metadata). */
  applyChatTemplate(userText: string): string {
    const { lib, model, path } = this.d;
    const tmpl = lib.model_chat_template(model, null);
    if (!tmpl) throw new QuantevalError(`${path}: the model has no chat template in its GGUF metadata (tokenizer.chat_template); set chat: false`);
    const msg = [{ role: "user", content: userText }];
    let buf = new Uint8Array(userText.length * 2 + 1024);
    let n = lib.chat_apply_template(tmpl, msg, 1, true, buf, buf.length);
    if (n > buf.length) {
      buf = new Uint8Array(n + 16);
      n = lib.chat_apply_template(tmpl, msg, 1, true, buf, buf.length);
    }
    if (n < 0) throw new QuantevalError(`${path}: llama.cpp does not support this model's chat template; set chat: false`);
    return cString(buf, n);
  }

  /**
   * Generation gets its own context with one KV stream per sequence (kv_unified off): each
   * token then attends only over its own sequence's cells, so parallel sequences scale, where
   * the scoring context's unified cache would make every token attend over all of them.
   */
  private context(seqs: number, perSeq: number): { ctx: LlamaContext; batch: NativeBatch; seqs: number; perSeq: number } {
    if (this.gen && this.gen.seqs >= seqs && this.gen.perSeq >= perSeq) return this.gen;
    this.free();
    const { lib, model, nBatch, shape } = this.d;
    const cp = contextParams(lib, { ...shape, nCtx: seqs * perSeq, nBatch, nUbatch: Math.min(512, nBatch), nSeqMax: seqs, kvUnified: false });
    const ctx = lib.init_from_model(model, cp);
    if (!ctx) throw new QuantevalError(`${this.d.path}: could not create a generation context (${seqs} × ${perSeq} tokens); lower n_seq_max or max_tokens`);
    this.gen = { ctx, batch: new NativeBatch(lib, nBatch, seqs), seqs, perSeq, pool: attachThreadpool(lib, ctx, shape.threads) };
    return this.gen;
  }

  /** Frees the generation context, if one was made. */
  free(): void {
    if (!this.gen) return;
    this.gen.pool?.dispose();
    this.gen.batch.free();
    this.d.lib.free(this.gen.ctx);
    this.gen = undefined;
  }

  /**
   * Generates for every request with continuous batching: up to `slots` sequences decode
   * together, one token each per llama_decode; when one finishes, the next request's prompt
   * is prefilled into its slot within the same llama_decode as the others' next tokens.
   *
   * Why the slots are kept consecutive: with one KV stream per sequence, llama.cpp packs a
   * micro-batch only from a run of consecutive sequence ids in ascending order
   * (llama_batch_allocr::split_equal, "sequential"), so sequences 0, 2, 5 would decode as three
   * single-token micro-batches. Entries are therefore sorted by sequence id, and once no
   * request is left to fill a hole, the highest sequence is moved into the lowest hole
   * (llama_memory_seq_cp copies the KV stream).
   */
  async generate(requests: GenerateRequest[], onProgress?: ProgressFn): Promise<GenerateResult[]> {
    const { lib, vocab, nCtx } = this.d;
    const results: GenerateResult[] = new Array(requests.length);
    if (requests.length === 0) return results;
    const prompts = requests.map((r) => vocab.tokenize(r.chat ? this.applyChatTemplate(r.prompt) : r.prompt, true));
    prompts.forEach((p, i) => {
      if (p.length === 0) throw new QuantevalError(`${this.d.name}: request ${i} has an empty prompt and the model adds no BOS token; give it some text`);
      if (p.length >= nCtx) throw new QuantevalError(`${this.d.name}: prompt of ${p.length} tokens does not fit n_ctx ${nCtx}`);
    });
    const longest = Math.max(...prompts.map((p, i) => Math.min(p.length + requests[i].maxTokens, nCtx)));
    const perSeq = Math.min(nCtx, Math.ceil(longest / 256) * 256);
    const gen = this.context(Math.min(this.d.shape.nSeqMax, this.d.parallel ?? 16, requests.length), perSeq);
    const ctx = gen.ctx;
    const mem = lib.get_memory(ctx);
    lib.memory_clear(mem, true);
    type State = { req: number; seq: number; pos: number; tokens: number[]; stop?: GenerateResult["finishReason"]; text?: string; last: Float32Array | null };
    const free = Array.from({ length: gen.seqs }, (_, k) => k);
    let active: State[] = [];
    let next = 0;
    let done = 0;
    const owner = new Map<PlanEntry, State>();
    let pending: PlanEntry[] = [];
    const push = (s: State, token: number, pos: number, output: boolean) => {
      const e: PlanEntry = { token, pos, seqs: [s.seq], output };
      pending.push(e);
      if (output) owner.set(e, s);
    };
    const finish = (s: State) => {
      results[s.req] = { text: s.text ?? vocab.detokenize(s.tokens), nTokens: s.tokens.length, finishReason: s.stop ?? "length", tokens: s.tokens };
      onProgress?.(++done, requests.length);
      lib.memory_seq_rm(mem, s.seq, -1, -1);
      free.push(s.seq);
      free.sort((a, b) => a - b);
    };
    for (;;) {
      // Sample the next token of every sequence that has logits; finish the ones that stop.
      const cont: Array<{ s: State; token: number }> = [];
      for (const s of active) {
        const r = requests[s.req];
        const tok = sampleToken(s.last!, r, s.tokens.length);
        s.last = null;
        if (vocab.isEog(tok)) s.stop = "eos";
        else {
          s.tokens.push(tok);
          const stops = (r.stop ?? []).filter((st) => st);
          if (stops.length > 0) {
            const text = vocab.detokenize(s.tokens);
            const hit = stops.map((st) => text.indexOf(st)).filter((x) => x >= 0);
            if (hit.length > 0) {
              s.text = text.slice(0, Math.min(...hit));
              s.stop = "stop";
            }
          }
          if (!s.stop && (s.tokens.length >= r.maxTokens || s.pos + 1 >= gen.perSeq)) s.stop = "length";
        }
        if (s.stop) finish(s);
        else cont.push({ s, token: tok });
      }
      active = cont.map((c) => c.s);
      if (next >= requests.length) {
        // No request left to fill a hole: close it with the highest sequence.
        for (;;) {
          const top = active.reduce<State | undefined>((m, s) => (m && m.seq > s.seq ? m : s), undefined);
          if (!top || free.length === 0 || free[0] > top.seq) break;
          const hole = free.shift()!;
          lib.memory_seq_cp(mem, top.seq, hole, -1, -1);
          lib.memory_seq_rm(mem, top.seq, -1, -1);
          free.push(top.seq);
          free.sort((a, b) => a - b);
          top.seq = hole;
        }
      }
      pending = [];
      owner.clear();
      for (const { s, token } of cont) push(s, token, s.pos++, true);
      // Admit waiting requests into free slots; their prompts join this llama_decode.
      while (free.length > 0 && next < requests.length) {
        const s: State = { req: next, seq: free.shift()!, pos: prompts[next].length, tokens: [], last: null };
        next++;
        prompts[s.req].forEach((token, pos) => push(s, token, pos, pos === prompts[s.req].length - 1));
        active.push(s);
      }
      if (pending.length === 0) break;
      pending.sort((a, b) => a.seqs[0] - b.seqs[0]);
      await runPlan(lib, ctx, gen.batch, vocab.nVocab, pending, (i, l) => {
        const s = owner.get(pending[i]);
        if (s) s.last = Float32Array.from(l);
      });
    }
    lib.memory_clear(mem, true);
    return results;
  }
}
