// Binds native/distmath.cpp's kernels, built once per machine by ../util/nativeBuild.ts.
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import koffi from "koffi";
import { buildNativeLibrary } from "../util/nativeBuild.js";
import type { DistMathKernels } from "./distMathKernels.js";

const SOURCE = fileURLToPath(new URL("../../native/distmath.cpp", import.meta.url));
const ABI_VERSION = 2;

/**
 * The native kernels on `threads` threads (default: every core), or the reason they are
 * unavailable (no compiler, build failure, QUANTEVAL_NATIVE_BUILD=0).
 */
export function loadNativeDistMath(threads = availableParallelism()): DistMathKernels | string {
  const built = buildNativeLibrary(SOURCE, "qe_distmath");
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
