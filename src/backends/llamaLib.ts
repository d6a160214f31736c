// Binds llama.cpp's C API from the libllama that the pinned node-llama-cpp package ships.
//
// Why an FFI and not node-llama-cpp's JS API: its evaluation API returns next-token
// probabilities as a JS Map per position, which does not scale to 32k–256k vocabularies
// and hundreds of thousands of scored tokens, and each evaluation call carries a large
// fixed overhead. Through koffi we reach `llama_decode` and `llama_get_logits` directly:
// many sequences and positions per call, logits read as one Float32Array view.
//
// The struct layouts below are those of llama.cpp as shipped by node-llama-cpp 3.22.1
// (llama.cpp release tag in node-llama-cpp/llama/llama.cpp.info.json). They are checked
// against sizeof() at load time; a different node-llama-cpp version is refused.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import koffi, { type KoffiFunc, type TypeObject } from "koffi";
import { QuantevalError } from "../util/errors.js";
import { nativeLibDir } from "./nativeLibrary.js";

export const PINNED_NODE_LLAMA_CPP = "3.22.1";

const require = createRequire(import.meta.url);

/** Which prebuilt binary set to use. */
export type GpuChoice = "auto" | "cpu" | "cuda" | "vulkan";

/** The package root of an installed dependency (its package.json may not be exported). */
function packageDir(name: string): string {
  let dir = dirname(require.resolve(name));
  while (!existsSync(join(dir, "package.json")) || JSON.parse(readFileSync(join(dir, "package.json"), "utf8")).name !== name) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`cannot locate the ${name} package; run 'npm install'`);
    dir = up;
  }
  return dir;
}

function nodeLlamaCppDir(): string {
  return packageDir("node-llama-cpp");
}

/** File name of libllama on Linux/macOS/Windows, optionally versioned. */
export const LIBLLAMA_FILE = /^libllama(\.v[\d.]+)?\.(so|dylib)$|^llama\.dll$/;
const hasLibllama = (dir: string): boolean => existsSync(dir) && readdirSync(dir).some((f) => LIBLLAMA_FILE.test(f));

/**
 * QUANTEVAL_LLAMA_LIB_DIR: a folder of llama.cpp shared libraries built on this machine
 * (`bash scripts/build-llamacpp.sh --native-lib`), used instead of node-llama-cpp's prebuilt ones
 * when set. Why: the prebuilt CPU backends are portable builds without OpenMP, and their GEMM
 * kernels run up to 2× slower than a `GGML_NATIVE` build on the same CPU, which is what limits batched decoding (bench/README.md).
 * It must be built from the same llama.cpp release: the struct layouts below are that release's.
 */
export function customLibDir(): string | undefined {
  // Also the native build made on first use (nativeLibrary.ts), unless QUANTEVAL_LLAMA_LIB_DIR="".
  return nativeLibDir();
}

/** Version facts recorded in every manifest. */
export function llamaBuildInfo(): { node_llama_cpp: string; llama_cpp_release: string; llama_lib: string } {
  const dir = nodeLlamaCppDir();
  const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { version: string };
  const info = JSON.parse(readFileSync(join(dir, "llama", "llama.cpp.info.json"), "utf8")) as { tag: string };
  return { node_llama_cpp: pkg.version, llama_cpp_release: info.tag, llama_lib: customLibDir() ?? "prebuilt" };
}

function hasNvidiaDriver(): boolean {
  return existsSync("/proc/driver/nvidia/version");
}

/** Finds the folder holding libllama for this platform and the chosen GPU flavour. */
export function findLibDir(gpu: GpuChoice = "auto"): string {
  const custom = customLibDir();
  if (custom) {
    if (!hasLibllama(custom)) {
      throw new QuantevalError(`QUANTEVAL_LLAMA_LIB_DIR=${custom}: no libllama there; build it with 'bash scripts/build-llamacpp.sh --native-lib' or unset the variable`);
    }
    return custom;
  }
  const platform = `${process.platform}-${process.arch}`;
  const flavours = gpu === "cpu" ? [""] : gpu === "cuda" ? ["-cuda"] : gpu === "vulkan" ? ["-vulkan"] : hasNvidiaDriver() ? ["-cuda", ""] : [""];
  for (const flavour of flavours) {
    let pkgDir: string;
    try {
      pkgDir = packageDir(`@node-llama-cpp/${platform}${flavour}`);
    } catch {
      continue;
    }
    const bins = join(pkgDir, "bins");
    if (!existsSync(bins)) continue;
    for (const sub of readdirSync(bins)) {
      const dir = join(bins, sub);
      if (hasLibllama(dir)) return dir;
    }
  }
  throw new Error(
    `no prebuilt llama.cpp library for ${platform}${gpu === "auto" || gpu === "cpu" ? "" : ` (${gpu})`}: reinstall with 'npm install' (node-llama-cpp@${PINNED_NODE_LLAMA_CPP} ships it)`,
  );
}

export const llamaModelParams = koffi.struct("llama_model_params", {
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
});

export const llamaContextParams = koffi.struct("llama_context_params", {
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
});

export const llamaBatch = koffi.struct("llama_batch", {
  n_tokens: "int32_t",
  token: "void *",
  embd: "void *",
  pos: "void *",
  n_seq_id: "void *",
  seq_id: "void *",
  logits: "void *",
});

export const llamaQuantizeParams = koffi.struct("llama_model_quantize_params", {
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
});

export const llamaChatMessage = koffi.struct("llama_chat_message", { role: "const char *", content: "const char *" });

const EXPECTED_SIZES: Array<[TypeObject, number]> = [
  [llamaModelParams, 80],
  [llamaContextParams, 160],
  [llamaQuantizeParams, 64],
  [llamaBatch, 56],
];

// ggml_log_callback: void (*)(enum ggml_log_level level, const char * text, void * user_data)
export const ggmlLogCallback = koffi.proto("void ggml_log_callback(int level, const char *text, void *user_data)");
export const llamaProgressCallback = koffi.proto("bool llama_progress_callback(float progress, void *user_data)");

// The shape of the bound functions; `any` is how koffi types foreign functions.
/* eslint-disable @typescript-eslint/no-explicit-any */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Fn = KoffiFunc<any>;

export interface LlamaLib {
  dir: string;
  backend_init: Fn;
  model_default_params: Fn;
  context_default_params: Fn;
  model_load_from_file: Fn;
  model_free: Fn;
  init_from_model: Fn;
  free: Fn;
  model_get_vocab: Fn;
  vocab_n_tokens: Fn;
  vocab_bos: Fn;
  vocab_eos: Fn;
  vocab_is_eog: Fn;
  vocab_get_add_bos: Fn;
  vocab_type: Fn;
  tokenize: Fn;
  token_to_piece: Fn;
  detokenize: Fn;
  batch_init: Fn;
  batch_free: Fn;
  decode: Fn;
  get_logits: Fn;
  get_logits_ith: Fn;
  get_memory: Fn;
  memory_clear: Fn;
  memory_seq_rm: Fn;
  memory_seq_cp: Fn;
  n_ctx: Fn;
  n_batch: Fn;
  n_seq_max: Fn;
  model_n_params: Fn;
  model_size: Fn;
  model_n_ctx_train: Fn;
  model_n_embd: Fn;
  model_n_layer: Fn;
  model_n_head: Fn;
  model_n_head_kv: Fn;
  model_desc: Fn;
  model_ftype: Fn;
  model_meta_val_str: Fn;
  model_chat_template: Fn;
  chat_apply_template: Fn;
  model_quantize: Fn;
  model_quantize_default_params: Fn;
  ftype_name: Fn;
  log_set: Fn;
  print_system_info: Fn;
  synchronize: Fn;
}

let cached: LlamaLib | undefined;
let silentLogger: unknown;
let logSink: ((level: number, text: string) => void) | undefined;

/** Routes llama.cpp's log lines to `sink` (or drops them when undefined). */
export function setLlamaLogSink(sink: ((level: number, text: string) => void) | undefined): void {
  logSink = sink;
}

/** Loads libllama once per process, with its CPU/GPU backends. */
export function loadLlamaLib(gpu: GpuChoice = "auto"): LlamaLib {
  if (cached) return cached;
  for (const [type, size] of EXPECTED_SIZES) {
    if (koffi.sizeof(type) !== size) throw new Error(`internal: ${koffi.introspect(type).name} layout mismatch`);
  }
  const build = llamaBuildInfo();
  if (build.node_llama_cpp !== PINNED_NODE_LLAMA_CPP) {
    throw new Error(
      `node-llama-cpp ${build.node_llama_cpp} is installed but quanteval's llama.cpp bindings are for ${PINNED_NODE_LLAMA_CPP}: run 'npm install' in the quanteval folder`,
    );
  }
  const dir = findLibDir(gpu);
  const files = readdirSync(dir);
  const pick = (re: RegExp, what: string) => {
    const f = files.find((x) => re.test(x));
    if (!f) throw new Error(`${what} not found in ${dir}: reinstall node-llama-cpp@${PINNED_NODE_LLAMA_CPP}`);
    return join(dir, f);
  };
  // ggml and its backend registry must be loaded first; its CPU variants are plugins.
  const ggml = koffi.load(pick(/^libggml(\.v[\d.]+)?\.(so|dylib)$/, "libggml"));
  const lib = koffi.load(pick(/^libllama(\.v[\d.]+)?\.(so|dylib)$/, "libllama"));
  const loadAllFromPath = ggml.func("void ggml_backend_load_all_from_path(const char *dir)");

  const f = (sig: string) => lib.func(sig);
  const L: LlamaLib = {
    dir,
    backend_init: f("void llama_backend_init(void)"),
    model_default_params: f("llama_model_params llama_model_default_params(void)"),
    context_default_params: f("llama_context_params llama_context_default_params(void)"),
    model_load_from_file: f("void *llama_model_load_from_file(const char *path, llama_model_params params)"),
    model_free: f("void llama_model_free(void *model)"),
    init_from_model: f("void *llama_init_from_model(void *model, llama_context_params params)"),
    free: f("void llama_free(void *ctx)"),
    model_get_vocab: f("void *llama_model_get_vocab(void *model)"),
    vocab_n_tokens: f("int32_t llama_vocab_n_tokens(void *vocab)"),
    vocab_bos: f("int32_t llama_vocab_bos(void *vocab)"),
    vocab_eos: f("int32_t llama_vocab_eos(void *vocab)"),
    vocab_is_eog: f("bool llama_vocab_is_eog(void *vocab, int32_t token)"),
    vocab_get_add_bos: f("bool llama_vocab_get_add_bos(void *vocab)"),
    vocab_type: f("int32_t llama_vocab_type(void *vocab)"),
    tokenize: f("int32_t llama_tokenize(void *vocab, const char *text, int32_t text_len, _Out_ int32_t *tokens, int32_t n_tokens_max, bool add_special, bool parse_special)"),
    token_to_piece: f("int32_t llama_token_to_piece(void *vocab, int32_t token, _Out_ uint8_t *buf, int32_t length, int32_t lstrip, bool special)"),
    detokenize: f("int32_t llama_detokenize(void *vocab, const int32_t *tokens, int32_t n_tokens, _Out_ uint8_t *text, int32_t text_len_max, bool remove_special, bool unparse_special)"),
    batch_init: f("llama_batch llama_batch_init(int32_t n_tokens, int32_t embd, int32_t n_seq_max)"),
    batch_free: f("void llama_batch_free(llama_batch batch)"),
    decode: f("int32_t llama_decode(void *ctx, llama_batch batch)"),
    get_logits: f("float *llama_get_logits(void *ctx)"),
    get_logits_ith: f("float *llama_get_logits_ith(void *ctx, int32_t i)"),
    get_memory: f("void *llama_get_memory(void *ctx)"),
    memory_clear: f("void llama_memory_clear(void *mem, bool data)"),
    memory_seq_rm: f("bool llama_memory_seq_rm(void *mem, int32_t seq_id, int32_t p0, int32_t p1)"),
    memory_seq_cp: f("void llama_memory_seq_cp(void *mem, int32_t src, int32_t dst, int32_t p0, int32_t p1)"),
    n_ctx: f("uint32_t llama_n_ctx(void *ctx)"),
    n_batch: f("uint32_t llama_n_batch(void *ctx)"),
    n_seq_max: f("uint32_t llama_n_seq_max(void *ctx)"),
    model_n_params: f("uint64_t llama_model_n_params(void *model)"),
    model_size: f("uint64_t llama_model_size(void *model)"),
    model_n_ctx_train: f("int32_t llama_model_n_ctx_train(void *model)"),
    model_n_embd: f("int32_t llama_model_n_embd(void *model)"),
    model_n_layer: f("int32_t llama_model_n_layer(void *model)"),
    model_n_head: f("int32_t llama_model_n_head(void *model)"),
    model_n_head_kv: f("int32_t llama_model_n_head_kv(void *model)"),
    model_desc: f("int32_t llama_model_desc(void *model, _Out_ uint8_t *buf, size_t buf_size)"),
    model_ftype: f("int32_t llama_model_ftype(void *model)"),
    model_meta_val_str: f("int32_t llama_model_meta_val_str(void *model, const char *key, _Out_ uint8_t *buf, size_t buf_size)"),
    model_chat_template: f("const char *llama_model_chat_template(void *model, const char *name)"),
    chat_apply_template: f("int32_t llama_chat_apply_template(const char *tmpl, const llama_chat_message *chat, size_t n_msg, bool add_ass, _Out_ uint8_t *buf, int32_t length)"),
    model_quantize: f("uint32_t llama_model_quantize(const char *fname_inp, const char *fname_out, const llama_model_quantize_params *params)"),
    model_quantize_default_params: f("llama_model_quantize_params llama_model_quantize_default_params(void)"),
    ftype_name: f("const char *llama_ftype_name(int32_t ftype)"),
    log_set: f("void llama_log_set(ggml_log_callback *cb, void *user_data)"),
    print_system_info: f("const char *llama_print_system_info(void)"),
    synchronize: f("void llama_synchronize(void *ctx)"),
  };
  // Quiet by default: llama.cpp logs every tensor at load time. Errors are still surfaced
  // through the return codes we check, and a sink can be installed for debugging.
  silentLogger = koffi.register((level: number, text: string) => {
    if (logSink) logSink(level, text);
    else if (process.env.QUANTEVAL_LLAMA_LOG) process.stderr.write(text);
  }, koffi.pointer(ggmlLogCallback));
  L.log_set(silentLogger, null);
  loadAllFromPath(dir);
  L.backend_init();
  cached = L;
  return L;
}

/** Reads a C string buffer written by llama.cpp. */
export function cString(buf: Uint8Array, n: number): string {
  return Buffer.from(buf.buffer, buf.byteOffset, Math.max(0, Math.min(n, buf.length))).toString("utf8");
}
