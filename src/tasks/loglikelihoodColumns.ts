// One model's loglikelihood results as columns: a typed array per field, 14 bytes a document.
// Aggregation (acc, ppl) and the paired comparison need only these, so a task of 100k documents
// is scored and compared without a result object per document (issue 14: memory flat in dataset
// size); the sample rows go to the store chunk by chunk.
import type { LoglikelihoodResult } from "../backends/backend.js";
import { fromBase64, toBase64 } from "./multipleChoiceColumns.js";

/** One model's per-document results, aligned by document. */
export interface LoglikelihoodColumns {
  logprob: Float64Array;
  /** 1 where the continuation is the greedy decode. */
  is_greedy: Uint8Array;
  n_tokens: Int32Array;
  /** 1 where the document was cut from the left to fit the context. */
  truncated: Uint8Array;
}

/** Columns of `n` documents, all zero. */
export function emptyLoglikelihoodColumns(n: number): LoglikelihoodColumns {
  return { logprob: new Float64Array(n), is_greedy: new Uint8Array(n), n_tokens: new Int32Array(n), truncated: new Uint8Array(n) };
}

/** The columns of results (in their order). */
export function loglikelihoodColumns(results: LoglikelihoodResult[]): LoglikelihoodColumns {
  const c = emptyLoglikelihoodColumns(results.length);
  for (const [i, r] of results.entries()) {
    c.logprob[i] = r.logprob;
    c.is_greedy[i] = r.isGreedy ? 1 : 0;
    c.n_tokens[i] = r.nTokens;
    c.truncated[i] = r.truncated ? 1 : 0;
  }
  return c;
}

/** Copies `part` into `into` from document `from` on. */
export function placeLoglikelihoodColumns(into: LoglikelihoodColumns, from: number, part: LoglikelihoodColumns): void {
  into.logprob.set(part.logprob, from);
  into.is_greedy.set(part.is_greedy, from);
  into.n_tokens.set(part.n_tokens, from);
  into.truncated.set(part.truncated, from);
}

/** Columns as the store keeps them: base64 of little-endian float64 / int32 / uint8 (exact, −Infinity included). */
export interface EncodedLoglikelihoodColumns {
  n: number;
  logprob: string;
  is_greedy: string;
  n_tokens: string;
  truncated: string;
}

/** Encodes columns for the store (JSON). */
export function encodeLoglikelihoodColumns(c: LoglikelihoodColumns): EncodedLoglikelihoodColumns {
  return { n: c.logprob.length, logprob: toBase64(c.logprob), is_greedy: toBase64(c.is_greedy), n_tokens: toBase64(c.n_tokens), truncated: toBase64(c.truncated) };
}

/** Decodes stored columns; a store written before columns holds the backend's results themselves. */
export function decodeLoglikelihoodColumns(e: EncodedLoglikelihoodColumns | LoglikelihoodResult[]): LoglikelihoodColumns {
  if (Array.isArray(e)) return loglikelihoodColumns(e);
  return {
    logprob: new Float64Array(fromBase64(e.logprob)),
    is_greedy: new Uint8Array(fromBase64(e.is_greedy)),
    n_tokens: new Int32Array(fromBase64(e.n_tokens)),
    truncated: new Uint8Array(fromBase64(e.truncated)),
  };
}
