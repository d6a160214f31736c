// One model's multiple-choice predictions as columns: a typed array per field, a few bytes a
// document. Aggregation (acc, acc_norm, f1, the normalization panel) and the paired comparison
// need only these, so a task of 100k documents is scored and compared without holding a scored
// object per document (issue 14: memory flat in dataset size). The rich per-document record (the
// log-likelihoods, the prompt) goes to the store's sample rows, chunk by chunk.
import { macroF1 } from "../metrics/f1.js";
import type { McMetrics, ScoredDoc } from "./multipleChoice.js";
import { NORMALIZATIONS, type NormalizationName } from "./normalization.js";
import type { MultipleChoiceTask } from "./taskDefinition.js";

/** Marks a prediction a document does not have (no unconditional scores, or a panel normalization it lacks). */
export const NONE = -1;

/** One model's per-document predictions, aligned by document. */
export interface ScoreColumns {
  pred: Int32Array;
  pred_norm: Int32Array;
  /** 1 where the document was cut from the left to fit the context. */
  truncated: Uint8Array;
  /** PMI prediction, {@link NONE} where the document has no unconditional scores; absent when no document has them. */
  pred_mutual_info?: Int32Array;
  /** Prediction per panel normalization, {@link NONE} where the document lacks it; absent when no document has a panel. */
  panel?: Partial<Record<NormalizationName, Int32Array>>;
}

const filled = (n: number) => new Int32Array(n).fill(NONE);

/** Columns of `n` documents with no optional column yet. */
export function emptyColumns(n: number): ScoreColumns {
  return { pred: new Int32Array(n), pred_norm: new Int32Array(n), truncated: new Uint8Array(n) };
}

/** The columns of scored documents (in their order). */
export function scoreColumns(scored: ScoredDoc[]): ScoreColumns {
  const c = emptyColumns(scored.length);
  for (const [i, s] of scored.entries()) {
    c.pred[i] = s.pred;
    c.pred_norm[i] = s.pred_norm;
    c.truncated[i] = s.truncated ? 1 : 0;
    if (s.pred_mutual_info !== undefined) (c.pred_mutual_info ??= filled(scored.length))[i] = s.pred_mutual_info;
    for (const name of NORMALIZATIONS) {
      const p = s.panel?.[name];
      if (p !== undefined) ((c.panel ??= {})[name] ??= filled(scored.length))[i] = p;
    }
  }
  return c;
}

/** Copies `part` (documents from..from+part's length) into `into`, adding the optional columns it has. */
export function placeColumns(into: ScoreColumns, from: number, part: ScoreColumns): void {
  const n = into.pred.length;
  into.pred.set(part.pred, from);
  into.pred_norm.set(part.pred_norm, from);
  into.truncated.set(part.truncated, from);
  if (part.pred_mutual_info) (into.pred_mutual_info ??= filled(n)).set(part.pred_mutual_info, from);
  for (const [name, col] of Object.entries(part.panel ?? {}) as Array<[NormalizationName, Int32Array]>) ((into.panel ??= {})[name] ??= filled(n)).set(col, from);
}

const count = (n: number, hit: (i: number) => boolean): number => {
  let k = 0;
  for (let i = 0; i < n; i++) if (hit(i)) k++;
  return k;
};

/** Per-document correctness under a metric (acc, acc_norm, acc_mutual_info or a panel normalization); as correctFor. */
export function correctColumn(c: ScoreColumns, gold: ArrayLike<number>, metric: string): boolean[] {
  const panel = c.panel?.[metric as NormalizationName];
  const out = new Array<boolean>(c.pred.length);
  for (let i = 0; i < out.length; i++) {
    if (metric === "acc_norm") out[i] = c.pred_norm[i] === gold[i];
    else if (metric === "acc_mutual_info") out[i] = c.pred_mutual_info !== undefined && c.pred_mutual_info[i] === gold[i];
    else if (panel && panel[i] !== NONE) out[i] = panel[i] === gold[i];
    else out[i] = c.pred[i] === gold[i];
  }
  return out;
}

/** Mean and lm-eval's sample stderr of `hits` successes in `n` documents. */
function meanAndStderr(hits: number, n: number): [number, number] {
  const m = hits / n;
  return [m, n > 1 ? Math.sqrt((m * (1 - m)) / (n - 1)) : 0];
}

/** The task's metrics of one model from its columns and the documents' gold indices. */
export function aggregateColumns(def: MultipleChoiceTask, gold: ArrayLike<number>, c: ScoreColumns): McMetrics {
  const n = c.pred.length;
  const [acc, accStderr] = meanAndStderr(
    count(n, (i) => c.pred[i] === gold[i]),
    n,
  );
  const out: McMetrics = { n, truncated: count(n, (i) => c.truncated[i] === 1), acc, acc_stderr: accStderr };
  if (def.metrics.includes("acc_norm"))
    [out.acc_norm, out.acc_norm_stderr] = meanAndStderr(
      count(n, (i) => c.pred_norm[i] === gold[i]),
      n,
    );
  if (def.metrics.includes("f1")) out.f1 = macroF1(gold, c.pred);
  const pmi = c.pred_mutual_info;
  if (n > 0 && pmi && count(n, (i) => pmi[i] !== NONE) === n) {
    // normalizationPanel over columns: a normalization counts only when every document has it.
    const panel: Partial<Record<NormalizationName, number>> = {};
    for (const name of NORMALIZATIONS) {
      const col = c.panel?.[name];
      if (col && count(n, (i) => col[i] !== NONE) === n) panel[name] = count(n, (i) => col[i] === gold[i]) / n;
    }
    out.acc_norm_chars = panel.acc_norm_chars;
    out.acc_norm_bytes = panel.acc_norm_bytes;
    if (panel.acc_norm_tokens !== undefined) out.acc_norm_tokens = panel.acc_norm_tokens;
    [out.acc_mutual_info, out.acc_mutual_info_stderr] = meanAndStderr(
      count(n, (i) => pmi[i] === gold[i]),
      n,
    );
  }
  return out;
}

/** base64 of a typed array's bytes (little-endian, as on every platform Node runs on), for the store's JSON. */
export const toBase64 = (a: Int32Array | Uint8Array | Float64Array): string => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString("base64");

/** The bytes of {@link toBase64}'s text, copied into their own buffer (a Buffer from the pool need not be aligned). */
export function fromBase64(s: string): ArrayBuffer {
  const b = Buffer.from(s, "base64");
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
}

const ints = toBase64;
const readInt32 = (s: string): Int32Array => new Int32Array(fromBase64(s));

/** Columns as the store keeps them: base64 of little-endian int32 (truncated: uint8). */
export interface EncodedColumns {
  n: number;
  pred: string;
  pred_norm: string;
  truncated: string;
  pred_mutual_info?: string;
  panel?: Partial<Record<NormalizationName, string>>;
}

/** Encodes columns for the store (JSON). */
export function encodeColumns(c: ScoreColumns): EncodedColumns {
  const out: EncodedColumns = { n: c.pred.length, pred: ints(c.pred), pred_norm: ints(c.pred_norm), truncated: ints(c.truncated) };
  if (c.pred_mutual_info) out.pred_mutual_info = ints(c.pred_mutual_info);
  if (c.panel) out.panel = Object.fromEntries(Object.entries(c.panel).map(([k, v]) => [k, ints(v)]));
  return out;
}

/** Decodes stored columns; a store written before columns holds the scored documents themselves. */
export function decodeColumns(e: EncodedColumns | ScoredDoc[]): ScoreColumns {
  if (Array.isArray(e)) return scoreColumns(e);
  const out: ScoreColumns = { pred: readInt32(e.pred), pred_norm: readInt32(e.pred_norm), truncated: new Uint8Array(Buffer.from(e.truncated, "base64")) };
  if (e.pred_mutual_info) out.pred_mutual_info = readInt32(e.pred_mutual_info);
  if (e.panel) out.panel = Object.fromEntries(Object.entries(e.panel).map(([k, v]) => [k, readInt32(v!)]));
  return out;
}
