// Perplexity over raw text, compatible with llama.cpp's `llama-perplexity`, and — when the
// run has variants — distribution drift (KLD, top-1 agreement, Δp) of each variant against
// the baseline, co-evaluated chunk by chunk without writing any logits to disk. Each model's
// figures of each chunk are a record (perplexityRecords.ts) kept in the run store, so an
// interrupted run resumes at its last finished batch and stops between batches when asked.
//
// llama-perplexity's procedure (tools/perplexity/perplexity.cpp), reproduced here:
//   tokens = tokenize(whole text, add BOS)  (here only as much of it as the chunks need, ./leadingTokens.ts)
//   n_chunk = min(chunks, floor(n_tokens / n_ctx)); at least 2·n_ctx tokens are required
//   chunk i = tokens[i·n_ctx, (i+1)·n_ctx) with its first token replaced by BOS
//   scored: logits at positions n_ctx/2 … n_ctx−2, each predicting the next token.
import { createHash } from "node:crypto";
import type { Backend, WindowDistributions } from "../backends/backend.js";
import type { DistributionDrift } from "../metrics/distributionDrift.js";
import { rowBuffers } from "../metrics/rowBuffers.js";
import { leadingTokens } from "./leadingTokens.js";
import { QuantevalError } from "../util/errors.js";
import { type ChunkRecord, type ChunkRecords, PerplexityTally, type PerplexityResult, batchRecords, driftRecord, noRecords, ownRecord, spanStats } from "./perplexityRecords.js";

export interface PerplexityOptions {
  nCtx: number;
  chunks?: number;
  /** Stop early (for progress UIs). */
  onProgress?: (done: number, total: number) => void;
  /** Where each chunk's figures are kept (the run store: a resumed run computes only missing chunks) and when to stop. Default: nowhere. */
  records?: ChunkRecords;
}

export type { PerplexityResult } from "./perplexityRecords.js";

export interface PerplexityRun {
  results: Record<string, PerplexityResult>;
  /** Per variant: drift against the baseline, or the reason it was skipped. */
  drift: Record<string, DistributionDrift | { skipped: string }>;
  text_sha256: string;
}

interface ModelEntry {
  name: string;
  backend: Backend;
  /** Token-level comparison needs the same vocabulary as the baseline. */
  sameVocab: boolean;
  /** For models whose tokenizer differs, their own chunks. */
  ownWindows?: number[][];
  tally: PerplexityTally;
}

/** llama-perplexity's chunks: consecutive n_ctx-token windows, the first token of each replaced by BOS. */
export function chunkWindows(tokens: number[], nCtx: number, nChunk: number, bos: number | undefined): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < nChunk; i++) {
    const w = tokens.slice(i * nCtx, (i + 1) * nCtx);
    if (bos !== undefined) w[0] = bos;
    out.push(w);
  }
  return out;
}

/**
 * The tokens `chunks` chunks of `nCtx` take from `text` (all of them without a limit), as the
 * whole text's tokenization gives them; at least 2·n_ctx, which llama-perplexity requires of the
 * text. Only as much text as that needs is tokenized (./leadingTokens.ts).
 */
export function chunkTokens(model: Pick<Backend, "tokenize">, text: string, nCtx: number, chunks: number | undefined): Promise<number[]> {
  return leadingTokens(model, text, Math.max(chunks ?? Infinity, 2) * nCtx);
}

/** Log-probs kept per model per batch of chunks, MB, at most (QUANTEVAL_DIST_BUFFER_MB overrides). */
export const DEFAULT_DIST_BUFFER_MB = 512;

/**
 * Log-probs a batch aims to keep per model, MB: more chunks than fit this go to later batches
 * (one chunk always goes, up to the buffer above). Why not fill the buffer: a batch's rows are
 * memory touched for the first time, in quanteval's row buffers and in llama.cpp's output buffer
 * (one page fault per 4 KiB), and a second batch reuses the first one's. At a 128k vocabulary (130 MB
 * a chunk) one 4-chunk batch made 788k page faults and its KLD run took 2.3-2.6 s; four batches of
 * one chunk, 280k and 1.5 s (bench/README.md). Rows do not depend on the batch (each chunk has a
 * KV stream of its own), and at 32k entries and below n_batch / n_ctx chunks still fit.
 */
export const BATCH_TARGET_MB = 140;

/**
 * Chunks evaluated per distributions() call: as llama-perplexity, n_batch / n_ctx (n_batch 2048),
 * fewer when their log-probs would exceed {@link BATCH_TARGET_MB} (at least one); one line saying
 * what to lower when even one chunk does not fit the buffer.
 */
export function chunksPerCall(rowsPerChunk: number, nVocab: number, nCtx: number, where: string): number {
  const budgetMb = Number(process.env.QUANTEVAL_DIST_BUFFER_MB ?? DEFAULT_DIST_BUFFER_MB);
  if (!(budgetMb > 0)) throw new QuantevalError(`QUANTEVAL_DIST_BUFFER_MB=${process.env.QUANTEVAL_DIST_BUFFER_MB}: give a positive number of MB`);
  const chunkMb = (rowsPerChunk * nVocab * 4) / 2 ** 20;
  if (chunkMb > budgetMb) {
    // n_ctx/2 − 1 scored rows per chunk must fit the buffer
    const nCtxFit = 2 * (Math.floor((budgetMb * 2 ** 20) / (4 * nVocab)) + 1);
    throw new QuantevalError(
      `${where}: one chunk of ${rowsPerChunk} scored positions × ${nVocab} vocabulary entries needs ${chunkMb.toFixed(0)} MB of log-probs per model, over the ${budgetMb} MB buffer (tried 1 chunk per batch); lower n_ctx to at most ${nCtxFit} or raise QUANTEVAL_DIST_BUFFER_MB`,
    );
  }
  return Math.max(1, Math.min(Math.floor(2048 / nCtx), Math.floor(Math.min(budgetMb, BATCH_TARGET_MB) / chunkMb)));
}

/**
 * Evaluates perplexity for every model and drift for every variant. Models with the
 * baseline's vocabulary score the baseline's exact token windows.
 */
export async function runPerplexity(text: string, baseline: Backend, variants: Backend[], opts: PerplexityOptions, where: string): Promise<PerplexityRun> {
  try {
    return await coEvaluate(text, baseline, variants, opts, where);
  } finally {
    // The reused row buffers are not kept past the task.
    rowBuffers.clear();
  }
}

async function coEvaluate(text: string, baseline: Backend, variants: Backend[], opts: PerplexityOptions, where: string): Promise<PerplexityRun> {
  const nCtx = opts.nCtx;
  if (nCtx % 2 !== 0) throw new QuantevalError(`${where}: n_ctx must be even (got ${nCtx})`);
  const baseDesc = await baseline.describe();
  for (const b of [baseline, ...variants]) {
    if (b.contextLength() < nCtx) throw new QuantevalError(`${where}: n_ctx ${nCtx} exceeds model '${b.name}' context ${b.contextLength()}; set the model's n_ctx to at least ${nCtx}`);
  }
  const tokens = await chunkTokens(baseline, text, nCtx, opts.chunks);
  if (tokens.length < 2 * nCtx) {
    throw new QuantevalError(`${where}: text has ${tokens.length} tokens but perplexity with n_ctx ${nCtx} needs at least ${2 * nCtx}; use more text or a smaller n_ctx`);
  }
  const nChunk = Math.min(opts.chunks ?? Infinity, Math.floor(tokens.length / nCtx));
  const bos = baseDesc.add_bos ? tokens[0] : undefined;
  const windows = chunkWindows(tokens, nCtx, nChunk, bos);
  const first = nCtx / 2;

  const records = opts.records ?? noRecords;
  const sha = createHash("sha256").update(text).digest("hex");
  const entries: ModelEntry[] = [];
  const drift: PerplexityRun["drift"] = {};
  for (const v of variants) {
    const d = await v.describe();
    const sameVocab = d.vocab_hash !== undefined && d.vocab_hash === baseDesc.vocab_hash;
    const entry: ModelEntry = { name: v.name, backend: v, sameVocab, tally: new PerplexityTally(sameVocab ? (baseDesc.n_vocab ?? 0) : undefined) };
    if (!sameVocab) {
      drift[v.name] = { skipped: `tokenizer differs from the baseline's (vocab ${d.n_vocab} vs ${baseDesc.n_vocab}); KLD, top-1 and Δp need the same vocabulary` };
      const own = await chunkTokens(v, text, nCtx, opts.chunks);
      if (own.length < 2 * nCtx) throw new QuantevalError(`${where}: text has too few tokens for model '${v.name}' at n_ctx ${nCtx}`);
      entry.ownWindows = chunkWindows(own, nCtx, Math.min(nChunk, Math.floor(own.length / nCtx)), d.add_bos ? own[0] : undefined);
    }
    entries.push(entry);
  }
  const baseTally = new PerplexityTally();
  const baseFp = baseline.fingerprint();
  const id = { sha, nCtx };
  const rowsPerChunk = nCtx - 1 - first;
  const perCall = chunksPerCall(rowsPerChunk, baseDesc.n_vocab ?? 1, nCtx, where);
  const scored = (w: number[]) => ({ tokens: w, firstScored: first + 1 });
  // Batches are always [c, c + perCall): a resumed run evaluates exactly the batches an
  // uninterrupted one would, so its figures are identical to the last bit.
  for (let c = 0; c < nChunk; c += perCall) {
    const end = Math.min(nChunk, c + perCall);
    const batch = windows.slice(c, end).map(scored);
    const fresh: Parameters<ChunkRecords["put"]>[0] = [];
    const baseRecs = batchRecords(records, baseFp, "own", id, c, end);
    const varRecs = entries.map((e) =>
      e.sameVocab
        ? batchRecords(records, `${e.backend.fingerprint()}|${baseFp}`, "drift", id, c, end)
        : batchRecords(records, e.backend.fingerprint(), "own", id, c, Math.min(end, e.ownWindows!.length)),
    );
    const missing = (rs: Array<ChunkRecord | undefined>) => rs.some((r) => r === undefined);
    if (missing(baseRecs) || varRecs.some(missing)) records.checkStop();
    let baseD: WindowDistributions[] | undefined;
    let spans: Array<{ bytes: number; words: number }> = [];
    // The baseline's rows are needed for its own records and for every same-vocabulary variant's missing ones.
    if (missing(baseRecs) || entries.some((e, i) => e.sameVocab && missing(varRecs[i]))) {
      baseD = await baseline.distributions(batch);
      spans = batch.map((w) => spanStats(baseline, w.tokens.slice(first + 1)));
      baseD.forEach((d, k) => {
        if (baseRecs[k]) return;
        baseRecs[k] = ownRecord(baseline.name, d, c + k, first, where, spans[k]);
        fresh.push({ fingerprint: baseFp, kind: "own", id: { ...id, chunk: c + k, batch: [c, end] }, record: baseRecs[k] });
      });
    }
    for (const [i, e] of entries.entries()) {
      const recs = varRecs[i];
      if (!missing(recs)) continue;
      const fp = e.backend.fingerprint();
      if (e.sameVocab) {
        const vd = await e.backend.distributions(batch);
        vd.forEach((d, k) => {
          if (recs[k]) return;
          recs[k] = driftRecord(e.name, baseD![k], d, c + k, first, where, spans[k]);
          fresh.push({ fingerprint: `${fp}|${baseFp}`, kind: "drift", id: { ...id, chunk: c + k, batch: [c, end] }, record: recs[k] });
        });
        // Records hold numbers only: the rows' buffers serve the next variant or batch.
        rowBuffers.give(vd.map((d) => d.logprobs));
      } else {
        const ownEnd = Math.min(end, e.ownWindows!.length);
        const ob = e.ownWindows!.slice(c, ownEnd).map(scored);
        const vd = await e.backend.distributions(ob);
        vd.forEach((d, k) => {
          if (recs[k]) return;
          recs[k] = ownRecord(e.name, d, c + k, first, where, spanStats(e.backend, ob[k].tokens.slice(first + 1)));
          fresh.push({ fingerprint: fp, kind: "own", id: { ...id, chunk: c + k, batch: [c, ownEnd] }, record: recs[k] });
        });
        rowBuffers.give(vd.map((d) => d.logprobs));
      }
    }
    if (baseD) rowBuffers.give(baseD.map((d) => d.logprobs));
    if (fresh.length) records.put(fresh);
    for (const r of baseRecs) baseTally.add(r!);
    entries.forEach((e, i) => {
      for (const r of varRecs[i]) e.tally.add(r!);
    });
    opts.onProgress?.(end, nChunk);
  }
  const results: Record<string, PerplexityResult> = { [baseline.name]: baseTally.sum.result(nCtx, nChunk) };
  for (const e of entries) {
    results[e.name] = e.tally.sum.result(nCtx, nChunk);
    if (e.tally.drift) drift[e.name] = e.tally.drift.finish();
  }
  return { results, drift, text_sha256: sha };
}
