// The GGUF backend's options and how they become llama.cpp context parameters.
import type { GpuChoice, LlamaContextParams, LlamaLib } from "../llamaLib.js";

export interface GgufOptions {
  /** Display name of the model in results. */
  name: string;
  /** Path of the .gguf file. */
  path: string;
  /** Scoring window per sequence in tokens. Defaults to `min(2048, n_ctx_train)`. */
  nCtx?: number;
  /** Total KV cells shared by all parallel sequences. Defaults to `max(4096, nCtx)`. */
  kvSize?: number;
  /** Tokens per llama_decode call. Defaults to `2048`. */
  nBatch?: number;
  /** Physical micro-batch. Defaults to `512`. */
  nUbatch?: number;
  /** Parallel sequences per context. Defaults to `64`. */
  nSeqMax?: number;
  /** Sequences generated together (continuous batching). Defaults to `min(16, nSeqMax)`. */
  parallel?: number;
  /** CPU threads. Defaults to the number of cores. */
  threads?: number;
  /** Layers offloaded to a GPU; defaults to all when a GPU build is in use, else 0. */
  gpuLayers?: number;
  gpu?: GpuChoice;
  /** Flash attention: llama.cpp's `-fa`. Defaults to `"auto"`. */
  flashAttn?: FlashAttn;
  /** KV cache type: llama.cpp's `-ctk/-ctv`. Defaults to `"f16"`. */
  cacheType?: CacheType;
  /** Repack weights for the CPU's fastest kernels (llama.cpp's default). Defaults to `true`. */
  repack?: boolean;
  /** Prepend BOS to contexts. Defaults to the model's own `add_bos` setting. */
  addBos?: boolean;
}

/** llama_flash_attn_type and ggml_type values of the pinned llama.cpp (include/llama.h, ggml.h). */
const FLASH_ATTN = { auto: -1, off: 0, on: 1 } as const;
const CACHE_TYPE = { f32: 0, f16: 1, q8_0: 8, bf16: 30 } as const;
export type FlashAttn = keyof typeof FLASH_ATTN;
export type CacheType = keyof typeof CACHE_TYPE;

/** What differs between the scoring and the generation context. */
export interface ContextShape {
  /** KV cells of the context (all sequences). */
  nCtx: number;
  nBatch: number;
  nUbatch: number;
  nSeqMax: number;
  threads: number;
  /** One KV stream shared by all sequences (scoring) or one per sequence (generation). */
  kvUnified: boolean;
  flashAttn: FlashAttn;
  cacheType: CacheType;
}

/** llama_context_params for a context of this shape, starting from llama.cpp's defaults. */
export function contextParams(lib: LlamaLib, s: ContextShape): LlamaContextParams {
  return {
    ...lib.context_default_params(),
    n_ctx: s.nCtx,
    n_batch: s.nBatch,
    n_ubatch: s.nUbatch,
    n_seq_max: s.nSeqMax,
    n_threads: s.threads,
    n_threads_batch: s.threads,
    kv_unified: s.kvUnified,
    no_perf: true,
    flash_attn_type: FLASH_ATTN[s.flashAttn],
    type_k: CACHE_TYPE[s.cacheType],
    type_v: CACHE_TYPE[s.cacheType],
  };
}
