// Quantizes a GGUF model with llama.cpp's own quantizer (`llama_model_quantize` from the libllama
// that node-llama-cpp ships), so the output is byte-identical to `llama-quantize` of that release.
//
// - Output `<outDir>/<input-basename>-<type>.gguf`, written under a `.partial-<pid>` name and
//   renamed when complete, so an interrupted run never leaves a file that looks finished.
// - Cached by input sha256 + type through a sidecar `<output>.quanteval.json`.
// - Progress comes from llama.cpp's per-tensor log lines (`[  12/  48] blk.0.ffn_up.weight ...`).
// - The tensor types actually written are read back from the output with node-llama-cpp's GGUF
//   parser, and every weight tensor that did not get the requested type (llama.cpp falls back when
//   a row length is not a multiple of the type's block size) is reported.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import koffi from "koffi";
import { loadLlamaLib, llamaBuildInfo, setLlamaLogSink } from "../backends/llamaLib.js";
import { checkGgufFile } from "../util/checkGgufFile.js";
import { QuantevalError } from "../util/errors.js";
import { sha256File } from "../util/sha256File.js";
import { type QuantType, getQuantType } from "./quantTypes.js";

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

export interface QuantizeResult {
  /** Canonical type name (e.g. `q4_k_m`). */
  type: string;
  /** Absolute path of the quantized file. */
  path: string;
  /** True when an earlier run's output was reused. */
  cached: boolean;
  input_sha256: string;
  /** sha256 of the written file. */
  sha256: string;
  file_bytes: number;
  /** Tensor data bits per weight over all tensors (as llama-quantize prints it). */
  bits_per_weight: number;
  n_tensors: number;
  /** Tensors with two or more dimensions (the ones a quantization applies to). */
  n_weight_tensors: number;
  /** ggml type name (lower case) → number of tensors of that type in the written file. */
  tensor_types: Record<string, number>;
  /** ggml type the requested file type uses for weight tensors (e.g. `q4_k` for `q4_k_m`). */
  requested_tensor_type: string;
  /** Weight tensors written with a different type than the mix asked for, because of their shape. */
  fallbacks: QuantizeFallback[];
  /** Human-readable warning when fallbacks happened (or other caveats). */
  note?: string;
  /** Seconds spent in llama_model_quantize (0 when cached). */
  seconds: number;
  llama_cpp_release: string;
}

export interface QuantizeOptions {
  /** Quantization threads; defaults to llama.cpp's choice (all hardware threads). */
  threads?: number;
  /** Called as llama.cpp works through the tensors: `done` of `total`, and the current tensor. */
  onProgress?: (done: number, total: number, tensorName?: string) => void;
}

const SIDECAR_VERSION = 1;
interface Sidecar {
  quanteval_quantize: number;
  input_sha256: string;
  type: string;
  result: QuantizeResult;
}

// ---------------------------------------------------------------- ggml type facts from the binary

interface GgmlTypes {
  name(t: number): string;
  blck(t: number): number;
  size(t: number): number;
}
let ggmlTypes: GgmlTypes | undefined;

/** Type names and block sizes straight from libggml-base, so they always match the quantizer. */
function ggml(): GgmlTypes {
  if (ggmlTypes) return ggmlTypes;
  const dir = loadLlamaLib().dir;
  const file = readdirSync(dir).find((f) => /^(lib)?ggml-base(\.v[\d.]+)?\.(so|dylib|dll)$/.test(f));
  if (!file) throw new Error(`internal: libggml-base not found in ${dir}`);
  const lib = koffi.load(join(dir, file));
  const typeName = lib.func("const char *ggml_type_name(int type)");
  const blck = lib.func("int64_t ggml_blck_size(int type)");
  const size = lib.func("size_t ggml_type_size(int type)");
  const names = new Map<number, string>();
  ggmlTypes = {
    name: (t) => {
      let n = names.get(t);
      if (n === undefined) {
        n = String((typeName(t) as string | null) ?? `type${t}`).toLowerCase();
        names.set(t, n);
      }
      return n;
    },
    blck: (t) => Number(blck(t)),
    size: (t) => Number(size(t)),
  };
  return ggmlTypes;
}

function blockOfTypeName(name: string): number | undefined {
  const g = ggml();
  for (let t = 0; t < 64; t++) if (g.name(t) === name) return g.blck(t);
  return undefined;
}

// ---------------------------------------------------------------- llama.cpp log parsing

const TENSOR_LINE = /^\[\s*(\d+)\s*\/\s*(\d+)\]\s+(\S+)/;
const FALLBACK_LINE = /warning:\s+(\S+)\s+-\s+ncols\s+(\d+)\s+not divisible by\s+(\d+)\s+\(required for type\s+(\S+)\).*falling back to\s+(\S+)/;

class QuantizeLog {
  private buf = "";
  private announced = -1;
  readonly fallbacks = new Map<string, QuantizeFallback>();
  readonly errors: string[] = [];
  private level = 0;
  total = 0;
  done = 0;

  constructor(private readonly onProgress?: QuantizeOptions["onProgress"]) {}

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

// ---------------------------------------------------------------- helpers

function checkInput(input: string): void {
  checkGgufFile(input, "the <model> argument of 'quanteval quantize'");
}

/** `<outDir>/<input basename without .gguf>-<type>.gguf` */
export function quantizedPath(input: string, type: string, outDir: string): string {
  const base = basename(input).replace(/\.gguf$/i, "");
  return resolve(outDir, `${base}-${type}.gguf`);
}

export function sidecarPath(outPath: string): string {
  return `${outPath}.quanteval.json`;
}

function readSidecar(outPath: string): Sidecar | undefined {
  try {
    const s = JSON.parse(readFileSync(sidecarPath(outPath), "utf8")) as Sidecar;
    return s && s.quanteval_quantize === SIDECAR_VERSION && s.result ? s : undefined;
  } catch {
    return undefined;
  }
}

function writeAtomic(path: string, text: string): void {
  const tmp = `${path}.partial-${process.pid}`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Removes `<out>.partial-<pid>` files left by quantize runs that died. */
function removeStalePartials(outPath: string): void {
  const dir = dirname(outPath);
  const prefix = `${basename(outPath)}.partial-`;
  for (const f of readdirSync(dir)) {
    if (!f.startsWith(prefix)) continue;
    const pid = Number(f.slice(prefix.length));
    if (Number.isInteger(pid) && pid !== process.pid && !pidAlive(pid)) rmSync(join(dir, f), { force: true });
  }
}

interface WrittenInfo {
  tensor_types: Record<string, number>;
  n_tensors: number;
  n_weight_tensors: number;
  bits_per_weight: number;
  shapeFallbacks: QuantizeFallback[];
}

/** Reads the tensor table of the written file; flags weight tensors whose shape forced another type. */
async function inspectWritten(path: string, requested: string): Promise<WrittenInfo> {
  const { readGgufFileInfo } = await import("node-llama-cpp");
  const info = await readGgufFileInfo(path, { logWarnings: false, spliceSplitFiles: false, ignoreKeys: ["tokenizer.ggml.tokens", "tokenizer.ggml.scores", "tokenizer.ggml.token_type", "tokenizer.ggml.merges"] });
  const tensors = info.fullTensorInfo ?? info.tensorInfo ?? [];
  const g = ggml();
  const reqBlock = blockOfTypeName(requested) ?? 1;
  const counts: Record<string, number> = {};
  let bits = 0;
  let elements = 0;
  let weights = 0;
  const shapeFallbacks: QuantizeFallback[] = [];
  for (const t of tensors) {
    const type = Number(t.ggmlType);
    const name = g.name(type);
    counts[name] = (counts[name] ?? 0) + 1;
    const dims = t.dimensions.map(Number);
    const n = dims.reduce((a, b) => a * b, 1);
    elements += n;
    const blck = g.blck(type);
    if (blck > 0) bits += (n / blck) * g.size(type) * 8;
    if (dims.length >= 2) {
      weights++;
      if (reqBlock > 1 && name !== requested && dims[0] % reqBlock !== 0) {
        shapeFallbacks.push({ tensor: t.name, requested, written: name, ncols: dims[0], block: reqBlock });
      }
    }
  }
  return {
    tensor_types: Object.fromEntries(Object.entries(counts).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))),
    n_tensors: tensors.length,
    n_weight_tensors: weights,
    bits_per_weight: elements > 0 ? bits / elements : 0,
    shapeFallbacks,
  };
}

/** One-line summary of fallbacks, e.g. `q4_k_m: 37 of 37 weight tensors fell back ...: 29x q4_k->q5_0, ...`. */
export function describeFallbacks(type: string, fallbacks: QuantizeFallback[], nWeightTensors: number): string | undefined {
  if (fallbacks.length === 0) return undefined;
  const pairs = new Map<string, number>();
  const blocks = new Set<number>();
  const cols = new Set<number>();
  for (const f of fallbacks) {
    const k = `${f.requested}->${f.written}`;
    pairs.set(k, (pairs.get(k) ?? 0) + 1);
    if (f.block) blocks.add(f.block);
    if (f.ncols !== undefined) cols.add(f.ncols);
  }
  const mix = [...pairs].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${n}x ${k}`).join(", ");
  const why =
    blocks.size > 0
      ? ` (row length ${[...cols].sort((a, b) => a - b).join("/")} not a multiple of the block size ${[...blocks].sort((a, b) => a - b).join("/")})`
      : "";
  return `${type}: ${fallbacks.length} of ${nWeightTensors} weight tensors fell back to another type: ${mix}${why}`;
}

function quantizeFailure(input: string, type: QuantType, log: QuantizeLog): QuantevalError {
  const msg = log.errors.find((e) => /failed to quantize/.test(e))?.replace(/^.*failed to quantize:\s*/, "") ?? log.errors.at(-1) ?? "llama_model_quantize returned an error";
  if (/requantizing from type/.test(msg)) {
    return new QuantevalError(`${input} is already quantized (${msg}); quantize from the F32/F16/BF16 original instead`);
  }
  if (/requires an imatrix/.test(msg)) {
    return new QuantevalError(`${type.name} needs an importance matrix for ${input}, which 'quanteval quantize' does not take; choose another type in --types (e.g. q4_k_m, iq4_xs)`);
  }
  if (/no tensor type fallback|invalid output file type/.test(msg)) {
    return new QuantevalError(`cannot quantize ${input} to ${type.name}: llama.cpp says '${msg}' (this model's tensor shapes do not fit it); choose another type in --types`);
  }
  return new QuantevalError(`quantizing ${input} to ${type.name} failed: ${msg}`);
}

// llama.cpp logs through one global callback; quantizations run one at a time so lines don't mix.
let queue: Promise<unknown> = Promise.resolve();

/**
 * Quantizes `input` (a GGUF file) to `type` (a user-facing name such as `q4_k_m`) into `outDir`.
 * Returns the cached result when the same input (by sha256) was already quantized to that type.
 */
export function quantizeModel(input: string, type: string, outDir: string, opts: QuantizeOptions = {}): Promise<QuantizeResult> {
  const run = queue.then(() => quantizeNow(input, type, outDir, opts));
  queue = run.catch(() => undefined);
  return run;
}

async function quantizeNow(input: string, typeName: string, outDir: string, opts: QuantizeOptions): Promise<QuantizeResult> {
  const qtype = getQuantType(typeName, "type");
  if (opts.threads !== undefined && (!Number.isInteger(opts.threads) || opts.threads < 0)) {
    throw new QuantevalError(`--threads must be a non-negative integer, got ${opts.threads}`);
  }
  input = resolve(input);
  checkInput(input);
  try {
    mkdirSync(outDir, { recursive: true });
  } catch (e) {
    throw new QuantevalError(`cannot create the output folder ${outDir} (${(e as Error).message}); fix --out`);
  }
  const outPath = quantizedPath(input, qtype.name, outDir);
  if (outPath === input) throw new QuantevalError(`the output ${outPath} would overwrite the input; choose another --out`);
  const inputSha = await sha256File(input);

  // Cache: the sidecar says which input and type produced the file, and how big it was.
  const side = readSidecar(outPath);
  if (side && side.input_sha256 === inputSha && side.type === qtype.name && existsSync(outPath) && statSync(outPath).size === side.result.file_bytes) {
    const r: QuantizeResult = { ...side.result, path: outPath, cached: true };
    opts.onProgress?.(r.n_tensors, r.n_tensors);
    return r;
  }

  removeStalePartials(outPath);
  const tmp = `${outPath}.partial-${process.pid}`;
  const lib = loadLlamaLib();
  const params = lib.model_quantize_default_params() as Record<string, unknown>;
  params.ftype = qtype.ftype;
  params.nthread = opts.threads ?? 0;
  const log = new QuantizeLog(opts.onProgress);
  setLlamaLogSink((level, text) => log.feed(level, text));
  const t0 = performance.now();
  let rc: number;
  try {
    rc = await new Promise<number>((res, rej) =>
      lib.model_quantize.async(input, tmp, params, (err: unknown, code: number) => (err ? rej(err) : res(code))),
    );
    log.feed(0, "\n");
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  } finally {
    setLlamaLogSink(undefined);
  }
  const seconds = (performance.now() - t0) / 1000;
  if (rc !== 0) {
    rmSync(tmp, { force: true });
    throw quantizeFailure(input, qtype, log);
  }

  let written: WrittenInfo;
  try {
    written = await inspectWritten(tmp, qtype.baseType);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
  // llama.cpp's own fallback warnings are exact; the shape check on the written file also
  // catches tensors the mix itself moved to another type because of their shape (output.weight).
  const fallbacks = [...log.fallbacks.values()];
  for (const f of written.shapeFallbacks) if (!log.fallbacks.has(f.tensor)) fallbacks.push(f);
  const fileBytes = statSync(tmp).size;
  const sha = await sha256File(tmp);
  rmSync(sidecarPath(outPath), { force: true });
  renameSync(tmp, outPath);

  const notes: string[] = [];
  const fb = describeFallbacks(qtype.name, fallbacks, written.n_weight_tensors);
  if (fb) notes.push(fb);
  const result: QuantizeResult = {
    type: qtype.name,
    path: outPath,
    cached: false,
    input_sha256: inputSha,
    sha256: sha,
    file_bytes: fileBytes,
    bits_per_weight: written.bits_per_weight,
    n_tensors: written.n_tensors,
    n_weight_tensors: written.n_weight_tensors,
    tensor_types: written.tensor_types,
    requested_tensor_type: qtype.baseType,
    fallbacks,
    ...(notes.length ? { note: notes.join("; ") } : {}),
    seconds,
    llama_cpp_release: llamaBuildInfo().llama_cpp_release,
  };
  const sidecar: Sidecar = { quanteval_quantize: SIDECAR_VERSION, input_sha256: inputSha, type: qtype.name, result };
  writeAtomic(sidecarPath(outPath), JSON.stringify(sidecar, null, 2) + "\n");
  opts.onProgress?.(result.n_tensors, result.n_tensors);
  return result;
}
