// Tokenization through the model's own vocabulary (llama_tokenize / llama_detokenize).
import { createHash } from "node:crypto";
import { type LlamaLib, type LlamaModel, type LlamaVocab, cString } from "../llamaLib.js";
import type { RequestTokenizer } from "../requests.js";

/** A GGUF model's vocabulary: what the request layer and generation tokenize with. */
export class GgufVocab implements RequestTokenizer {
  readonly nVocab: number;
  /** BOS id, or -1 when the model has none. */
  readonly bos: number;
  /** Whether contexts get a BOS (the option, else the model's own add_bos setting). */
  readonly addBos: boolean;
  /** lm-eval's prefix token: BOS, else EOS. */
  readonly prefixToken: number;
  private readonly vocab: LlamaVocab;

  constructor(
    private readonly lib: LlamaLib,
    model: LlamaModel,
    readonly name: string,
    addBos: boolean | undefined,
  ) {
    this.vocab = lib.model_get_vocab(model);
    this.nVocab = lib.vocab_n_tokens(this.vocab);
    this.bos = lib.vocab_bos(this.vocab);
    this.addBos = addBos ?? lib.vocab_get_add_bos(this.vocab);
    this.prefixToken = this.bos >= 0 ? this.bos : lib.vocab_eos(this.vocab);
  }

  /** Token ids of `text` (special tokens as text); `addBos` prepends BOS when the model uses one. */
  tokenize(text: string, addBos: boolean): number[] {
    const bytes = Buffer.byteLength(text, "utf8");
    let out = new Int32Array(bytes + 8);
    let n = this.lib.tokenize(this.vocab, text, bytes, out, out.length, false, false);
    if (n < 0) {
      out = new Int32Array(-n + 8);
      n = this.lib.tokenize(this.vocab, text, bytes, out, out.length, false, false);
    }
    const toks = Array.from(out.subarray(0, n));
    if (addBos && this.addBos && this.bos >= 0) toks.unshift(this.bos);
    return toks;
  }

  detokenize(tokens: number[]): string {
    const arr = Int32Array.from(tokens);
    let buf = new Uint8Array(tokens.length * 16 + 16);
    let n = this.lib.detokenize(this.vocab, arr, arr.length, buf, buf.length, false, false);
    if (n < 0) {
      buf = new Uint8Array(-n + 16);
      n = this.lib.detokenize(this.vocab, arr, arr.length, buf, buf.length, false, false);
    }
    return cString(buf, n);
  }

  /** End of generation (EOS, EOT, …). */
  isEog(token: number): boolean {
    return this.lib.vocab_is_eog(this.vocab, token);
  }

  /** A short digest of every token's piece; equal digests mean token-level metrics are comparable. */
  hash(): string {
    const h = createHash("sha256");
    const buf = new Uint8Array(256);
    for (let t = 0; t < this.nVocab; t++) {
      const n = this.lib.token_to_piece(this.vocab, t, buf, buf.length, 0, true);
      h.update(buf.subarray(0, Math.max(0, n)));
      h.update("\u0000");
    }
    return h.digest("hex").slice(0, 16);
  }
}
