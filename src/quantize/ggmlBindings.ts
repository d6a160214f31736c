// ggml's C API from the libggml-base that node-llama-cpp ships beside libllama, for what
// libllama's own API does not cover: reading the tensors the graph scheduler hands to an eval
// callback (`cb_eval`), and ggml's GGUF reader/writer, which writes llama.cpp's imatrix files
// byte-compatibly without a hand-written GGUF encoder.
//
// The `ggml_tensor` layout is that of ggml.h in the pinned llama.cpp release (GGML_MAX_DIMS 4,
// GGML_MAX_OP_PARAMS 64, GGML_MAX_SRC 10, GGML_MAX_NAME 64); it is checked at load time against
// ggml_tensor_overhead() (= sizeof(ggml_object) + sizeof(ggml_tensor)).
import { readdirSync } from "node:fs";
import { join } from "node:path";
import koffi, { type KoffiFunc } from "koffi";
import { loadLlamaLib } from "../backends/llamaLib.js";

/** struct ggml_tensor (ggml/include/ggml.h). */
export const ggmlTensor = koffi.struct("ggml_tensor", {
  type: "int32_t",
  buffer: "void *",
  ne: koffi.array("int64_t", 4),
  nb: koffi.array("size_t", 4),
  op: "int32_t",
  op_params: koffi.array("int32_t", 16),
  flags: "int32_t",
  src: koffi.array("void *", 10),
  view_src: "void *",
  view_offs: "size_t",
  data: "void *",
  name: koffi.array("char", 64, "String"),
  extra: "void *",
  padding: koffi.array("char", 8),
});

/** sizeof(struct ggml_object): ggml_tensor_overhead() minus this is sizeof(struct ggml_tensor). */
const GGML_OBJECT_SIZE = 32;

/** The fields of a decoded `ggml_tensor` that quanteval reads. */
export interface GgmlTensorView {
  type: number;
  buffer: unknown;
  ne: number[];
  nb: number[];
  op: number;
  src: unknown[];
  data: unknown;
  name: string;
}

/** ggml_backend_sched_eval_callback: bool (*)(struct ggml_tensor * t, bool ask, void * user_data) */
export const ggmlEvalCallback = koffi.proto("bool ggml_backend_sched_eval_callback(void *t, bool ask, void *user_data)");

/** struct llama_model_imatrix_data (include/llama.h): one imatrix entry handed to llama_model_quantize. */
export const llamaImatrixData = koffi.struct("llama_model_imatrix_data", { name: "void *", data: "void *", size: "size_t" });
/** struct llama_model_tensor_override (include/llama.h): a `--tensor-type` regex and its ggml type. */
export const llamaTensorOverride = koffi.struct("llama_model_tensor_override", { pattern: "void *", type: "int32_t" });

export const ggmlInitParams = koffi.struct("ggml_init_params", { mem_size: "size_t", mem_buffer: "void *", no_alloc: "bool" });
export const ggufInitParams = koffi.struct("gguf_init_params", { no_alloc: "bool", ctx: "void *" });

// biome-ignore lint/suspicious/noExplicitAny: koffi types a bound foreign function's signature as any
type Fn = KoffiFunc<any>;

export interface GgmlLib {
  op_name: Fn;
  type_name: Fn;
  blck_size: Fn;
  type_size: Fn;
  nbytes: Fn;
  tensor_overhead: Fn;
  buffer_is_host: Fn;
  backend_tensor_get: Fn;
  init: Fn;
  free: Fn;
  new_tensor_2d: Fn;
  set_name: Fn;
  get_first_tensor: Fn;
  get_next_tensor: Fn;
  gguf_init_empty: Fn;
  gguf_init_from_file: Fn;
  gguf_free: Fn;
  gguf_find_key: Fn;
  gguf_get_val_u32: Fn;
  gguf_get_val_str: Fn;
  gguf_get_arr_n: Fn;
  gguf_get_arr_str: Fn;
  gguf_set_val_u32: Fn;
  gguf_set_val_str: Fn;
  gguf_set_arr_str: Fn;
  gguf_add_tensor: Fn;
  gguf_write_to_file: Fn;
}

let cached: GgmlLib | undefined;

/** Binds libggml-base from the same folder as the loaded libllama (loading libllama first). */
export function loadGgml(): GgmlLib {
  if (cached) return cached;
  const dir = loadLlamaLib().dir;
  const file = readdirSync(dir).find((f) => /^(lib)?ggml-base(\.v[\d.]+)?\.(so|dylib|dll)$/.test(f));
  if (!file) throw new Error(`internal: libggml-base not found in ${dir}`);
  const lib = koffi.load(join(dir, file));
  const f = (sig: string) => lib.func(sig);
  const g: GgmlLib = {
    op_name: f("const char *ggml_op_name(int32_t op)"),
    type_name: f("const char *ggml_type_name(int32_t type)"),
    blck_size: f("int64_t ggml_blck_size(int32_t type)"),
    type_size: f("size_t ggml_type_size(int32_t type)"),
    nbytes: f("size_t ggml_nbytes(void *tensor)"),
    tensor_overhead: f("size_t ggml_tensor_overhead(void)"),
    buffer_is_host: f("bool ggml_backend_buffer_is_host(void *buffer)"),
    backend_tensor_get: f("void ggml_backend_tensor_get(void *tensor, _Out_ uint8_t *data, size_t offset, size_t size)"),
    init: f("void *ggml_init(ggml_init_params params)"),
    free: f("void ggml_free(void *ctx)"),
    new_tensor_2d: f("void *ggml_new_tensor_2d(void *ctx, int32_t type, int64_t ne0, int64_t ne1)"),
    set_name: f("void *ggml_set_name(void *tensor, const char *name)"),
    get_first_tensor: f("void *ggml_get_first_tensor(void *ctx)"),
    get_next_tensor: f("void *ggml_get_next_tensor(void *ctx, void *tensor)"),
    gguf_init_empty: f("void *gguf_init_empty(void)"),
    gguf_init_from_file: f("void *gguf_init_from_file(const char *fname, gguf_init_params params)"),
    gguf_free: f("void gguf_free(void *ctx)"),
    gguf_find_key: f("int64_t gguf_find_key(void *ctx, const char *key)"),
    gguf_get_val_u32: f("uint32_t gguf_get_val_u32(void *ctx, int64_t key_id)"),
    gguf_get_val_str: f("const char *gguf_get_val_str(void *ctx, int64_t key_id)"),
    gguf_get_arr_n: f("size_t gguf_get_arr_n(void *ctx, int64_t key_id)"),
    gguf_get_arr_str: f("const char *gguf_get_arr_str(void *ctx, int64_t key_id, size_t i)"),
    gguf_set_val_u32: f("void gguf_set_val_u32(void *ctx, const char *key, uint32_t val)"),
    gguf_set_val_str: f("void gguf_set_val_str(void *ctx, const char *key, const char *val)"),
    gguf_set_arr_str: f("void gguf_set_arr_str(void *ctx, const char *key, const char **data, size_t n)"),
    gguf_add_tensor: f("void gguf_add_tensor(void *ctx, void *tensor)"),
    gguf_write_to_file: f("bool gguf_write_to_file(void *ctx, const char *fname, bool only_meta)"),
  };
  const overhead = Number(g.tensor_overhead());
  if (overhead !== koffi.sizeof(ggmlTensor) + GGML_OBJECT_SIZE) {
    throw new Error(`internal: ggml_tensor layout mismatch (ggml_tensor_overhead ${overhead}, expected ${koffi.sizeof(ggmlTensor) + GGML_OBJECT_SIZE})`);
  }
  cached = g;
  return g;
}

/** Decodes the `ggml_tensor` at `ptr`, with ne/nb as numbers. */
export function readTensor(ptr: unknown): GgmlTensorView {
  const t = koffi.decode(ptr, ggmlTensor) as Omit<GgmlTensorView, "ne" | "nb"> & { ne: ArrayLike<number | bigint>; nb: ArrayLike<number | bigint> };
  return { ...t, ne: Array.from(t.ne, Number), nb: Array.from(t.nb, Number) };
}

const opNames = new Map<number, string>();
/** ggml_op_name, cached (the eval callback asks for every graph node). */
export function opName(g: GgmlLib, op: number): string {
  let n = opNames.get(op);
  if (n === undefined) {
    n = String(g.op_name(op));
    opNames.set(op, n);
  }
  return n;
}

/** GGML_TYPE_F32 (ggml.h). */
export const GGML_TYPE_F32 = 0;
