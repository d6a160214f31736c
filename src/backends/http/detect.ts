// Finds out, at open, what a server is and how it can score tokens: llama-server (GET /props),
// vLLM (POST /tokenize + prompt_logprobs or echo), or a plain OpenAI-compatible server that
// can only generate. Every replica must serve the same model.
import { basename, isAbsolute } from "node:path";
import { checkGgufFile } from "../../util/checkGgufFile.js";
import { QuantevalError } from "../../util/errors.js";
import { sha256File } from "../../util/sha256File.js";
import { LlamaScoring } from "./llamaScoring.js";
import { OpenAiScoring } from "./openaiScoring.js";
import { HttpError, type HttpPool } from "./pool.js";
import type { ProtocolId, ScoringProtocol } from "./protocol.js";
import { type RemoteTokenizer, llamaSpecialTokenId, llamaTokenizer, llamaVocabPieces, vllmTokenizer, vocabHashOf } from "./tokenizer.js";

/** What probing found. */
export interface ServerProfile {
  flavor: "llama-server" | "vllm" | "openai";
  /** `model` for request bodies. */
  modelId: string;
  scoring?: ScoringProtocol;
  tokenizer?: RemoteTokenizer;
  /** Longest token sequence one request may hold (prompt + scored/generated tokens). */
  serverCtx?: number;
  nVocab?: number;
  /** Parallel sequences over all replicas (llama-server slots), to size the default concurrency. */
  slots?: number;
  /** Tokens the server adds in front of a text when asked to add special tokens. */
  bosPrefix: number[];
  bos?: number;
  eos?: number;
  vocabHash?: string;
  /** Token pieces (llama-server), for a local detokenizer. */
  pieces?: Uint8Array[];
  /** What identifies the served weights and settings (no URLs, no keys). */
  identity: Record<string, unknown>;
  /** Model-card fields the server reports. */
  card: { params?: number; file_bytes?: number; quantization?: string; n_ctx_train?: number; architecture?: string };
  /** The served GGUF's digest, and its size when the file was read (see {@link localWeights}; the config may state them, see statedWeights.ts). */
  weights?: { sha256: string; file_bytes?: number };
}

export interface ProbeOptions {
  /** `model` from the config (sent in requests; checked against the server's list). */
  model?: string;
  /** Force a protocol instead of the detected one. */
  protocol?: ProtocolId;
  label: string;
}

interface LlamaProps {
  default_generation_settings?: { n_ctx?: number };
  total_slots?: number;
  model_path?: string;
  build_info?: string;
  bos_token?: string;
  eos_token?: string;
}

interface ModelsList {
  data?: Array<{ id: string; max_model_len?: number; meta?: Record<string, unknown> }>;
}

async function tryRequest<T>(pool: HttpPool, path: string, body: unknown, replica: number): Promise<T | undefined> {
  try {
    return await pool.request<T>(path, body, { replica });
  } catch (e) {
    if (e instanceof HttpError && e.status >= 400 && e.status < 500 && e.status !== 401 && e.status !== 403) return undefined;
    throw e;
  }
}

function quantizationName(ftype: unknown): string | undefined {
  if (typeof ftype !== "string") return undefined;
  return ftype
    .replace(/^\(guessed\)\s*/, "")
    .replace(/^(all|mostly)\s+/i, "")
    .toUpperCase();
}

/**
 * The digest and size of the file a llama-server reports serving (`/props` model_path), when that
 * path is absolute and names a readable GGUF here (a server on this machine): the same weights
 * loaded in-process and served over HTTP are then recognised as one model, and the size is the
 * file's, not the server's tensor bytes. A file smaller than the served tensors is not the served
 * one (another machine's path) and is ignored. Hashing is memoized per path, size and mtime.
 */
export async function localWeights(modelPath: string | undefined, tensorBytes: unknown): Promise<{ sha256: string; file_bytes: number } | undefined> {
  if (!modelPath || !isAbsolute(modelPath)) return undefined;
  try {
    // Throws for a missing, non-file, unreadable or non-GGUF path: all mean "not the served file here".
    const size = checkGgufFile(modelPath, "llama-server's /props model_path");
    if (typeof tensorBytes === "number" && size < tensorBytes) return undefined;
    return { sha256: await sha256File(modelPath), file_bytes: size };
  } catch {
    // Unreadable here (permissions, another machine's path, not a GGUF): the server's figures stand.
    return undefined;
  }
}

async function probeLlama(pool: HttpPool, props: LlamaProps, opts: ProbeOptions): Promise<ServerProfile> {
  const models = await pool.request<ModelsList>("/v1/models", undefined, { replica: 0 });
  const entry = models.data?.[0];
  const meta = entry?.meta ?? {};
  const nVocab = Number(meta.n_vocab);
  if (!Number.isInteger(nVocab) || nVocab <= 0) throw new QuantevalError(`${opts.label}: llama-server's /v1/models gave no meta.n_vocab; upgrade llama-server`);
  const identity = {
    server: "llama-server",
    model_file: props.model_path ? basename(props.model_path) : undefined,
    n_vocab: nVocab,
    n_params: meta.n_params,
    size: meta.size,
    ftype: meta.ftype,
    n_ctx_train: meta.n_ctx_train,
  };
  let slots = props.total_slots ?? 1;
  for (let r = 1; r < pool.replicaCount; r++) {
    const p = await pool.request<LlamaProps>("/props", undefined, { replica: r });
    const m = (await pool.request<ModelsList>("/v1/models", undefined, { replica: r })).data?.[0]?.meta ?? {};
    const other = {
      server: "llama-server",
      model_file: p.model_path ? basename(p.model_path) : undefined,
      n_vocab: Number(m.n_vocab),
      n_params: m.n_params,
      size: m.size,
      ftype: m.ftype,
      n_ctx_train: m.n_ctx_train,
    };
    if (JSON.stringify(other) !== JSON.stringify(identity)) {
      throw new QuantevalError(
        `${opts.label}: base_url replica ${pool.redactedUrls()[r]} serves a different model (${JSON.stringify(other)}) from ${pool.redactedUrls()[0]} (${JSON.stringify(identity)}); replicas must serve the same weights`,
      );
    }
    if ((p.default_generation_settings?.n_ctx ?? 0) !== (props.default_generation_settings?.n_ctx ?? 0)) {
      throw new QuantevalError(`${opts.label}: base_url replicas have different per-slot contexts; start every llama-server with the same -c and --parallel`);
    }
    slots += p.total_slots ?? 1;
  }
  const tokenizer = llamaTokenizer(pool);
  const withSpecial = await tokenizer.tokenize("a", true);
  const plain = await tokenizer.tokenize("a", false);
  const bosPrefix = withSpecial.slice(0, Math.max(0, withSpecial.indexOf(plain[0])));
  const bos = await llamaSpecialTokenId(pool, props.bos_token);
  const eos = await llamaSpecialTokenId(pool, props.eos_token);
  const pieces = await llamaVocabPieces(pool, nVocab);
  const protocol = opts.protocol ?? "llama-completion";
  if (protocol !== "llama-completion" && protocol !== "llama-oai") {
    throw new QuantevalError(`${opts.label}: protocol '${protocol}' is not available on llama-server (it has no echo or prompt log-probs); use llama-completion or llama-oai`);
  }
  const eogIds = new Set<number>(eos !== undefined ? [eos] : []);
  const standIn = plain[0];
  const base = { pool, oai: protocol === "llama-oai", eogIds, nVocab, pieces, standIn, model: opts.model, label: opts.label };
  // Token grammars (<[id]>) force a whole continuation in one request; older servers lack them.
  const probe = new LlamaScoring({ ...base, grammar: true });
  const sample = [...bosPrefix, ...(await tokenizer.tokenize(" a b", false))];
  let grammar = true;
  try {
    const viaGrammar = await probe.score(sample, bosPrefix.length > 0 ? bosPrefix.length : 1, 1);
    grammar = viaGrammar.length === sample.length - (bosPrefix.length > 0 ? bosPrefix.length : 1);
  } catch {
    grammar = false;
  }
  const local = await localWeights(props.model_path, meta.size);
  return {
    flavor: "llama-server",
    modelId: opts.model ?? entry?.id ?? "default",
    scoring: new LlamaScoring({ ...base, grammar }),
    tokenizer,
    serverCtx: props.default_generation_settings?.n_ctx,
    nVocab,
    slots,
    bosPrefix,
    bos,
    eos,
    vocabHash: vocabHashOf(pieces),
    pieces,
    identity: { ...identity, build: props.build_info, grammar_forcing: grammar },
    card: {
      params: typeof meta.n_params === "number" ? meta.n_params : undefined,
      file_bytes: typeof meta.size === "number" ? meta.size : undefined,
      quantization: quantizationName(meta.ftype),
      n_ctx_train: typeof meta.n_ctx_train === "number" ? meta.n_ctx_train : undefined,
    },
    weights: local,
  };
}

async function probeOpenAi(pool: HttpPool, opts: ProbeOptions): Promise<ServerProfile> {
  let models: ModelsList;
  try {
    models = await pool.request<ModelsList>("/v1/models", undefined, { replica: 0 });
  } catch (e) {
    if (e instanceof HttpError && (e.status === 401 || e.status === 403)) throw e;
    throw new QuantevalError(`${opts.label}: ${pool.redactedUrls()[0]} is neither llama-server (/props) nor an OpenAI-compatible server (/v1/models): ${(e as Error).message}`);
  }
  const ids = (models.data ?? []).map((m) => m.id);
  const modelId = opts.model ?? ids[0];
  if (!modelId) throw new QuantevalError(`${opts.label}: the server lists no models at /v1/models; set 'model' to the served model name`);
  if (opts.model && ids.length > 0 && !ids.includes(opts.model)) {
    throw new QuantevalError(`${opts.label}: model '${opts.model}' is not served at ${pool.redactedUrls()[0]} (it serves ${ids.join(", ")}); set 'model' to one of these`);
  }
  const entry = models.data?.find((m) => m.id === modelId);
  for (let r = 1; r < pool.replicaCount; r++) {
    const other = (await pool.request<ModelsList>("/v1/models", undefined, { replica: r })).data?.map((m) => m.id) ?? [];
    if (!other.includes(modelId)) throw new QuantevalError(`${opts.label}: base_url replica ${pool.redactedUrls()[r]} does not serve '${modelId}'`);
  }
  const identity: Record<string, unknown> = { server: "openai", model: modelId, max_model_len: entry?.max_model_len };
  const profile: ServerProfile = { flavor: "openai", modelId, bosPrefix: [], identity, card: {}, serverCtx: entry?.max_model_len };
  // vLLM exposes its tokenizer; without one, prompts cannot be scored token by token.
  const tok = vllmTokenizer(pool, modelId);
  const plain = await tryRequest<{ tokens?: number[]; max_model_len?: number }>(pool, "/tokenize", { model: modelId, prompt: "a", add_special_tokens: false }, 0);
  if (!plain?.tokens?.length) {
    if (opts.protocol && opts.protocol !== "generate-only")
      throw new QuantevalError(`${opts.label}: protocol '${opts.protocol}' needs the server's /tokenize endpoint, which ${pool.redactedUrls()[0]} does not have`);
    profile.scoring = undefined;
    return profile;
  }
  profile.flavor = "vllm";
  identity.server = "vllm";
  profile.tokenizer = tok;
  profile.serverCtx = plain.max_model_len ?? entry?.max_model_len;
  const withSpecial = await tok.tokenize("a", true);
  profile.bosPrefix = withSpecial.slice(0, Math.max(0, withSpecial.indexOf(plain.tokens[0])));
  profile.bos = profile.bosPrefix[0];
  const sample = [...profile.bosPrefix, ...(await tok.tokenize(" a b", false))];
  const from = Math.max(1, profile.bosPrefix.length);
  const candidates: ProtocolId[] = opts.protocol ? [opts.protocol] : ["vllm-prompt-logprobs", "openai-echo"];
  for (const kind of candidates) {
    if (kind !== "vllm-prompt-logprobs" && kind !== "openai-echo")
      throw new QuantevalError(`${opts.label}: protocol '${kind}' is not available on this server; use vllm-prompt-logprobs or openai-echo`);
    const scoring = new OpenAiScoring({ pool, model: modelId, kind, maxTopK: 20, label: opts.label });
    try {
      const got = await scoring.score(sample, from, 1);
      const echoIds = kind === "openai-echo" && got.every((s) => s.top !== undefined);
      profile.scoring = kind === "openai-echo" ? new OpenAiScoring({ pool, model: modelId, kind, maxTopK: 20, label: opts.label, echoIds }) : scoring;
      identity.protocol = kind;
      return profile;
    } catch (e) {
      if (opts.protocol) throw e;
    }
  }
  return profile;
}

/** Probes the first replica (and checks the others) and picks the scoring protocol. */
export async function probeServer(pool: HttpPool, opts: ProbeOptions): Promise<ServerProfile> {
  const props = await tryRequest<LlamaProps>(pool, "/props", undefined, 0);
  if (props && typeof props === "object" && props.default_generation_settings) return probeLlama(pool, props, opts);
  return probeOpenAi(pool, opts);
}
