// Full next-token log-softmax rows of token windows (perplexity, KLD, llama.cpp-mode tasks).
import type { TokenWindow, WindowDistributions } from "../backend.js";
import { distMath } from "../../metrics/distMathKernels.js";
import type { PlanEntry } from "../ggufBatcher.js";
import { QuantevalError } from "../../util/errors.js";
import type { PlanGroup, ScoringContext } from "./scoringContext.js";

/** Log-softmax rows of each window; every window must fit `nCtx`. */
export async function windowDistributions(sc: ScoringContext, name: string, nCtx: number, windows: TokenWindow[]): Promise<WindowDistributions[]> {
  const nVocab = sc.nVocab;
  const out: WindowDistributions[] = windows.map((w) => {
    const nRows = w.tokens.length - w.firstScored;
    if (w.firstScored < 1 || nRows < 1) throw new Error("internal: window needs firstScored >= 1 and at least one scored token");
    if (w.tokens.length > nCtx) throw new QuantevalError(`${name}: window of ${w.tokens.length} tokens exceeds n_ctx ${nCtx}`);
    return { nVocab, nRows, logprobs: new Float32Array(nRows * nVocab), targets: Int32Array.from(w.tokens.slice(w.firstScored)), full: true };
  });
  const rowOf = new Map<PlanEntry, { w: number; r: number }>();
  // The whole window is evaluated, its last token too (whose logits are unused), as
  // llama-perplexity does, so ubatches split at the same places as in the reference tool.
  const groups: PlanGroup[] = windows.map((w, wi) => ({
    cells: w.tokens.length,
    seqs: 1,
    build: (seqBase, entries) => {
      for (let pos = 0; pos < w.tokens.length; pos++) {
        const output = pos >= w.firstScored - 1 && pos < w.tokens.length - 1;
        const e: PlanEntry = { token: w.tokens[pos], pos, seqs: [seqBase], output };
        entries.push(e);
        if (output) rowOf.set(e, { w: wi, r: pos - (w.firstScored - 1) });
      }
    },
  }));
  await sc.runGroups(groups, (entry, logits) => {
    const loc = rowOf.get(entry);
    if (!loc) return;
    out[loc.w].logprobs.set(logits, loc.r * nVocab);
    rowOf.delete(entry);
  });
  // Log-softmax on every core (native/distmath.cpp); rows of NaN/+∞ logits come back as NaN rows.
  const kernels = distMath();
  for (const d of out) kernels.logSoftmax(d.logprobs, d.nRows, d.nVocab);
  return out;
}
