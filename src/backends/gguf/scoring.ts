// Log-likelihood scoring on the in-process context. The requests are encoded by the shared
// request layer (../requests.ts); what is GGUF-specific is how they are packed: requests with
// the same context are one group whose context is evaluated once, its KV cells shared by
// every choice's sequence.
import type { LoglikelihoodRequest, LoglikelihoodResult, ProgressFn, RollingResult } from "../backend.js";
import { type PlanEntry, rowStats } from "../ggufBatcher.js";
import { encodeLoglikelihood, encodeRolling, memoizedTokenizer, type RequestTokenizer } from "../requests.js";
import { QuantevalError } from "../../util/errors.js";
import type { PlanGroup, ScoringContext } from "./scoringContext.js";

/** Scores every request: sum of log-probs of the continuation and whether it is the greedy one. */
export async function scoreLoglikelihood(sc: ScoringContext, tok: RequestTokenizer, nCtx: number, requests: LoglikelihoodRequest[], onProgress?: ProgressFn): Promise<LoglikelihoodResult[]> {
  const memo = memoizedTokenizer(tok);
  const encoded = await Promise.all(requests.map((r) => encodeLoglikelihood(memo, r.context, r.continuation, nCtx)));
  const results: LoglikelihoodResult[] = encoded.map((e) => ({ logprob: 0, isGreedy: true, nTokens: e.nTokens, truncated: e.truncated }));
  // Group requests with the same context so it is evaluated once and shared; a truncated
  // request has a context of its own.
  type Item = { req: number; cont: number[] };
  const byCtx = new Map<string, { ctx: number[]; items: Item[] }>();
  const solo: Array<{ ctx: number[]; items: Item[] }> = [];
  encoded.forEach((e, req) => {
    if (e.nTokens === 0) return;
    const ctx = e.tokens.slice(0, e.from);
    const item = { req, cont: e.tokens.slice(e.from) };
    if (e.truncated) {
      solo.push({ ctx, items: [item] });
      return;
    }
    const key = ctx.join(",");
    let g = byCtx.get(key);
    if (!g) byCtx.set(key, (g = { ctx, items: [] }));
    g.items.push(item);
  });
  // A context shared by more choices than the context has sequences is split into groups.
  const all = [...byCtx.values(), ...solo].flatMap((g) => {
    const parts: Array<{ ctx: number[]; items: Item[] }> = [];
    for (let k = 0; k < g.items.length; k += sc.nSeqMax) parts.push({ ctx: g.ctx, items: g.items.slice(k, k + sc.nSeqMax) });
    return parts;
  });
  // For each output entry, which (request, target) pairs read its row.
  const reads = new Map<PlanEntry, Array<{ req: number; target: number }>>();
  const groups: PlanGroup[] = all.map((g) => ({
    cells: g.ctx.length + g.items.reduce((s, it) => s + it.cont.length - 1, 0),
    seqs: g.items.length,
    build: (seqBase, entries) => {
      const seqs = g.items.map((_, k) => seqBase + k);
      g.ctx.forEach((token, pos) => {
        const last = pos === g.ctx.length - 1;
        const e: PlanEntry = { token, pos, seqs, output: last };
        entries.push(e);
        if (last)
          reads.set(
            e,
            g.items.map((it) => ({ req: it.req, target: it.cont[0] })),
          );
      });
      g.items.forEach((it, k) => {
        for (let j = 0; j < it.cont.length - 1; j++) {
          const e: PlanEntry = { token: it.cont[j], pos: g.ctx.length + j, seqs: [seqBase + k], output: true };
          entries.push(e);
          reads.set(e, [{ req: it.req, target: it.cont[j + 1] }]);
        }
      });
    },
  }));
  let done = 0;
  await sc.runGroups(
    groups,
    (entry, logits) => {
      const rs = reads.get(entry);
      if (!rs) return;
      const { lse, argmax } = rowStats(logits);
      for (const { req, target } of rs) {
        results[req].logprob += logits[target] - lse;
        if (argmax !== target) results[req].isGreedy = false;
      }
      reads.delete(entry);
    },
    (n) => {
      done += all.slice(done, done + n).reduce((s, g) => s + g.items.length, 0);
      onProgress?.(done, requests.length);
    },
  );
  for (const r of results) if (!Number.isFinite(r.logprob)) throw new QuantevalError(`${tok.name}: backend returned a non-finite log-probability (${r.logprob}); the model may be broken`);
  return results;
}

/** Scores every text with lm-eval's rolling windows: the sum of log-probs of all its tokens. */
export async function scoreRolling(sc: ScoringContext, tok: RequestTokenizer, nCtx: number, texts: string[], onProgress?: ProgressFn): Promise<RollingResult[]> {
  const encoded = await Promise.all(texts.map((t) => encodeRolling(tok, t, nCtx)));
  const results: RollingResult[] = encoded.map((e) => ({ logprob: 0, nTokens: e.nTokens }));
  const reads = new Map<PlanEntry, { text: number; target: number }>();
  // A window's last token is only a target: its input is every token but the last.
  const groups: PlanGroup[] = encoded.flatMap((e, text) =>
    e.windows.map((w) => ({
      cells: w.tokens.length - 1,
      seqs: 1,
      build: (seqBase: number, entries: PlanEntry[]) => {
        for (let pos = 0; pos < w.tokens.length - 1; pos++) {
          const out = pos >= w.from - 1;
          const entry: PlanEntry = { token: w.tokens[pos], pos, seqs: [seqBase], output: out };
          entries.push(entry);
          if (out) reads.set(entry, { text, target: w.tokens[pos + 1] });
        }
      },
    })),
  );
  let done = 0;
  await sc.runGroups(
    groups,
    (entry, logits) => {
      const r = reads.get(entry);
      if (!r) return;
      const { lse } = rowStats(logits);
      results[r.text].logprob += logits[r.target] - lse;
      reads.delete(entry);
    },
    (n) => onProgress?.((done += n), groups.length),
  );
  return results;
}
