// Log-probabilities of prompt tokens from OpenAI-compatible `/v1/completions` servers:
//  - legacy `echo: true` + `logprobs: k` (OpenAI's legacy completions, vLLM): the prompt comes
//    back with `token_logprobs` and `top_logprobs` per token (the first is null). One token is
//    generated (`max_tokens: 1`, as lm-eval's local-completions does, since some servers reject
//    0) and ignored. vLLM keys `top_logprobs` by "token_id:N" with `return_tokens_as_token_ids`.
//  - vLLM's `prompt_logprobs: k`: `choices[0].prompt_logprobs[i]` maps token-id strings to
//    `{logprob, rank}` and always includes the prompt token itself.
// Prompts are sent as token ids, so the server scores exactly our tokenization.
import { QuantevalError } from "../../util/errors.js";
import type { HttpPool } from "./pool.js";
import type { ProtocolId, ScoringProtocol, TokenScore } from "./protocol.js";

interface EchoLogprobs {
  tokens?: string[];
  token_logprobs?: Array<number | null>;
  top_logprobs?: Array<Record<string, number> | null>;
}

type PromptLogprobs = Array<Record<string, { logprob: number; rank?: number | null }> | null>;

export interface OpenAiScoringOptions {
  pool: HttpPool;
  /** `model` field of every request. */
  model: string;
  /** Which of the two request shapes to use. */
  kind: "openai-echo" | "vllm-prompt-logprobs";
  /** Server's limit on alternatives per position (vLLM's default max_logprobs is 20). */
  maxTopK: number;
  /** The echo answer keys alternatives by token id ("token_id:N"), as vLLM does on request. */
  echoIds?: boolean;
  label: string;
}

function tokenIdKey(key: string): number | undefined {
  const m = /^token_id:(\d+)$/.exec(key) ?? /^(\d+)$/.exec(key);
  return m ? Number(m[1]) : undefined;
}

/** Scores prompt tokens through `/v1/completions` echo or vLLM prompt_logprobs. */
export class OpenAiScoring implements ScoringProtocol {
  readonly id: ProtocolId;
  readonly maxTopK: number;
  readonly topHasIds: boolean;

  constructor(private readonly o: OpenAiScoringOptions) {
    this.id = o.kind;
    this.maxTopK = o.maxTopK;
    this.topHasIds = o.kind === "vllm-prompt-logprobs" || o.echoIds === true;
  }

  async score(tokens: number[], from: number, topK: number): Promise<TokenScore[]> {
    const k = Math.max(1, Math.min(topK, this.maxTopK));
    const fail = (what: string): never => {
      throw new QuantevalError(`${this.o.label}: /v1/completions ${what}; the server does not support ${this.id} scoring`);
    };
    if (this.o.kind === "vllm-prompt-logprobs") {
      const d = await this.o.pool.request<{ choices?: Array<{ prompt_logprobs?: PromptLogprobs }> }>("/v1/completions", {
        model: this.o.model,
        prompt: tokens,
        max_tokens: 1,
        temperature: 0,
        prompt_logprobs: k,
      });
      const pl = d.choices?.[0]?.prompt_logprobs;
      if (!Array.isArray(pl) || pl.length < tokens.length) return fail("answered without prompt_logprobs for every prompt token");
      const out: TokenScore[] = [];
      for (let i = from; i < tokens.length; i++) {
        const row = pl[i];
        const own = row?.[String(tokens[i])];
        if (!row || !own || typeof own.logprob !== "number") return fail(`gave no log-prob for prompt token ${i}`);
        const top = Object.entries(row)
          .map(([key, v]) => ({ id: Number(key), logprob: v.logprob }))
          .filter((t) => Number.isInteger(t.id))
          .sort((x, y) => y.logprob - x.logprob);
        const greedy = own.rank != null ? own.rank === 1 : own.logprob >= top[0].logprob;
        out.push({ logprob: own.logprob, greedy, top });
      }
      return out;
    }
    const d = await this.o.pool.request<{ choices?: Array<{ logprobs?: EchoLogprobs }> }>("/v1/completions", {
      model: this.o.model,
      prompt: tokens,
      max_tokens: 1,
      temperature: 0,
      echo: true,
      logprobs: k,
      return_tokens_as_token_ids: true,
    });
    const lp = d.choices?.[0]?.logprobs;
    if (!lp || !Array.isArray(lp.token_logprobs) || lp.token_logprobs.length < tokens.length) return fail("answered without echoed prompt log-probs");
    const out: TokenScore[] = [];
    for (let i = from; i < tokens.length; i++) {
      const logprob = lp.token_logprobs[i];
      if (typeof logprob !== "number") return fail(`gave no log-prob for prompt token ${i}`);
      const alts = Object.entries(lp.top_logprobs?.[i] ?? {});
      const best = alts.reduce((m, [, v]) => Math.max(m, v), -Infinity);
      const withIds = alts.map(([key, v]) => ({ id: tokenIdKey(key), logprob: v }));
      const top = withIds.every((t) => t.id !== undefined) ? (withIds as Array<{ id: number; logprob: number }>).sort((x, y) => y.logprob - x.logprob) : undefined;
      out.push({ logprob, greedy: logprob >= best, top });
    }
    return out;
  }
}
