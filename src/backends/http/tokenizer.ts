// The server's own tokenizer, so requests are scored on exactly the tokens the model sees.
// llama-server: POST /tokenize {content, add_special, parse_special} → {tokens};
//               POST /detokenize {tokens} → {content}.
// vLLM:         POST /tokenize {model, prompt, add_special_tokens} → {tokens};
//               POST /detokenize {model, tokens} → {prompt}.
import { createHash } from "node:crypto";
import type { HttpPool } from "./pool.js";

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
      const d = await pool.request<{ tokens: number[] }>("/tokenize", { content: text, add_special: addSpecial, parse_special: false });
      return d.tokens;
    },
    async detokenize(tokens) {
      const d = await pool.request<{ content: string }>("/detokenize", { tokens });
      return d.content;
    },
  };
}

/** vLLM's /tokenize and /detokenize. */
export function vllmTokenizer(pool: HttpPool, model: string): RemoteTokenizer {
  return {
    kind: "vllm",
    async tokenize(text, addSpecial) {
      const d = await pool.request<{ tokens: number[] }>("/tokenize", { model, prompt: text, add_special_tokens: addSpecial });
      return d.tokens;
    },
    async detokenize(tokens) {
      const d = await pool.request<{ prompt: string }>("/detokenize", { model, tokens });
      return d.prompt;
    },
  };
}

/** Id of a special token given by its text (llama-server /props bos_token, eos_token). */
export async function llamaSpecialTokenId(pool: HttpPool, text: string | undefined): Promise<number | undefined> {
  if (!text) return undefined;
  const d = await pool.request<{ tokens: number[] }>("/tokenize", { content: text, add_special: false, parse_special: true });
  return d.tokens.length === 1 ? d.tokens[0] : undefined;
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
