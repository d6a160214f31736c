// Perplexity of ONE resident model, for schedules where the baseline and a variant are not loaded
// together (issue 14). The baseline's pass writes its next-token distributions to disk
// (storeBaselineDistributions) beside its token windows; a variant's pass re-reads them window by
// window and computes KLD, top-1 and Δp against them: llama.cpp's two-pass `--kl-divergence-base`
// workflow. The procedure (chunks, BOS, scored half) and the chunk records are runPerplexity's.
import { createHash } from "node:crypto";
import { readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Backend } from "../backends/backend.js";
import type { DistributionDrift } from "../metrics/distributionDrift.js";
import { BaselineDistributions, BaselineDistributionsWriter } from "../store/baselineDistributions.js";
import type { RowEncodingName } from "../store/baselineDistributionsFormat.js";
import { QuantevalError } from "../util/errors.js";
import { chunkTokens, chunkWindows, chunksPerCall } from "./perplexity.js";
import {
  type ChunkIdentity,
  type ChunkRecord,
  type ChunkRecords,
  PerplexityTally,
  type PerplexityResult,
  type RecordKind,
  batchRecords,
  driftRecord,
  noRecords,
  ownRecord,
  spanStats,
} from "./perplexityRecords.js";

/**
 * The stored form. "f32" (exact rows, 4 bytes per vocabulary entry) rather than llama.cpp's "u16":
 * a variant's KLD against the stored rows then equals its co-evaluated KLD to float64 rounding of
 * the sums (within 1e-6 relative), so `schedule: sequential` and `together` report the same drift.
 * u16 halves the disk at a measured 1.5e-6 relative KLD difference (baselineDistributionsFormat.ts).
 */
export const STORED_ENCODING: RowEncodingName = "f32";

const WINDOWS_FILE = "windows.json";

/** The baseline's windows, written beside its distributions for the variants' passes. */
interface StoredWindows {
  n_ctx: number;
  windows: number[][];
  vocab_hash?: string;
  n_vocab?: number;
}

/** What the baseline's pass records about its stored distributions (the task manifest reports it). */
export interface StoredDistributionsRecord {
  dir: string;
  encoding: RowEncodingName;
  n_vocab: number;
  n_rows: number;
  /** rows.bin + windows.json on disk. */
  bytes: number;
}

interface AloneOptions {
  nCtx: number;
  chunks?: number;
  where: string;
  onProgress?: (done: number, total: number) => void;
  /** Where each chunk's figures are kept (the run store) and when to stop. Default: nowhere. */
  records?: ChunkRecords;
}

/** One model's chunk records, batch by batch (see tallyBatches). */
interface BatchLoop {
  n: number;
  perCall: number;
  fingerprint: string;
  kind: RecordKind;
  id: Omit<ChunkIdentity, "chunk" | "batch">;
  records: ChunkRecords;
  tally: PerplexityTally;
  /** Batches from this chunk on are computed even when recorded (the baseline's rows must reach the disk). */
  computeFrom?: number;
  /** Every record of chunks [c, end), evaluated as one batch. */
  compute(c: number, end: number): Promise<ChunkRecord[]>;
  /** After a computed batch, before its records are stored. */
  afterBatch?(): Promise<void>;
  onProgress?: (done: number, total: number) => void;
}

/**
 * Chunks [0, n) in batches of perCall, always aligned as an uninterrupted run aligns them: a
 * batch whose records are all stored is read back, any other is computed (stopping first if the
 * run was asked to); records are tallied in chunk order either way.
 */
async function tallyBatches(o: BatchLoop): Promise<void> {
  for (let c = 0; c < o.n; c += o.perCall) {
    const end = Math.min(o.n, c + o.perCall);
    const recs = batchRecords(o.records, o.fingerprint, o.kind, o.id, c, end);
    if (c >= (o.computeFrom ?? o.n) || recs.some((r) => r === undefined)) {
      o.records.checkStop();
      const got = await o.compute(c, end);
      await o.afterBatch?.();
      const fresh: Parameters<ChunkRecords["put"]>[0] = [];
      got.forEach((record, k) => {
        if (recs[k]) return;
        recs[k] = record;
        fresh.push({ fingerprint: o.fingerprint, kind: o.kind, id: { ...o.id, chunk: c + k, batch: [c, end] }, record });
      });
      if (fresh.length) o.records.put(fresh);
    }
    for (const r of recs) o.tally.add(r!);
    o.onProgress?.(end, o.n);
  }
}

/** The first chunk whose batch is not wholly recorded (n when every batch is). */
function firstUnrecorded(records: ChunkRecords, fingerprint: string, kind: RecordKind, id: BatchLoop["id"], n: number, perCall: number): number {
  for (let c = 0; c < n; c += perCall) if (batchRecords(records, fingerprint, kind, id, c, Math.min(n, c + perCall)).some((r) => r === undefined)) return c;
  return n;
}

async function windowsOf(model: Backend, text: string, nCtx: number, chunks: number | undefined, where: string): Promise<number[][]> {
  if (nCtx % 2 !== 0) throw new QuantevalError(`${where}: n_ctx must be even (got ${nCtx})`);
  if (model.contextLength() < nCtx) throw new QuantevalError(`${where}: n_ctx ${nCtx} exceeds model '${model.name}' context ${model.contextLength()}; set the model's n_ctx to at least ${nCtx}`);
  const tokens = await chunkTokens(model, text, nCtx, chunks);
  if (tokens.length < 2 * nCtx) throw new QuantevalError(`${where}: text has ${tokens.length} tokens but perplexity with n_ctx ${nCtx} needs at least ${2 * nCtx}; use more text or a smaller n_ctx`);
  const nChunk = Math.min(chunks ?? Infinity, Math.floor(tokens.length / nCtx));
  return chunkWindows(tokens, nCtx, nChunk, (await model.describe()).add_bos ? tokens[0] : undefined);
}

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

/**
 * The baseline alone: its perplexity, and its distributions written to `dir` for the variants.
 * An interrupted pass resumes at the last batch both checkpointed on disk and recorded in the store.
 */
export async function baselinePerplexityAlone(text: string, model: Backend, dir: string, opts: AloneOptions): Promise<{ result: PerplexityResult; stored: StoredDistributionsRecord }> {
  const { nCtx, where } = opts;
  const windows = await windowsOf(model, text, nCtx, opts.chunks, where);
  const desc = await model.describe();
  if (!desc.n_vocab) throw new QuantevalError(`baseline '${model.name}': its vocabulary size is unknown, so its distributions cannot be stored`);
  const first = nCtx / 2;
  const perCall = chunksPerCall(nCtx - 1 - first, desc.n_vocab, nCtx, where);
  const records = opts.records ?? noRecords;
  const sha = sha256(text);
  const loop = { n: windows.length, perCall, fingerprint: model.fingerprint(), kind: "own" as const, id: { sha, nCtx }, records };
  const recorded = firstUnrecorded(records, loop.fingerprint, loop.kind, loop.id, windows.length, perCall);
  const plan = JSON.stringify({ sha, nCtx, windows: windows.length, perCall });
  const writer = await BaselineDistributionsWriter.resume(dir, { nVocab: desc.n_vocab, fingerprint: model.fingerprint(), encoding: STORED_ENCODING, plan }, (checkpointed) =>
    Math.min(checkpointed, recorded),
  );
  const tally = new PerplexityTally();
  try {
    await tallyBatches({
      ...loop,
      tally,
      computeFrom: writer.written,
      async compute(c, end) {
        const ds = await model.distributions(windows.slice(c, end).map((w) => ({ tokens: w, firstScored: first + 1 })));
        const out: ChunkRecord[] = [];
        for (const [k, d] of ds.entries()) {
          await writer.append(d);
          out.push(ownRecord(model.name, d, c + k, first, where, spanStats(model, windows[c + k].slice(first + 1))));
        }
        return out;
      },
      afterBatch: () => writer.checkpoint(),
      onProgress: opts.onProgress,
    });
  } catch (e) {
    await writer.close();
    throw e;
  }
  const meta = await writer.finish();
  const record: StoredWindows = { n_ctx: nCtx, windows, vocab_hash: desc.vocab_hash, n_vocab: desc.n_vocab };
  await writeFile(join(dir, WINDOWS_FILE), JSON.stringify(record));
  const bytes = (await stat(join(dir, "rows.bin"))).size + (await stat(join(dir, WINDOWS_FILE))).size;
  return { result: tally.sum.result(nCtx, windows.length), stored: { dir, encoding: meta.encoding, n_vocab: meta.n_vocab, n_rows: meta.n_rows, bytes } };
}

/** A variant alone: its perplexity, and its drift against the baseline's stored distributions in `dir`. */
export async function variantPerplexityAlone(text: string, model: Backend, dir: string, opts: AloneOptions): Promise<{ result: PerplexityResult; drift: DistributionDrift | { skipped: string } }> {
  const { nCtx, where } = opts;
  let base: StoredWindows;
  try {
    base = JSON.parse(await readFile(join(dir, WINDOWS_FILE), "utf8")) as StoredWindows;
  } catch {
    throw new QuantevalError(`${where}: ${dir} holds no stored baseline windows; evaluate the baseline again (run with --resume)`);
  }
  if (base.n_ctx !== nCtx) throw new QuantevalError(`${where}: the stored baseline was scored at n_ctx ${base.n_ctx}, not ${nCtx}; evaluate the baseline again`);
  const desc = await model.describe();
  const first = nCtx / 2;
  const records = opts.records ?? noRecords;
  const sha = sha256(text);
  const perCall = chunksPerCall(nCtx - 1 - first, desc.n_vocab ?? 1, nCtx, where);
  const scored = (w: number[]) => ({ tokens: w, firstScored: first + 1 });
  const sameVocab = desc.vocab_hash !== undefined && desc.vocab_hash === base.vocab_hash;
  if (!sameVocab) {
    // Its own tokens, at most as many chunks as the baseline's (as runPerplexity).
    const own = await windowsOf(model, text, nCtx, base.windows.length, where);
    const tally = new PerplexityTally();
    await tallyBatches({
      n: own.length,
      perCall,
      fingerprint: model.fingerprint(),
      kind: "own",
      id: { sha, nCtx },
      records,
      tally,
      async compute(c, end) {
        const ds = await model.distributions(own.slice(c, end).map(scored));
        return ds.map((d, k) => ownRecord(model.name, d, c + k, first, where, spanStats(model, own[c + k].slice(first + 1))));
      },
      onProgress: opts.onProgress,
    });
    return {
      result: tally.sum.result(nCtx, base.windows.length),
      drift: { skipped: `tokenizer differs from the baseline's (vocab ${desc.n_vocab} vs ${base.n_vocab}); KLD, top-1 and Δp need the same vocabulary` },
    };
  }
  if (model.contextLength() < nCtx) throw new QuantevalError(`${where}: n_ctx ${nCtx} exceeds model '${model.name}' context ${model.contextLength()}; set the model's n_ctx to at least ${nCtx}`);
  const stored = await BaselineDistributions.open(dir, { keep: true });
  if (base.windows.length !== stored.nWindows)
    throw new QuantevalError(
      `${stored.dir}: the stored baseline has ${stored.nWindows} windows, its windows.json ${base.windows.length}; the stored baseline was written for other windows, evaluate it again`,
    );
  const tally = new PerplexityTally(base.n_vocab ?? 0);
  try {
    await tallyBatches({
      n: base.windows.length,
      perCall,
      // The drift depends on the baseline the rows came from: both fingerprints identify a record.
      fingerprint: `${model.fingerprint()}|${stored.meta.fingerprint}`,
      kind: "drift-stored",
      id: { sha, nCtx, encoding: stored.meta.encoding },
      records,
      tally,
      async compute(c, end) {
        const ds = await model.distributions(base.windows.slice(c, end).map(scored));
        const out: ChunkRecord[] = [];
        for (const [k, d] of ds.entries()) {
          const rows = await stored.readWindow(c + k);
          out.push(driftRecord(model.name, rows, d, c + k, first, `${stored.dir} window ${c + k}`, spanStats(model, base.windows[c + k].slice(first + 1))));
        }
        return out;
      },
      onProgress: opts.onProgress,
    });
  } finally {
    await stored.dispose();
  }
  return { result: tally.sum.result(nCtx, base.windows.length), drift: tally.drift!.finish() };
}
