// Turns per-position top-k log-probs from a server into dense log-softmax rows.
import type { TokenScore } from "./protocol.js";

/** Why KLD and top-1 agreement from partial rows are approximate; recorded with the results. */
export const TOPK_APPROXIMATION =
  "the server returns only the top-k log-probs per position; the remaining probability mass is spread evenly over the other tokens, so KLD is approximate (top-1 agreement is exact; target log-probs, Δp and perplexity are exact)";

/**
 * Writes one row: the server's alternatives, the target's exact log-prob, and — when the
 * alternatives do not cover the vocabulary — the leftover mass spread evenly over the
 * missing tokens. Returns true when the row is complete (every token was given).
 */
export function fillRow(dst: Float32Array, off: number, nVocab: number, score: TokenScore, target: number): boolean {
  const seen = new Uint8Array(nVocab);
  let covered = 0;
  let mass = 0;
  const put = (id: number, lp: number) => {
    if (id < 0 || id >= nVocab) return;
    if (!seen[id]) {
      seen[id] = 1;
      covered++;
      mass += Math.exp(lp);
    }
    dst[off + id] = lp;
  };
  for (const t of score.top ?? []) put(t.id, t.logprob);
  put(target, score.logprob);
  if (covered === nVocab) return true;
  const rest = Math.max(1 - mass, 1e-12);
  const fill = Math.log(rest / (nVocab - covered));
  for (let i = 0; i < nVocab; i++) if (!seen[i]) dst[off + i] = fill;
  return false;
}
