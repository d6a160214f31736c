// The HTTP backend's options, and how a model spec maps onto them.
import type { ModelSpec } from "../../config/schema.js";
import { QuantevalError } from "../../util/errors.js";
import type { ProtocolId } from "./protocol.js";
import { redactUrl } from "./redact.js";

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
  /** sha256 of the served weights, when the server cannot reveal its file (see statedWeights.ts). */
  sha256?: string;
  /** A local copy of the served GGUF, hashed and sized in its place. */
  file?: string;
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

/** The HTTP backend options a model spec asks for. */
export function httpOptionsFromSpec(spec: ModelSpec): HttpBackendOptions {
  if (!spec.base_url) throw new QuantevalError(`model '${spec.name}': backend http needs base_url (e.g. http://127.0.0.1:8080)`);
  return {
    name: spec.name,
    baseUrl: spec.base_url,
    model: spec.model,
    apiKeyEnv: spec.api_key_env,
    timeoutMs: spec.timeout_ms,
    concurrency: spec.concurrency,
    nCtx: spec.n_ctx,
    addBos: spec.add_bos,
    protocol: spec.protocol,
    topLogprobs: spec.top_logprobs,
    sha256: spec.sha256,
    file: spec.file,
  };
}
