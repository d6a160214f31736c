// Stored baseline distributions: the baseline's next-token log-softmax rows written once to
// disk, window by window, so KLD, same-top-1 and Δp of each variant can be computed later with
// only the variant resident (llama.cpp's two-pass `--kl-divergence-base` workflow). Memory is
// bounded by one window in either direction. Co-evaluation (both models resident, rows compared
// in memory) stays the fast path; both paths feed the same DistributionDriftAccumulator, so they
// are computed by the same code.
//
// Layout of a store folder: `rows.bin` (fixed-size records, see baselineDistributionsFormat.ts)
// and `meta.json` (row form, vocabulary, rows per window, fingerprint; `complete` is set last,
// so an interrupted write is never read as a finished baseline). A writer checkpoints meta.json
// after each batch (rows synced first), so an interrupted write resumes at its last checkpoint.
//
// Disk per scored position (u16 form): 20 + 2·n_vocab bytes: 1.0 KB at 512, 64 KB at 32k,
// 256 KB at 128k, 512 KB at 256k (×2 for the exact f32 form). llama-perplexity
// run at n_ctx 512 scores 255 positions per chunk: 32k vocab × 100 chunks ≈ 1.6 GB, as llama.cpp.
import { type FileHandle, mkdir, open, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Backend, TokenWindow, WindowDistributions } from "../backends/backend.js";
import type { DistributionDriftAccumulator } from "../metrics/distributionDrift.js";
import { QuantevalError } from "../util/errors.js";
import { RECORD_HEADER_BYTES, ROW_ENCODINGS, type RowEncodingName, bytesPerPosition } from "./baselineDistributionsFormat.js";

const FORMAT = "quanteval-baseline-distributions" as const;
const ROWS_FILE = "rows.bin";
const META_FILE = "meta.json";

/** meta.json of a store folder. */
export interface BaselineDistributionsMeta {
  format: typeof FORMAT;
  version: 1;
  /** Row form, see baselineDistributionsFormat.ts. */
  encoding: RowEncodingName;
  n_vocab: number;
  /** Bytes per scored position. */
  record_bytes: number;
  /** Scored rows of each window, in write order. */
  windows: number[];
  n_rows: number;
  /** The baseline backend's fingerprint (weights sha256 + settings) the rows came from. */
  fingerprint: string;
  /** Set when every window was written. */
  complete: boolean;
  /** What the writer was asked to write (e.g. text, n_ctx, windows, batch size): a resumed write must match it. */
  plan?: string;
}

/** Options of {@link BaselineDistributionsWriter.create}. */
export interface BaselineDistributionsWriteOptions {
  nVocab: number;
  /** The baseline backend's fingerprint(); a reader can insist on it. */
  fingerprint: string;
  /** Row form. Defaults to `"u16"` (llama.cpp's scheme, see baselineDistributionsFormat.ts). */
  encoding?: RowEncodingName;
  /** See {@link BaselineDistributionsMeta.plan}. */
  plan?: string;
}

async function writeMeta(dir: string, meta: BaselineDistributionsMeta): Promise<void> {
  // Renamed into place: a kill mid-write leaves the previous checkpoint, never a torn file.
  const tmp = join(dir, `${META_FILE}.tmp`);
  await writeFile(tmp, JSON.stringify(meta));
  await rename(tmp, join(dir, META_FILE));
}

/** Writes a baseline's distributions window by window; call {@link finish} when all are written. */
export class BaselineDistributionsWriter {
  private readonly windows: number[] = [];
  private nRows = 0;

  private constructor(
    readonly dir: string,
    private readonly file: FileHandle,
    private readonly meta: Omit<BaselineDistributionsMeta, "windows" | "n_rows" | "complete">,
  ) {}

  private static header(opts: BaselineDistributionsWriteOptions): Omit<BaselineDistributionsMeta, "windows" | "n_rows" | "complete"> {
    const encoding = opts.encoding ?? "u16";
    if (!(encoding in ROW_ENCODINGS)) throw new QuantevalError(`baseline distributions: unknown row form '${encoding}'; use one of ${Object.keys(ROW_ENCODINGS).join(", ")}`);
    if (!Number.isInteger(opts.nVocab) || opts.nVocab <= 0) throw new RangeError(`BaselineDistributionsWriter: bad nVocab ${opts.nVocab}`);
    return {
      format: FORMAT,
      version: 1,
      encoding,
      n_vocab: opts.nVocab,
      record_bytes: bytesPerPosition(opts.nVocab, encoding),
      fingerprint: opts.fingerprint,
      ...(opts.plan !== undefined ? { plan: opts.plan } : {}),
    };
  }

  /** Creates (or truncates) the store in `dir`. */
  static async create(dir: string, opts: BaselineDistributionsWriteOptions): Promise<BaselineDistributionsWriter> {
    const meta = BaselineDistributionsWriter.header(opts);
    await mkdir(dir, { recursive: true });
    await writeMeta(dir, { ...meta, windows: [], n_rows: 0, complete: false });
    return new BaselineDistributionsWriter(dir, await open(join(dir, ROWS_FILE), "w"), meta);
  }

  /**
   * Continues the store in `dir` when its last checkpoint was written with the same options (row
   * form, vocabulary, fingerprint and plan), keeping its first `keep(checkpointed)` windows;
   * otherwise creates it afresh. {@link written} says how many windows were kept.
   */
  static async resume(dir: string, opts: BaselineDistributionsWriteOptions, keep: (checkpointed: number) => number): Promise<BaselineDistributionsWriter> {
    const meta = BaselineDistributionsWriter.header(opts);
    let old: BaselineDistributionsMeta | undefined;
    try {
      old = JSON.parse(await readFile(join(dir, META_FILE), "utf8")) as BaselineDistributionsMeta;
    } catch {
      return BaselineDistributionsWriter.create(dir, opts);
    }
    const same = Object.entries(meta).every(([k, v]) => old[k as keyof BaselineDistributionsMeta] === v) && old.plan === meta.plan && Array.isArray(old.windows);
    if (!same) return BaselineDistributionsWriter.create(dir, opts);
    let file: FileHandle;
    try {
      file = await open(join(dir, ROWS_FILE), "r+");
    } catch {
      return BaselineDistributionsWriter.create(dir, opts);
    }
    const n = Math.max(0, Math.min(old.windows.length, keep(old.windows.length)));
    const writer = new BaselineDistributionsWriter(dir, file, meta);
    for (const rows of old.windows.slice(0, n)) {
      writer.windows.push(rows);
      writer.nRows += rows;
    }
    // Rows past the kept windows (written after the last checkpoint, or dropped) are cut off.
    if ((await file.stat()).size !== writer.nRows * meta.record_bytes) await file.truncate(writer.nRows * meta.record_bytes);
    await writeMeta(dir, { ...meta, windows: writer.windows, n_rows: writer.nRows, complete: false });
    return writer;
  }

  /** Windows written (or kept by {@link resume}) so far. */
  get written(): number {
    return this.windows.length;
  }

  /** Appends one window's rows (full log-softmax rows from `backend.distributions`). */
  async append(d: WindowDistributions): Promise<void> {
    const nv = this.meta.n_vocab;
    if (d.nVocab !== nv) throw new RangeError(`BaselineDistributionsWriter.append: window has vocab ${d.nVocab}, store has ${nv}`);
    if (!d.full)
      throw new QuantevalError(
        `baseline distributions: the baseline backend returned partial (top-k) rows${d.approximation ? ` (${d.approximation})` : ""}; storing needs full rows, use an in-process backend`,
      );
    const enc = ROW_ENCODINGS[this.meta.encoding];
    const rec = this.meta.record_bytes;
    const buf = new ArrayBuffer(d.nRows * rec);
    const view = new DataView(buf);
    for (let r = 0; r < d.nRows; r++) {
      const at = r * rec;
      const off = r * nv;
      const target = d.targets[r];
      let argmax = 0;
      for (let i = 1; i < nv; i++) if (d.logprobs[off + i] > d.logprobs[off + argmax]) argmax = i;
      const hi = d.logprobs[off + argmax];
      const lo = enc.encode(d.logprobs, off, nv, hi, new DataView(buf, at + RECORD_HEADER_BYTES, rec - RECORD_HEADER_BYTES));
      view.setInt32(at, target, true);
      view.setInt32(at + 4, argmax, true);
      view.setFloat32(at + 8, d.logprobs[off + target], true);
      view.setFloat32(at + 12, lo, true);
      view.setFloat32(at + 16, hi, true);
    }
    await this.file.write(new Uint8Array(buf), 0, buf.byteLength, this.nRows * rec);
    this.windows.push(d.nRows);
    this.nRows += d.nRows;
  }

  /** Flushes the rows written so far, then records them in meta.json: a resumed write keeps them. */
  async checkpoint(): Promise<void> {
    await this.file.sync();
    await writeMeta(this.dir, { ...this.meta, windows: this.windows, n_rows: this.nRows, complete: false });
  }

  /** Flushes, marks the store complete and returns its meta. */
  async finish(): Promise<BaselineDistributionsMeta> {
    await this.file.sync();
    await this.file.close();
    const meta: BaselineDistributionsMeta = { ...this.meta, windows: this.windows, n_rows: this.nRows, complete: true };
    await writeMeta(this.dir, meta);
    return meta;
  }

  /** Closes the file and keeps what was checkpointed, for a resumed write. */
  async close(): Promise<void> {
    await this.file.close().catch(() => undefined);
  }

  /** Closes and deletes a store whose writing failed. */
  async abort(): Promise<void> {
    await this.file.close().catch(() => undefined);
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** One window read back: rows decoded to float32 log-probs, with the exact target log-probs and argmax. */
export interface StoredWindow {
  nVocab: number;
  nRows: number;
  logprobs: Float32Array;
  targets: Int32Array;
}

/** Options of {@link BaselineDistributions.open}. */
export interface BaselineDistributionsOpenOptions {
  /** Refuse a store written from a different baseline (weights or settings). */
  fingerprint?: string;
  /** Keep the folder when {@link BaselineDistributions.dispose} is called, for reuse by later runs. Defaults to `false`. */
  keep?: boolean;
}

/** A finished store, read window by window. */
export class BaselineDistributions {
  private starts: number[] = [];

  private constructor(
    readonly dir: string,
    readonly meta: BaselineDistributionsMeta,
    private file: FileHandle | undefined,
    private readonly keep: boolean,
  ) {
    let s = 0;
    for (const n of meta.windows) {
      this.starts.push(s);
      s += n;
    }
  }

  /** Opens the store in `dir`; a missing, unfinished or mismatched store is a one-line QuantevalError. */
  static async open(dir: string, opts: BaselineDistributionsOpenOptions = {}): Promise<BaselineDistributions> {
    let meta: BaselineDistributionsMeta;
    try {
      meta = JSON.parse(await readFile(join(dir, META_FILE), "utf8")) as BaselineDistributionsMeta;
    } catch {
      throw new QuantevalError(`${dir}: holds no stored baseline distributions (no readable ${META_FILE}); evaluate the baseline again`);
    }
    if (meta.format !== FORMAT || meta.version !== 1 || !(meta.encoding in ROW_ENCODINGS))
      throw new QuantevalError(`${join(dir, META_FILE)}: not a version-1 ${FORMAT} file; evaluate the baseline again`);
    if (!meta.complete) throw new QuantevalError(`${dir}: stored baseline distributions are unfinished (the writing run stopped); evaluate the baseline again`);
    if (opts.fingerprint !== undefined && opts.fingerprint !== meta.fingerprint)
      throw new QuantevalError(`${dir}: stored baseline distributions come from a different baseline (weights or settings changed); evaluate the baseline again`);
    return new BaselineDistributions(dir, meta, await open(join(dir, ROWS_FILE), "r"), opts.keep ?? false);
  }

  get nWindows(): number {
    return this.meta.windows.length;
  }

  /** Reads and decodes window `index` (memory: one window of float32 rows). */
  async readWindow(index: number): Promise<StoredWindow> {
    if (!this.file) throw new Error("BaselineDistributions: already disposed");
    if (!Number.isInteger(index) || index < 0 || index >= this.nWindows) throw new RangeError(`BaselineDistributions.readWindow: window ${index} out of [0, ${this.nWindows})`);
    const { n_vocab: nv, record_bytes: rec } = this.meta;
    const nRows = this.meta.windows[index];
    const bytes = new Uint8Array(new ArrayBuffer(nRows * rec));
    const { bytesRead } = await this.file.read(bytes, 0, bytes.length, this.starts[index] * rec);
    if (bytesRead !== bytes.length) throw new QuantevalError(`${join(this.dir, ROWS_FILE)}: truncated (window ${index}); evaluate the baseline again`);
    const enc = ROW_ENCODINGS[this.meta.encoding];
    const view = new DataView(bytes.buffer);
    const logprobs = new Float32Array(nRows * nv);
    const targets = new Int32Array(nRows);
    for (let r = 0; r < nRows; r++) {
      const at = r * rec;
      const off = r * nv;
      const target = view.getInt32(at, true);
      const argmax = view.getInt32(at + 4, true);
      const hi = view.getFloat32(at + 16, true);
      enc.decode(new DataView(bytes.buffer, at + RECORD_HEADER_BYTES, rec - RECORD_HEADER_BYTES), nv, view.getFloat32(at + 12, true), hi, logprobs, off);
      // Rounding may tie an entry with the maximum or pass it by an ulp; the stored argmax stays the first maximum.
      logprobs[off + argmax] = hi;
      const below = float32Below(hi);
      for (let i = 0; i < argmax; i++) if (logprobs[off + i] >= hi) logprobs[off + i] = below;
      for (let i = argmax + 1; i < nv; i++) if (logprobs[off + i] > hi) logprobs[off + i] = hi;
      logprobs[off + target] = view.getFloat32(at + 8, true);
      targets[r] = target;
    }
    return { nVocab: nv, nRows, logprobs, targets };
  }

  /**
   * Adds a variant's rows for window `index` against the stored baseline rows to `acc`.
   * The variant must have been evaluated on the same windows (checked through the targets).
   */
  async addDrift(acc: DistributionDriftAccumulator, index: number, variant: WindowDistributions): Promise<void> {
    const base = await this.readWindow(index);
    addWindowDrift(acc, base, variant, `${this.dir} window ${index}`);
  }

  /** Closes the file; deletes the folder unless opened with `keep: true`. */
  async dispose(): Promise<void> {
    await this.file?.close();
    this.file = undefined;
    if (!this.keep) await rm(this.dir, { recursive: true, force: true });
  }

  /** Closes the file and deletes the folder, whatever `keep` says. */
  async delete(): Promise<void> {
    await this.file?.close();
    this.file = undefined;
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** Adds every row of one window pair to `acc`; baseline and variant must score the same targets. */
export function addWindowDrift(acc: DistributionDriftAccumulator, base: StoredWindow | WindowDistributions, variant: WindowDistributions, where: string): void {
  checkSameWindows(base, variant, where);
  for (let r = 0; r < base.nRows; r++) acc.add(base.logprobs, r * base.nVocab, variant.logprobs, r * base.nVocab, base.targets[r]);
}

/** A variant's rows must be for the baseline's windows: same vocabulary, rows and targets (one-line errors). */
export function checkSameWindows(base: Pick<StoredWindow, "nVocab" | "nRows" | "targets">, variant: Pick<WindowDistributions, "nVocab" | "nRows" | "targets">, where: string): void {
  if (variant.nVocab !== base.nVocab) throw new QuantevalError(`${where}: variant vocabulary ${variant.nVocab} differs from the stored baseline's ${base.nVocab}; KLD needs the same vocabulary`);
  if (variant.nRows !== base.nRows)
    throw new QuantevalError(`${where}: variant scored ${variant.nRows} rows, the stored baseline ${base.nRows}; the stored baseline was written for other windows, evaluate it again`);
  for (let r = 0; r < base.nRows; r++) {
    if (variant.targets[r] !== base.targets[r])
      throw new QuantevalError(
        `${where}: row ${r} predicts token ${variant.targets[r]} but the stored baseline's predicts ${base.targets[r]}; the stored baseline was written for other windows, evaluate it again`,
      );
  }
}

/** Options of {@link storeBaselineDistributions} and {@link driftAgainstStore}. */
export interface StreamOptions {
  /** Windows per `backend.distributions` call. Defaults to `1` (memory: one window of rows). */
  perCall?: number;
  /** Called with each window's rows as they arrive (e.g. for the model's own PPL sums). */
  onWindow?: (d: WindowDistributions, index: number) => void | Promise<void>;
}

/** Evaluates the baseline on `windows` and stores its rows in `dir`, `perCall` windows at a time. */
export async function storeBaselineDistributions(backend: Backend, windows: TokenWindow[], dir: string, opts: StreamOptions & { encoding?: RowEncodingName } = {}): Promise<BaselineDistributionsMeta> {
  const nVocab = (await backend.describe()).n_vocab;
  if (!nVocab) throw new QuantevalError(`baseline '${backend.name}': its vocabulary size is unknown, so its distributions cannot be stored`);
  const writer = await BaselineDistributionsWriter.create(dir, { nVocab, fingerprint: backend.fingerprint(), encoding: opts.encoding });
  try {
    await forEachWindow(backend, windows, opts, async (d, i) => {
      await writer.append(d);
      await opts.onWindow?.(d, i);
    });
  } catch (e) {
    await writer.abort();
    throw e;
  }
  return writer.finish();
}

/** Evaluates a variant on the windows the store was written for and adds its drift against the stored baseline to `acc`. */
export async function driftAgainstStore(variant: Backend, windows: TokenWindow[], store: BaselineDistributions, acc: DistributionDriftAccumulator, opts: StreamOptions = {}): Promise<void> {
  if (windows.length !== store.nWindows)
    throw new QuantevalError(
      `${store.dir}: the stored baseline has ${store.nWindows} windows, the variant '${variant.name}' was given ${windows.length}; the stored baseline was written for other windows, evaluate it again`,
    );
  await forEachWindow(variant, windows, opts, async (d, i) => {
    await store.addDrift(acc, i, d);
    await opts.onWindow?.(d, i);
  });
}

async function forEachWindow(backend: Backend, windows: TokenWindow[], opts: StreamOptions, fn: (d: WindowDistributions, index: number) => Promise<void>): Promise<void> {
  const perCall = Math.max(1, opts.perCall ?? 1);
  for (let c = 0; c < windows.length; c += perCall) {
    const ds = await backend.distributions(windows.slice(c, c + perCall));
    for (let k = 0; k < ds.length; k++) await fn(ds[k], c + k);
  }
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The largest float32 strictly below x (x finite, ≤ 0 as every log-prob is). */
function float32Below(x: number): number {
  f32[0] = x;
  if (f32[0] === 0) u32[0] = 0x80000001;
  else if (f32[0] > 0) u32[0]--;
  else u32[0]++;
  return f32[0];
}
