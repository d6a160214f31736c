// What every server scoring protocol provides: log-probabilities of given tokens.

/** How log-probabilities of given tokens are obtained from a server. */
export type ProtocolId =
  /** llama-server native `/completion`: the given tokens are forced (token grammar or logit bias) and `n_probs` reports their raw log-probs. */
  | "llama-completion"
  /** llama-server `/v1/completions`, same forcing, answer in the current OpenAI `logprobs.content` schema. */
  | "llama-oai"
  /** `/v1/completions` with `echo: true` + `logprobs` (OpenAI legacy, vLLM): log-probs of the prompt tokens. */
  | "openai-echo"
  /** vLLM's `prompt_logprobs` extension of `/v1/completions`. */
  | "vllm-prompt-logprobs"
  /** The server can only generate: no log-likelihoods. */
  | "generate-only";

/** One scored position. */
export interface TokenScore {
  /** Natural-log probability of the actual token. */
  logprob: number;
  /** The actual token is the argmax of the distribution. */
  greedy: boolean;
  /** Highest-probability alternatives with their ids, best first (when the server gives ids). */
  top?: Array<{ id: number; logprob: number }>;
}

/** A protocol scores tokens[from..] given everything before each of them. */
export interface ScoringProtocol {
  readonly id: ProtocolId;
  /** Most alternatives per position the server will return. */
  readonly maxTopK: number;
  /** Whether `top` entries carry token ids (needed for distributions). */
  readonly topHasIds: boolean;
  /** One score per position from..tokens.length-1; `topK` alternatives (≥ 1) per position. */
  score(tokens: number[], from: number, topK: number): Promise<TokenScore[]>;
}
