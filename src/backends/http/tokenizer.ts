// The server's own tokenizer, so requests are scored on exactly the tokens the model sees.
// llama-server: POST /tokenize {content, add_special, parse_special} → {tokens};
//               POST /detokenize {tokens} → {content}.
// vLLM:         POST /tokenize {model, prompt, add_special_tokens} → {tokens};
//               POST /detokenize {model, tokens} → {prompt}.
import { createHash } from "node:crypto";
import { QuantevalError } from "../../util/errors.js";
import type { HttpPool } from "./pool.js";

/** `tokens` of a /tokenize answer, checked: a server answering another shape gets one clear line. */
function tokensOf(pool: HttpPool, d: unknown): number[] {
  const t = (d as { tokens?: unknown } | null)?.tokens;
  if (!Array.isArray(t) || !t.every((x) => Number.isInteger(x) && x >= 0)) {
    const got = pool.redact(JSON.stringify(d) ?? String(d)).slice(0, 120);
    throw new QuantevalError(`${pool.redactedUrls()[0]}/tokenize answered ${got}, not {"tokens": [integer ids]}; point base_url at a llama-server or vLLM server`);
  }
  return t as number[];
}

/** A string field of a /detokenize answer, checked. */
function textOf(pool: HttpPool, d: unknown, field: "content" | "prompt"): string {
  const v = (d as Record<string, unknown> | null)?.[field];
  if (typeof v !== "string")
    throw new QuantevalError(
      `${pool.redactedUrls()[0]}/detokenize answered ${pool.redact(JSON.stringify(d) ?? String(d)).slice(0, 120)}, not {"${field}": text}; point base_url at a llama-server or vLLM server`,
    );
  return v;
}

/** Tokenization through a server endpoint. Special-token text is never parsed as special. */
export interface RemoteTokenizer {
  readonly kind: "llama" | "vllm";
  /** `addSpecial` lets the server add what the model adds (BOS, sometimes EOS). */
  tokenize(text: string, addSpecial: boolean): Promise<number[]>;
  detokenize(tokens: number[]): Promise<string>;
}

/** llama-server's /tokenize and /detokenize. */
export function llamaTokenizer(pool: HttpPool): RemoteTokenizer {
  return {
    kind: "llama",
    async tokenize(text, addSpecial) {
      // parse_special defaults to true on llama-server; the in-process backend never parses it.
      return tokensOf(pool, await pool.request<unknown>("/tokenize", { content: text, add_special: addSpecial, parse_special: false }));
    },
    async detokenize(tokens) {
      return textOf(pool, await pool.request<unknown>("/detokenize", { tokens }), "content");
    },
  };
}

/** vLLM's /tokenize and /detokenize. */
export function vllmTokenizer(pool: HttpPool, model: string): RemoteTokenizer {
  return {
    kind: "vllm",
    async tokenize(text, addSpecial) {
      return tokensOf(pool, await pool.request<unknown>("/tokenize", { model, prompt: text, add_special_tokens: addSpecial }));
    },
    async detokenize(tokens) {
      return textOf(pool, await pool.request<unknown>("/detokenize", { model, tokens }), "prompt");
    },
  };
}

/** Id of a special token given by its text (llama-server /props bos_token, eos_token). */
export async function llamaSpecialTokenId(pool: HttpPool, text: string | undefined): Promise<number | undefined> {
  if (!text) return undefined;
  const tokens = tokensOf(pool, await pool.request<unknown>("/tokenize", { content: text, add_special: false, parse_special: true }));
  return tokens.length === 1 ? tokens[0] : undefined;
}

/**
 * The raw bytes of every token's piece (special tokens rendered as text), from llama-server's
 * /tokenize with token ids as content and `with_pieces` (pieces that are not valid UTF-8
 * come back as byte arrays).
 */
export async function llamaVocabPieces(pool: HttpPool, nVocab: number): Promise<Uint8Array[]> {
  const pieces: Uint8Array[] = new Array(nVocab);
  const chunk = 16384;
  const jobs: Array<Promise<void>> = [];
  for (let start = 0; start < nVocab; start += chunk) {
    const ids = Array.from({ length: Math.min(chunk, nVocab - start) }, (_, k) => start + k);
    jobs.push(
      pool.request<{ tokens: Array<{ id: number; piece: string | number[] }> }>("/tokenize", { content: ids, add_special: false, with_pieces: true }).then((d) => {
        if (!Array.isArray(d?.tokens) || !d.tokens.every((t) => t && Number.isInteger(t.id) && (typeof t.piece === "string" || Array.isArray(t.piece)))) {
          throw new QuantevalError(`${pool.redactedUrls()[0]}/tokenize with_pieces answered another shape than {"tokens": [{id, piece}]}; point base_url at a llama-server`);
        }
        for (const t of d.tokens) pieces[t.id] = typeof t.piece === "string" ? Buffer.from(t.piece, "utf8") : Uint8Array.from(t.piece);
      }),
    );
  }
  await Promise.all(jobs);
  for (let t = 0; t < nVocab; t++) if (!pieces[t]) throw new Error(`internal: /tokenize gave no piece for token ${t}`);
  return pieces;
}

/**
 * The same digest as GgufBackend's vocab_hash (sha256 over every piece + NUL, first 16 hex),
 * so a model served over HTTP and the same GGUF in-process compare token by token.
 * Like the in-process backend (a 256-byte piece buffer), pieces longer than 256 bytes count as empty.
 */
export function vocabHashOf(pieces: Uint8Array[]): string {
  const h = createHash("sha256");
  for (const p of pieces) {
    if (p.length <= 256) h.update(p);
    h.update("\u0000");
  }
  return h.digest("hex").slice(0, 16);
}
