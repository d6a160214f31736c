// Builds native/distmath.cpp once per machine with the system C++ compiler (as better-sqlite3
// builds its addon at install, but on first use and without node-gyp: a plain shared library
// that koffi loads) and binds its kernels. The library is cached under the quanteval cache,
// keyed by the source, the compiler and the CPU, because it is built with -march=native.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { availableParallelism, cpus } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import koffi from "koffi";
import { quantevalCacheDir } from "../util/cacheDir.js";
import type { DistMathKernels } from "./distMathKernels.js";

const SOURCE = fileURLToPath(new URL("../../native/distmath.cpp", import.meta.url));
const ABI_VERSION = 2;
// No -ffast-math: NaN checks must survive, and every sum keeps its written order.
const FLAGS = ["-O3", "-march=native", "-std=c++17", "-fno-math-errno", "-fno-trapping-math", "-shared", "-fPIC", "-pthread"];

/** Compiles the library into the cache if needed; returns its path, or why it cannot be built. */
export function buildDistMathLibrary(): { path: string } | { reason: string } {
  if (process.env.QUANTEVAL_NATIVE_BUILD === "0") return { reason: "QUANTEVAL_NATIVE_BUILD=0" };
  if (process.platform === "win32") return { reason: "the native kernels are built on Linux and macOS only" };
  if (!existsSync(SOURCE)) return { reason: `${SOURCE} is missing from the installation` };
  const cxx = process.env.CXX ?? "c++";
  const version = spawnSync(cxx, ["--version"], { encoding: "utf8" });
  if (version.error || version.status !== 0) return { reason: `no C++ compiler: '${cxx} --version' failed; install g++ or clang, or set CXX` };
  const key = createHash("sha256")
    .update(readFileSync(SOURCE))
    .update(FLAGS.join(" "))
    .update(version.stdout)
    .update(`${process.arch} ${cpus()[0]?.model ?? ""}`)
    .digest("hex")
    .slice(0, 16);
  const dir = join(quantevalCacheDir(), "distmath", key);
  const lib = join(dir, process.platform === "darwin" ? "libqe_distmath.dylib" : "libqe_distmath.so");
  if (existsSync(lib)) return { path: lib };
  mkdirSync(dir, { recursive: true });
  // Built beside its final name and renamed, so concurrent first uses never load a partial file.
  const tmp = `${lib}.${process.pid}.tmp`;
  const r = spawnSync(cxx, [...FLAGS, SOURCE, "-o", tmp], { encoding: "utf8", timeout: 300_000 });
  if (r.error || r.status !== 0) {
    rmSync(tmp, { force: true });
    const why = (r.stderr || String(r.error ?? "")).trim().split("\n")[0];
    return { reason: `'${cxx}' could not build ${SOURCE}: ${why}` };
  }
  renameSync(tmp, lib);
  return { path: lib };
}

/**
 * The native kernels on `threads` threads (default: every core), or the reason they are
 * unavailable (no compiler, build failure, QUANTEVAL_NATIVE_BUILD=0).
 */
export function loadNativeDistMath(threads = availableParallelism()): DistMathKernels | string {
  const built = buildDistMathLibrary();
  if ("reason" in built) return built.reason;
  let lib: ReturnType<typeof koffi.load>;
  try {
    lib = koffi.load(built.path);
  } catch (e) {
    return `cannot load ${built.path}: ${(e as Error).message}`;
  }
  const version = lib.func("int32_t qe_distmath_version()");
  if (version() !== ABI_VERSION) return `${built.path} has ABI ${version()}, expected ${ABI_VERSION}`;
  // Typed arrays are passed by pointer to their own memory: no copies in or out. That includes a
  // koffi.view over llama.cpp's logits buffer, which logSoftmaxInto reads in place.
  const logSoftmax = lib.func("int64_t qe_log_softmax(float *rows, int64_t nRows, int32_t nVocab, int32_t nThreads)");
  const logSoftmaxInto = lib.func("int64_t qe_log_softmax_into(const float *src, float *dst, int64_t nRows, int32_t nVocab, int32_t nThreads)");
  const drift = lib.func(
    "void qe_drift_rows(const float *base, const float *variant, int64_t nRows, int32_t nVocab, double floor, int32_t nThreads, double *kld, int32_t *argBase, int32_t *argVariant)",
  );
  const topK = lib.func("void qe_top_k(const float *rows, int64_t nRows, int32_t nVocab, int32_t k, int32_t nThreads, int32_t *ids, float *logprobs, double *tail)");
  const check = (a: ArrayLike<number>, need: number, what: string) => {
    if (a.length < need) throw new RangeError(`distmath: ${what} holds ${a.length} values, needs ${need}`);
  };
  return {
    name: "native",
    threads,
    logSoftmax(rows, nRows, nVocab) {
      check(rows, nRows * nVocab, "rows");
      return Number(logSoftmax(rows, nRows, nVocab, threads));
    },
    logSoftmaxInto(src, dst, nRows, nVocab) {
      check(src, nRows * nVocab, "src");
      check(dst, nRows * nVocab, "dst");
      return Number(logSoftmaxInto(src, dst, nRows, nVocab, threads));
    },
    drift(base, variant, nRows, nVocab, floor, out) {
      check(base, nRows * nVocab, "base");
      check(variant, nRows * nVocab, "variant");
      check(out.kld, nRows, "kld");
      drift(base, variant, nRows, nVocab, floor, threads, out.kld, out.argBase, out.argVariant);
    },
    topK(rows, nRows, nVocab, k, out) {
      check(rows, nRows * nVocab, "rows");
      check(out.ids, nRows * k, "ids");
      topK(rows, nRows, nVocab, k, threads, out.ids, out.logprobs, out.tail);
    },
  };
}
