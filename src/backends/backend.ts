// The one narrow interface every backend implements (in-process GGUF, HTTP servers, ONNX).
// Backends know nothing about tasks; tasks reach backends only through this interface.

/** One log-likelihood request: score `continuation` given `context` (lm-eval semantics). */
export interface LoglikelihoodRequest {
  context: string;
  continuation: string;
}

export interface LoglikelihoodResult {
  /** Sum of log-probabilities (natural log) of the continuation tokens. */
  logprob: number;
  /** True when every continuation token is the argmax of its distribution. */
  isGreedy: boolean;
  /** Number of continuation tokens scored. */
  nTokens: number;
  /** True when context + continuation exceeded the context window and was cut from the left, as lm-eval does. */
  truncated: boolean;
}

export interface RollingResult {
  /** Sum of log-probabilities of every token of the text (after the BOS/prefix token). */
  logprob: number;
  nTokens: number;
}

/**
 * A window of token ids to evaluate. Distributions are returned for the positions that
 * predict tokens[firstScored .. tokens.length-1].
 */
export interface TokenWindow {
  tokens: number[];
  firstScored: number;
}

/** Next-token log-softmax rows of one window, row-major [nRows × nVocab]. */
export interface WindowDistributions {
  nVocab: number;
  nRows: number;
  /** log-probabilities, row r predicts tokens[firstScored + r]. */
  logprobs: Float32Array;
  /** The actual next tokens, tokens[firstScored + r]. */
  targets: Int32Array;
  /** False when the backend could only return top-k log-probs (rows are then partial). */
  full: boolean;
  /** Set when the rows are an approximation (e.g. top-k from a server): says what is approximate. */
  approximation?: string;
}

export interface GenerateRequest {
  prompt: string;
  maxTokens: number;
  /** Stop strings; generation ends at the first occurrence (excluded from the text). */
  stop?: string[];
  /** 0 = greedy (default). */
  temperature?: number;
  topP?: number;
  seed?: number;
  /** Render `prompt` as a user message with the model's own chat template. */
  chat?: boolean;
}

export interface GenerateResult {
  text: string;
  nTokens: number;
  finishReason: "stop" | "length" | "eos";
  /** The generated token ids, where the backend knows them (in-process backends). */
  tokens?: number[];
}

/** The model-card table: what people print when comparing a quantized model with its source. */
export interface ModelDescription {
  name: string;
  backend: string;
  path?: string;
  sha256?: string;
  file_bytes?: number;
  params?: number;
  /** e.g. "Q4_0", from the GGUF metadata (general.file_type). */
  quantization?: string;
  bits_per_weight?: number;
  architecture?: string;
  n_layer?: number;
  n_head?: number;
  n_head_kv?: number;
  n_embd?: number;
  n_vocab?: number;
  n_ctx_train?: number;
  /** A short digest of the tokenizer vocabulary; equal digests mean token-level metrics are comparable. */
  vocab_hash?: string;
  add_bos?: boolean;
  /** HTTP: the scoring protocol detected, the server's own name/version, replica count. */
  protocol?: string;
  server?: string;
  replicas?: number;
  /** Metrics this backend cannot compute exactly, in plain words. */
  limitations?: string[];
}

export type ProgressFn = (done: number, total: number) => void;

/** Which capabilities a backend can honestly provide. */
export interface BackendCapabilities {
  loglikelihood: boolean;
  rolling: boolean;
  /** "full" distributions, "topk" (approximate KLD), or none. */
  distributions: "full" | "topk" | "none";
  generate: boolean;
}

/**
 * What every backend implements. Request semantics (lm-eval's _encode_pair, truncation, rolling
 * windows) are not a backend's business: they are written once in ./requests.ts.
 */
export interface Backend {
  /** Display name of the model in results. */
  readonly name: string;
  /** The backend's registry id (./registry.ts), e.g. "gguf". */
  readonly kind: string;
  readonly capabilities: BackendCapabilities;
  /** Milliseconds the model took to load (or the server to be probed), recorded in results. */
  readonly loadMs: number;
  /** Requests the backend serves at once (an HTTP pool's width); undefined: one call at a time. */
  readonly concurrency?: number;
  /** Settings that change scores or speed, for the manifest (never credentials). */
  manifestSettings(): Record<string, unknown>;
  /**
   * A string that identifies the model and every setting that changes a score
   * (weights sha256 + backend + settings); part of every cache key.
   */
  fingerprint(): string;
  describe(): Promise<ModelDescription>;
  /** Token ids of `text`; `addBos` prepends the model's BOS when it uses one. */
  tokenize(text: string, addBos: boolean): Promise<number[]>;
  /** Text of token ids, special tokens rendered as nothing; throws a QuantevalError when the backend cannot know it. */
  detokenize(tokens: number[]): string;
  /** Context window in tokens used for scoring. */
  contextLength(): number;
  loglikelihood(requests: LoglikelihoodRequest[], onProgress?: ProgressFn): Promise<LoglikelihoodResult[]>;
  loglikelihoodRolling(texts: string[], onProgress?: ProgressFn): Promise<RollingResult[]>;
  /**
   * Optional: makes ready whatever decodes equal-length windows of `tokens` tokens (perplexity
   * chunks), as llama-perplexity creates and warms its context at load, so that a task's first
   * chunk does not pay for it. distributions() works without it.
   */
  prepareWindows?(tokens: number): Promise<void>;
  /** Log-softmax rows for each window; memory bounded by the windows passed in one call. */
  distributions(windows: TokenWindow[]): Promise<WindowDistributions[]>;
  generate(requests: GenerateRequest[], onProgress?: ProgressFn): Promise<GenerateResult[]>;
  /** Releases the model; the backend must not be used afterwards. */
  dispose(): Promise<void>;
}
