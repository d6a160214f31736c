// In-process GGUF backend: llama.cpp (as shipped by node-llama-cpp) through its C API.
import { createHash } from "node:crypto";
import { statSync } from "node:fs";
import { cpus } from "node:os";
import type {
  Backend,
  BackendCapabilities,
  GenerateRequest,
  GenerateResult,
  LoglikelihoodRequest,
  LoglikelihoodResult,
  ModelDescription,
  ProgressFn,
  RollingResult,
  TokenWindow,
  WindowDistributions,
} from "./backend.js";
import { type GpuChoice, type LlamaLib, cString, customLibDir, llamaBuildInfo, llamaChatMessage, loadLlamaLib } from "./llamaLib.js";
import { NativeBatch, type PlanEntry, rowStats, runPlan } from "./ggufBatcher.js";
import { sha256File } from "../util/sha256File.js";
import { checkGgufFile } from "../util/checkGgufFile.js";
import { sampleToken } from "./sampling.js";
import { type AttachedThreadpool, attachThreadpool } from "./threadpool.js";
import { QuantevalError } from "../util/errors.js";
import { distMath } from "../metrics/distMathKernels.js";

export interface GgufOptions {
  /** Display name of the model in results. */
  name: string;
  /** Path of the .gguf file. */
  path: string;
  /** Scoring window per sequence in tokens. Defaults to `min(2048, n_ctx_train)`. */
  nCtx?: number;
  /** Total KV cells shared by all parallel sequences. Defaults to `max(4096, nCtx)`. */
  kvSize?: number;
  /** Tokens per llama_decode call. Defaults to `2048`. */
  nBatch?: number;
  /** Physical micro-batch. Defaults to `512`. */
  nUbatch?: number;
  /** Parallel sequences per context. Defaults to `64`. */
  nSeqMax?: number;
  /** Sequences generated together (continuous batching). Defaults to `min(16, nSeqMax)`. */
  parallel?: number;
  /** CPU threads. Defaults to the number of cores. */
  threads?: number;
  /** Layers offloaded to a GPU; defaults to all when a GPU build is in use, else 0. */
  gpuLayers?: number;
  gpu?: GpuChoice;
  /** Flash attention: llama.cpp's `-fa`. Defaults to `"auto"`. */
  flashAttn?: "auto" | "on" | "off";
  /** KV cache type: llama.cpp's `-ctk/-ctv`. Defaults to `"f16"`. */
  cacheType?: "f16" | "f32" | "bf16" | "q8_0";
  /** Repack weights for the CPU's fastest kernels (llama.cpp's default). Defaults to `true`. */
  repack?: boolean;
  /** Prepend BOS to contexts. Defaults to the model's own `add_bos` setting. */
  addBos?: boolean;
}


/** llama_flash_attn_type and ggml_type values of the pinned llama.cpp (include/llama.h, ggml.h). */
const FLASH_ATTN = { auto: -1, off: 0, on: 1 } as const;
const CACHE_TYPE = { f32: 0, f16: 1, q8_0: 8, bf16: 30 } as const;

export class GgufBackend implements Backend {
  readonly kind = "gguf";
  readonly capabilities: BackendCapabilities = { loglikelihood: true, rolling: true, distributions: "full", generate: true };
  readonly name: string;
  readonly loadMs: number;
  private readonly lib: LlamaLib;
  private model: unknown;
  private ctx: unknown;
  private readonly vocab: unknown;
  private readonly batch: NativeBatch;
  readonly nVocab: number;
  private readonly nCtx: number;
  private readonly kvSize: number;
  private readonly nSeqMax: number;
  private readonly parallel: number | undefined;
  private readonly addBos: boolean;
  private readonly bos: number;
  private readonly settings: Record<string, unknown>;
  private sha: string | undefined;
  private description: ModelDescription | undefined;
  private busy: Promise<unknown> = Promise.resolve();
  /** Persistent ggml worker threads for each context (see ./threadpool.ts for why). */
  private pool: AttachedThreadpool | null = null;

  private constructor(opts: GgufOptions, lib: LlamaLib, model: unknown, loadMs: number) {
    this.name = opts.name;
    this.lib = lib;
    this.model = model;
    this.loadMs = loadMs;
    this.vocab = lib.model_get_vocab(model);
    this.nVocab = lib.vocab_n_tokens(this.vocab) as number;
    const nCtxTrain = lib.model_n_ctx_train(model) as number;
    this.nCtx = opts.nCtx ?? Math.min(2048, nCtxTrain > 0 ? nCtxTrain : 2048);
    this.kvSize = Math.max(opts.kvSize ?? 4096, this.nCtx);
    this.nSeqMax = opts.nSeqMax ?? 64;
    this.parallel = opts.parallel;
    const nBatch = Math.min(opts.nBatch ?? 2048, this.kvSize);
    const threads = opts.threads ?? cpus().length;
    const cp = lib.context_default_params() as Record<string, unknown>;
    Object.assign(cp, {
      n_ctx: this.kvSize,
      n_batch: nBatch,
      n_ubatch: Math.min(opts.nUbatch ?? 512, nBatch),
      n_seq_max: this.nSeqMax,
      n_threads: threads,
      n_threads_batch: threads,
      kv_unified: true,
      no_perf: true,
      flash_attn_type: FLASH_ATTN[opts.flashAttn ?? "auto"],
      type_k: CACHE_TYPE[opts.cacheType ?? "f16"],
      type_v: CACHE_TYPE[opts.cacheType ?? "f16"],
    });
    this.ctx = lib.init_from_model(model, cp);
    if (!this.ctx) throw new QuantevalError(`${opts.path}: could not create a llama.cpp context (n_ctx ${this.kvSize}); lower kv_size or n_ctx`);
    this.batch = new NativeBatch(lib, nBatch, this.nSeqMax);
    this.pool = attachThreadpool(lib, this.ctx, threads);
    this.addBos = opts.addBos ?? Boolean(lib.vocab_get_add_bos(this.vocab));
    this.bos = lib.vocab_bos(this.vocab) as number;
    this.settings = { n_ctx: this.nCtx, add_bos: this.addBos, repack: opts.repack ?? true, flash_attn: opts.flashAttn ?? "auto", cache_type: opts.cacheType ?? "f16", threads, backend: "gguf", ...llamaBuildInfo() };
    this.path = opts.path;
  }

  readonly path: string;

  /** Loads a GGUF model. Errors name the file and say how to fix it. */
  static async open(opts: GgufOptions): Promise<GgufBackend> {
    checkGgufFile(opts.path, "the 'model' path, or set QUANTEVAL_MODELS_DIR");
    const lib = loadLlamaLib(opts.gpu ?? "auto");
    const mp = lib.model_default_params() as Record<string, unknown>;
    // Weight repacking picks CPU-specific GEMM kernels; turning it off matches `--no-repack`.
    mp.use_extra_bufts = opts.repack ?? true;
    mp.n_gpu_layers = opts.gpuLayers ?? (lib.dir.includes("cuda") || lib.dir.includes("vulkan") ? 999 : 0);
    const t0 = performance.now();
    const model = await new Promise<unknown>((resolve, reject) =>
      lib.model_load_from_file.async(opts.path, mp, (err: unknown, m: unknown) => (err ? reject(err) : resolve(m))),
    );
    const loadMs = performance.now() - t0;
    if (!model) {
      throw new QuantevalError(`${opts.path}: llama.cpp could not load this GGUF (truncated, corrupt, or an unsupported architecture); re-download or re-convert it`);
    }
    return new GgufBackend(opts, lib, model, loadMs);
  }

  fingerprint(): string {
    if (!this.sha) throw new Error("describe() must run before fingerprint()");
    // The batch layout is part of the fingerprint: it changes floating-point accumulation, so a
    // noise-floor re-run under another layout must really be computed, never replayed from cache.
    // So are a custom llama.cpp build (other kernels) and the generation width (other batches);
    // both are absent at their defaults, so earlier caches stay valid.
    return `gguf:${this.sha}:${JSON.stringify({ n_ctx: this.nCtx, add_bos: this.addBos, repack: this.settings.repack, flash_attn: this.settings.flash_attn, cache_type: this.settings.cache_type, kv_size: this.kvSize, n_seq_max: this.nSeqMax, n_batch: this.batch.capacity, parallel: this.parallel, lib: customLibDir() })}`;
  }

  contextLength(): number {
    return this.nCtx;
  }

  async describe(): Promise<ModelDescription> {
    if (this.description) return this.description;
    const { lib, model } = this;
    this.sha ??= await sha256File(this.path);
    const meta = (key: string): string | undefined => {
      const buf = new Uint8Array(512);
      const n = lib.model_meta_val_str(model, key, buf, buf.length) as number;
      return n < 0 ? undefined : cString(buf, n);
    };
    const arch = meta("general.architecture");
    const params = Number(lib.model_n_params(model));
    const size = Number(lib.model_size(model));
    const ftype = lib.model_ftype(model) as number;
    const ftypeName = (lib.ftype_name(ftype) as string) ?? String(ftype);
    this.description = {
      name: this.name,
      backend: "gguf",
      path: this.path,
      sha256: this.sha,
      file_bytes: statSync(this.path).size,
      params,
      quantization: ftypeName.replace(/^\(guessed\)\s*/, "").replace(/^(all|mostly)\s+/i, "").toUpperCase(),
      bits_per_weight: params > 0 ? (size * 8) / params : undefined,
      architecture: arch,
      n_layer: lib.model_n_layer(model) as number,
      n_head: lib.model_n_head(model) as number,
      n_head_kv: lib.model_n_head_kv(model) as number,
      n_embd: lib.model_n_embd(model) as number,
      n_vocab: this.nVocab,
      n_ctx_train: lib.model_n_ctx_train(model) as number,
      vocab_hash: this.vocabHash(),
      add_bos: this.addBos,
    };
    return this.description;
  }

  /** Settings that change scores, for the manifest. */
  manifestSettings(): Record<string, unknown> {
    return { ...this.settings, kv_size: this.kvSize, n_seq_max: this.nSeqMax, n_batch: this.batch.capacity };
  }

  private vocabHash(): string {
    const h = createHash("sha256");
    const buf = new Uint8Array(256);
    for (let t = 0; t < this.nVocab; t++) {
      const n = this.lib.token_to_piece(this.vocab, t, buf, buf.length, 0, true) as number;
      h.update(buf.subarray(0, Math.max(0, n)));
      h.update("\u0000");
    }
    return h.digest("hex").slice(0, 16);
  }

  tokenizeSync(text: string, addBos: boolean): number[] {
    const bytes = Buffer.byteLength(text, "utf8");
    let out = new Int32Array(bytes + 8);
    let n = this.lib.tokenize(this.vocab, text, bytes, out, out.length, false, false) as number;
    if (n < 0) {
      out = new Int32Array(-n + 8);
      n = this.lib.tokenize(this.vocab, text, bytes, out, out.length, false, false) as number;
    }
    const toks = Array.from(out.subarray(0, n));
    if (addBos && this.addBos && this.bos >= 0) toks.unshift(this.bos);
    return toks;
  }

  async tokenize(text: string, addBos: boolean): Promise<number[]> {
    return this.tokenizeSync(text, addBos);
  }

  detokenize(tokens: number[]): string {
    const arr = Int32Array.from(tokens);
    let buf = new Uint8Array(tokens.length * 16 + 16);
    let n = this.lib.detokenize(this.vocab, arr, arr.length, buf, buf.length, false, false) as number;
    if (n < 0) {
      buf = new Uint8Array(-n + 16);
      n = this.lib.detokenize(this.vocab, arr, arr.length, buf, buf.length, false, false) as number;
    }
    return cString(buf, n);
  }

  /** Runs `fn` exclusively: one llama_context serves one plan at a time. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.busy.then(fn, fn);
    this.busy = next.catch(() => undefined);
    return next;
  }

  private clearMemory(ctx: unknown = this.ctx): void {
    this.lib.memory_clear(this.lib.get_memory(ctx), true);
  }

  private genCtx: { ctx: unknown; seqs: number; perSeq: number; pool: AttachedThreadpool | null } | undefined;

  /**
   * Generation gets its own context with one KV stream per sequence (kv_unified off): each
   * token then attends only over its own sequence's cells, so parallel sequences scale, where
   * the scoring context's unified cache would make every token attend over all of them.
   */
  private generationContext(seqs: number, perSeq: number): { ctx: unknown; seqs: number; perSeq: number } {
    if (this.genCtx && this.genCtx.seqs >= seqs && this.genCtx.perSeq >= perSeq) return this.genCtx;
    this.freeGenerationContext();
    const cp = this.lib.context_default_params() as Record<string, unknown>;
    Object.assign(cp, {
      n_ctx: seqs * perSeq,
      n_batch: this.batch.capacity,
      n_ubatch: Math.min(512, this.batch.capacity),
      n_seq_max: seqs,
      n_threads: this.settings.threads,
      n_threads_batch: this.settings.threads,
      kv_unified: false,
      no_perf: true,
      flash_attn_type: FLASH_ATTN[this.settings.flash_attn as keyof typeof FLASH_ATTN],
      type_k: CACHE_TYPE[this.settings.cache_type as keyof typeof CACHE_TYPE],
      type_v: CACHE_TYPE[this.settings.cache_type as keyof typeof CACHE_TYPE],
    });
    const ctx = this.lib.init_from_model(this.model, cp);
    if (!ctx) throw new QuantevalError(`${this.path}: could not create a generation context (${seqs} × ${perSeq} tokens); lower n_seq_max or max_tokens`);
    this.genCtx = { ctx, seqs, perSeq, pool: attachThreadpool(this.lib, ctx, this.settings.threads as number) };
    return this.genCtx;
  }

  private freeGenerationContext(): void {
    if (!this.genCtx) return;
    this.genCtx.pool?.dispose();
    this.lib.free(this.genCtx.ctx);
    this.genCtx = undefined;
  }

  /**
   * Packs groups (each a set of sequences sharing entries) into sessions that fit the KV
   * cache and the sequence limit, evaluates each, and clears the cache between sessions.
   */
  private async runGroups(
    groups: Array<{ cells: number; seqs: number; build: (seqBase: number, posEntries: PlanEntry[]) => void }>,
    onRow: (entry: PlanEntry, logits: Float32Array) => void,
    onGroupsDone?: (n: number) => void,
  ): Promise<void> {
    let i = 0;
    while (i < groups.length) {
      const entries: PlanEntry[] = [];
      let cells = 0;
      let seqs = 0;
      const start = i;
      while (i < groups.length) {
        const g = groups[i];
        if (i > start && (cells + g.cells > this.kvSize || seqs + g.seqs > this.nSeqMax)) break;
        if (g.cells > this.kvSize || g.seqs > this.nSeqMax) throw new Error(`internal: request needs ${g.cells} KV cells, context has ${this.kvSize}`);
        g.build(seqs, entries);
        cells += g.cells;
        seqs += g.seqs;
        i++;
      }
      this.clearMemory();
      await runPlan(this.lib, this.ctx, this.batch, this.nVocab, entries, (idx, logits) => onRow(entries[idx], logits));
      onGroupsDone?.(i - start);
    }
    this.clearMemory();
  }

  /** lm-eval's _encode_pair: trailing whitespace of the context moves into the continuation. */
  private encodePair(context: string, continuation: string): { ctx: number[]; cont: number[] } {
    const trimmed = context.replace(/\s+$/u, "");
    const nSpaces = context.length - trimmed.length;
    if (nSpaces > 0) {
      continuation = context.slice(trimmed.length) + continuation;
      context = trimmed;
    }
    if (context === "") {
      // lm-eval scores an empty context against the prefix (BOS/EOT) token alone.
      const prefix = this.bos >= 0 ? this.bos : (this.lib.vocab_eos(this.vocab) as number);
      return { ctx: [prefix], cont: this.tokenizeSync(continuation, false) };
    }
    const whole = this.tokenizeSync(context + continuation, true);
    const ctx = this.tokenizeSync(context, true);
    return { ctx, cont: whole.slice(ctx.length) };
  }

  loglikelihood(requests: LoglikelihoodRequest[], onProgress?: ProgressFn): Promise<LoglikelihoodResult[]> {
    return this.exclusive(async () => {
      const results: LoglikelihoodResult[] = requests.map(() => ({ logprob: 0, isGreedy: true, nTokens: 0, truncated: false }));
      const maxLen = this.nCtx;
      // Group requests with the same context so it is evaluated once and shared.
      type Item = { req: number; cont: number[] };
      const byCtx = new Map<string, { ctx: number[]; items: Item[] }>();
      const solo: Array<{ ctx: number[]; items: Item[] }> = [];
      requests.forEach((r, req) => {
        const { ctx, cont } = this.encodePair(r.context, r.continuation);
        results[req].nTokens = cont.length;
        if (cont.length === 0) return;
        if (ctx.length + cont.length > maxLen + 1) {
          // lm-eval keeps the last max_length+1 tokens of context+continuation.
          const all = [...ctx, ...cont].slice(-(maxLen + 1));
          const keepCont = cont.slice(-Math.min(cont.length, maxLen));
          results[req].truncated = true;
          solo.push({ ctx: all.slice(0, all.length - keepCont.length), items: [{ req, cont: keepCont }] });
          return;
        }
        const key = ctx.join(",");
        let g = byCtx.get(key);
        if (!g) byCtx.set(key, (g = { ctx, items: [] }));
        g.items.push({ req, cont });
      });
      // A context shared by more choices than the context has sequences is split into groups.
      const all = [...byCtx.values(), ...solo].flatMap((g) => {
        const parts: Array<{ ctx: number[]; items: Item[] }> = [];
        for (let k = 0; k < g.items.length; k += this.nSeqMax) parts.push({ ctx: g.ctx, items: g.items.slice(k, k + this.nSeqMax) });
        return parts;
      });
      // Score requests: for each output entry, which (request, target) pairs read its row.
      const reads = new Map<PlanEntry, Array<{ req: number; target: number }>>();
      const groups = all.map((g) => {
        const contCells = g.items.reduce((s, it) => s + it.cont.length - 1, 0);
        return {
          cells: g.ctx.length + contCells,
          seqs: g.items.length,
          build: (seqBase: number, entries: PlanEntry[]) => {
            const seqs = g.items.map((_, k) => seqBase + k);
            g.ctx.forEach((token, pos) => {
              const last = pos === g.ctx.length - 1;
              const e: PlanEntry = { token, pos, seqs, output: last };
              entries.push(e);
              if (last) reads.set(e, g.items.map((it) => ({ req: it.req, target: it.cont[0] })));
            });
            g.items.forEach((it, k) => {
              for (let j = 0; j < it.cont.length - 1; j++) {
                const e: PlanEntry = { token: it.cont[j], pos: g.ctx.length + j, seqs: [seqBase + k], output: true };
                entries.push(e);
                reads.set(e, [{ req: it.req, target: it.cont[j + 1] }]);
              }
            });
          },
        };
      });
      let done = 0;
      await this.runGroups(
        groups,
        (entry, logits) => {
          const rs = reads.get(entry);
          if (!rs) return;
          const { lse, argmax } = rowStats(logits);
          for (const { req, target } of rs) {
            const lp = logits[target] - lse;
            results[req].logprob += lp;
            if (argmax !== target) results[req].isGreedy = false;
          }
          reads.delete(entry);
        },
        (n) => {
          done += all.slice(done, done + n).reduce((s, g) => s + g.items.length, 0);
          onProgress?.(done, requests.length);
        },
      );
      for (const r of results) if (!Number.isFinite(r.logprob)) throw new QuantevalError(`${this.name}: backend returned a non-finite log-probability (${r.logprob}); the model may be broken`);
      return results;
    });
  }

  loglikelihoodRolling(texts: string[], onProgress?: ProgressFn): Promise<RollingResult[]> {
    return this.exclusive(async () => {
      const L = this.nCtx;
      const prefix = this.bos >= 0 ? this.bos : (this.lib.vocab_eos(this.vocab) as number);
      const results: RollingResult[] = texts.map(() => ({ logprob: 0, nTokens: 0 }));
      // lm-eval's rolling windows (context_len 1): disjoint prediction spans of up to L tokens,
      // each with as much preceding text as fits.
      const windows: Array<{ text: number; input: number[]; targets: number[]; firstOut: number }> = [];
      texts.forEach((t, ti) => {
        const toks = [prefix, ...this.tokenizeSync(t, false)];
        results[ti].nTokens = toks.length - 1;
        for (let s = 1; s < toks.length; s += L) {
          const e = Math.min(toks.length, s + L);
          const a = Math.max(0, e - 1 - L);
          const input = toks.slice(a, e - 1);
          windows.push({ text: ti, input, targets: toks.slice(s, e), firstOut: s - 1 - a });
        }
      });
      const reads = new Map<PlanEntry, { text: number; target: number }>();
      const groups = windows.map((w) => ({
        cells: w.input.length,
        seqs: 1,
        build: (seqBase: number, entries: PlanEntry[]) => {
          w.input.forEach((token, pos) => {
            const out = pos >= w.firstOut;
            const e: PlanEntry = { token, pos, seqs: [seqBase], output: out };
            entries.push(e);
            if (out) reads.set(e, { text: w.text, target: w.targets[pos - w.firstOut] });
          });
        },
      }));
      let done = 0;
      await this.runGroups(
        groups,
        (entry, logits) => {
          const r = reads.get(entry);
          if (!r) return;
          const { lse } = rowStats(logits);
          results[r.text].logprob += logits[r.target] - lse;
          reads.delete(entry);
        },
        (n) => onProgress?.((done += n), groups.length),
      );
      return results;
    });
  }

  distributions(windows: TokenWindow[]): Promise<WindowDistributions[]> {
    return this.exclusive(async () => {
      const out: WindowDistributions[] = windows.map((w) => {
        const nRows = w.tokens.length - w.firstScored;
        if (w.firstScored < 1 || nRows < 1) throw new Error("internal: window needs firstScored >= 1 and at least one scored token");
        if (w.tokens.length > this.nCtx) throw new QuantevalError(`${this.name}: window of ${w.tokens.length} tokens exceeds n_ctx ${this.nCtx}`);
        return {
          nVocab: this.nVocab,
          nRows,
          logprobs: new Float32Array(nRows * this.nVocab),
          targets: Int32Array.from(w.tokens.slice(w.firstScored)),
          full: true,
        };
      });
      const rowOf = new Map<PlanEntry, { w: number; r: number }>();
      // The whole window is evaluated, its last token too (whose logits are unused), as
      // llama-perplexity does, so ubatches split at the same places as in the reference tool.
      const groups = windows.map((w, wi) => ({
        cells: w.tokens.length,
        seqs: 1,
        build: (seqBase: number, entries: PlanEntry[]) => {
          for (let pos = 0; pos < w.tokens.length; pos++) {
            const output = pos >= w.firstScored - 1 && pos < w.tokens.length - 1;
            const e: PlanEntry = { token: w.tokens[pos], pos, seqs: [seqBase], output };
            entries.push(e);
            if (output) rowOf.set(e, { w: wi, r: pos - (w.firstScored - 1) });
          }
        },
      }));
      await this.runGroups(groups, (entry, logits) => {
        const loc = rowOf.get(entry);
        if (!loc) return;
        const d = out[loc.w];
        d.logprobs.set(logits, loc.r * this.nVocab);
        rowOf.delete(entry);
      });
      // Log-softmax on every core (native/distmath.cpp); rows of NaN/+∞ logits come back as NaN rows.
      const kernels = distMath();
      for (const d of out) kernels.logSoftmax(d.logprobs, d.nRows, d.nVocab);
      return out;
    });
  }

  /** Renders a user message with the model's own chat template (from the GGUF metadata). */
  applyChatTemplate(userText: string): string {
    const tmpl = this.lib.model_chat_template(this.model, null) as string | null;
    if (!tmpl) throw new QuantevalError(`${this.path}: the model has no chat template in its GGUF metadata (tokenizer.chat_template); set chat: false`);
    const msg = [{ role: "user", content: userText }];
    let buf = new Uint8Array(userText.length * 2 + 1024);
    let n = this.lib.chat_apply_template(tmpl, msg, 1, true, buf, buf.length) as number;
    if (n > buf.length) {
      buf = new Uint8Array(n + 16);
      n = this.lib.chat_apply_template(tmpl, msg, 1, true, buf, buf.length) as number;
    }
    if (n < 0) throw new QuantevalError(`${this.path}: llama.cpp does not support this model's chat template; set chat: false`);
    return cString(buf, n);
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
  generate(requests: GenerateRequest[], onProgress?: ProgressFn): Promise<GenerateResult[]> {
    return this.exclusive(async () => {
      const results: GenerateResult[] = new Array(requests.length);
      if (requests.length === 0) return results;
      const prompts = requests.map((r) => this.tokenizeSync(r.chat ? this.applyChatTemplate(r.prompt) : r.prompt, true));
      prompts.forEach((p, i) => {
        if (p.length === 0) throw new QuantevalError(`${this.name}: request ${i} has an empty prompt and the model adds no BOS token; give it some text`);
        if (p.length >= this.nCtx) throw new QuantevalError(`${this.name}: prompt of ${p.length} tokens does not fit n_ctx ${this.nCtx}`);
      });
      const longest = Math.max(...prompts.map((p, i) => Math.min(p.length + requests[i].maxTokens, this.nCtx)));
      const perSeq = Math.min(this.nCtx, Math.ceil(longest / 256) * 256);
      const gen = this.generationContext(Math.min(this.nSeqMax, this.parallel ?? 16, requests.length), perSeq);
      const ctx = gen.ctx;
      const mem = this.lib.get_memory(ctx);
      this.clearMemory(ctx);
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
        results[s.req] = { text: s.text ?? this.detokenize(s.tokens), nTokens: s.tokens.length, finishReason: s.stop ?? "length", tokens: s.tokens };
        onProgress?.(++done, requests.length);
        this.lib.memory_seq_rm(mem, s.seq, -1, -1);
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
          if (this.lib.vocab_is_eog(this.vocab, tok)) s.stop = "eos";
          else {
            s.tokens.push(tok);
            const stops = (r.stop ?? []).filter((st) => st);
            if (stops.length > 0) {
              const text = this.detokenize(s.tokens);
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
            this.lib.memory_seq_cp(mem, top.seq, hole, -1, -1);
            this.lib.memory_seq_rm(mem, top.seq, -1, -1);
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
        await runPlan(this.lib, ctx, this.batch, this.nVocab, pending, (i, l) => {
          const s = owner.get(pending[i]);
          if (s) s.last = Float32Array.from(l);
        });
      }
      this.clearMemory(ctx);
      return results;
    });
  }

  async dispose(): Promise<void> {
    await this.busy;
    this.freeGenerationContext();
    if (this.ctx) {
      this.pool?.dispose();
      this.pool = null;
      this.batch.free();
      this.lib.free(this.ctx);
      this.ctx = null;
    }
    if (this.model) {
      this.lib.model_free(this.model);
      this.model = null;
    }
  }
}
