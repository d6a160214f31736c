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
import { HttpPool } from "./http/pool.js";
import type { ProtocolId, ScoringProtocol } from "./http/protocol.js";
import { redactUrl } from "./http/redact.js";
import { TOPK_APPROXIMATION, fillRow } from "./http/topkRows.js";

export type { ProtocolId } from "./http/protocol.js";

export interface HttpBackendOptions {
  /** Display name in results. */
  name: string;
  /** Server root(s); several URLs are replicas of one model and requests are spread over them. */
  baseUrl: string | string[];
  /** Served model name (sent as `model`); defaults to the server's first model. */
  model?: string;
  /** Environment variable holding the API key. */
  apiKeyEnv?: string;
  /** Per-attempt timeout in ms (default 300000: a busy server may queue requests a long time). */
  timeoutMs?: number;
  /** Requests in flight over all replicas (default: twice the server's slots, else 16). */
  concurrency?: number;
  /** Scoring window in tokens (default: the most the server allows). */
  nCtx?: number;
  /** Prepend BOS to contexts (default: what the server's tokenizer does). */
  addBos?: boolean;
  /** Force a scoring protocol instead of the detected one. */
  protocol?: ProtocolId;
  /** Alternatives per position for distributions when the vocabulary is too large to fetch whole (default 100). */
  topLogprobs?: number;
  /** Attempts per request (default 8) and first backoff in ms (default 200). */
  maxAttempts?: number;
  retryBaseMs?: number;
}

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

/** Normalizes a base URL to the server root: "http://h:8080/v1/" → "http://h:8080". */
export function serverRoot(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new QuantevalError(`base_url ${JSON.stringify(redactUrl(url))} is not a valid URL; use e.g. http://127.0.0.1:8080`);
  }
  u.pathname = u.pathname.replace(/\/+$/, "").replace(/\/v1$/, "");
  return u.toString().replace(/\/+$/, "");
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
      throw new QuantevalError(`model '${opts.name}': n_ctx ${opts.nCtx} exceeds what the server allows per request (${serverMax} tokens); lower n_ctx or restart the server with a larger context per slot`);
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
    const pool = new HttpPool({ baseUrls: urls, concurrency: opts.concurrency ?? 16, timeoutMs: opts.timeoutMs ?? 300_000, apiKey, maxAttempts: opts.maxAttempts, retryBaseMs: opts.retryBaseMs, label });
    const t0 = performance.now();
    const profile = await probeServer(pool, { model: opts.model, protocol: opts.protocol, label });
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
      file_bytes: p.card.file_bytes,
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
    if (!this.scoring) throw new QuantevalError(`model '${this.name}': ${what} needs log-probs of given tokens, which this server does not return (it has no /tokenize with echo, prompt_logprobs or llama-server n_probs); use generation tasks only`);
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

  /** lm-eval's _encode_pair, exactly as the GGUF backend does it. */
  private async encodePair(context: string, continuation: string, cache: Map<string, Promise<number[]>>): Promise<{ ctx: number[]; cont: number[] }> {
    const tok = (s: string, bos: boolean) => {
      const key = `${bos ? 1 : 0}\u0000${s}`;
      let p = cache.get(key);
      if (!p) cache.set(key, (p = this.tokenize(s, bos)));
      return p;
    };
    const trimmed = context.replace(/\s+$/u, "");
    if (trimmed.length < context.length) {
      continuation = context.slice(trimmed.length) + continuation;
      context = trimmed;
    }
    if (context === "") {
      if (this.prefixToken === undefined) throw new QuantevalError(`model '${this.name}': an empty context is scored after the BOS/EOS token, which this server does not reveal`);
      return { ctx: [this.prefixToken], cont: await tok(continuation, false) };
    }
    const [whole, ctx] = await Promise.all([tok(context + continuation, true), tok(context, true)]);
    return { ctx, cont: whole.slice(ctx.length) };
  }

  async loglikelihood(requests: LoglikelihoodRequest[], onProgress?: ProgressFn): Promise<LoglikelihoodResult[]> {
    const scoring = this.requireScoring("log-likelihood scoring");
    const cache = new Map<string, Promise<number[]>>();
    const maxLen = this.nCtx;
    return this.pool.forEachAnswer(
      requests.length,
      async (i) => {
        const { ctx, cont } = await this.encodePair(requests[i].context, requests[i].continuation, cache);
        const result: LoglikelihoodResult = { logprob: 0, isGreedy: true, nTokens: cont.length, truncated: false };
        if (cont.length === 0) return result;
        let all = [...ctx, ...cont];
        let from = ctx.length;
        if (all.length > maxLen + 1) {
          // lm-eval keeps the last max_length+1 tokens of context+continuation.
          all = all.slice(-(maxLen + 1));
          from = all.length - Math.min(cont.length, maxLen);
          result.truncated = true;
        }
        if (from < 1) throw new Error("internal: nothing to condition on");
        for (const s of await scoring.score(all, from, 1)) {
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
    if (this.prefixToken === undefined) throw new QuantevalError(`model '${this.name}': rolling log-likelihood starts from the BOS/EOS token, which this server does not reveal`);
    const L = this.nCtx;
    const results: RollingResult[] = texts.map(() => ({ logprob: 0, nTokens: 0 }));
    // lm-eval's rolling windows (context_len 1), as the GGUF backend makes them.
    const windows: Array<{ text: number; tokens: number[]; from: number }> = [];
    const tokenized = await this.pool.forEachIndex(texts.length, (i) => this.tokenize(texts[i], false));
    tokenized.forEach((t, ti) => {
      const toks = [this.prefixToken!, ...t];
      results[ti].nTokens = toks.length - 1;
      for (let s = 1; s < toks.length; s += L) {
        const e = Math.min(toks.length, s + L);
        const a = Math.max(0, e - 1 - L);
        windows.push({ text: ti, tokens: toks.slice(a, e), from: s - a });
      }
    });
    const sums = await this.pool.forEachIndex(
      windows.length,
      async (w) => (await scoring.score(windows[w].tokens, windows[w].from, 1)).reduce((acc, s) => acc + s.logprob, 0),
      onProgress,
    );
    sums.forEach((v, w) => (results[windows[w].text].logprob += v));
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

  async dispose(): Promise<void> {
    // Nothing is held open: fetch connections close when idle.
  }
}

/** The backend factory openBackend() calls for `backend: http` or a spec with `base_url`. */
export async function openFromSpec(spec: ModelSpec, _path: string | undefined): Promise<Backend> {
  if (!spec.base_url) throw new QuantevalError(`model '${spec.name}': backend http needs base_url (e.g. http://127.0.0.1:8080)`);
  const extra = spec as ModelSpec & { concurrency?: number; protocol?: ProtocolId; top_logprobs?: number };
  return HttpBackend.open({
    name: spec.name,
    baseUrl: spec.base_url,
    model: spec.model,
    apiKeyEnv: spec.api_key_env,
    timeoutMs: spec.timeout_ms,
    concurrency: extra.concurrency,
    nCtx: spec.n_ctx,
    addBos: spec.add_bos,
    protocol: extra.protocol,
    topLogprobs: extra.top_logprobs,
  });
}
