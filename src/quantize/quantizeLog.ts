// Reads llama.cpp's quantizer log: per-tensor progress lines (`[  12/  48] blk.0.ffn_up.weight ...`),
// shape fallback warnings, and the error lines that explain a failed llama_model_quantize.
import { QuantevalError } from "../util/errors.js";
import type { QuantType } from "./quantTypes.js";

export interface QuantizeFallback {
  tensor: string;
  /** ggml type the quantization mix asked for (lower case, e.g. `q4_k`). */
  requested: string;
  /** ggml type actually written. */
  written: string;
  /** Row length (ne[0]) of the tensor, which is not a multiple of the requested type's block. */
  ncols?: number;
  /** Block size the requested type needs. */
  block?: number;
}

export type ProgressFn = (done: number, total: number, tensorName?: string) => void;

const TENSOR_LINE = /^\[\s*(\d+)\s*\/\s*(\d+)\]\s+(\S+)/;
const FALLBACK_LINE = /warning:\s+(\S+)\s+-\s+ncols\s+(\d+)\s+not divisible by\s+(\d+)\s+\(required for type\s+(\S+)\).*falling back to\s+(\S+)/;

export class QuantizeLog {
  private buf = "";
  private announced = -1;
  readonly fallbacks = new Map<string, QuantizeFallback>();
  readonly errors: string[] = [];
  private level = 0;
  total = 0;
  done = 0;

  constructor(private readonly onProgress?: ProgressFn) {}

  feed(level: number, text: string): void {
    // GGML_LOG_LEVEL_CONT (5) continues the previous line's level.
    if (level !== 5) this.level = level;
    this.buf += text;
    let nl: number;
    while ((nl = this.buf.indexOf("\n")) >= 0) {
      const line = this.buf.slice(0, nl);
      this.buf = this.buf.slice(nl + 1);
      this.line(line);
    }
    // A tensor line is written in pieces; announce the tensor as soon as its name is in.
    const m = TENSOR_LINE.exec(this.buf);
    if (m && /\s-\s/.test(this.buf)) {
      const i = Number(m[1]);
      if (i !== this.announced) {
        this.announced = i;
        this.total = Number(m[2]);
        this.onProgress?.(i - 1, this.total, m[3]);
      }
    }
  }

  private line(line: string): void {
    // An error can land in the middle of a tensor line that llama.cpp had started.
    const fail = /(failed to quantize:.*)$/.exec(line);
    if (fail) this.errors.push(fail[1]);
    const t = TENSOR_LINE.exec(line);
    if (t) {
      this.total = Number(t[2]);
      this.done = Number(t[1]);
      this.announced = this.done;
      this.onProgress?.(this.done, this.total, t[3]);
      return;
    }
    const f = FALLBACK_LINE.exec(line);
    if (f) {
      this.fallbacks.set(f[1], {
        tensor: f[1],
        requested: f[4].toLowerCase(),
        written: f[5].toLowerCase(),
        ncols: Number(f[2]),
        block: Number(f[3]),
      });
      return;
    }
    if (!fail && (this.level >= 4 || /requires an imatrix|ERROR:/.test(line))) {
      const s = line.replace(/=+/g, "").trim();
      if (s) this.errors.push(s);
    }
  }
}

/** The user-facing error for a failed llama_model_quantize, from what its log said. */
export function quantizeFailure(input: string, type: QuantType, log: QuantizeLog): QuantevalError {
  const msg = log.errors.find((e) => /failed to quantize/.test(e))?.replace(/^.*failed to quantize:\s*/, "") ?? log.errors.at(-1) ?? "llama_model_quantize returned an error";
  if (/requantizing from type/.test(msg)) {
    return new QuantevalError(`${input} is already quantized (${msg}); quantize from the F32/F16/BF16 original instead`);
  }
  if (/requires an imatrix/.test(msg)) {
    return new QuantevalError(`${type.name} needs an importance matrix for ${input}; pass one with --imatrix (make it with 'quanteval imatrix') or choose another type (e.g. q4_k_m, iq4_xs)`);
  }
  if (/no tensor type fallback|invalid output file type/.test(msg)) {
    return new QuantevalError(`cannot quantize ${input} to ${type.name}: llama.cpp says '${msg}' (this model's tensor shapes do not fit it); choose another type in --types`);
  }
  return new QuantevalError(`quantizing ${input} to ${type.name} failed: ${msg}`);
}
