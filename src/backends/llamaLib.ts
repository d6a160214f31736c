// Binds llama.cpp's C API from the libllama that the pinned node-llama-cpp package ships.
//
// Why an FFI and not node-llama-cpp's JS API: its evaluation API returns next-token
// probabilities as a JS Map per position, which does not scale to 32k–256k vocabularies
// and hundreds of thousands of scored tokens, and each evaluation call carries a large
// fixed overhead. Through koffi we reach `llama_decode` and `llama_get_logits` directly:
// many sequences and positions per call, logits read as one Float32Array view.
//
// The struct layouts (./llamaStructs.ts) and signatures (./llamaApi.ts) are those of llama.cpp
// as shipped by node-llama-cpp 3.22.1 (llama.cpp release tag in
// node-llama-cpp/llama/llama.cpp.info.json). The layouts are checked against sizeof() at load
// time; a different node-llama-cpp version is refused.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import koffi, { type KoffiFunc } from "koffi";
import { QuantevalError } from "../util/errors.js";
import { nativeLibDir } from "./nativeLibrary.js";
import { LLAMA_DECLARATIONS, type LlamaBindings, type RegisteredCallback } from "./llamaApi.js";
import { STRUCT_SIZES, ggmlLogCallback } from "./llamaStructs.js";

export type * from "./llamaApi.js";
export * from "./llamaStructs.js";

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

/** libllama's bound functions, the folder they were loaded from and libllama's own path. */
export type LlamaLib = LlamaBindings & { readonly dir: string; readonly llamaPath: string };

let cached: LlamaLib | undefined;
let silentLogger: RegisteredCallback | undefined;
let logSink: ((level: number, text: string) => void) | undefined;

/** Routes llama.cpp's log lines to `sink` (or drops them when undefined). */
export function setLlamaLogSink(sink: ((level: number, text: string) => void) | undefined): void {
  logSink = sink;
}

/** Loads libllama once per process, with its CPU/GPU backends. */
export function loadLlamaLib(gpu: GpuChoice = "auto"): LlamaLib {
  if (cached) return cached;
  for (const [type, size] of STRUCT_SIZES) {
    if (koffi.sizeof(type) !== size) throw new Error(`internal: ${koffi.introspect(type).name} layout mismatch`);
  }
  const build = llamaBuildInfo();
  if (build.node_llama_cpp !== PINNED_NODE_LLAMA_CPP) {
    throw new Error(`node-llama-cpp ${build.node_llama_cpp} is installed but quanteval's llama.cpp bindings are for ${PINNED_NODE_LLAMA_CPP}: run 'npm install' in the quanteval folder`);
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
  const llamaPath = pick(/^libllama(\.v[\d.]+)?\.(so|dylib)$/, "libllama");
  const lib = koffi.load(llamaPath);
  const loadAllFromPath = ggml.func("void ggml_backend_load_all_from_path(const char *dir)") as KoffiFunc<(dir: string) => void>;

  // The one untyped step: koffi binds from a C prototype string; LLAMA_DECLARATIONS has exactly
  // the keys of LlamaFunctions, so every bound function gets its declared signature.
  const bound = Object.fromEntries(Object.entries(LLAMA_DECLARATIONS).map(([name, decl]) => [name, lib.func(decl)])) as unknown as LlamaBindings;
  const L: LlamaLib = { ...bound, dir, llamaPath };
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
