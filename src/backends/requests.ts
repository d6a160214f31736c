// lm-eval's request semantics, written once for every backend (lm_eval/api/model.py, TemplateLM):
// the context/continuation split (_encode_pair), left truncation to the context window, and the
// rolling windows of loglikelihood_rolling. Backends only evaluate the token windows built here,
// so the in-process, HTTP and ONNX backends cannot drift apart.
import { movePairWhitespace } from "../lmeval/pythonText.js";
import { QuantevalError } from "../util/errors.js";

/** What the request layer needs from a backend's tokenizer. */
export interface RequestTokenizer {
  /** Display name of the model, for error messages. */
  readonly name: string;
  /** Token ids of `text`; `addBos` prepends the model's BOS when it uses one. May be synchronous. */
  tokenize(text: string, addBos: boolean): number[] | Promise<number[]>;
  /**
   * lm-eval's prefix token (`prefix_token_id`): BOS, else EOS. An empty context and every
   * rolling text are scored after it; undefined when the model reveals neither.
   */
  readonly prefixToken: number | undefined;
}

/** Context and continuation token ids of one request, before truncation. */
export interface EncodedPair {
  ctx: number[];
  cont: number[];
}

/** A token sequence of which positions `from .. tokens.length-1` are scored (each given the tokens before it). */
export interface ScoredWindow {
  tokens: number[];
  /** Index of the first scored token; always >= 1. */
  from: number;
}

/** One log-likelihood request ready for a backend. */
export interface EncodedLoglikelihood extends ScoredWindow {
  /** Continuation tokens before truncation (what lm-eval reports). 0 means nothing is scored. */
  nTokens: number;
  /** True when context + continuation were cut from the left to fit the window. */
  truncated: boolean;
}

/** One text of a rolling log-likelihood request, cut into windows. */
export interface EncodedRolling {
  /** Tokens of the text (after the prefix token): all of them are scored exactly once. */
  nTokens: number;
  windows: ScoredWindow[];
}

function prefixOf(tok: RequestTokenizer, what: string): number {
  if (tok.prefixToken === undefined)
    throw new QuantevalError(`model '${tok.name}': ${what} is scored after the BOS/EOS token, which this model does not reveal; use a model (or server) that reports its BOS or EOS token`);
  return tok.prefixToken;
}

/**
 * lm-eval's _encode_pair: trailing context whitespace (Python's rstrip) moves to the front of the
 * continuation; the continuation's tokens are those of context+continuation after the context's
 * own tokens (so a token spanning the boundary belongs to the continuation's side as
 * the whole string tokenizes it); an empty context is the prefix token alone.
 */
export async function encodePair(tok: RequestTokenizer, context: string, continuation: string): Promise<EncodedPair> {
  const s = movePairWhitespace(context, continuation);
  if (s.context === "") return { ctx: [prefixOf(tok, "an empty context")], cont: await tok.tokenize(s.continuation, false) };
  const [whole, ctx] = await Promise.all([tok.tokenize(s.context + s.continuation, true), tok.tokenize(s.context, true)]);
  return { ctx, cont: whole.slice(ctx.length) };
}

/**
 * lm-eval's truncation: of context+continuation, the last `maxLen + 1` tokens are kept (the
 * first of them only conditions), and at most `maxLen` continuation tokens are scored.
 */
export function truncatePair(pair: EncodedPair, maxLen: number): EncodedLoglikelihood {
  const { ctx, cont } = pair;
  const tokens = [...ctx, ...cont];
  if (tokens.length <= maxLen + 1) return { tokens, from: ctx.length, nTokens: cont.length, truncated: false };
  const kept = tokens.slice(-(maxLen + 1));
  return { tokens: kept, from: kept.length - Math.min(cont.length, maxLen), nTokens: cont.length, truncated: true };
}

/** Encodes and truncates one log-likelihood request for a window of `maxLen` tokens. */
export async function encodeLoglikelihood(tok: RequestTokenizer, context: string, continuation: string, maxLen: number): Promise<EncodedLoglikelihood> {
  return truncatePair(await encodePair(tok, context, continuation), maxLen);
}

/**
 * lm-eval's rolling windows (get_rolling_token_windows with context_len 1): `tokens` starts with
 * the prefix token; disjoint prediction spans of up to `maxLen` tokens, each preceded by as much
 * earlier text as fits, so every token after the prefix is scored exactly once.
 */
export function rollingWindows(tokens: number[], maxLen: number): ScoredWindow[] {
  const out: ScoredWindow[] = [];
  for (let s = 1; s < tokens.length; s += maxLen) {
    const e = Math.min(tokens.length, s + maxLen);
    const a = Math.max(0, e - 1 - maxLen);
    out.push({ tokens: tokens.slice(a, e), from: s - a });
  }
  return out;
}

/** Tokenizes one text for loglikelihood_rolling and cuts it into windows of `maxLen` tokens. */
export async function encodeRolling(tok: RequestTokenizer, text: string, maxLen: number): Promise<EncodedRolling> {
  const tokens = [prefixOf(tok, "rolling log-likelihood"), ...(await tok.tokenize(text, false))];
  return { nTokens: tokens.length - 1, windows: rollingWindows(tokens, maxLen) };
}

/** Wraps a tokenizer so each (text, addBos) is tokenized once: the contexts of multiple-choice requests repeat. */
export function memoizedTokenizer(tok: RequestTokenizer): RequestTokenizer {
  const cache = new Map<string, number[] | Promise<number[]>>();
  return {
    name: tok.name,
    prefixToken: tok.prefixToken,
    tokenize: (text, addBos) => {
      const key = `${addBos ? 1 : 0}\u0000${text}`;
      let t = cache.get(key);
      if (t === undefined) cache.set(key, (t = tok.tokenize(text, addBos)));
      return t;
    },
  };
}
