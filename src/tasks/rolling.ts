// lm-eval's output_type `loglikelihood_rolling` (wikitext): the whole text of each document
// is scored with the backend's rolling log-likelihood, and the sums are normalised by words
// and UTF-8 bytes over all documents (lm-eval's weighted_perplexity and bits_per_byte).
import { createHash } from "node:crypto";
import type { RollingResult } from "../backends/backend.js";
import { readUtf8, rowWhere, type Row } from "../data/readRows.js";
import { wikitextCounts, wikitextRows } from "../lmeval/wikitextDocuments.js";
import { QuantevalError } from "../util/errors.js";
import { loadSplit, type PrepareOptions } from "./multipleChoice.js";
import type { RollingTask } from "./taskDefinition.js";
import { derive, render } from "./template.js";

export interface RollingDoc {
  doc_id: number;
  /** The scored text. */
  text: string;
  /** Words as lm-eval counts them: len(re.split(r"\s+", count_text)). */
  words: number;
  /** UTF-8 bytes of count_text. */
  bytes: number;
  prompt_hash: string;
}

/** lm-eval's word count: the number of pieces Python's re.split(r"\s+", text) returns (empty ends included). */
export function countWords(text: string): number {
  return wikitextCounts(text).words;
}

/** A raw WikiText file (wiki.test.raw, wiki.test.tokens) rather than rows: its articles, as lm-eval's document-level dataset splits them. */
const RAW_TEXT = /\.(raw|tokens)$/i;

/** The split's rows: a raw text file becomes one `{page}` row per article (lm-eval's wikitext_document_level). */
async function loadRollingRows(def: RollingTask, split: string, opts: PrepareOptions): Promise<{ rows: Row[]; path: string }> {
  const test = await loadSplit(def, split, opts, opts.data);
  return RAW_TEXT.test(test.path) ? { rows: wikitextRows(readUtf8(test.path)), path: test.path } : test;
}

/** Renders one document: the scored text and what normalises it. */
export function renderRollingDoc(def: RollingTask, row: Row, where: string): { text: string; words: number; bytes: number } {
  const doc = derive(row, def.derive, where);
  const text = render(def.doc_to_target, doc, where);
  const counted = def.count_text !== undefined ? render(def.count_text, doc, where) : text;
  return { text, words: countWords(counted), bytes: Buffer.byteLength(counted, "utf8") };
}

/** A task's documents, rendered one at a time on demand (so a large task is never held rendered whole). */
export interface RollingSource {
  /** Documents evaluated (the split's rows, cut to the limit). */
  n: number;
  /** The file the documents come from (for errors). */
  path: string;
  /** Renders document `i` (0 ≤ i < n); errors name the file and row. */
  render(i: number): RollingDoc;
}

/** Loads the split and returns its documents, rendered on demand. */
export async function openRolling(def: RollingTask, opts: PrepareOptions): Promise<RollingSource> {
  if (opts.numFewshot) throw new QuantevalError(`task ${def.task}: num_fewshot is not supported for rolling perplexity tasks; remove it`);
  const split = opts.split ?? def.test_split;
  const test = await loadRollingRows(def, split, opts);
  const render = (i: number): RollingDoc => {
    const r = renderRollingDoc(def, test.rows[i], rowWhere(test.path, test.rows, i));
    return { doc_id: i, ...r, prompt_hash: createHash("sha256").update(r.text).digest("hex").slice(0, 16) };
  };
  return { n: Math.min(opts.limit ?? test.rows.length, test.rows.length), path: test.path, render };
}

/** The error for a task whose every document is empty. */
export function nothingToScore(def: RollingTask, path: string): QuantevalError {
  return new QuantevalError(`${path}: every document's text is empty; task ${def.task} has nothing to score`);
}

/** Loads and renders every document. */
export async function prepareRolling(def: RollingTask, opts: PrepareOptions): Promise<RollingDoc[]> {
  const source = await openRolling(def, opts);
  const docs = Array.from({ length: source.n }, (_, i) => source.render(i));
  if (docs.every((d) => d.text === "")) throw nothingToScore(def, source.path);
  return docs;
}

export interface RollingMetrics {
  word_perplexity?: number;
  byte_perplexity?: number;
  bits_per_byte?: number;
  n: number;
  tokens: number;
  words: number;
  bytes: number;
}

/** lm-eval's aggregation over documents: exp(−Σll/Σwords), exp(−Σll/Σbytes), −Σll/Σbytes/ln 2. */
export function aggregateRolling(def: RollingTask, docs: RollingDoc[], results: RollingResult[]): RollingMetrics {
  return aggregateRollingColumns(def, {
    logprob: Float64Array.from(results, (r) => r.logprob),
    n_tokens: Int32Array.from(results, (r) => r.nTokens),
    words: Float64Array.from(docs, (d) => d.words),
    bytes: Float64Array.from(docs, (d) => d.bytes),
  });
}

/** Per-document numbers the aggregation needs, aligned by document (summed in document order). */
export interface RollingColumns {
  logprob: Float64Array;
  n_tokens: Int32Array;
  words: Float64Array;
  bytes: Float64Array;
}

/** {@link aggregateRolling} over columns. */
export function aggregateRollingColumns(def: RollingTask, c: RollingColumns): RollingMetrics {
  const sum = (a: ArrayLike<number>): number => {
    let t = 0;
    for (let i = 0; i < a.length; i++) t += a[i];
    return t;
  };
  const ll = sum(c.logprob);
  const words = sum(c.words);
  const bytes = sum(c.bytes);
  const out: RollingMetrics = { n: c.logprob.length, tokens: sum(c.n_tokens), words, bytes };
  if (def.metrics.includes("word_perplexity")) out.word_perplexity = Math.exp(-ll / words);
  if (def.metrics.includes("byte_perplexity")) out.byte_perplexity = Math.exp(-ll / bytes);
  if (def.metrics.includes("bits_per_byte")) out.bits_per_byte = -ll / bytes / Math.LN2;
  return out;
}
