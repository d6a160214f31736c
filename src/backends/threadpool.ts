// A persistent ggml CPU threadpool attached to a llama_context, as llama-bench does.
//
// Why: node-llama-cpp's prebuilt CPU backends are built without OpenMP, and a llama_context
// without an attached threadpool makes ggml create and join a fresh set of worker threads on
// every llama_decode call. That costs tens of microseconds per call when the machine is idle
// (a large share of a single-token decode step of a small model) and, when other processes
// compete for the cores, each new thread waits for a scheduler slot while its partner spins
// at the barrier — decode steps then take hundreds of milliseconds. llama-bench (built with
// OpenMP) and llama.cpp's own tools attach a threadpool for the same reason.
//
// The threadpool functions live in the CPU backend plugin that ggml chose at load time
// (libggml-cpu-<variant>), so they are looked up through ggml's backend registry, exactly as
// tools/llama-bench/llama-bench.cpp does.
import { readdirSync } from "node:fs";
import { join } from "node:path";
import koffi, { type KoffiFunc } from "koffi";
import { type Handle, LIBLLAMA_FILE, type LlamaContext, type LlamaLib } from "./llamaLib.js";

const GGML_MAX_N_THREADS = 512;
const GGML_BACKEND_DEVICE_TYPE_CPU = 0;

export const ggmlThreadpoolParams = koffi.struct("ggml_threadpool_params", {
  cpumask: koffi.array("bool", GGML_MAX_N_THREADS),
  n_threads: "int32_t",
  prio: "int32_t",
  poll: "uint32_t",
  strict_cpu: "bool",
  paused: "bool",
});
const threadpoolNewProto = koffi.proto("void *ggml_threadpool_new_fn(ggml_threadpool_params *params)");
const threadpoolFreeProto = koffi.proto("void ggml_threadpool_free_fn(void *threadpool)");

/** struct ggml_threadpool_params (the cpumask array as koffi reads it). */
interface ThreadpoolParams {
  cpumask: boolean[];
  n_threads: number;
  prio: number;
  poll: number;
  strict_cpu: boolean;
  paused: boolean;
}
type Threadpool = Handle<"ggml_threadpool">;
/** A function pointer found through ggml's backend registry, called with koffi.call. */
type ProcAddress = Handle<"proc_address">;
interface ThreadpoolApi {
  paramsDefault: KoffiFunc<(nThreads: number) => ThreadpoolParams>;
  attach: KoffiFunc<(ctx: LlamaContext, threadpool: Threadpool, threadpoolBatch: Threadpool | null) => void>;
  detach: KoffiFunc<(ctx: LlamaContext) => void>;
  newPtr: ProcAddress;
  freePtr: ProcAddress;
}
let api: ThreadpoolApi | null | undefined;

function loadApi(lib: LlamaLib): ThreadpoolApi | null {
  if (api !== undefined) return api;
  const files = readdirSync(lib.dir);
  const pick = (re: RegExp) => files.find((f) => re.test(f));
  const baseFile = pick(/^libggml-base(\.v[\d.]+)?\.(so|dylib)$|^ggml-base\.dll$/);
  const ggmlFile = pick(/^libggml(\.v[\d.]+)?\.(so|dylib)$|^ggml\.dll$/);
  const llamaFile = pick(LIBLLAMA_FILE);
  if (!baseFile || !ggmlFile || !llamaFile) return (api = null);
  // Already loaded by loadLlamaLib: these dlopen calls return the same handles.
  const base = koffi.load(join(lib.dir, baseFile));
  const ggml = koffi.load(join(lib.dir, ggmlFile));
  const llama = koffi.load(join(lib.dir, llamaFile));
  const devByType = ggml.func("void *ggml_backend_dev_by_type(int type)") as KoffiFunc<(type: number) => Handle<"ggml_backend_dev"> | null>;
  const devReg = base.func("void *ggml_backend_dev_backend_reg(void *dev)") as KoffiFunc<(dev: Handle<"ggml_backend_dev">) => Handle<"ggml_backend_reg"> | null>;
  const procAddress = base.func("void *ggml_backend_reg_get_proc_address(void *reg, const char *name)") as KoffiFunc<(reg: Handle<"ggml_backend_reg">, name: string) => ProcAddress | null>;
  const dev = devByType(GGML_BACKEND_DEVICE_TYPE_CPU);
  const reg = dev ? devReg(dev) : null;
  const newPtr = reg ? procAddress(reg, "ggml_threadpool_new") : null;
  const freePtr = reg ? procAddress(reg, "ggml_threadpool_free") : null;
  if (!newPtr || !freePtr) return (api = null);
  api = {
    paramsDefault: base.func("ggml_threadpool_params ggml_threadpool_params_default(int n_threads)") as ThreadpoolApi["paramsDefault"],
    attach: llama.func("void llama_attach_threadpool(void *ctx, void *threadpool, void *threadpool_batch)") as ThreadpoolApi["attach"],
    detach: llama.func("void llama_detach_threadpool(void *ctx)") as ThreadpoolApi["detach"],
    newPtr,
    freePtr,
  };
  return api;
}

/** A threadpool attached to one context; `dispose()` detaches and frees it (before llama_free). */
export interface AttachedThreadpool {
  dispose(): void;
}

/**
 * Creates a persistent CPU threadpool of `threads` workers (ggml's default polling, as
 * llama-bench) and attaches it to `ctx` for both single-token and batch decoding. Returns
 * null when the CPU backend does not export the threadpool API (decoding then works as before).
 */
export function attachThreadpool(lib: LlamaLib, ctx: LlamaContext, threads: number): AttachedThreadpool | null {
  const a = loadApi(lib);
  if (!a) return null;
  const params = a.paramsDefault(threads);
  const tp = koffi.call(a.newPtr, threadpoolNewProto, params) as Threadpool | null;
  if (!tp) return null;
  a.attach(ctx, tp, null);
  let done = false;
  return {
    dispose() {
      if (done) return;
      done = true;
      a.detach(ctx);
      koffi.call(a.freePtr, threadpoolFreeProto, tp);
    },
  };
}
