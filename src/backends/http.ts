// Models served over HTTP: llama-server, vLLM, or any OpenAI-compatible server, behind the
// same Backend interface as the in-process GGUF backend, with lm-eval's request semantics.
// What the server can do is probed at open (see http/detect.ts) and recorded in describe(),
// the fingerprint and the manifest; what it cannot do is reported, never faked.
import { createHash } from "node:crypto";
import type { ModelSpec } from "../config/schema.js";
import { QuantevalError } from "../util/errors.js";
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
import { probeServer, type ServerProfile } from "./http/detect.js";
import { llamaGenerate, openAiGenerate } from "./http/generation.js";
import { type HttpBackendOptions, httpOptionsFromSpec, serverRoot } from "./http/options.js";
import { HttpPool } from "./http/pool.js";
import { servedWeights } from "./http/statedWeights.js";
import type { ProtocolId, ScoringProtocol } from "./http/protocol.js";
import { TOPK_APPROXIMATION, fillRow } from "./http/topkRows.js";
import { encodeLoglikelihood, encodeRolling, memoizedTokenizer, type RequestTokenizer } from "./requests.js";
import { reportAnswer } from "../util/answerSink.js";

export type { ProtocolId } from "./http/protocol.js";
export { type HttpBackendOptions, serverRoot } from "./http/options.js";

/** Largest vocabulary fetched whole per position for distributions (JSON is ~80 bytes per entry). */
const FULL_VOCAB_LIMIT = 2048;

/** The model card of an HTTP model, with what the server protocol allows. */
export interface HttpModelDescription extends ModelDescription {
  protocol: ProtocolId;
  server: ServerProfile["flavor"];
  replicas: number;
  /** Metrics that are approximate or unavailable through this server, and why. */
  limitations: string[];
}

export class HttpBackend implements Backend {
  readonly kind = "http";
  readonly capabilities: BackendCapabilities;
  readonly name: string;
  readonly loadMs: number;
  private readonly scoring: ScoringProtocol | undefined;
  private readonly nCtx: number;
  private readonly addBos: boolean;
  private readonly bos: number | undefined;
  private readonly prefixToken: number | undefined;
  private readonly topK: number;
  private readonly addSpacePrefix: boolean;

  private constructor(
    private readonly opts: HttpBackendOptions,
    private readonly pool: HttpPool,
    private readonly profile: ServerProfile,
    plainA: number[],
    loadMs: number,
  ) {
    this.name = opts.name;
    this.loadMs = loadMs;
    this.scoring = profile.scoring;
    // llama-server: prompt + forced tokens ≤ slot context, and lm-eval scores max_length + 1
    // tokens; OpenAI echo/prompt_logprobs: prompt + 1 generated token ≤ max_model_len.
    const reserve = profile.flavor === "llama-server" ? 1 : 2;
    const serverMax = profile.serverCtx !== undefined ? profile.serverCtx - reserve : undefined;
    if (opts.nCtx !== undefined && serverMax !== undefined && opts.nCtx > serverMax) {
      throw new QuantevalError(
        `model '${opts.name}': n_ctx ${opts.nCtx} exceeds what the server allows per request (${serverMax} tokens); lower n_ctx or restart the server with a larger context per slot`,
      );
    }
    this.nCtx = opts.nCtx ?? serverMax ?? 2048;
    this.addBos = opts.addBos ?? profile.bosPrefix.length > 0;
    this.bos = profile.bosPrefix[0] ?? profile.bos;
    this.prefixToken = this.bos ?? profile.eos;
    const nVocab = profile.nVocab ?? 0;
    const ids = this.scoring?.topHasIds === true && nVocab > 0;
    this.topK = nVocab > 0 && nVocab <= FULL_VOCAB_LIMIT && (this.scoring?.maxTopK ?? 0) >= nVocab ? nVocab : Math.min(opts.topLogprobs ?? 100, this.scoring?.maxTopK ?? 0);
    this.capabilities = {
      loglikelihood: this.scoring !== undefined,
      rolling: this.scoring !== undefined,
      distributions: !ids ? "none" : this.topK >= nVocab ? "full" : "topk",
      generate: true,
    };
    const p = profile.pieces && plainA.length > 0 ? profile.pieces[plainA[0]] : undefined;
    this.addSpacePrefix = p !== undefined && p[0] === 0x20;
  }

  /** Connects, probes the server(s) and picks the protocol. Errors never contain the API key. */
  static async open(opts: HttpBackendOptions): Promise<HttpBackend> {
    const urls = (Array.isArray(opts.baseUrl) ? opts.baseUrl : [opts.baseUrl]).map(serverRoot);
    let apiKey: string | undefined;
    if (opts.apiKeyEnv) {
      apiKey = process.env[opts.apiKeyEnv];
      if (!apiKey) throw new QuantevalError(`model '${opts.name}': environment variable ${opts.apiKeyEnv} (named by api_key_env) is not set; export it with the API key`);
    }
    const label = `model '${opts.name}'`;
    const pool = new HttpPool({
      baseUrls: urls,
      concurrency: opts.concurrency ?? 16,
      timeoutMs: opts.timeoutMs ?? 300_000,
      apiKey,
      maxAttempts: opts.maxAttempts,
      retryBaseMs: opts.retryBaseMs,
      label,
    });
    const t0 = performance.now();
    const profile = await probeServer(pool, { model: opts.model, protocol: opts.protocol, label });
    profile.weights = await servedWeights(label, opts, profile.weights, profile.card.file_bytes);
    if (opts.concurrency === undefined) pool.setConcurrency(profile.slots ? Math.max(4, 2 * profile.slots) : 16);
    const plainA = profile.tokenizer ? await profile.tokenizer.tokenize("a", false) : [];
    return new HttpBackend(opts, pool, profile, plainA, performance.now() - t0);
  }

  /** Pool counters: requests, retries, attempts per replica. */
  get requestStats(): HttpPool["stats"] {
    return this.pool.stats;
  }

  get protocol(): ProtocolId {
    return this.scoring?.id ?? "generate-only";
  }

  fingerprint(): string {
    const settings = { n_ctx: this.nCtx, add_bos: this.addBos, top_k: this.capabilities.distributions === "topk" ? this.topK : undefined };
    const id = { protocol: this.protocol, model: this.profile.modelId, ...this.profile.identity, vocab_hash: this.profile.vocabHash, ...settings };
    return `http:${this.protocol}:${createHash("sha256").update(JSON.stringify(id)).digest("hex").slice(0, 32)}:${JSON.stringify(settings)}`;
  }

  contextLength(): number {
    return this.nCtx;
  }

  limitations(): string[] {
    const out: string[] = [];
    if (!this.scoring) out.push("the server returns no log-probs of given tokens: log-likelihood tasks, perplexity and KLD cannot be computed");
    if (this.capabilities.distributions === "topk") out.push(`KLD: ${TOPK_APPROXIMATION} (k = ${this.topK})`);
    if (this.capabilities.distributions === "none" && this.scoring) out.push("the server's log-probs do not come with token ids and a vocabulary size: KLD, top-1 agreement and Δp cannot be computed");
    return out;
  }

  async describe(): Promise<HttpModelDescription> {
    const p = this.profile;
    return {
      name: this.name,
      backend: "http",
      path: this.pool.redactedUrls().join(","),
      // The file's size when the served GGUF is readable here, else the server's tensor bytes.
      file_bytes: p.weights?.file_bytes ?? p.card.file_bytes,
      sha256: p.weights?.sha256,
      params: p.card.params,
      quantization: p.card.quantization,
      bits_per_weight: p.card.params && p.card.file_bytes ? (p.card.file_bytes * 8) / p.card.params : undefined,
      n_vocab: p.nVocab,
      n_ctx_train: p.card.n_ctx_train,
      vocab_hash: p.vocabHash,
      add_bos: this.addBos,
      protocol: this.protocol,
      server: p.flavor,
      replicas: this.pool.replicaCount,
      limitations: this.limitations(),
    };
  }

  /** Settings that change scores or speed, for the manifest (URLs without credentials, never the key). */
  manifestSettings(): Record<string, unknown> {
    return {
      backend: "http",
      protocol: this.protocol,
      server: this.profile.flavor,
      model: this.profile.modelId,
      base_url: this.pool.redactedUrls(),
      n_ctx: this.nCtx,
      add_bos: this.addBos,
      concurrency: this.pool.concurrency,
      top_logprobs: this.capabilities.distributions === "topk" ? this.topK : undefined,
      server_identity: this.profile.identity,
      // What the transport went through (differs run to run, like timings): retried attempts
      // and replicas taken out as hung, so a run that limped along says so in results.json.
      traffic: { requests: this.pool.stats.requests, retries: this.pool.stats.retries, replica_timeouts: this.pool.stats.replicaTimeouts },
    };
  }

  private requireScoring(what: string): ScoringProtocol {
    if (!this.scoring)
      throw new QuantevalError(
        `model '${this.name}': ${what} needs log-probs of given tokens, which this server does not return (it has no /tokenize with echo, prompt_logprobs or llama-server n_probs); use generation tasks only`,
      );
    return this.scoring;
  }

  async tokenize(text: string, addBos: boolean): Promise<number[]> {
    const tk = this.profile.tokenizer;
    if (!tk) throw new QuantevalError(`model '${this.name}': the server has no tokenizer endpoint (/tokenize)`);
    const toks = await tk.tokenize(text, false);
    if (addBos && this.addBos && this.bos !== undefined) toks.unshift(this.bos);
    return toks;
  }

  /**
   * Text of tokens from the vocabulary pieces fetched at open (llama-server only), rendered
   * like the in-process backend: BOS/EOS as nothing, the SentencePiece leading space dropped.
   */
  detokenize(tokens: number[]): string {
    const pieces = this.profile.pieces;
    if (!pieces) throw new QuantevalError(`model '${this.name}': detokenize needs llama-server's vocabulary`);
    const parts: Buffer[] = [];
    tokens.forEach((t, i) => {
      if (t === this.profile.bos || t === this.profile.eos || this.profile.bosPrefix.includes(t)) return;
      let b = Buffer.from(pieces[t]);
      if (i === 0 && this.addSpacePrefix && b[0] === 0x20) b = b.subarray(1);
      parts.push(b);
    });
    return Buffer.concat(parts).toString("utf8");
  }

  /** This server's tokenizer as the request layer sees it. */
  private requestTokenizer(): RequestTokenizer {
    return { name: this.name, prefixToken: this.prefixToken, tokenize: (text, addBos) => this.tokenize(text, addBos) };
  }

  async loglikelihood(requests: LoglikelihoodRequest[], onProgress?: ProgressFn): Promise<LoglikelihoodResult[]> {
    const scoring = this.requireScoring("log-likelihood scoring");
    const tok = memoizedTokenizer(this.requestTokenizer());
    return this.pool.forEachAnswer(
      requests.length,
      async (i) => {
        const e = await encodeLoglikelihood(tok, requests[i].context, requests[i].continuation, this.nCtx);
        const result: LoglikelihoodResult = { logprob: 0, isGreedy: true, nTokens: e.nTokens, truncated: e.truncated };
        if (e.nTokens === 0) return result;
        for (const s of await scoring.score(e.tokens, e.from, 1)) {
          result.logprob += s.logprob;
          if (!s.greedy) result.isGreedy = false;
        }
        if (!Number.isFinite(result.logprob)) throw new QuantevalError(`model '${this.name}': the server returned a non-finite log-probability (${result.logprob}); the model may be broken`);
        return result;
      },
      onProgress,
    );
  }

  async loglikelihoodRolling(texts: string[], onProgress?: ProgressFn): Promise<RollingResult[]> {
    const scoring = this.requireScoring("rolling log-likelihood");
    const tok = this.requestTokenizer();
    const encoded = await this.pool.forEachIndex(texts.length, (i) => encodeRolling(tok, texts[i], this.nCtx));
    const windows = encoded.flatMap((e, text) => e.windows.map((w) => ({ text, ...w })));
    const sums = new Array<number>(windows.length);
    const left = encoded.map((e) => e.windows.length);
    const results: RollingResult[] = encoded.map((e) => ({ logprob: 0, nTokens: e.nTokens }));
    // A document is summed (in window order, whatever order the answers came in) and reported to
    // the run store as soon as its last window is scored (util/answerSink), so a failure later in
    // the batch keeps it, as forEachAnswer does for single-request answers.
    // A document's windows are contiguous in `windows`, from firstWindow[text].
    let at = 0;
    const firstWindow = encoded.map((e) => (at += e.windows.length) - e.windows.length);
    const finish = (text: number) => {
      for (let w = firstWindow[text]; w < firstWindow[text] + encoded[text].windows.length; w++) results[text].logprob += sums[w];
      reportAnswer(texts.length, text, results[text]);
    };
    left.forEach((n, text) => n === 0 && finish(text));
    await this.pool.forEachIndex(
      windows.length,
      async (w) => {
        sums[w] = (await scoring.score(windows[w].tokens, windows[w].from, 1)).reduce((acc, s) => acc + s.logprob, 0);
        if (--left[windows[w].text] === 0) finish(windows[w].text);
      },
      onProgress,
    );
    return results;
  }

  async distributions(windows: TokenWindow[]): Promise<WindowDistributions[]> {
    const scoring = this.requireScoring("distributions");
    if (this.capabilities.distributions === "none") throw new QuantevalError(`model '${this.name}': ${this.limitations().join("; ")}`);
    const nVocab = this.profile.nVocab!;
    return this.pool.forEachIndex(windows.length, async (wi) => {
      const w = windows[wi];
      const nRows = w.tokens.length - w.firstScored;
      if (w.firstScored < 1 || nRows < 1) throw new Error("internal: window needs firstScored >= 1 and at least one scored token");
      if (w.tokens.length > this.nCtx + 1) throw new QuantevalError(`model '${this.name}': window of ${w.tokens.length} tokens exceeds n_ctx ${this.nCtx}`);
      const scores = await scoring.score(w.tokens, w.firstScored, this.topK);
      const logprobs = new Float32Array(nRows * nVocab);
      let full = true;
      scores.forEach((s, r) => {
        if (!fillRow(logprobs, r * nVocab, nVocab, s, w.tokens[w.firstScored + r])) full = false;
      });
      const d: WindowDistributions & { approximation?: string } = { nVocab, nRows, logprobs, targets: Int32Array.from(w.tokens.slice(w.firstScored)), full };
      if (!full) d.approximation = TOPK_APPROXIMATION;
      return d;
    });
  }

  async generate(requests: GenerateRequest[], onProgress?: ProgressFn): Promise<GenerateResult[]> {
    const llama = this.profile.flavor === "llama-server";
    return this.pool.forEachAnswer(
      requests.length,
      async (i): Promise<GenerateResult> => {
        const r = requests[i];
        if (llama && !r.chat) return llamaGenerate(this.pool, await this.tokenize(r.prompt, true), r, this.opts.model);
        return openAiGenerate(this.pool, r, this.profile.modelId);
      },
      onProgress,
    );
  }

  /** Requests in flight at once: a caller batching long requests (rolling documents) sends at least this many per call. */
  get concurrency(): number {
    return this.pool.concurrency;
  }

  async dispose(): Promise<void> {
    // Nothing is held open: fetch connections close when idle.
  }
}

/** The backend factory the registry calls for `backend: http` or a spec with `base_url`. */
export async function openFromSpec(spec: ModelSpec, _path: string | undefined): Promise<Backend> {
  return HttpBackend.open(httpOptionsFromSpec(spec));
}
