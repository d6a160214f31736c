// llama_decode on one persistent thread (native/decodethread.cpp explains why: one OpenMP team,
// as in llama.cpp's own tools, instead of one per libuv worker thread). Falls back to koffi's
// `.async` on libuv's threads when the helper cannot be built (no compiler,
// QUANTEVAL_NATIVE_BUILD=0): the same results, only slower on CPU.
import { fileURLToPath } from "node:url";
import koffi from "koffi";
import type { LlamaContext } from "./llamaApi.js";
import type { LlamaBatch, StructInput } from "./llamaStructs.js";
import type { LlamaLib } from "./llamaLib.js";
import { buildNativeLibrary } from "../util/nativeBuild.js";

const SOURCE = fileURLToPath(new URL("../../native/decodethread.cpp", import.meta.url));
const ABI_VERSION = 1;

/** An asynchronous llama_decode: resolves with its return code. */
export type DecodeAsync = (ctx: LlamaContext, batch: StructInput<LlamaBatch>) => Promise<number>;

let cached: { lib: LlamaLib; decode: DecodeAsync; where: string } | undefined;

function viaKoffi(lib: LlamaLib): DecodeAsync {
  return (ctx, batch) => new Promise<number>((resolve, reject) => lib.decode.async(ctx, batch, (err: unknown, rc: number) => (err ? reject(err) : resolve(rc))));
}

function load(lib: LlamaLib): { decode: DecodeAsync; where: string } {
  if (process.env.QUANTEVAL_DECODE_THREAD === "0") return { decode: viaKoffi(lib), where: "libuv threads (QUANTEVAL_DECODE_THREAD=0)" };
  const built = buildNativeLibrary(SOURCE, "qe_decodethread");
  if ("reason" in built) return { decode: viaKoffi(lib), where: `libuv threads (${built.reason})` };
  try {
    const native = koffi.load(built.path);
    if ((native.func("int32_t qe_decodethread_version()") as () => number)() !== ABI_VERSION) return { decode: viaKoffi(lib), where: `libuv threads (${built.path}: ABI mismatch)` };
    const status = (native.func("int32_t qe_decode_init(const char *path)") as (p: string) => number)(lib.llamaPath);
    if (status !== 0) return { decode: viaKoffi(lib), where: `libuv threads (${lib.llamaPath}: llama_decode not found, status ${status})` };
    const decode = native.func("int32_t qe_decode(void *ctx, llama_batch batch)");
    return {
      decode: (ctx, batch) => new Promise<number>((resolve, reject) => decode.async(ctx, batch, (err: unknown, rc: number) => (err ? reject(err) : resolve(rc)))),
      where: "one decode thread",
    };
  } catch (e) {
    return { decode: viaKoffi(lib), where: `libuv threads (cannot load ${built.path}: ${(e as Error).message.split("\n")[0]})` };
  }
}

/** The process's llama_decode for `lib`, on one thread when possible (built and bound once). */
export function decodeAsync(lib: LlamaLib): DecodeAsync {
  if (cached?.lib !== lib) cached = { lib, ...load(lib) };
  return cached.decode;
}

/** Where decodes run ("one decode thread", or libuv threads and why), once decodeAsync was called. */
export function decodeThreadNote(): string | undefined {
  return cached?.where;
}
