// Quantizes a GGUF model with llama.cpp's own quantizer (`llama_model_quantize` from the libllama
// that node-llama-cpp ships), so the output is byte-identical to `llama-quantize` of that release
// (with `--imatrix` / `--tensor-type` when an importance matrix or a per-tensor recipe is given).
//
// - Output `<outDir>/<input-basename>-<type>[@<tag>].gguf`, written under a `.partial-<pid>` name
//   and renamed when complete, so an interrupted run never leaves a file that looks finished.
// - Cached by input sha256 + type + imatrix sha256 + recipe through a sidecar, verified by the
//   file's sha256 (quantizeCache.ts).
// - Progress comes from llama.cpp's per-tensor log lines (quantizeLog.ts).
// - The tensor types actually written are read back from the output, and every weight tensor
//   that did not get the requested type is reported (writtenTensors.ts).
import { mkdirSync, renameSync, rmSync, statSync } from "node:fs";
import { basename, resolve } from "node:path";
import { loadLlamaLib, llamaBuildInfo, setLlamaLogSink } from "../backends/llamaLib.js";
import { checkGgufFile } from "../util/checkGgufFile.js";
import { QuantevalError } from "../util/errors.js";
import { sha256File } from "../util/sha256File.js";
import { checkImatrixFits } from "./imatrix/checkImatrix.js";
import { readImatrix } from "./imatrix/imatrixFile.js";
import { NativeArena, checkTensorTypes, nativeImatrix, nativeImatrixKv, nativeTensorOverrides } from "./nativeQuantizeParams.js";
import { type QuantizeKey, lookupCache, quantizedPath, removeStalePartials, sidecarPath, writeSidecar } from "./quantizeCache.js";
import { type ProgressFn, type QuantizeFallback, QuantizeLog, quantizeFailure } from "./quantizeLog.js";
import { getQuantType } from "./quantTypes.js";
import { type WrittenInfo, describeFallbacks, inspectWritten, readTensorTable } from "./writtenTensors.js";

export { quantizedPath, sidecarPath } from "./quantizeCache.js";
export { describeFallbacks } from "./writtenTensors.js";
export type { QuantizeFallback } from "./quantizeLog.js";

export interface QuantizeResult {
  /** Canonical type name (e.g. `q4_k_m`). */
  type: string;
  /** Variant name: the type, plus `@<tag>` for an imatrix/recipe variant (e.g. `q4_k_m@wiki-128`). */
  name: string;
  /** Absolute path of the quantized file. */
  path: string;
  /** True when an earlier run's output was reused. */
  cached: boolean;
  input_sha256: string;
  /** sha256 of the written file. */
  sha256: string;
  file_bytes: number;
  /** Tensor data bits per weight over all tensors (as llama-quantize prints it). */
  bits_per_weight: number;
  n_tensors: number;
  /** Tensors with two or more dimensions (the ones a quantization applies to). */
  n_weight_tensors: number;
  /** ggml type name (lower case) → number of tensors of that type in the written file. */
  tensor_types: Record<string, number>;
  /** ggml type the requested file type uses for weight tensors (e.g. `q4_k` for `q4_k_m`). */
  requested_tensor_type: string;
  /** Weight tensors written with a different type than the mix asked for, because of their shape. */
  fallbacks: QuantizeFallback[];
  /** The importance matrix used, if any. */
  imatrix?: { file: string; sha256: string; datasets: string[]; chunks: number; entries: number };
  /** The per-tensor recipe (regex → ggml type) applied, if any. */
  tensor_overrides?: Record<string, string>;
  /** Human-readable warning when fallbacks happened (or other caveats). */
  note?: string;
  /** Seconds spent in llama_model_quantize (0 when cached). */
  seconds: number;
  llama_cpp_release: string;
}

export interface QuantizeOptions {
  /** Quantization threads; defaults to llama.cpp's choice (all hardware threads). */
  threads?: number;
  /** Called as llama.cpp works through the tensors: `done` of `total`, and the current tensor. */
  onProgress?: ProgressFn;
  /** An imatrix file (GGUF, as written by `quanteval imatrix` or llama-imatrix). */
  imatrix?: string;
  /** Per-tensor types (regex over tensor names → ggml type), as llama-quantize's `--tensor-type`. */
  tensorTypes?: Record<string, string>;
  /** Variant tag: the output is `<model>-<type>@<tag>.gguf`; defaults from the imatrix/recipe. */
  tag?: string;
}

/** A short, file-name-safe default tag for an imatrix/recipe variant. */
function defaultTag(opts: QuantizeOptions, recipe: Record<string, string> | undefined): string | undefined {
  const parts: string[] = [];
  if (opts.imatrix) parts.push(basename(opts.imatrix).replace(/\.gguf$/i, ""));
  if (recipe)
    parts.push(
      Object.entries(recipe)
        .map(([k, v]) => `${k}-${v}`)
        .join("+"),
    );
  const tag = parts.join("+").replace(/[^A-Za-z0-9_.+-]+/g, "_");
  return tag || undefined;
}

// llama.cpp logs through one global callback; quantizations run one at a time so lines don't mix.
let queue: Promise<unknown> = Promise.resolve();

/**
 * Quantizes `input` (a GGUF file) to `type` (a user-facing name such as `q4_k_m`) into `outDir`.
 * Returns the cached result when the same input, type, imatrix and recipe were already made.
 */
export function quantizeModel(input: string, type: string, outDir: string, opts: QuantizeOptions = {}): Promise<QuantizeResult> {
  const run = queue.then(() => quantizeNow(input, type, outDir, opts));
  queue = run.catch(() => undefined);
  return run;
}

async function quantizeNow(input: string, typeName: string, outDir: string, opts: QuantizeOptions): Promise<QuantizeResult> {
  const qtype = getQuantType(typeName, "type");
  if (opts.threads !== undefined && (!Number.isInteger(opts.threads) || opts.threads < 0)) {
    throw new QuantevalError(`--threads must be a non-negative integer, got ${opts.threads}`);
  }
  if (qtype.needsImatrix && !opts.imatrix) {
    throw new QuantevalError(`${qtype.name} needs an importance matrix; pass --imatrix FILE (make one with 'quanteval imatrix') or choose another type`);
  }
  input = resolve(input);
  checkGgufFile(input, "the <model> argument of 'quanteval quantize'");
  const recipe = opts.tensorTypes && Object.keys(opts.tensorTypes).length ? checkTensorTypes(opts.tensorTypes, "tensor_types") : undefined;
  const imatrixPath = opts.imatrix ? resolve(opts.imatrix) : undefined;
  const imatrix = imatrixPath ? readImatrix(imatrixPath) : undefined;
  if (imatrix) checkImatrixFits(imatrix, await readTensorTable(input), imatrixPath!, input);
  try {
    mkdirSync(outDir, { recursive: true });
  } catch (e) {
    throw new QuantevalError(`cannot create the output folder ${outDir} (${(e as Error).message}); fix --out`);
  }
  const tag = opts.tag ?? defaultTag(opts, recipe);
  const outPath = quantizedPath(input, qtype.name, outDir, tag);
  if (outPath === input) throw new QuantevalError(`the output ${outPath} would overwrite the input; choose another --out`);
  const key: QuantizeKey = {
    input_sha256: await sha256File(input),
    type: qtype.name,
    ...(imatrixPath ? { imatrix_sha256: await sha256File(imatrixPath) } : {}),
    ...(recipe ? { tensor_types: recipe } : {}),
  };

  const cache = await lookupCache<QuantizeResult>(outPath, key);
  if ("hit" in cache) {
    const r: QuantizeResult = { ...cache.hit, path: outPath, cached: true };
    opts.onProgress?.(r.n_tensors, r.n_tensors);
    return r;
  }

  removeStalePartials(outPath);
  const tmp = `${outPath}.partial-${process.pid}`;
  const lib = loadLlamaLib();
  const params = lib.model_quantize_default_params() as Record<string, unknown>;
  params.ftype = qtype.ftype;
  params.nthread = opts.threads ?? 0;
  const arena = new NativeArena();
  const log = new QuantizeLog(opts.onProgress);
  setLlamaLogSink((level, text) => log.feed(level, text));
  const t0 = performance.now();
  let rc: number;
  try {
    if (imatrix) {
      params.imatrix = nativeImatrix(arena, imatrix);
      params.kv_overrides = nativeImatrixKv(arena, imatrixPath!, imatrix);
    }
    if (recipe) params.tt_overrides = nativeTensorOverrides(arena, recipe);
    rc = await new Promise<number>((res, rej) => lib.model_quantize.async(input, tmp, params, (err: unknown, code: number) => (err ? rej(err) : res(code))));
    log.feed(0, "\n");
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  } finally {
    setLlamaLogSink(undefined);
    arena.free();
  }
  const seconds = (performance.now() - t0) / 1000;
  if (rc !== 0) {
    rmSync(tmp, { force: true });
    throw quantizeFailure(input, qtype, log);
  }

  let written: WrittenInfo;
  try {
    written = await inspectWritten(tmp, qtype.baseType);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
  // llama.cpp's own fallback warnings are exact; the shape check on the written file also
  // catches tensors the mix itself moved to another type because of their shape (output.weight).
  // Tensors a recipe moved on purpose are not fallbacks.
  const fallbacks = [...log.fallbacks.values()];
  for (const f of written.shapeFallbacks) if (!log.fallbacks.has(f.tensor)) fallbacks.push(f);
  const realFallbacks = recipe ? fallbacks.filter((f) => !Object.keys(recipe).some((p) => new RegExp(p).test(f.tensor))) : fallbacks;
  const fileBytes = statSync(tmp).size;
  const sha = await sha256File(tmp);
  // The old sidecar goes first: a crash between the two steps must not pair it with the new file.
  rmSync(sidecarPath(outPath), { force: true });
  renameSync(tmp, outPath);

  const notes: string[] = [];
  if ("corrupted" in cache && cache.corrupted) notes.push(cache.corrupted);
  const fb = describeFallbacks(qtype.name, realFallbacks, written.n_weight_tensors);
  if (fb) notes.push(fb);
  const result: QuantizeResult = {
    type: qtype.name,
    name: tag ? `${qtype.name}@${tag}` : qtype.name,
    path: outPath,
    cached: false,
    input_sha256: key.input_sha256,
    sha256: sha,
    file_bytes: fileBytes,
    bits_per_weight: written.bits_per_weight,
    n_tensors: written.n_tensors,
    n_weight_tensors: written.n_weight_tensors,
    tensor_types: written.tensor_types,
    requested_tensor_type: qtype.baseType,
    fallbacks: realFallbacks,
    ...(imatrix && imatrixPath ? { imatrix: { file: imatrixPath, sha256: key.imatrix_sha256!, datasets: imatrix.datasets, chunks: imatrix.chunkCount, entries: imatrix.entries.size } } : {}),
    ...(recipe ? { tensor_overrides: recipe } : {}),
    ...(notes.length ? { note: notes.join("; ") } : {}),
    seconds,
    llama_cpp_release: llamaBuildInfo().llama_cpp_release,
  };
  writeSidecar(outPath, key, result);
  opts.onProgress?.(result.n_tensors, result.n_tensors);
  return result;
}
