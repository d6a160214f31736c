// ONNX causal LMs through @huggingface/transformers (onnxruntime-node, CPU), loaded from a
// local folder in transformers.js's layout (config.json, tokenizer.json, onnx/model{suffix}.onnx)
// with remote loading disabled. A dtype (fp32, fp16, q8, q4 …) selects one of the folder's
// ONNX files, so the dtype variants of one model compare as baseline and variants. Every
// forward pass returns full logits, so every metric, KLD included, is exact.
import { createHash } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import type { ModelSpec } from "../config/schema.js";
import { QuantevalError } from "../util/errors.js";
import { sha256File } from "../util/sha256File.js";
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
import { importOptional } from "./optionalPackage.js";
import { encodeLoglikelihood, encodeRolling, memoizedTokenizer, type RequestTokenizer } from "./requests.js";
import { sampleToken } from "./sampling.js";

export interface OnnxOptions {
  name: string;
  /** The model folder. */
  path: string;
  /** transformers.js dtype; default fp32. */
  dtype?: string;
  /** Scoring window in tokens (default min(2048, max_position_embeddings)). */
  nCtx?: number;
  addBos?: boolean;
}

/** transformers.js's file suffix per dtype (DEFAULT_DTYPE_SUFFIX_MAPPING). */
const SUFFIX: Record<string, string> = { fp32: "", fp16: "_fp16", int8: "_int8", uint8: "_uint8", q8: "_quantized", q4: "_q4", q4f16: "_q4f16", bnb4: "_bnb4" };

interface TjsTokenizer {
  encode(text: string, opts?: { add_special_tokens?: boolean }): number[];
  decode(ids: number[], opts?: { skip_special_tokens?: boolean }): string;
  bos_token_id?: number | null;
  eos_token_id?: number | null;
}

interface TjsTensor {
  type: string;
  dims: number[];
  data: ArrayLike<number | bigint>;
  to?(type: string): TjsTensor;
}

type TjsModel = ((inputs: Record<string, unknown>) => Promise<{ logits: TjsTensor }>) & { dispose(): Promise<unknown>; config: Record<string, unknown> };

/** log-softmax of one row, in float64, written as float32. */
function logSoftmaxInto(src: ArrayLike<number>, off: number, n: number, dst: Float32Array, dstOff: number): { argmax: number } {
  let max = -Infinity;
  let argmax = 0;
  for (let i = 0; i < n; i++) {
    const v = src[off + i];
    if (v > max) {
      max = v;
      argmax = i;
    }
  }
  let sum = 0;
  for (let i = 0; i < n; i++) sum += Math.exp(src[off + i] - max);
  const lse = max + Math.log(sum);
  for (let i = 0; i < n; i++) dst[dstOff + i] = src[off + i] - lse;
  return { argmax };
}

export class OnnxBackend implements Backend {
  readonly kind = "onnx";
  readonly capabilities: BackendCapabilities = { loglikelihood: true, rolling: true, distributions: "full", generate: true };
  readonly name: string;
  readonly loadMs: number;
  readonly nVocab: number;
  private readonly nCtx: number;
  private readonly addBos: boolean;
  private readonly bos: number | undefined;
  private readonly eos: number | undefined;
  private readonly dtype: string;
  private readonly onnxFile: string;
  private sha: string | undefined;

  private constructor(
    opts: OnnxOptions,
    private readonly dir: string,
    private readonly model: TjsModel,
    private readonly tokenizer: TjsTokenizer,
    private readonly Tensor: new (type: string, data: unknown, dims: number[]) => unknown,
    private readonly config: Record<string, unknown>,
    loadMs: number,
  ) {
    this.name = opts.name;
    this.loadMs = loadMs;
    this.dtype = opts.dtype ?? "fp32";
    this.onnxFile = join(dir, "onnx", `model${SUFFIX[this.dtype] ?? `_${this.dtype}`}.onnx`);
    this.nVocab = Number(config.vocab_size);
    const maxPos = Number(config.max_position_embeddings ?? config.n_positions ?? 2048);
    this.nCtx = opts.nCtx ?? Math.min(2048, maxPos);
    const withSpecial = tokenizer.encode("a", { add_special_tokens: true });
    const plain = tokenizer.encode("a", { add_special_tokens: false });
    const prefix = withSpecial.slice(0, Math.max(0, withSpecial.indexOf(plain[0])));
    this.bos = prefix[0] ?? tokenizer.bos_token_id ?? undefined;
    this.eos = tokenizer.eos_token_id ?? undefined;
    this.addBos = opts.addBos ?? prefix.length > 0;
  }

  /** Loads the folder with local files only; a missing folder or file is a one-line error naming it. */
  static async open(opts: OnnxOptions): Promise<OnnxBackend> {
    const dir = resolve(opts.path);
    if (!existsSync(dir) || !statSync(dir).isDirectory())
      throw new QuantevalError(`model '${opts.name}': ONNX model folder not found: ${dir} (it needs config.json, tokenizer.json and onnx/model*.onnx)`);
    for (const f of ["config.json", "tokenizer.json"]) if (!existsSync(join(dir, f))) throw new QuantevalError(`model '${opts.name}': ONNX model folder ${dir} has no ${f}`);
    const dtype = opts.dtype ?? "fp32";
    const file = join(dir, "onnx", `model${SUFFIX[dtype] ?? `_${dtype}`}.onnx`);
    if (!existsSync(file)) throw new QuantevalError(`model '${opts.name}': dtype ${dtype} needs ${file}, which does not exist; choose a dtype the folder has`);
    const config = JSON.parse(readFileSync(join(dir, "config.json"), "utf8")) as Record<string, unknown>;
    if (!Number.isInteger(config.vocab_size)) throw new QuantevalError(`model '${opts.name}': ${join(dir, "config.json")} has no vocab_size`);
    const tjs = await importOptional("@huggingface/transformers", `model '${opts.name}' (backend onnx)`, () => import("@huggingface/transformers"));
    tjs.env.allowRemoteModels = false;
    tjs.env.allowLocalModels = true;
    const t0 = performance.now();
    let model: TjsModel;
    let tokenizer: TjsTokenizer;
    try {
      tokenizer = (await tjs.AutoTokenizer.from_pretrained(dir, { local_files_only: true })) as unknown as TjsTokenizer;
      model = (await tjs.AutoModelForCausalLM.from_pretrained(dir, { local_files_only: true, dtype: dtype as never, device: "cpu" })) as unknown as TjsModel;
    } catch (e) {
      throw new QuantevalError(`model '${opts.name}': could not load the ONNX model from ${dir} (dtype ${dtype}): ${(e as Error).message.split("\n")[0]}`);
    }
    return new OnnxBackend(opts, dir, model, tokenizer, tjs.Tensor as never, config, performance.now() - t0);
  }

  fingerprint(): string {
    if (!this.sha) throw new Error("describe() must run before fingerprint()");
    return `onnx:${this.sha}:${JSON.stringify({ n_ctx: this.nCtx, add_bos: this.addBos, dtype: this.dtype })}`;
  }

  contextLength(): number {
    return this.nCtx;
  }

  async describe(): Promise<ModelDescription> {
    this.sha ??= await sha256File(this.onnxFile);
    const tok = readFileSync(join(this.dir, "tokenizer.json"));
    return {
      name: this.name,
      backend: "onnx",
      path: this.onnxFile,
      sha256: this.sha,
      file_bytes: statSync(this.onnxFile).size,
      quantization: this.dtype.toUpperCase(),
      architecture: typeof this.config.model_type === "string" ? this.config.model_type : undefined,
      n_layer: typeof this.config.num_hidden_layers === "number" ? this.config.num_hidden_layers : undefined,
      n_embd: typeof this.config.hidden_size === "number" ? this.config.hidden_size : undefined,
      n_vocab: this.nVocab,
      // Same tokenizer file ⇒ token-level metrics compare across dtype variants.
      vocab_hash: createHash("sha256").update(tok).digest("hex").slice(0, 16),
      add_bos: this.addBos,
    };
  }

  manifestSettings(): Record<string, unknown> {
    return { backend: "onnx", dtype: this.dtype, file: this.onnxFile, n_ctx: this.nCtx, add_bos: this.addBos };
  }

  async tokenize(text: string, addBos: boolean): Promise<number[]> {
    return this.tokenizeSync(text, addBos);
  }

  private tokenizeSync(text: string, addBos: boolean): number[] {
    const toks = this.tokenizer.encode(text, { add_special_tokens: false });
    if (addBos && this.addBos && this.bos !== undefined) toks.unshift(this.bos);
    return toks;
  }

  detokenize(tokens: number[]): string {
    return this.tokenizer.decode(tokens, { skip_special_tokens: true });
  }

  /** Logits [tokens.length × nVocab] of one sequence, as float32. */
  private async logits(tokens: number[]): Promise<ArrayLike<number>> {
    const n = tokens.length;
    const ids = new this.Tensor("int64", BigInt64Array.from(tokens.map(BigInt)), [1, n]);
    const mask = new this.Tensor("int64", new BigInt64Array(n).fill(1n), [1, n]);
    let { logits } = await this.model({ input_ids: ids, attention_mask: mask });
    if (logits.type !== "float32" && logits.to) logits = logits.to("float32");
    if (logits.dims.length !== 3 || logits.dims[1] !== n || logits.dims[2] !== this.nVocab) {
      throw new QuantevalError(`model '${this.name}': the ONNX model returned logits of shape [${logits.dims.join(", ")}], expected [1, ${n}, ${this.nVocab}]`);
    }
    return logits.data as ArrayLike<number>;
  }

  /** Log-probs (and greedy flags) of tokens[from..] given the tokens before each. */
  private async score(tokens: number[], from: number): Promise<{ logprob: number; greedy: boolean }> {
    const data = await this.logits(tokens.slice(0, -1));
    const row = new Float32Array(this.nVocab);
    let logprob = 0;
    let greedy = true;
    for (let p = from; p < tokens.length; p++) {
      const { argmax } = logSoftmaxInto(data, (p - 1) * this.nVocab, this.nVocab, row, 0);
      logprob += row[tokens[p]];
      if (argmax !== tokens[p]) greedy = false;
    }
    return { logprob, greedy };
  }

  /** This tokenizer as the request layer sees it. */
  private requestTokenizer(): RequestTokenizer {
    return { name: this.name, prefixToken: this.bos ?? this.eos, tokenize: (text, addBos) => this.tokenizeSync(text, addBos) };
  }

  async loglikelihood(requests: LoglikelihoodRequest[], onProgress?: ProgressFn): Promise<LoglikelihoodResult[]> {
    const tok = memoizedTokenizer(this.requestTokenizer());
    const out: LoglikelihoodResult[] = [];
    for (const r of requests) {
      const e = await encodeLoglikelihood(tok, r.context, r.continuation, this.nCtx);
      const res: LoglikelihoodResult = { logprob: 0, isGreedy: true, nTokens: e.nTokens, truncated: e.truncated };
      if (e.nTokens > 0) {
        const s = await this.score(e.tokens, e.from);
        res.logprob = s.logprob;
        res.isGreedy = s.greedy;
      }
      out.push(res);
      onProgress?.(out.length, requests.length);
    }
    return out;
  }

  async loglikelihoodRolling(texts: string[], onProgress?: ProgressFn): Promise<RollingResult[]> {
    const tok = this.requestTokenizer();
    const out: RollingResult[] = [];
    for (const t of texts) {
      const e = await encodeRolling(tok, t, this.nCtx);
      let logprob = 0;
      for (const w of e.windows) logprob += (await this.score(w.tokens, w.from)).logprob;
      out.push({ logprob, nTokens: e.nTokens });
      onProgress?.(out.length, texts.length);
    }
    return out;
  }

  async distributions(windows: TokenWindow[]): Promise<WindowDistributions[]> {
    const out: WindowDistributions[] = [];
    for (const w of windows) {
      const nRows = w.tokens.length - w.firstScored;
      if (w.firstScored < 1 || nRows < 1) throw new Error("internal: window needs firstScored >= 1 and at least one scored token");
      if (w.tokens.length > this.nCtx) throw new QuantevalError(`model '${this.name}': window of ${w.tokens.length} tokens exceeds n_ctx ${this.nCtx}`);
      const data = await this.logits(w.tokens.slice(0, -1));
      const logprobs = new Float32Array(nRows * this.nVocab);
      for (let r = 0; r < nRows; r++) logSoftmaxInto(data, (w.firstScored - 1 + r) * this.nVocab, this.nVocab, logprobs, r * this.nVocab);
      out.push({ nVocab: this.nVocab, nRows, logprobs, targets: Int32Array.from(w.tokens.slice(w.firstScored)), full: true });
    }
    return out;
  }

  /** Greedy or seeded sampling, one full forward pass per token (no KV cache: simple, and exact). */
  async generate(requests: GenerateRequest[], onProgress?: ProgressFn): Promise<GenerateResult[]> {
    const out: GenerateResult[] = [];
    for (const r of requests) {
      if (r.chat) throw new QuantevalError(`model '${this.name}': chat templates are not supported by the ONNX backend; set chat: false`);
      const toks = this.tokenizeSync(r.prompt, true);
      const gen: number[] = [];
      let text = "";
      let finishReason: GenerateResult["finishReason"] = "length";
      while (gen.length < r.maxTokens && toks.length < this.nCtx) {
        const data = await this.logits(toks);
        const last = Float32Array.from({ length: this.nVocab }, (_, i) => Number(data[(toks.length - 1) * this.nVocab + i]));
        const tok = sampleToken(last, r, gen.length);
        if (tok === this.eos) {
          finishReason = "eos";
          break;
        }
        gen.push(tok);
        toks.push(tok);
        text = this.detokenize(gen);
        const hits = (r.stop ?? []).map((s) => (s ? text.indexOf(s) : -1)).filter((x) => x >= 0);
        if (hits.length > 0) {
          text = text.slice(0, Math.min(...hits));
          finishReason = "stop";
          break;
        }
      }
      out.push({ text, nTokens: gen.length, finishReason });
      onProgress?.(out.length, requests.length);
    }
    return out;
  }

  async dispose(): Promise<void> {
    await this.model.dispose();
  }
}

/** The backend factory openBackend() calls for `backend: onnx`. */
export async function openFromSpec(spec: ModelSpec, path: string | undefined): Promise<Backend> {
  if (!path) throw new QuantevalError(`model '${spec.name}': backend onnx needs 'model' to be a local model folder`);
  return OnnxBackend.open({ name: spec.name, path, dtype: spec.dtype, nCtx: spec.n_ctx, addBos: spec.add_bos });
}
