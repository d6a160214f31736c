// In-process GGUF backend: llama.cpp (as shipped by node-llama-cpp) through its C API.
// This file holds the model's lifetime and the Backend contract; the work is in ./gguf/:
// vocab.ts (tokenization), scoringContext.ts (the KV cache sessions), scoring.ts
// (log-likelihood), distributions.ts, generation.ts and describe.ts.
import { cpus } from "node:os";
import type { ModelSpec } from "../config/schema.js";
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
import { type LlamaLib, type LlamaModel, customLibDir, llamaBuildInfo, loadLlamaLib } from "./llamaLib.js";
import { sha256File } from "../util/sha256File.js";
import { checkGgufFile } from "../util/checkGgufFile.js";
import { QuantevalError } from "../util/errors.js";
import { describeGguf } from "./gguf/describe.js";
import { windowDistributions } from "./gguf/distributions.js";
import { GgufGenerator } from "./gguf/generation.js";
import type { ContextShape, GgufOptions } from "./gguf/options.js";
import { scoreLoglikelihood, scoreRolling } from "./gguf/scoring.js";
import { ScoringContext } from "./gguf/scoringContext.js";
import { WindowContexts } from "./gguf/windowContext.js";
import { GgufVocab } from "./gguf/vocab.js";

export type { GgufOptions } from "./gguf/options.js";

export class GgufBackend implements Backend {
  readonly kind = "gguf";
  readonly capabilities: BackendCapabilities = { loglikelihood: true, rolling: true, distributions: "full", generate: true };
  readonly name: string;
  readonly path: string;
  readonly loadMs: number;
  readonly nVocab: number;
  private readonly lib: LlamaLib;
  private model: LlamaModel | null;
  private readonly vocab: GgufVocab;
  /** The context log-likelihood requests run on, made on first use (see {@link scoring}). */
  private scoringContext: ScoringContext | undefined;
  private readonly shape: ContextShape;
  private readonly windowContexts: WindowContexts;
  private readonly generator: GgufGenerator;
  private readonly nCtx: number;
  private readonly parallel: number | undefined;
  private readonly repack: boolean;
  private sha: string | undefined;
  private description: ModelDescription | undefined;
  private busy: Promise<unknown> = Promise.resolve();

  private constructor(opts: GgufOptions, lib: LlamaLib, model: LlamaModel, loadMs: number) {
    this.name = opts.name;
    this.path = opts.path;
    this.lib = lib;
    this.model = model;
    this.loadMs = loadMs;
    this.vocab = new GgufVocab(lib, model, opts.name, opts.addBos);
    this.nVocab = this.vocab.nVocab;
    const nCtxTrain = lib.model_n_ctx_train(model);
    this.nCtx = opts.nCtx ?? Math.min(2048, nCtxTrain > 0 ? nCtxTrain : 2048);
    this.parallel = opts.parallel;
    this.repack = opts.repack ?? true;
    const kvSize = Math.max(opts.kvSize ?? 4096, this.nCtx);
    const nBatch = Math.min(opts.nBatch ?? 2048, kvSize);
    const shape: ContextShape = {
      nCtx: kvSize,
      nBatch,
      nUbatch: Math.min(opts.nUbatch ?? 512, nBatch),
      nSeqMax: opts.nSeqMax ?? 64,
      threads: opts.threads ?? cpus().length,
      kvUnified: true,
      flashAttn: opts.flashAttn ?? "auto",
      cacheType: opts.cacheType ?? "f16",
    };
    this.shape = shape;
    this.windowContexts = new WindowContexts(lib, model, shape, this.nVocab, opts.path);
    this.generator = new GgufGenerator({ lib, model, vocab: this.vocab, nBatch, shape, nCtx: this.nCtx, parallel: this.parallel, name: this.name, path: this.path });
  }

  /** Loads a GGUF model. Errors name the file and say how to fix it. */
  static async open(opts: GgufOptions): Promise<GgufBackend> {
    checkGgufFile(opts.path, "the 'model' path, or set QUANTEVAL_MODELS_DIR");
    const lib = loadLlamaLib(opts.gpu ?? "auto");
    const mp = lib.model_default_params();
    // Weight repacking picks CPU-specific GEMM kernels; turning it off matches `--no-repack`.
    mp.use_extra_bufts = opts.repack ?? true;
    mp.n_gpu_layers = opts.gpuLayers ?? (lib.dir.includes("cuda") || lib.dir.includes("vulkan") ? 999 : 0);
    const t0 = performance.now();
    const model = await new Promise<LlamaModel | null>((resolve, reject) => lib.model_load_from_file.async(opts.path, mp, (err: unknown, m) => (err ? reject(err) : resolve(m))));
    const loadMs = performance.now() - t0;
    if (!model) {
      throw new QuantevalError(`${opts.path}: llama.cpp could not load this GGUF (truncated, corrupt, or an unsupported architecture); re-download or re-convert it`);
    }
    try {
      return new GgufBackend(opts, lib, model, loadMs);
    } catch (e) {
      lib.model_free(model);
      throw e;
    }
  }

  /**
   * The scoring context, made when a log-likelihood request first needs it. Why not at load:
   * its KV cache (kv_size cells, 128 MB on a 0.8 B model, over 1 GB on a 70 B one) is
   * allocated and zeroed when the context is made, and a perplexity or generate task never
   * uses it: they run on contexts of their own (./gguf/windowContext.ts, ./gguf/generation.ts).
   */
  private get scoring(): ScoringContext {
    this.scoringContext ??= new ScoringContext(this.lib, this.liveModel(), this.shape, this.nVocab, this.path);
    return this.scoringContext;
  }

  fingerprint(): string {
    if (!this.sha) throw new Error("describe() must run before fingerprint()");
    // The batch layout is part of the fingerprint: it changes floating-point accumulation, so a
    // noise-floor re-run under another layout must really be computed, never replayed from cache.
    // So are a custom llama.cpp build (other kernels) and the generation width (other batches);
    // both are absent at their defaults, so earlier caches stay valid.
    const s = this.shape;
    return `gguf:${this.sha}:${JSON.stringify({ n_ctx: this.nCtx, add_bos: this.vocab.addBos, repack: this.repack, flash_attn: s.flashAttn, cache_type: s.cacheType, kv_size: s.nCtx, n_seq_max: s.nSeqMax, n_batch: s.nBatch, parallel: this.parallel, lib: customLibDir() })}`;
  }

  contextLength(): number {
    return this.nCtx;
  }

  async describe(): Promise<ModelDescription> {
    if (this.description) return this.description;
    this.sha ??= await sha256File(this.path);
    this.description = describeGguf(this.lib, this.liveModel(), this.vocab, { name: this.name, path: this.path, sha256: this.sha });
    return this.description;
  }

  /** Settings that change scores, for the manifest. */
  manifestSettings(): Record<string, unknown> {
    const s = this.shape;
    return {
      n_ctx: this.nCtx,
      add_bos: this.vocab.addBos,
      repack: this.repack,
      flash_attn: s.flashAttn,
      cache_type: s.cacheType,
      threads: s.threads,
      backend: "gguf",
      ...llamaBuildInfo(),
      kv_size: s.nCtx,
      n_seq_max: s.nSeqMax,
      n_batch: s.nBatch,
    };
  }

  tokenizeSync(text: string, addBos: boolean): number[] {
    return this.vocab.tokenize(text, addBos);
  }

  async tokenize(text: string, addBos: boolean): Promise<number[]> {
    return this.vocab.tokenize(text, addBos);
  }

  detokenize(tokens: number[]): string {
    return this.vocab.detokenize(tokens);
  }

  /** Renders a user message with the model's own chat template (from the GGUF metadata). */
  applyChatTemplate(userText: string): string {
    return this.generator.applyChatTemplate(userText);
  }

  loglikelihood(requests: LoglikelihoodRequest[], onProgress?: ProgressFn): Promise<LoglikelihoodResult[]> {
    return this.exclusive(() => scoreLoglikelihood(this.scoring, this.vocab, this.nCtx, requests, onProgress));
  }

  loglikelihoodRolling(texts: string[], onProgress?: ProgressFn): Promise<RollingResult[]> {
    return this.exclusive(() => scoreRolling(this.scoring, this.vocab, this.nCtx, texts, onProgress));
  }

  async prepareWindows(tokens: number): Promise<void> {
    await this.exclusive(() => this.windowContexts.prepare(tokens));
  }

  distributions(windows: TokenWindow[]): Promise<WindowDistributions[]> {
    return this.exclusive(() => windowDistributions(() => this.scoring, this.windowContexts, this.name, this.nCtx, windows));
  }

  generate(requests: GenerateRequest[], onProgress?: ProgressFn): Promise<GenerateResult[]> {
    return this.exclusive(() => this.generator.generate(requests, onProgress));
  }

  /** Runs `fn` exclusively: one llama_context serves one plan at a time. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.busy.then(fn, fn);
    this.busy = next.catch(() => undefined);
    return next;
  }

  private liveModel(): LlamaModel {
    if (!this.model) throw new QuantevalError(`${this.name}: the model was disposed`);
    return this.model;
  }

  async dispose(): Promise<void> {
    await this.busy;
    this.generator.free();
    this.windowContexts.free();
    this.scoringContext?.free();
    if (this.model) {
      this.lib.model_free(this.model);
      this.model = null;
    }
  }
}

/** The backend factory the registry calls for `backend: gguf` or a `.gguf` model. */
export async function openFromSpec(spec: ModelSpec, path: string | undefined): Promise<GgufBackend> {
  if (!path) throw new QuantevalError(`model '${spec.name}': backend gguf needs 'model' to be a local .gguf file`);
  return GgufBackend.open({
    name: spec.name,
    path,
    nCtx: spec.n_ctx,
    kvSize: spec.kv_size,
    nBatch: spec.n_batch,
    nSeqMax: spec.n_seq_max,
    parallel: spec.parallel,
    threads: spec.threads,
    gpuLayers: spec.gpu_layers,
    gpu: spec.gpu,
    addBos: spec.add_bos,
    repack: spec.repack,
    flashAttn: spec.flash_attn,
    cacheType: spec.cache_type,
  });
}
