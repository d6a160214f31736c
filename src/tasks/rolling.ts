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

export async function prepareRolling(def: RollingTask, opts: PrepareOptions): Promise<RollingDoc[]> {
  if (opts.numFewshot) throw new QuantevalError(`task ${def.task}: num_fewshot is not supported for rolling perplexity tasks; remove it`);
  const split = opts.split ?? def.test_split;
  const test = await loadRollingRows(def, split, opts);
  const limit = Math.min(opts.limit ?? test.rows.length, test.rows.length);
  const docs: RollingDoc[] = [];
  for (let i = 0; i < limit; i++) {
    const r = renderRollingDoc(def, test.rows[i], rowWhere(test.path, test.rows, i));
    docs.push({ doc_id: i, ...r, prompt_hash: createHash("sha256").update(r.text).digest("hex").slice(0, 16) });
  }
  if (docs.every((d) => d.text === "")) throw new QuantevalError(`${test.path}: every document's text is empty; task ${def.task} has nothing to score`);
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
  const ll = results.reduce((s, r) => s + r.logprob, 0);
  const words = docs.reduce((s, d) => s + d.words, 0);
  const bytes = docs.reduce((s, d) => s + d.bytes, 0);
  const out: RollingMetrics = { n: docs.length, tokens: results.reduce((s, r) => s + r.nTokens, 0), words, bytes };
  if (def.metrics.includes("word_perplexity")) out.word_perplexity = Math.exp(-ll / words);
  if (def.metrics.includes("byte_perplexity")) out.byte_perplexity = Math.exp(-ll / bytes);
  if (def.metrics.includes("bits_per_byte")) out.bits_per_byte = -ll / bytes / Math.LN2;
  return out;
}
