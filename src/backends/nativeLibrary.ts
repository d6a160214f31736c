// llama.cpp's shared libraries built for this CPU, by default.
//
// Why: node-llama-cpp's prebuilt CPU backends are portable builds. Their kernels differ from
// the ones llama.cpp's own tools use (stories260K Q4_0 PPL 138.7931 against llama-perplexity's
// 138.7714, one held-out Winogrande task flips) and their F32 GEMM runs ~2× slower (batched
// generation at 0.60–0.71× llama-batched-bench). The same llama.cpp release built with
// GGML_NATIVE (scripts/build-llamacpp.sh --native-lib) removes all three, so quanteval builds it
// once per machine when a compiler is present and uses it; otherwise the prebuilt one runs after
// a one-line note. The cache is the one scripts/test.sh and the benchmarks already fill, so CI
// builds it once.
//
// Selection (first answer sticks for the process, so the manifest names the library that ran):
//   QUANTEVAL_LLAMA_LIB_DIR=DIR  that folder;  QUANTEVAL_LLAMA_LIB_DIR=""  the prebuilt library
//   QUANTEVAL_NATIVE_BUILD=0     never build or use the native build
//   otherwise                    the native build if present in the cache (built by
//                                ensureNativeLibrary on first use), else the prebuilt library.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { quantevalCacheDir } from "../util/cacheDir.js";

const SCRIPT = fileURLToPath(new URL("../../scripts/build-llamacpp.sh", import.meta.url));
/** The files scripts/build-llamacpp.sh --native-lib produces; all must exist for a complete build. */
const OUTPUTS = ["libllama", "libggml", "libggml-base", "libggml-cpu"].map((f) => `${f}.${process.platform === "darwin" ? "dylib" : "so"}`);

/** The llama.cpp release tag that the installed node-llama-cpp ships (and the script builds). */
function releaseTag(): string {
  const pkg = createRequire(import.meta.url).resolve("node-llama-cpp");
  let dir = dirname(pkg);
  while (!existsSync(join(dir, "llama", "llama.cpp.info.json"))) {
    const up = dirname(dir);
    if (up === dir) return "unknown";
    dir = up;
  }
  return (JSON.parse(readFileSync(join(dir, "llama", "llama.cpp.info.json"), "utf8")) as { tag: string }).tag;
}

/** Where scripts/build-llamacpp.sh --native-lib puts the libraries. */
export function nativeBuildDir(): string {
  return join(quantevalCacheDir(), `llama.cpp-${releaseTag()}`, "build-lib-nsi", "bin");
}

const complete = (dir: string) => OUTPUTS.every((f) => existsSync(join(dir, f)));
const optedOut = () => process.env.QUANTEVAL_NATIVE_BUILD === "0";
// A CUDA machine keeps node-llama-cpp's CUDA build, which the CPU-only native build cannot replace.
const hasNvidia = () => existsSync("/proc/driver/nvidia/version");

let selected: { dir: string | undefined } | undefined;

/**
 * The folder of llama.cpp libraries built for this CPU that this process uses, or undefined
 * for node-llama-cpp's prebuilt ones (see the selection rules above). The hook of llamaLib.ts.
 */
export function nativeLibDir(): string | undefined {
  if (!selected) {
    const env = process.env.QUANTEVAL_LLAMA_LIB_DIR;
    if (env !== undefined) selected = { dir: env === "" ? undefined : env };
    else selected = { dir: !optedOut() && !hasNvidia() && complete(nativeBuildDir()) ? nativeBuildDir() : undefined };
  }
  return selected.dir;
}

/** What {@link ensureNativeLibrary} did. */
export interface NativeLibraryStatus {
  /** the native build folder, when it is (now) there */
  dir?: string;
  /** one line for the user when the prebuilt library will run instead */
  note?: string;
}

/**
 * Builds llama.cpp's shared libraries for this CPU into the cache unless they are there, the
 * user chose a library (QUANTEVAL_LLAMA_LIB_DIR) or opted out (QUANTEVAL_NATIVE_BUILD=0), a
 * CUDA driver is present, or no cmake/C++ compiler/git exists.
 * Call it before the first model is opened; `onProgress` gets the build's percentage.
 * Never throws: a failed build leaves the prebuilt library in use and says why in `note`.
 */
export async function ensureNativeLibrary(onProgress?: (percent: number) => void): Promise<NativeLibraryStatus> {
  if (selected || process.env.QUANTEVAL_LLAMA_LIB_DIR !== undefined || optedOut() || hasNvidia()) return {};
  const dir = nativeBuildDir();
  if (complete(dir)) return { dir };
  const prebuilt = "using node-llama-cpp's prebuilt llama.cpp library";
  for (const tool of ["cmake", "git", process.env.CXX ?? "c++"]) {
    const r = spawnSync(tool, ["--version"], { stdio: "ignore" });
    if (r.error || r.status !== 0) return { note: `${prebuilt}: '${tool}' not found, so llama.cpp cannot be built for this CPU (install it, or set QUANTEVAL_NATIVE_BUILD=0 to silence this)` };
  }
  // scripts/build-llamacpp.sh holds a flock on the cache: a second process waits for the first
  // build and then finds it done.
  onProgress?.(0);
  const log: string[] = [];
  const code = await new Promise<number>((resolve) => {
    const child = spawn("bash", [SCRIPT, "--native-lib"], { stdio: ["ignore", "pipe", "pipe"] });
    child.stderr.setEncoding("utf8").on("data", (s: string) => {
      for (const line of s.split("\n")) {
        const m = /^\[\s*(\d+)%\]/.exec(line);
        if (m) onProgress?.(Number(m[1]));
        if (line) log.push(line);
        if (log.length > 20) log.shift();
      }
    });
    child.stdout.resume();
    child.on("error", () => resolve(-1));
    child.on("close", (c) => resolve(c ?? -1));
  });
  if (code !== 0 || !complete(dir)) return { note: `${prebuilt}: building llama.cpp for this CPU failed (${log.slice(-1)[0] ?? `exit ${code}`}); retry with 'bash ${SCRIPT} --native-lib'` };
  onProgress?.(100);
  return { dir };
}
