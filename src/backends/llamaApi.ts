// One typed signature per llama.cpp function quanteval binds (node-llama-cpp's AddonTypes idea):
// `LlamaFunctions` is what TypeScript sees, `LLAMA_DECLARATIONS` the C prototype koffi binds,
// and both are keyed alike, so a function cannot be bound without a type or typed without a
// binding. Native handles are opaque branded types: a vocab cannot be passed where a context
// is expected, and no `any` crosses the boundary.
import type koffi from "koffi";
import type { KoffiFunc } from "koffi";
import type { LlamaBatch, LlamaChatMessage, LlamaContextParams, LlamaModelParams, LlamaModelQuantizeParams, StructInput } from "./llamaStructs.js";

declare const handleBrand: unique symbol;
/** An opaque native pointer as koffi returns it; only the library reads it. */
export type Handle<Name extends string> = object & { readonly [handleBrand]: Name };
/** struct llama_model * */
export type LlamaModel = Handle<"llama_model">;
/** struct llama_context * */
export type LlamaContext = Handle<"llama_context">;
/** const struct llama_vocab * */
export type LlamaVocab = Handle<"llama_vocab">;
/** llama_memory_t */
export type LlamaMemory = Handle<"llama_memory">;
/** float * into llama.cpp's logits buffer (read with koffi.view). */
export type LogitsPointer = Handle<"float *">;
/** A callback registered with koffi.register. */
export type RegisteredCallback = ReturnType<typeof koffi.register>;

/** The TypeScript signature of each bound function, named as in llama.h without the `llama_` prefix. */
export interface LlamaFunctions {
  backend_init: () => void;
  model_default_params: () => LlamaModelParams;
  context_default_params: () => LlamaContextParams;
  /** NULL when the file cannot be loaded. */
  model_load_from_file: (path: string, params: StructInput<LlamaModelParams>) => LlamaModel | null;
  model_free: (model: LlamaModel) => void;
  /** NULL when the context cannot be created (e.g. not enough memory). */
  init_from_model: (model: LlamaModel, params: StructInput<LlamaContextParams>) => LlamaContext | null;
  free: (ctx: LlamaContext) => void;
  model_get_vocab: (model: LlamaModel) => LlamaVocab;
  vocab_n_tokens: (vocab: LlamaVocab) => number;
  /** -1 when the model has none. */
  vocab_bos: (vocab: LlamaVocab) => number;
  vocab_eos: (vocab: LlamaVocab) => number;
  vocab_is_eog: (vocab: LlamaVocab, token: number) => boolean;
  vocab_get_add_bos: (vocab: LlamaVocab) => boolean;
  vocab_type: (vocab: LlamaVocab) => number;
  /** Number of tokens written, or minus the number needed when `tokens` is too small. */
  tokenize: (vocab: LlamaVocab, text: string, textLen: number, tokens: Int32Array, nTokensMax: number, addSpecial: boolean, parseSpecial: boolean) => number;
  token_to_piece: (vocab: LlamaVocab, token: number, buf: Uint8Array, length: number, lstrip: number, special: boolean) => number;
  /** Bytes written, or minus the number needed when `text` is too small. */
  detokenize: (vocab: LlamaVocab, tokens: Int32Array, nTokens: number, text: Uint8Array, textLenMax: number, removeSpecial: boolean, unparseSpecial: boolean) => number;
  batch_init: (nTokens: number, embd: number, nSeqMax: number) => LlamaBatch;
  batch_free: (batch: LlamaBatch) => void;
  /** 0 on success; 1 when no KV slot was found; negative on error. */
  decode: (ctx: LlamaContext, batch: StructInput<LlamaBatch>) => number;
  get_logits: (ctx: LlamaContext) => LogitsPointer | null;
  get_logits_ith: (ctx: LlamaContext, i: number) => LogitsPointer | null;
  get_memory: (ctx: LlamaContext) => LlamaMemory;
  memory_clear: (mem: LlamaMemory, data: boolean) => void;
  memory_seq_rm: (mem: LlamaMemory, seqId: number, p0: number, p1: number) => boolean;
  memory_seq_cp: (mem: LlamaMemory, src: number, dst: number, p0: number, p1: number) => void;
  n_ctx: (ctx: LlamaContext) => number;
  n_batch: (ctx: LlamaContext) => number;
  n_seq_max: (ctx: LlamaContext) => number;
  /** uint64_t: koffi returns a bigint above 2^53. */
  model_n_params: (model: LlamaModel) => number | bigint;
  model_size: (model: LlamaModel) => number | bigint;
  model_n_ctx_train: (model: LlamaModel) => number;
  model_n_embd: (model: LlamaModel) => number;
  model_n_layer: (model: LlamaModel) => number;
  model_n_head: (model: LlamaModel) => number;
  model_n_head_kv: (model: LlamaModel) => number;
  model_desc: (model: LlamaModel, buf: Uint8Array, bufSize: number) => number;
  model_ftype: (model: LlamaModel) => number;
  /** Length of the value, or -1 when the key is absent. */
  model_meta_val_str: (model: LlamaModel, key: string, buf: Uint8Array, bufSize: number) => number;
  model_chat_template: (model: LlamaModel, name: string | null) => string | null;
  /** Bytes of the rendered prompt (may exceed `length`: call again with a larger buffer); negative when unsupported. */
  chat_apply_template: (tmpl: string, chat: LlamaChatMessage[], nMsg: number, addAss: boolean, buf: Uint8Array, length: number) => number;
  /** 0 on success. */
  model_quantize: (fnameInp: string, fnameOut: string, params: StructInput<LlamaModelQuantizeParams>) => number;
  model_quantize_default_params: () => LlamaModelQuantizeParams;
  ftype_name: (ftype: number) => string | null;
  log_set: (cb: RegisteredCallback | null, userData: null) => void;
  print_system_info: () => string;
  synchronize: (ctx: LlamaContext) => void;
}

/** The C prototype bound for each function (struct names refer to ./llamaStructs.ts). */
export const LLAMA_DECLARATIONS: { readonly [K in keyof LlamaFunctions]: string } = {
  backend_init: "void llama_backend_init(void)",
  model_default_params: "llama_model_params llama_model_default_params(void)",
  context_default_params: "llama_context_params llama_context_default_params(void)",
  model_load_from_file: "void *llama_model_load_from_file(const char *path, llama_model_params params)",
  model_free: "void llama_model_free(void *model)",
  init_from_model: "void *llama_init_from_model(void *model, llama_context_params params)",
  free: "void llama_free(void *ctx)",
  model_get_vocab: "void *llama_model_get_vocab(void *model)",
  vocab_n_tokens: "int32_t llama_vocab_n_tokens(void *vocab)",
  vocab_bos: "int32_t llama_vocab_bos(void *vocab)",
  vocab_eos: "int32_t llama_vocab_eos(void *vocab)",
  vocab_is_eog: "bool llama_vocab_is_eog(void *vocab, int32_t token)",
  vocab_get_add_bos: "bool llama_vocab_get_add_bos(void *vocab)",
  vocab_type: "int32_t llama_vocab_type(void *vocab)",
  tokenize: "int32_t llama_tokenize(void *vocab, const char *text, int32_t text_len, _Out_ int32_t *tokens, int32_t n_tokens_max, bool add_special, bool parse_special)",
  token_to_piece: "int32_t llama_token_to_piece(void *vocab, int32_t token, _Out_ uint8_t *buf, int32_t length, int32_t lstrip, bool special)",
  detokenize: "int32_t llama_detokenize(void *vocab, const int32_t *tokens, int32_t n_tokens, _Out_ uint8_t *text, int32_t text_len_max, bool remove_special, bool unparse_special)",
  batch_init: "llama_batch llama_batch_init(int32_t n_tokens, int32_t embd, int32_t n_seq_max)",
  batch_free: "void llama_batch_free(llama_batch batch)",
  decode: "int32_t llama_decode(void *ctx, llama_batch batch)",
  get_logits: "float *llama_get_logits(void *ctx)",
  get_logits_ith: "float *llama_get_logits_ith(void *ctx, int32_t i)",
  get_memory: "void *llama_get_memory(void *ctx)",
  memory_clear: "void llama_memory_clear(void *mem, bool data)",
  memory_seq_rm: "bool llama_memory_seq_rm(void *mem, int32_t seq_id, int32_t p0, int32_t p1)",
  memory_seq_cp: "void llama_memory_seq_cp(void *mem, int32_t src, int32_t dst, int32_t p0, int32_t p1)",
  n_ctx: "uint32_t llama_n_ctx(void *ctx)",
  n_batch: "uint32_t llama_n_batch(void *ctx)",
  n_seq_max: "uint32_t llama_n_seq_max(void *ctx)",
  model_n_params: "uint64_t llama_model_n_params(void *model)",
  model_size: "uint64_t llama_model_size(void *model)",
  model_n_ctx_train: "int32_t llama_model_n_ctx_train(void *model)",
  model_n_embd: "int32_t llama_model_n_embd(void *model)",
  model_n_layer: "int32_t llama_model_n_layer(void *model)",
  model_n_head: "int32_t llama_model_n_head(void *model)",
  model_n_head_kv: "int32_t llama_model_n_head_kv(void *model)",
  model_desc: "int32_t llama_model_desc(void *model, _Out_ uint8_t *buf, size_t buf_size)",
  model_ftype: "int32_t llama_model_ftype(void *model)",
  model_meta_val_str: "int32_t llama_model_meta_val_str(void *model, const char *key, _Out_ uint8_t *buf, size_t buf_size)",
  model_chat_template: "const char *llama_model_chat_template(void *model, const char *name)",
  chat_apply_template: "int32_t llama_chat_apply_template(const char *tmpl, const llama_chat_message *chat, size_t n_msg, bool add_ass, _Out_ uint8_t *buf, int32_t length)",
  model_quantize: "uint32_t llama_model_quantize(const char *fname_inp, const char *fname_out, const llama_model_quantize_params *params)",
  model_quantize_default_params: "llama_model_quantize_params llama_model_quantize_default_params(void)",
  ftype_name: "const char *llama_ftype_name(int32_t ftype)",
  log_set: "void llama_log_set(ggml_log_callback *cb, void *user_data)",
  print_system_info: "const char *llama_print_system_info(void)",
  synchronize: "void llama_synchronize(void *ctx)",
};

/** The bound functions: each callable synchronously or with `.async(...args, callback)` on a worker thread. */
export type LlamaBindings = { readonly [K in keyof LlamaFunctions]: KoffiFunc<LlamaFunctions[K]> };
