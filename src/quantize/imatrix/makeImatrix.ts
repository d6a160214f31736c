// An importance matrix for a model and calibration, made once and cached by model sha256 +
// calibration text sha256 + chunks + n_ctx (the file name carries a hash of all four).
import { existsSync, mkdirSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { createHash } from "node:crypto";
import { QuantevalError } from "../../util/errors.js";
import { sha256File } from "../../util/sha256File.js";
import type { CalibrationText } from "./calibrationText.js";
import { collectImatrix } from "./collectImatrix.js";
import { readImatrix, writeImatrix } from "./imatrixFile.js";

export interface MakeImatrixOptions {
  chunks: number;
  nCtx?: number;
  threads?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface MadeImatrix {
  path: string;
  cached: boolean;
  chunks: number;
  n_ctx: number;
  entries: number;
  seconds: number;
}

/** Default chunk length, as llama-imatrix's `-c 512`. */
export const DEFAULT_IMATRIX_CTX = 512;

/** Collects the imatrix of `model` over `calib` into `out` (a file path). */
export async function makeImatrixFile(model: string, calib: CalibrationText, out: string, opts: MakeImatrixOptions): Promise<MadeImatrix> {
  if (!Number.isInteger(opts.chunks) || opts.chunks < 1) throw new QuantevalError(`--chunks must be a positive integer, got ${opts.chunks}`);
  const nCtx = opts.nCtx ?? DEFAULT_IMATRIX_CTX;
  if (!Number.isInteger(nCtx) || nCtx < 16) throw new QuantevalError(`--n-ctx must be an integer of at least 16 (llama.cpp collects only batches of 16+ tokens), got ${nCtx}`);
  const t0 = performance.now();
  const data = await collectImatrix(resolve(model), calib.text, { nCtx, chunks: opts.chunks, threads: opts.threads, datasetName: calib.path, where: calib.path, onProgress: opts.onProgress });
  writeImatrix(out, data);
  return { path: out, cached: false, chunks: opts.chunks, n_ctx: nCtx, entries: data.entries.size, seconds: (performance.now() - t0) / 1000 };
}

/** The cached imatrix for (model, calibration, chunks, n_ctx) under `cacheDir`, made when absent. */
export async function cachedImatrix(model: string, calib: CalibrationText, cacheDir: string, opts: MakeImatrixOptions): Promise<MadeImatrix> {
  const nCtx = opts.nCtx ?? DEFAULT_IMATRIX_CTX;
  const key = createHash("sha256")
    .update(JSON.stringify([await sha256File(model), calib.text_sha256, opts.chunks, nCtx]))
    .digest("hex")
    .slice(0, 16);
  mkdirSync(cacheDir, { recursive: true });
  const path = join(cacheDir, `${basename(model).replace(/\.gguf$/i, "")}.imatrix-${calib.name}-${opts.chunks}-${key}.gguf`);
  if (existsSync(path)) {
    try {
      const d = readImatrix(path);
      if (d.chunkCount === opts.chunks) {
        opts.onProgress?.(opts.chunks, opts.chunks);
        return { path, cached: true, chunks: opts.chunks, n_ctx: nCtx, entries: d.entries.size, seconds: 0 };
      }
    } catch {
      // unreadable: made again below
    }
  }
  return makeImatrixFile(model, calib, path, opts);
}
