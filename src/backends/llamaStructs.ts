// The C structs of llama.cpp's API, declared once as field specs: koffi builds the native layout
// from a spec and TypeScript derives the JS shape from the same spec, so the two cannot drift.
//
// The layouts are those of llama.cpp as shipped by node-llama-cpp 3.22.1 (include/llama.h of
// the release tag in node-llama-cpp/llama/llama.cpp.info.json), checked against sizeof() at load
// time (STRUCT_SIZES). To bind a new field (e.g. `cb_eval` as a callback), edit the spec: its
// type follows.
import koffi, { type TypeObject } from "koffi";

/** The C field types used by these structs. */
type CField = "int32_t" | "uint32_t" | "float" | "bool" | "size_t" | "void *" | "const char *";

/** The JS value koffi reads and writes for a C field: pointers are opaque handles or null. */
type JsOf<T extends CField> = T extends "bool" ? boolean : T extends "void *" ? unknown : T extends "const char *" ? string | null : number;

/** The JS object of a struct spec (what koffi returns for the struct by value). */
export type StructOf<S extends Record<string, CField>> = { -readonly [K in keyof S]: JsOf<S[K]> };

/**
 * A struct argument: start from the matching `*_default_params()` result and change fields;
 * koffi writes 0/NULL for a field that is absent.
 */
export type StructInput<T> = Readonly<Partial<T>>;

const MODEL_PARAMS = {
  devices: "void *",
  tensor_buft_overrides: "void *",
  n_gpu_layers: "int32_t",
  split_mode: "int32_t",
  load_mode: "int32_t",
  lazy_mode: "int32_t",
  main_gpu: "int32_t",
  tensor_split: "void *",
  progress_callback: "void *",
  progress_callback_user_data: "void *",
  kv_overrides: "void *",
  vocab_only: "bool",
  check_tensors: "bool",
  use_extra_bufts: "bool",
  no_host: "bool",
  no_alloc: "bool",
  load_mtp: "bool",
} as const;

const CONTEXT_PARAMS = {
  n_ctx: "uint32_t",
  n_batch: "uint32_t",
  n_ubatch: "uint32_t",
  n_seq_max: "uint32_t",
  n_rs_seq: "uint32_t",
  n_outputs_max: "uint32_t",
  n_outputs_max_per_seq: "uint32_t",
  n_threads: "int32_t",
  n_threads_batch: "int32_t",
  ctx_type: "int32_t",
  rope_scaling_type: "int32_t",
  pooling_type: "int32_t",
  attention_type: "int32_t",
  flash_attn_type: "int32_t",
  rope_freq_base: "float",
  rope_freq_scale: "float",
  yarn_ext_factor: "float",
  yarn_attn_factor: "float",
  yarn_beta_fast: "float",
  yarn_beta_slow: "float",
  yarn_orig_ctx: "uint32_t",
  defrag_thold: "float",
  cb_eval: "void *",
  cb_eval_user_data: "void *",
  type_k: "int32_t",
  type_v: "int32_t",
  abort_callback: "void *",
  abort_callback_data: "void *",
  embeddings: "bool",
  offload_kqv: "bool",
  no_perf: "bool",
  op_offload: "bool",
  swa_full: "bool",
  kv_unified: "bool",
  samplers: "void *",
  n_samplers: "size_t",
  ctx_other: "void *",
} as const;

const BATCH = {
  n_tokens: "int32_t",
  token: "void *",
  embd: "void *",
  pos: "void *",
  n_seq_id: "void *",
  seq_id: "void *",
  logits: "void *",
} as const;

const QUANTIZE_PARAMS = {
  nthread: "int32_t",
  ftype: "int32_t",
  output_tensor_type: "int32_t",
  token_embedding_type: "int32_t",
  allow_requantize: "bool",
  quantize_output_tensor: "bool",
  only_copy: "bool",
  pure: "bool",
  keep_split: "bool",
  dry_run: "bool",
  imatrix: "void *",
  kv_overrides: "void *",
  tt_overrides: "void *",
  prune_layers: "void *",
  max_buf_size: "size_t",
} as const;

const CHAT_MESSAGE = { role: "const char *", content: "const char *" } as const;

/** struct llama_model_params */
export type LlamaModelParams = StructOf<typeof MODEL_PARAMS>;
/** struct llama_context_params */
export type LlamaContextParams = StructOf<typeof CONTEXT_PARAMS>;
/** struct llama_batch (its arrays are native pointers, written through typed-array views). */
export type LlamaBatch = StructOf<typeof BATCH>;
/** struct llama_model_quantize_params */
export type LlamaModelQuantizeParams = StructOf<typeof QUANTIZE_PARAMS>;
/** struct llama_chat_message */
export type LlamaChatMessage = StructOf<typeof CHAT_MESSAGE>;

export const llamaModelParams = koffi.struct("llama_model_params", MODEL_PARAMS);
export const llamaContextParams = koffi.struct("llama_context_params", CONTEXT_PARAMS);
export const llamaBatch = koffi.struct("llama_batch", BATCH);
export const llamaQuantizeParams = koffi.struct("llama_model_quantize_params", QUANTIZE_PARAMS);
export const llamaChatMessage = koffi.struct("llama_chat_message", CHAT_MESSAGE);

/** sizeof() of each struct in the pinned release, checked before any function is bound. */
export const STRUCT_SIZES: ReadonlyArray<[TypeObject, number]> = [
  [llamaModelParams, 80],
  [llamaContextParams, 160],
  [llamaQuantizeParams, 64],
  [llamaBatch, 56],
];

// ggml_log_callback: void (*)(enum ggml_log_level level, const char * text, void * user_data)
export const ggmlLogCallback = koffi.proto("void ggml_log_callback(int level, const char *text, void *user_data)");
export const llamaProgressCallback = koffi.proto("bool llama_progress_callback(float progress, void *user_data)");
