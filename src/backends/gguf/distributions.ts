// Full next-token log-softmax rows of token windows (perplexity, KLD, llama.cpp-mode tasks).
import type { TokenWindow, WindowDistributions } from "../backend.js";
import { distMath } from "../../metrics/distMathKernels.js";
import { rowBuffers } from "../../metrics/rowBuffers.js";
import type { PlanEntry } from "../ggufBatcher.js";
import { QuantevalError } from "../../util/errors.js";
import type { PlanGroup, ScoringContext } from "./scoringContext.js";
import type { WindowContexts } from "./windowContext.js";

/** Log-softmax rows of each window; every window must fit `nCtx`. `scoring` is called only for ragged windows. */
export async function windowDistributions(scoring: () => ScoringContext, byLength: WindowContexts, name: string, nCtx: number, windows: TokenWindow[]): Promise<WindowDistributions[]> {
  const nVocab = byLength.nVocab;
  const out: WindowDistributions[] = windows.map((w) => {
    const nRows = w.tokens.length - w.firstScored;
    if (w.firstScored < 1 || nRows < 1) throw new Error("internal: window needs firstScored >= 1 and at least one scored token");
    if (w.tokens.length > nCtx) throw new QuantevalError(`${name}: window of ${w.tokens.length} tokens exceeds n_ctx ${nCtx}`);
    // Possibly a reused buffer (../../metrics/rowBuffers.ts): every row is written below (checked after the decodes).
    return { nVocab, nRows, logprobs: rowBuffers.take(nRows * nVocab), targets: Int32Array.from(w.tokens.slice(w.firstScored)), full: true };
  });
  // Equal-length windows (perplexity chunks) are decoded as llama-perplexity decodes them, each
  // in a KV stream of its own (./windowContext.ts). Ragged windows (the llama.cpp-mode
  // multiple-choice tasks) go to the scoring context, in sessions of at most one ubatch of
  // cells (below).
  const len = windows[0]?.tokens.length ?? 0;
  const equal = windows.every((w) => w.tokens.length === len);
  const sc = equal ? await byLength.prepare(len) : scoring();
  const rowOf = new Map<PlanEntry, { w: number; r: number }>();
  // The whole window is evaluated, its last token too (whose logits are unused), as
  // llama-perplexity does, so ubatches split at the same places as in the reference tool.
  // On the scoring context, sessions hold at most one ubatch of cells (or one window, when
  // longer): in the one KV stream that all sequences share, each token's attention scans every
  // cell of its session, masked or not, so four 512-token windows in one session would cost
  // 2.5× the attention of one window each. On the window context each window has a stream of
  // its own, so a session holds n_batch / len windows. Every row is bit-identical under all
  // of these layouts (test/backends/batchInvariance.test.ts).
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
  // Log-softmax on every core (native/distmath.cpp), read straight from llama.cpp's logits buffer
  // into each window's array: a run of output rows that are consecutive rows of one window is
  // one kernel call, and no row is copied into JavaScript first. Rows of NaN/+∞ logits come back
  // as NaN rows (the caller names them).
  const kernels = distMath();
  await sc.runGroupsOutputs(
    groups,
    (rows, logits) => {
      let k = 0;
      while (k < rows.length) {
        const loc = rowOf.get(rows[k]);
        let m = 1;
        if (loc) {
          while (k + m < rows.length && rowOf.get(rows[k + m])?.w === loc.w && rowOf.get(rows[k + m])?.r === loc.r + m) m++;
          const src = logits.subarray(k * nVocab, (k + m) * nVocab);
          kernels.logSoftmaxInto(src, out[loc.w].logprobs.subarray(loc.r * nVocab, (loc.r + m) * nVocab), m, nVocab);
          for (let j = 0; j < m; j++) rowOf.delete(rows[k + j]);
        }
        k += m;
      }
    },
    undefined,
    equal ? sc.kvSize : sc.shape.nUbatch,
  );
  // Every scored row was written (a row is deleted from rowOf when written), so no stale row of a reused buffer is read.
  if (rowOf.size !== 0) throw new Error(`internal: ${rowOf.size} scored rows were not returned by llama_decode`);
  return out;
}
