// An embedder that calls an OpenAI-compatible embeddings endpoint (OpenAI, llama.cpp server,
// vLLM, text-embeddings-inference, Ollama's /v1, …): POST {model, input: string[]} and read
// data[i].embedding. The API key is read from an environment variable and never logged or
// included in error messages.
import type { Embedder } from "./embedder.js";
import { type FetchTextResult, fetchText } from "../util/fetchText.js";

/** Options for {@link HttpEmbedder}. */
export interface HttpEmbedderOptions {
  /**
   * Server base URL. "http://host:8080", "http://host:8080/v1" and the full
   * "http://host:8080/v1/embeddings" all work (see {@link embeddingsUrl}).
   */
  baseUrl: string;
  /** Model name sent in the request body. */
  model: string;
  /** Name of the environment variable holding the API key (sent as "Authorization: Bearer …"). */
  apiKeyEnv?: string;
  /** Texts per request (default 64). */
  batchSize?: number;
  /** Per-request timeout in milliseconds (default 60000). */
  timeoutMs?: number;
}

/**
 * The embeddings URL for a base URL: kept as is if it already ends in "/embeddings", "/embeddings"
 * appended if it ends in a version segment like "/v1", otherwise "/v1/embeddings" appended.
 */
export function embeddingsUrl(baseUrl: string): string {
  const u = new URL(baseUrl);
  const path = u.pathname.replace(/\/+$/, "");
  if (/\/embeddings$/.test(path)) u.pathname = path;
  else if (/\/v\d+$/.test(path)) u.pathname = `${path}/embeddings`;
  else u.pathname = `${path}/v1/embeddings`;
  return u.toString();
}

/** Embeds texts through an OpenAI-compatible `/v1/embeddings` endpoint. */
export class HttpEmbedder implements Embedder {
  /** "http:" + the model name. */
  readonly id: string;
  /** The resolved embeddings endpoint. */
  readonly url: string;
  private readonly apiKey: string | undefined;
  private readonly batchSize: number;
  private readonly timeoutMs: number;

  /** Resolves the URL and reads the API key now, so a missing key fails before any request. */
  constructor(private readonly options: HttpEmbedderOptions) {
    if (!options.model) throw new Error("http embedder: a model name is required");
    try {
      this.url = embeddingsUrl(options.baseUrl);
    } catch {
      throw new Error(`http embedder: invalid base URL ${JSON.stringify(options.baseUrl)}`);
    }
    if (options.apiKeyEnv !== undefined) {
      const key = process.env[options.apiKeyEnv];
      if (!key) throw new Error(`http embedder: environment variable ${options.apiKeyEnv} (API key) is not set`);
      this.apiKey = key;
    }
    this.batchSize = options.batchSize ?? 64;
    if (!(Number.isInteger(this.batchSize) && this.batchSize > 0)) {
      throw new Error(`http embedder: batchSize must be a positive integer, got ${options.batchSize}`);
    }
    this.timeoutMs = options.timeoutMs ?? 60_000;
    this.id = `http:${options.model}`;
  }

  /** Embeds texts in batches of `batchSize` requests; one vector per text, in input order. */
  async embed(texts: string[]): Promise<Float32Array[]> {
    const out: Float32Array[] = [];
    for (let i = 0; i < texts.length; i += this.batchSize) out.push(...(await this.request(texts.slice(i, i + this.batchSize))));
    return out;
  }

  private async request(input: string[]): Promise<Float32Array[]> {
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (this.apiKey) headers.authorization = `Bearer ${this.apiKey}`;
    let res: FetchTextResult;
    try {
      res = await fetchText(this.url, { method: "POST", headers, body: JSON.stringify({ model: this.options.model, input }) }, this.timeoutMs);
    } catch (e) {
      throw new Error(`embeddings request to ${this.url} failed: ${this.redact(String((e as Error).message))}`);
    }
    const body = res.text;
    if (res.status < 200 || res.status >= 300) {
      throw new Error(`embeddings request to ${this.url} failed: HTTP ${res.status} ${this.redact(body.slice(0, 300))}`);
    }
    let parsed: { data?: Array<{ index?: number; embedding?: unknown }> };
    try {
      parsed = JSON.parse(body) as typeof parsed;
    } catch {
      throw new Error(`embeddings response from ${this.url} is not JSON`);
    }
    const data = parsed.data;
    if (!Array.isArray(data) || data.length !== input.length) {
      throw new Error(`embeddings response from ${this.url} has ${Array.isArray(data) ? data.length : "no"} items for ${input.length} inputs`);
    }
    // OpenAI returns an index per item; honour it in case a server reorders.
    const ordered = data.every((d) => typeof d.index === "number") ? [...data].sort((a, b) => (a.index as number) - (b.index as number)) : data;
    return ordered.map((d, i) => {
      const e = d.embedding;
      if (!Array.isArray(e) || e.length === 0 || !e.every((x) => typeof x === "number")) {
        throw new Error(`embeddings response from ${this.url}: item ${i} has no numeric embedding array`);
      }
      return Float32Array.from(e as number[]);
    });
  }

  private redact(s: string): string {
    return this.apiKey ? s.split(this.apiKey).join("[redacted]") : s;
  }
}
