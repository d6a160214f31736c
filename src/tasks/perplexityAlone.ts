// Perplexity of ONE resident model, for schedules where the baseline and a variant are not loaded
// together (issue 14). The baseline's pass writes its next-token distributions to disk
// (storeBaselineDistributions) beside its token windows; a variant's pass re-reads them window by
// window and computes KLD, top-1 and Δp against them (driftAgainstStore): llama.cpp's two-pass
// `--kl-divergence-base` workflow. The procedure (chunks, BOS, scored half) is runPerplexity's.
import { readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Backend, WindowDistributions } from "../backends/backend.js";
import { DistributionDriftAccumulator, type DistributionDrift } from "../metrics/distributionDrift.js";
import { BaselineDistributions, driftAgainstStore, storeBaselineDistributions } from "../store/baselineDistributions.js";
import type { RowEncodingName } from "../store/baselineDistributionsFormat.js";
import { QuantevalError } from "../util/errors.js";
import { NllSum, type PerplexityResult, checkFinite, chunkWindows, chunksPerCall, spanStats } from "./perplexity.js";

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
}

function scoreWindow(model: Backend, sum: NllSum, d: WindowDistributions, window: number[], chunk: number, first: number, where: string): void {
  checkFinite(model.name, d, chunk, first, where);
  for (let r = 0; r < d.nRows; r++) sum.add(-d.logprobs[r * d.nVocab + d.targets[r]]);
  const s = spanStats(model, window.slice(first + 1));
  sum.bytes += s.bytes;
  sum.words += s.words;
}

async function windowsOf(model: Backend, text: string, nCtx: number, chunks: number | undefined, where: string): Promise<number[][]> {
  if (nCtx % 2 !== 0) throw new QuantevalError(`${where}: n_ctx must be even (got ${nCtx})`);
  if (model.contextLength() < nCtx) throw new QuantevalError(`${where}: n_ctx ${nCtx} exceeds model '${model.name}' context ${model.contextLength()}; set the model's n_ctx to at least ${nCtx}`);
  const tokens = await model.tokenize(text, true);
  if (tokens.length < 2 * nCtx) throw new QuantevalError(`${where}: text has ${tokens.length} tokens but perplexity with n_ctx ${nCtx} needs at least ${2 * nCtx}; use more text or a smaller n_ctx`);
  const nChunk = Math.min(chunks ?? Infinity, Math.floor(tokens.length / nCtx));
  return chunkWindows(tokens, nCtx, nChunk, (await model.describe()).add_bos ? tokens[0] : undefined);
}

/** The baseline alone: its perplexity, and its distributions written to `dir` for the variants. */
export async function baselinePerplexityAlone(text: string, model: Backend, dir: string, opts: AloneOptions): Promise<{ result: PerplexityResult; stored: StoredDistributionsRecord }> {
  const { nCtx, where } = opts;
  const windows = await windowsOf(model, text, nCtx, opts.chunks, where);
  const desc = await model.describe();
  const first = nCtx / 2;
  const perCall = chunksPerCall(nCtx - 1 - first, desc.n_vocab ?? 1, nCtx, where);
  const sum = new NllSum();
  const meta = await storeBaselineDistributions(
    model,
    windows.map((w) => ({ tokens: w, firstScored: first + 1 })),
    dir,
    {
      perCall,
      encoding: STORED_ENCODING,
      onWindow: (d, i) => {
        scoreWindow(model, sum, d, windows[i], i, first, where);
        opts.onProgress?.(i + 1, windows.length);
      },
    },
  );
  const record: StoredWindows = { n_ctx: nCtx, windows, vocab_hash: desc.vocab_hash, n_vocab: desc.n_vocab };
  await writeFile(join(dir, WINDOWS_FILE), JSON.stringify(record));
  const bytes = (await stat(join(dir, "rows.bin"))).size + (await stat(join(dir, WINDOWS_FILE))).size;
  return { result: sum.result(nCtx, windows.length), stored: { dir, encoding: meta.encoding, n_vocab: meta.n_vocab, n_rows: meta.n_rows, bytes } };
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
  const sum = new NllSum();
  const sameVocab = desc.vocab_hash !== undefined && desc.vocab_hash === base.vocab_hash;
  if (!sameVocab) {
    // Its own tokens, at most as many chunks as the baseline's (as runPerplexity).
    const own = await windowsOf(model, text, nCtx, base.windows.length, where);
    const perCall = chunksPerCall(nCtx - 1 - first, desc.n_vocab ?? 1, nCtx, where);
    for (let c = 0; c < own.length; c += perCall) {
      const batch = own.slice(c, c + perCall);
      const ds = await model.distributions(batch.map((w) => ({ tokens: w, firstScored: first + 1 })));
      ds.forEach((d, k) => scoreWindow(model, sum, d, batch[k], c + k, first, where));
      opts.onProgress?.(Math.min(own.length, c + perCall), own.length);
    }
    return {
      result: sum.result(nCtx, base.windows.length),
      drift: { skipped: `tokenizer differs from the baseline's (vocab ${desc.n_vocab} vs ${base.n_vocab}); KLD, top-1 and Δp need the same vocabulary` },
    };
  }
  if (model.contextLength() < nCtx) throw new QuantevalError(`${where}: n_ctx ${nCtx} exceeds model '${model.name}' context ${model.contextLength()}; set the model's n_ctx to at least ${nCtx}`);
  const stored = await BaselineDistributions.open(dir, { keep: true });
  const acc = new DistributionDriftAccumulator(base.n_vocab ?? 0);
  try {
    await driftAgainstStore(
      model,
      base.windows.map((w) => ({ tokens: w, firstScored: first + 1 })),
      stored,
      acc,
      {
        perCall: chunksPerCall(nCtx - 1 - first, desc.n_vocab ?? 1, nCtx, where),
        onWindow: (d, i) => {
          scoreWindow(model, sum, d, base.windows[i], i, first, where);
          opts.onProgress?.(i + 1, base.windows.length);
        },
      },
    );
  } finally {
    await stored.dispose();
  }
  return { result: sum.result(nCtx, base.windows.length), drift: acc.finish() };
}

/** True when `dir` holds the finished distributions and windows of the baseline `fingerprint` at `nCtx` (a re-run can reuse them). */
export async function storedBaselineReady(dir: string, fingerprint: string, nCtx: number): Promise<boolean> {
  try {
    const w = JSON.parse(await readFile(join(dir, WINDOWS_FILE), "utf8")) as StoredWindows;
    const stored = await BaselineDistributions.open(dir, { fingerprint, keep: true });
    await stored.dispose();
    return w.n_ctx === nCtx && stored.nWindows === w.windows.length;
  } catch {
    return false;
  }
}
