// Perplexity cached chunk by chunk. Each model's per-position figures of one chunk are one record
// (−log p of each scored target; for a variant with the baseline's vocabulary also the baseline's
// target log-prob, the KLD and whether the top-1 tokens agree), kept in the run store's cache. An
// interrupted run resumes at its last finished chunk, and the final figures are the same sums
// added in the same order whether a chunk was computed now or read back: identical to the last bit.
import type { Backend, WindowDistributions } from "../backends/backend.js";
import { distMath, driftRows } from "../metrics/distMathKernels.js";
import { DistributionDriftAccumulator, LLAMA_CPP_KLD_BASE_LOGPROB_FLOOR } from "../metrics/distributionDrift.js";
import { checkSameWindows } from "../store/baselineDistributions.js";
import { cacheKey, type RunStore } from "../store/runStore.js";
import { QuantevalError } from "../util/errors.js";

export interface PerplexityResult {
  ppl: number;
  ppl_err: number;
  n_tokens: number;
  n_chunks: number;
  n_ctx: number;
  /** exp(total NLL / words in the scored spans) — lm-eval's word_perplexity over the scored text. */
  word_perplexity: number;
  /** exp(total NLL / UTF-8 bytes of the scored tokens) — lm-eval's byte_perplexity. */
  byte_perplexity: number;
  bits_per_byte: number;
}

/** Running NLL sums of one model (PPL, its error, word and byte perplexity). */
export class NllSum {
  nll = 0;
  nll2 = 0;
  count = 0;
  bytes = 0;
  words = 0;
  add(v: number): void {
    this.nll += v;
    this.nll2 += v * v;
    this.count++;
  }
  result(nCtx: number, nChunk: number): PerplexityResult {
    const mean = this.nll / this.count;
    const varMean = this.nll2 / this.count - mean * mean;
    const ppl = Math.exp(mean);
    const err = varMean > 0 ? Math.sqrt(varMean / (this.count - 1)) * ppl : 0;
    return {
      ppl,
      ppl_err: err,
      n_tokens: this.count,
      n_chunks: nChunk,
      n_ctx: nCtx,
      word_perplexity: Math.exp(this.nll / Math.max(1, this.words)),
      byte_perplexity: Math.exp(this.nll / Math.max(1, this.bytes)),
      bits_per_byte: this.nll / Math.max(1, this.bytes) / Math.LN2,
    };
  }
}

/** Counts bytes and words of the scored span of one window, as text. */
export function spanStats(backend: Backend, tokens: number[]): { bytes: number; words: number } {
  const text = backend.detokenize(tokens);
  return { bytes: Buffer.byteLength(text, "utf8"), words: text.split(/\s+/).filter(Boolean).length };
}

/**
 * A broken model's NaN/±∞ logits reach the scored rows as non-finite target log-probs (the
 * log-softmax kernel turns a row with NaN or +∞ into NaN): name the first one, never average it.
 */
export function checkFinite(model: string, d: WindowDistributions, chunk: number, first: number, where: string): void {
  for (let r = 0; r < d.nRows; r++) {
    const lp = d.logprobs[r * d.nVocab + d.targets[r]];
    if (!Number.isFinite(lp)) {
      const what = Number.isNaN(lp) ? "NaN or +∞ logits" : "log-probability −∞ for the actual next token";
      throw new QuantevalError(`${where}: model '${model}' gave ${what} at chunk ${chunk}, position ${first + r} (predicting token ${first + r + 1}); the model file or its build is broken`);
    }
  }
}

/** One model's figures of one chunk. Arrays are base64 of little-endian float64 (exact) or uint8. */
export interface ChunkRecord {
  chunk: number;
  /** −log p(actual next token) per scored position. */
  nll: string;
  /** UTF-8 bytes and words of the scored span. */
  bytes: number;
  words: number;
  /** A variant scored on the baseline's windows: per position the baseline's target log-prob, KLD and same top-1 (1/0). */
  drift?: { lp_base: string; kld: string; same: string };
}

/** A typed array's bytes as base64 (see ChunkRecord). */
const base64 = (a: Float64Array | Uint8Array): string => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString("base64");
function readF64(s: string): Float64Array {
  const b = Buffer.from(s, "base64");
  return new Float64Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

/** A model's record of one window scored on its own (the baseline, or a variant without the baseline's vocabulary). */
export function ownRecord(model: string, d: WindowDistributions, chunk: number, first: number, where: string, span: { bytes: number; words: number }): ChunkRecord {
  checkFinite(model, d, chunk, first, where);
  const nll = new Float64Array(d.nRows);
  for (let r = 0; r < d.nRows; r++) nll[r] = -d.logprobs[r * d.nVocab + d.targets[r]];
  return { chunk, nll: base64(nll), bytes: span.bytes, words: span.words };
}

/** Rows of the baseline for one window: in memory (co-evaluated) or read back from stored distributions. */
export type BaselineRows = Pick<WindowDistributions, "nVocab" | "nRows" | "logprobs" | "targets">;

/**
 * A variant's record of one window against the baseline's rows of the same window, with the row
 * kernels DistributionDriftAccumulator.addRows uses (native SIMD when built, else JavaScript).
 */
export function driftRecord(model: string, base: BaselineRows, d: WindowDistributions, chunk: number, first: number, where: string, span: { bytes: number; words: number }): ChunkRecord {
  const rec = ownRecord(model, d, chunk, first, where, span);
  checkSameWindows(base, d, where);
  const nv = d.nVocab;
  const rows = driftRows(d.nRows);
  distMath().drift(base.logprobs, d.logprobs, d.nRows, nv, LLAMA_CPP_KLD_BASE_LOGPROB_FLOOR, rows);
  const lpBase = new Float64Array(d.nRows);
  const same = new Uint8Array(d.nRows);
  for (let r = 0; r < d.nRows; r++) {
    lpBase[r] = base.logprobs[r * nv + d.targets[r]];
    same[r] = rows.argBase[r] === rows.argVariant[r] ? 1 : 0;
  }
  return { ...rec, drift: { lp_base: base64(lpBase), kld: base64(rows.kld), same: base64(same) } };
}

/** One model's sums over its chunk records, added in chunk order. */
export class PerplexityTally {
  readonly sum = new NllSum();
  /** Set for a variant scored on the baseline's windows. */
  readonly drift?: DistributionDriftAccumulator;

  constructor(driftVocab?: number) {
    if (driftVocab !== undefined) this.drift = new DistributionDriftAccumulator(driftVocab);
  }

  add(rec: ChunkRecord): void {
    const nll = readF64(rec.nll);
    for (const v of nll) this.sum.add(v);
    this.sum.bytes += rec.bytes;
    this.sum.words += rec.words;
    if (!this.drift) return;
    if (!rec.drift) throw new Error(`internal: chunk ${rec.chunk} record has no drift figures`);
    const lpBase = readF64(rec.drift.lp_base);
    const kld = readF64(rec.drift.kld);
    const same = Buffer.from(rec.drift.same, "base64");
    for (let r = 0; r < nll.length; r++) this.drift.record(lpBase[r], -nll[r], kld[r], same[r] === 1);
  }
}

/** Which figures a record holds: own (no baseline involved), drift against co-evaluated rows, or against stored rows. */
export type RecordKind = "own" | "drift" | "drift-stored";

/**
 * What identifies a chunk's record besides the model: the text, n_ctx, the chunk, and the batch it
 * was evaluated in (a batch's layout can move the last bits of a logit, so a record is only reused
 * where an uninterrupted run would have computed the very same batch).
 */
export interface ChunkIdentity {
  sha: string;
  nCtx: number;
  chunk: number;
  batch: [number, number];
  /** The stored rows' form, for drift-stored records. */
  encoding?: string;
}

/** Where records are kept: the run store's cache, or nowhere (a library call without a store). */
export interface ChunkRecords {
  get(fingerprint: string, kind: RecordKind, id: ChunkIdentity): ChunkRecord | undefined;
  /** Writes a batch's new records in one transaction. */
  put(entries: Array<{ fingerprint: string; kind: RecordKind; id: ChunkIdentity; record: ChunkRecord }>): void;
  /** Throws (one line) when the run was asked to stop; called before each batch. */
  checkStop(): void;
}

/** Records kept nowhere: everything is computed. */
export const noRecords: ChunkRecords = { get: () => undefined, put: () => {}, checkStop: () => {} };

/** Records in the run store's cache (not counted as backend requests), stopping when the store's signal is aborted. */
export function storeRecords(store: RunStore): ChunkRecords {
  const key = (fingerprint: string, kind: RecordKind, id: ChunkIdentity) => cacheKey(fingerprint, `perplexity-chunk-${kind}`, id);
  return {
    get: (fingerprint, kind, id) => store.getCached<ChunkRecord>(key(fingerprint, kind, id)),
    put: (entries) => store.putCached(entries.map((e) => [key(e.fingerprint, e.kind, e.id), e.record])),
    checkStop: () => store.throwIfStopped(),
  };
}

/** The stored records of chunks [start, end) evaluated as one batch (undefined where missing). */
export function batchRecords(records: ChunkRecords, fingerprint: string, kind: RecordKind, id: Omit<ChunkIdentity, "chunk" | "batch">, start: number, end: number): Array<ChunkRecord | undefined> {
  const out: Array<ChunkRecord | undefined> = [];
  for (let c = start; c < end; c++) out.push(records.get(fingerprint, kind, { ...id, chunk: c, batch: [start, end] }));
  return out;
}
