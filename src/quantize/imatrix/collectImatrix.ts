// Collects an importance matrix in-process: the sum of squared activations entering every
// weight matrix multiply, per input column, over calibration text — what llama.cpp's
// `llama-imatrix` computes (tools/imatrix/imatrix.cpp), through the same mechanism: the graph
// scheduler's eval callback (`cb_eval` in llama_context_params) of the libllama node-llama-cpp ships.
//
// Procedure, as llama-imatrix's defaults:
//   tokens = tokenize(whole text, add BOS); chunk i = tokens[i·n_ctx, (i+1)·n_ctx) with its first
//   token replaced by BOS; every position requests logits (so the last layer runs on all rows);
//   n_ubatch 512; only MUL_MAT nodes whose weight is a `blk.*` tensor, with F32 activations
//   and at least 16 rows, are collected (output.weight is not).
import koffi from "koffi";
import { NativeBatch } from "../../backends/ggufBatcher.js";
import type { LlamaContext, LlamaVocab } from "../../backends/llamaApi.js";
import { loadLlamaLib } from "../../backends/llamaLib.js";
import { QuantevalError } from "../../util/errors.js";
import { GGML_TYPE_F32, type GgmlLib, ggmlEvalCallback, loadGgml, opName, readTensor } from "../ggmlBindings.js";
import type { ImatrixData, ImatrixEntry } from "./imatrixData.js";

export interface CollectOptions {
  /** Tokens per chunk (llama-imatrix `-c`, default 512). */
  nCtx: number;
  /** Number of chunks to evaluate. */
  chunks: number;
  threads?: number;
  /** Recorded in the file's `imatrix.datasets` (llama-imatrix records the `-f` path). */
  datasetName: string;
  /** Names the text's origin in errors. */
  where: string;
  onProgress?: (done: number, total: number) => void;
}

/** Weight name of a graph node's src0: llama.cpp may decorate it as `prefix#name#suffix`. */
function weightName(name: string): string {
  const p = name.indexOf("#");
  if (p < 0) return name;
  const q = name.indexOf("#", p + 1);
  return q < 0 ? name.slice(p + 1) : name.slice(p + 1, q);
}

/** The eval-callback half: decides which nodes to see and accumulates their inputs. */
class Collector {
  readonly entries = new Map<string, ImatrixEntry>();
  /** Set when a node cannot be collected (reported after llama_decode returns). */
  problem?: string;
  private copyBuf = new Uint8Array(0);

  constructor(private readonly g: GgmlLib) {}

  onNode(tp: unknown, ask: boolean): boolean {
    const t = readTensor(tp);
    const op = opName(this.g, t.op);
    if (op === "MUL_MAT_ID") {
      // Mixture-of-experts routing would need the ids tensor; not supported yet, said loudly.
      this.problem ??= "mixture-of-experts layers (MUL_MAT_ID) are not supported by 'quanteval imatrix' yet; use llama-imatrix";
      return false;
    }
    if (op !== "MUL_MAT") return false;
    const src0 = readTensor(t.src[0]);
    const src1 = readTensor(t.src[1]);
    const wname = weightName(src0.name);
    if (ask) return src1.ne[1] >= 16 && src1.type === GGML_TYPE_F32 && wname.startsWith("blk.");
    this.accumulate(wname, src0.ne, t.src[1], src1.ne, src1.nb, src1.buffer, src1.data);
    return true;
  }

  private accumulate(wname: string, ne0w: number[], src1Ptr: unknown, ne: number[], nb: number[], buffer: unknown, data: unknown): void {
    const nMat = ne0w[2] * ne0w[3];
    const cols = ne[0];
    let e = this.entries.get(wname);
    if (!e) {
      e = { sums: new Float32Array(cols * nMat), counts: new Array<number>(1).fill(0), ne0: cols, nMat };
      this.entries.set(wname, e);
    } else if (e.sums.length !== cols * nMat) {
      this.problem ??= `inconsistent activation size for ${wname} (${e.sums.length} vs ${cols * nMat})`;
      return;
    }
    const nbytes = Number(this.g.nbytes(src1Ptr));
    let bytes: ArrayBuffer;
    if (this.g.buffer_is_host(buffer)) {
      bytes = koffi.view(data, nbytes);
    } else {
      if (this.copyBuf.length < nbytes) this.copyBuf = new Uint8Array(nbytes);
      this.g.backend_tensor_get(src1Ptr, this.copyBuf, 0, nbytes);
      bytes = this.copyBuf.buffer;
    }
    const x = new Float32Array(bytes, 0, Math.floor(nbytes / 4));
    const s1 = nb[1] / 4;
    const s2 = nb[2] / 4;
    const s3 = nb[3] / 4;
    for (let i3 = 0; i3 < ne[3]; i3++) {
      for (let i2 = 0; i2 < ne[2]; i2++) {
        // 3-D activations against a 2-D weight are flattened onto matrix 0 (as llama-imatrix).
        const mat = (i3 % ne0w[3]) * ne0w[2] + (i2 % ne0w[2]);
        const acc = mat * cols;
        for (let row = 0; row < ne[1]; row++) {
          const o = row * s1 + i2 * s2 + i3 * s3;
          for (let j = 0; j < cols; j++) {
            const v = x[o + j];
            e.sums[acc + j] += v * v;
          }
        }
      }
    }
    for (let j = 0; j < e.sums.length; j++) {
      if (!Number.isFinite(e.sums[j])) {
        this.problem ??= `non-finite activations in ${wname}`;
        break;
      }
    }
    e.counts[0] += (ne[1] * ne[2] * ne[3]) / nMat;
  }
}

/** Tokenizes the whole text with BOS, as llama-imatrix does. */
function tokenizeAll(lib: ReturnType<typeof loadLlamaLib>, vocab: LlamaVocab, text: string): number[] {
  const bytes = Buffer.byteLength(text, "utf8");
  let out = new Int32Array(bytes + 16);
  let n = lib.tokenize(vocab, text, bytes, out, out.length, true, false) as number;
  if (n < 0) {
    out = new Int32Array(-n);
    n = lib.tokenize(vocab, text, bytes, out, out.length, true, false) as number;
  }
  return Array.from(out.subarray(0, n));
}

/**
 * Runs `modelPath` over `text` in chunks of `opts.nCtx` tokens and returns the accumulated
 * squared activations per weight tensor. Too little text for the requested chunks is a
 * QuantevalError naming `opts.where`.
 */
export async function collectImatrix(modelPath: string, text: string, opts: CollectOptions): Promise<ImatrixData> {
  const lib = loadLlamaLib();
  const g = loadGgml();
  const mp = lib.model_default_params() as Record<string, unknown>;
  mp.n_gpu_layers = 0;
  const model = lib.model_load_from_file(modelPath, mp);
  if (!model) throw new QuantevalError(`cannot load ${modelPath} with llama.cpp; is it a valid GGUF model?`);
  const collector = new Collector(g);
  const cb = koffi.register((t: unknown, ask: boolean) => collector.onNode(t, ask), koffi.pointer(ggmlEvalCallback));
  let ctx: LlamaContext | null = null;
  let batch: NativeBatch | undefined;
  try {
    const vocab = lib.model_get_vocab(model);
    const tokens = tokenizeAll(lib, vocab, text);
    const { nCtx, chunks } = opts;
    const available = Math.floor(tokens.length / nCtx);
    if (tokens.length < 2 * nCtx || chunks > available) {
      throw new QuantevalError(
        `${opts.where}: ${tokens.length} tokens are too few for ${chunks} chunks of ${nCtx} tokens (${Math.max(chunks, 2) * nCtx} needed; llama-imatrix needs at least 2 chunks); use more text, fewer --chunks or a smaller --n-ctx`,
      );
    }
    const cp = lib.context_default_params() as Record<string, unknown>;
    const threads = opts.threads ?? (cp.n_threads as number);
    Object.assign(cp, { n_ctx: nCtx, n_batch: nCtx, n_ubatch: Math.min(nCtx, 512), n_seq_max: 1, n_threads: threads, n_threads_batch: threads, cb_eval: cb, cb_eval_user_data: null });
    ctx = lib.init_from_model(model, cp);
    if (!ctx) throw new QuantevalError(`cannot create a llama.cpp context of ${nCtx} tokens for ${modelPath}; try a smaller --n-ctx`);
    const addBos = Boolean(lib.vocab_get_add_bos(vocab));
    const bos = lib.vocab_bos(vocab) as number;
    batch = new NativeBatch(lib, nCtx, 1);
    const mem = lib.get_memory(ctx);
    opts.onProgress?.(0, chunks);
    for (let c = 0; c < chunks; c++) {
      const window = tokens.slice(c * nCtx, (c + 1) * nCtx);
      if (addBos) window[0] = bos;
      lib.memory_clear(mem, true);
      const b = batch.fill(
        window.map((token, pos) => ({ token, pos, seqs: [0], output: true })),
        0,
        nCtx,
      );
      const rc = lib.decode(ctx, b) as number;
      if (collector.problem) throw new QuantevalError(`${modelPath}: ${collector.problem}`);
      if (rc !== 0) throw new Error(`llama_decode failed (${rc}) on chunk ${c + 1} of ${opts.where}`);
      opts.onProgress?.(c + 1, chunks);
      // llama_decode runs on this thread (the eval callback must too); let timers (progress bars) run.
      await new Promise((r) => setImmediate(r));
    }
    return { entries: collector.entries, datasets: [opts.datasetName], chunkCount: chunks, chunkSize: nCtx };
  } finally {
    batch?.free();
    if (ctx) lib.free(ctx);
    lib.model_free(model);
    koffi.unregister(cb);
  }
}
