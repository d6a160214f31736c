// The tokens a perplexity run of a few chunks needs, without tokenizing the whole text.
//
// Why: llama-perplexity tokenizes the whole file before it takes its first chunk, and so did we.
// For WikiText-2's test split that is ~1 s with a 32k vocabulary (335,688 tokens), while 4 chunks
// of 512 use 2,048 of them; a recipe search (src/quantize/measureKld.ts) measures a few chunks
// many times over. Tokenizing a prefix is exact except near its end: a SentencePiece or BPE merge
// may join characters on both sides of the cut, and a merge can change its neighbours' merges.
// So a prefix is trusted only when a second, longer prefix gives the same first `need` tokens:
// whatever the cut changed did not reach them, from either cut. Otherwise the prefix doubles, up
// to the whole text. Without a chunk limit the whole text is tokenized, as before.
import type { Backend } from "../backends/backend.js";

/** Characters a token is first assumed to cover (English: ~4 with 32k–256k vocabularies, fewer with small ones); then measured. */
const CHARS_PER_TOKEN_GUESS = 4;
/** The second prefix runs this much further than the first (and at least 1/4 of it). */
const CHECK_CHARS = 4096;

/** Where to cut `text` before `to`: after the last newline in [from, to), else at `to` (never inside a surrogate pair). */
function cutPoint(text: string, from: number, to: number): number {
  const nl = text.lastIndexOf("\n", to - 1);
  if (nl >= from) return nl + 1;
  const code = text.charCodeAt(to - 1);
  return code >= 0xd800 && code <= 0xdbff ? to - 1 : to;
}

/**
 * The first `need` tokens of `text` (BOS first when the model adds one), equal to those of
 * `model.tokenize(text, true)`: all of them when the text has fewer, or when `need` is not finite.
 */
export async function leadingTokens(model: Pick<Backend, "tokenize">, text: string, need: number): Promise<number[]> {
  if (!Number.isFinite(need)) return model.tokenize(text, true);
  let at = need * CHARS_PER_TOKEN_GUESS + CHECK_CHARS;
  const margin = Math.max(64, need >> 4);
  for (;;) {
    if (at >= text.length) return (await model.tokenize(text, true)).slice(0, need);
    const cut = cutPoint(text, Math.floor(at * 0.75), at);
    const head = await model.tokenize(text.slice(0, cut), true);
    // Too short, or the needed tokens run into the last tokens before the cut: go further, as far
    // as this prefix's characters a token say the needed tokens and the margin take.
    if (head.length < need + margin) {
      at = Math.max(Math.ceil(at * 1.5), Math.ceil(((cut / Math.max(1, head.length)) * (need + margin) * 5) / 4) + CHECK_CHARS);
      continue;
    }
    const step = Math.max(CHECK_CHARS, cut >> 2);
    const further = Math.min(text.length, cutPoint(text, cut + (step >> 1), cut + step));
    const check = await model.tokenize(further >= text.length ? text : text.slice(0, further), true);
    let same = check.length >= need;
    for (let i = 0; same && i < need; i++) same = head[i] === check[i];
    if (same) return head.slice(0, need);
    at *= 2;
  }
}
