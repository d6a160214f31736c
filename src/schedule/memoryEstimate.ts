// Resident memory of one GGUF model in the in-process backend, and the memory free for models,
// for the schedule planner (planSchedule.ts) to decide which models may be resident together.
//
// resident = weights + KV cache + compute allowance, where
//   weights  = tensor data bytes of the file (file size − header; mmap'd and touched on use),
//   KV cache = n_layer × kv_cells × n_head_kv × head_dim × bytes(cache type) × 2 (K and V),
//   compute  = COMPUTE_FIXED_BYTES + COMPUTE_LOGITS_FACTOR × n_ubatch × n_vocab × 4
//              + n_ubatch × (4·n_embd + 3·n_ff) × 4.
// The first two compute terms are calibrated (bench/memory.ts --calibrate: peak RSS of a child
// process that opens the real GgufBackend with its defaults and runs a 512-token perplexity window
// and a log-likelihood request, minus the same process before the model was opened, minus the
// caller's own copy of the returned rows):
//   stories260K (512 vocab, 1.12 MiB of tensors, KV 2.50 MiB): resident 13.9–14.5 MiB
//   llama-2-tiny-random (32k vocab, 1.0 MiB of tensors, KV 0.13 MiB): resident 72.7–75.9 MiB
// i.e. ≈10 MiB of fixed buffers (vocabulary, graph, context) plus the logits tensor of one
// micro-batch (512 × n_vocab × 4 B = 62.5 MiB at 32k; the remainder fits COMPUTE_LOGITS_FACTOR),
// which dominates at large vocabularies (65 MB at 32k, 262 MB at 128k).
// Checked on larger shapes with the same bench: a synthetic 128k-vocabulary model (f16, 66 MB)
// measured 341 MiB against an estimate of 340 MiB, and the synthetic 0.8 B F32 Llama (2048 × 16
// layers, 32k vocab) 2.87 GiB against 2.88 GiB (2.70 GiB weights + 128 MiB KV + 60 MiB compute).
// A run with a perplexity task also holds the window context (src/backends/gguf/windowContext.ts),
// made on first use and shaped as llama-perplexity's: n_batch / window KV streams of one window
// each, plus its own compute buffers and the logits of every scored row of one llama_decode
// (the second half of each window). windowContextBytes counts it with the same arithmetic.
// The scoring context (the KV cache and compute terms above) is made only when a log-likelihood
// request first needs it (src/backends/gguf.ts); it is counted for every model all the same, so
// the estimate stays an upper bound for a run of perplexity or generate tasks alone.
// The activation term
// (the largest live FFN/attention tensors of one micro-batch) cannot be seen on these tiny models
// and is llama.cpp's graph arithmetic, not a measurement; it is small next to weights for 7B+.
import { statSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { freemem } from "node:os";
import { QuantevalError } from "../util/errors.js";
import { checkGgufFile } from "../util/checkGgufFile.js";

/** Fixed compute/context buffers per model, calibrated (see the header). */
export const COMPUTE_FIXED_BYTES = 10 * 1024 * 1024;
/** Multiple of one micro-batch of logits (n_ubatch × n_vocab × 4 B) resident per model, calibrated on the 32k vocabulary. */
export const COMPUTE_LOGITS_FACTOR = 1.05;

/** Bytes per KV cache element of llama.cpp's cache types (q8_0: 34 bytes per block of 32). */
export const KV_CACHE_TYPE_BYTES = { f32: 4, f16: 2, bf16: 2, q8_0: 34 / 32 } as const;
export type KvCacheType = keyof typeof KV_CACHE_TYPE_BYTES;

/** The model shape the estimate needs (from the GGUF header). */
export interface ModelShape {
  /** Tensor data bytes (weights). */
  weightBytes: number;
  nLayer: number;
  nEmbd: number;
  nFf: number;
  nHead: number;
  nHeadKv: number;
  headDim: number;
  nVocab: number;
  nCtxTrain: number;
}

/** Context settings that change resident memory; defaults are GgufBackend's. */
export interface ContextSettings {
  /** KV cells (GgufBackend `kvSize`). Defaults to `max(4096, nCtx)`. */
  kvCells?: number;
  /** Scoring window; only raises kvCells. Defaults to `min(2048, n_ctx_train)`. */
  nCtx?: number;
  /** Micro-batch. Defaults to `512`. */
  nUbatch?: number;
  /** KV cache type. Defaults to `"f16"`. */
  cacheType?: KvCacheType;
  /** Layers offloaded to a GPU. Defaults to `0`. */
  gpuLayers?: number;
  /** Tokens per window when the run decodes equal-length windows (perplexity); `0` (default) when it does not. */
  windowTokens?: number;
  /** Tokens per llama_decode (GgufBackend `nBatch`). Defaults to `2048`. */
  nBatch?: number;
  /** Parallel sequences per context (GgufBackend `nSeqMax`). Defaults to `64`. */
  nSeqMax?: number;
}

/** One model's estimated resident memory, in bytes, with the inputs (recorded in the manifest). */
export interface MemoryEstimate {
  name: string;
  weights_bytes: number;
  kv_bytes: number;
  compute_bytes: number;
  /** The window context of a run with perplexity windows (KV, compute and scored logits), else 0. */
  window_bytes: number;
  total_bytes: number;
  kv_cells: number;
  cache_type: KvCacheType;
  n_vocab: number;
  /** Where the model lives: "ram", or "vram" when any layer is offloaded. */
  device: "ram" | "vram";
}

/** KV cache bytes: n_layer × cells × n_head_kv × head_dim × bytes per element × 2 (K and V). */
export function kvCacheBytes(shape: Pick<ModelShape, "nLayer" | "nHeadKv" | "headDim">, kvCells: number, cacheType: KvCacheType = "f16"): number {
  return shape.nLayer * kvCells * shape.nHeadKv * shape.headDim * KV_CACHE_TYPE_BYTES[cacheType] * 2;
}

/** Compute-buffer allowance (see the header for the calibration). */
export function computeAllowanceBytes(shape: Pick<ModelShape, "nVocab" | "nEmbd" | "nFf">, nUbatch = 512): number {
  return COMPUTE_FIXED_BYTES + COMPUTE_LOGITS_FACTOR * nUbatch * shape.nVocab * 4 + nUbatch * (4 * shape.nEmbd + 3 * shape.nFf) * 4;
}

/**
 * The window context's bytes for windows of `windowTokens` (see the header): KV of
 * nSeq × windowTokens cells, nSeq × (windowTokens / 2 + 1) rows of logits (perplexity scores the
 * second half of each window), the fixed buffers and half a micro-batch of logits, with
 * nSeq = n_batch / windowTokens (at least 1, at most n_seq_max), as windowShape() makes it.
 * The last two terms are calibrated (bench/memory.ts --calibrate, one llama_decode of four
 * 512-token windows): stories260K measured 18.2–22.4 MiB against 29.9 estimated, llama-2-tiny-random
 * (32k) 214 MiB against 244, a synthetic 128k-vocabulary model 882–884 MiB against 978.
 */
export function windowContextBytes(shape: Pick<ModelShape, "nLayer" | "nHeadKv" | "headDim" | "nVocab">, ctx: ContextSettings): number {
  const len = ctx.windowTokens ?? 0;
  if (len <= 0) return 0;
  const nSeq = Math.max(1, Math.min(ctx.nSeqMax ?? 64, Math.floor((ctx.nBatch ?? 2048) / len)));
  const rows = nSeq * (Math.floor(len / 2) + 1);
  const nUbatch = ctx.nUbatch ?? 512;
  return kvCacheBytes(shape, nSeq * len, ctx.cacheType ?? "f16") + COMPUTE_FIXED_BYTES + (rows + nUbatch / 2) * shape.nVocab * 4;
}

/** Pure estimate from a shape and context settings. */
export function estimateFromShape(name: string, shape: ModelShape, ctx: ContextSettings = {}): MemoryEstimate {
  const nCtx = ctx.nCtx ?? Math.min(2048, shape.nCtxTrain > 0 ? shape.nCtxTrain : 2048);
  const kvCells = Math.max(ctx.kvCells ?? 4096, nCtx);
  const cacheType = ctx.cacheType ?? "f16";
  const kv = kvCacheBytes(shape, kvCells, cacheType);
  const compute = computeAllowanceBytes(shape, ctx.nUbatch ?? 512);
  const windows = windowContextBytes(shape, ctx);
  return {
    name,
    weights_bytes: shape.weightBytes,
    kv_bytes: Math.ceil(kv),
    compute_bytes: Math.ceil(compute),
    window_bytes: Math.ceil(windows),
    total_bytes: Math.ceil(shape.weightBytes + kv + compute + windows),
    kv_cells: kvCells,
    cache_type: cacheType,
    n_vocab: shape.nVocab,
    device: (ctx.gpuLayers ?? 0) > 0 ? "vram" : "ram",
  };
}

/** Reads a GGUF's shape from its header (node-llama-cpp's parser; the vocabulary is not read). */
export async function readModelShape(path: string): Promise<ModelShape> {
  const { readGgufFileInfo } = await import("node-llama-cpp");
  let info: Awaited<ReturnType<typeof readGgufFileInfo>>;
  try {
    info = await readGgufFileInfo(path, { logWarnings: false, ignoreKeys: ["tokenizer.ggml.tokens", "tokenizer.ggml.scores", "tokenizer.ggml.token_type", "tokenizer.ggml.merges"] });
  } catch (e) {
    throw new QuantevalError(`${path}: cannot read the GGUF header for a memory estimate (${(e as Error).message.split("\n")[0]}); check the model path`);
  }
  const a = info.architectureMetadata as Record<string, unknown> & { attention?: Record<string, unknown> };
  const nEmbd = Number(a.embedding_length ?? 0);
  const nHead = Number(a.attention?.head_count ?? 1);
  const nHeadKv = Number(a.attention?.head_count_kv ?? nHead);
  const tensors = info.fullTensorInfo ?? info.tensorInfo ?? [];
  const embd = tensors.find((t) => t.name === "token_embd.weight") ?? tensors.find((t) => t.name === "output.weight");
  return {
    weightBytes: Math.max(0, statSync(path).size - Number(info.infoEndOffset ?? 0)),
    nLayer: Number(a.block_count ?? 0),
    nEmbd,
    nFf: Number(Array.isArray(a.feed_forward_length) ? Math.max(...(a.feed_forward_length as number[])) : (a.feed_forward_length ?? 0)),
    nHead,
    nHeadKv: Number(Array.isArray(nHeadKv) ? Math.max(...(nHeadKv as number[])) : nHeadKv),
    headDim: Number(a.attention?.key_length ?? (nHead > 0 ? nEmbd / nHead : 0)),
    nVocab: embd ? Number(embd.dimensions[1] ?? 0) : 0,
    nCtxTrain: Number(a.context_length ?? 0),
  };
}

/** Estimates a GGUF model's resident memory with the backend's context settings. */
export async function estimateModelMemory(name: string, path: string, ctx: ContextSettings = {}): Promise<MemoryEstimate> {
  // A missing or non-GGUF file gets the same one line here as when the model loads.
  checkGgufFile(path, `model '${name}'`);
  return estimateFromShape(name, await readModelShape(path), ctx);
}

/** Memory free for models, and where the figure came from (recorded in the manifest). */
export interface FreeMemory {
  bytes: number | undefined;
  source: "MemAvailable" | "os.freemem" | "vram" | "unknown";
  /** Why the figure is unknown or approximate. */
  note?: string;
}

/** Free RAM: /proc/meminfo MemAvailable (counts reclaimable page cache), else os.freemem(). */
export async function freeRam(): Promise<FreeMemory> {
  try {
    const m = /^MemAvailable:\s+(\d+)\s*kB/m.exec(await readFile("/proc/meminfo", "utf8"));
    if (m) return { bytes: Number(m[1]) * 1024, source: "MemAvailable" };
  } catch {
    // not Linux
  }
  return { bytes: freemem(), source: "os.freemem" };
}

/**
 * Free VRAM through node-llama-cpp's getVramState(). On a CPU-only build it reports total 0,
 * which here means unknown (no GPU to measure; this machine has none), never "0 bytes free".
 */
export async function freeVram(): Promise<FreeMemory> {
  try {
    const { getLlama, LlamaLogLevel } = await import("node-llama-cpp");
    const llama = await getLlama({ gpu: "auto", build: "never", skipDownload: true, logLevel: LlamaLogLevel.error, progressLogs: false });
    const s = await llama.getVramState();
    if (s.total > 0) return { bytes: s.free, source: "vram" };
    return { bytes: undefined, source: "unknown", note: "no GPU memory reported (CPU-only llama.cpp build); set memory_budget to plan for a GPU" };
  } catch (e) {
    return { bytes: undefined, source: "unknown", note: `GPU memory could not be read (${(e as Error).message.split("\n")[0]}); set memory_budget` };
  }
}
