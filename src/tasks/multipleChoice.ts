// Log-likelihood multiple choice with lm-evaluation-harness semantics: requests are
// (fewshot context + doc_to_text, target_delimiter + choice); the prediction is the choice
// with the highest log-likelihood (acc) or log-likelihood per character (acc_norm).
// In multiple-input mode (`doc_to_continuation`, lm-eval's winogrande) the requests are
// (fewshot context + choice, target_delimiter + continuation) instead. With the
// normalization panel (which includes acc_mutual_info), one unconditional request ("", target_delimiter + choice) per
// choice follows the conditional ones, as lm-eval appends them.
import { createHash } from "node:crypto";
import type { LoglikelihoodRequest, LoglikelihoodResult } from "../backends/backend.js";
import { readRows, rowWhere, type Row } from "../data/readRows.js";
import { resolveDataset, resolveLocalPath } from "../data/resolveDataset.js";
import { QuantevalError } from "../util/errors.js";
import { drawFewshot } from "./fewshot.js";
import type { MultipleChoiceTask } from "./taskDefinition.js";
import { aggregateColumns, scoreColumns } from "./multipleChoiceColumns.js";
import { argmax, charLength, type NormalizationName, predictAll } from "./normalization.js";
import { type Doc, derive, fieldValue, render } from "./template.js";

export interface PreparedDoc {
  doc_id: number;
  /** The evaluated document's own prompt (doc_to_text; in multiple-input mode the shared continuation). */
  prompt: string;
  /** Few-shot examples + prompt: the context every choice is scored after (multiple-input mode: the few-shot part only). */
  context: string;
  choices: string[];
  gold: number;
  fewshot_ids: number[];
  /** One request per choice, then (with `unconditional`) one unconditional request per choice. */
  requests: LoglikelihoodRequest[];
  /** True when `requests` ends with the unconditional requests of acc_mutual_info. */
  unconditional: boolean;
  /** sha256 of the exact request strings; compared across runs by the prompt-identity guard. */
  prompt_hash: string;
}

export interface PrepareOptions {
  /** Where dataset ids are looked up. */
  dataDir?: string;
  seed: number;
  limit?: number;
  numFewshot?: number;
  /** Local data file overriding the dataset id (the test split); resolved when the config loaded. */
  data?: string;
  /** Folder of the task YAML, for its relative `data_file`. */
  taskDir?: string;
  split?: string;
  /** Add the normalization panel's unconditional requests even when the task does not ask for them. */
  normalizations?: boolean;
}

/** What locates a task's data: its dataset id or its own data file. */
export interface TaskDataSource {
  task: string;
  dataset?: { id: string; config?: string };
  data_file?: string;
}

/** Loads one split of a task's data: `file` (the config's `data`), else the task's data_file, else its dataset id under the data directory. */
export async function loadSplit(def: TaskDataSource, split: string, opts: Pick<PrepareOptions, "dataDir" | "taskDir">, file?: string): Promise<{ rows: Row[]; path: string }> {
  let path: string;
  if (!file && def.data_file) {
    const p = opts.taskDir ? resolveLocalPath(def.data_file, opts.taskDir) : resolveLocalPath(def.data_file);
    if (!p) throw new QuantevalError(`task ${def.task}: data_file not found: ${def.data_file}`);
    file = p;
  }
  if (file) {
    const p = resolveLocalPath(file);
    if (!p) throw new QuantevalError(`task ${def.task}: data file not found: ${file}`);
    path = p;
  } else if (def.dataset) {
    path = await resolveDataset({ id: def.dataset.id, config: def.dataset.config, split }, { dataDir: opts.dataDir });
  } else {
    throw new QuantevalError(`task ${def.task}: no dataset id and no data file; add 'dataset' to the task or 'data' to the config entry`);
  }
  const rows = await readRows(path);
  if (rows.length === 0) throw new QuantevalError(`${path}: split '${split}' is empty; task ${def.task} needs at least one row`);
  return { rows, path };
}

/** One rendered document. In multiple-input mode `choices` are the per-choice contexts and `continuation` the shared continuation. */
export interface RenderedDoc {
  text: string;
  choices: string[];
  gold: number;
  continuation?: string;
}

/** Renders one document: its prompt, choices and gold index. Errors name the file and row. */
export function renderDoc(def: MultipleChoiceTask, row: Row, where: string): RenderedDoc {
  const doc: Doc = derive(row, def.derive, where);
  const continuation = def.doc_to_continuation !== undefined ? render(def.doc_to_continuation, doc, where) : undefined;
  if (continuation === undefined && def.doc_to_text === undefined) throw new QuantevalError(`task ${def.task}: doc_to_text is required unless doc_to_continuation is set`);
  const text = continuation ?? render(def.doc_to_text!, doc, where);
  let choices: string[];
  if (Array.isArray(def.doc_to_choice)) {
    choices = def.doc_to_choice.map((c) => render(c, doc, where));
  } else {
    const v = fieldValue(doc, def.doc_to_choice, where);
    if (!Array.isArray(v)) throw new QuantevalError(`${where}: field '${def.doc_to_choice}' (doc_to_choice) must be a list of choices`);
    choices = v.map(String);
  }
  const t = render(def.doc_to_target, doc, where).trim();
  // One choice makes acc trivially 1.0: a task data or doc_to_choice mistake, not a measurement.
  if (choices.length < 2) throw new QuantevalError(`${where}: ${choices.length} choice${choices.length === 1 ? "" : "s"} (doc_to_choice); a multiple-choice document needs at least 2`);
  let gold = /^-?\d+$/.test(t) ? Number(t) : choices.indexOf(t);
  if (!Number.isInteger(gold) || gold < 0 || gold >= choices.length) {
    throw new QuantevalError(`${where}: label '${t}' is out of range for ${choices.length} choices (doc_to_target must give 0..${choices.length - 1} or a choice text)`);
  }
  gold = Number(gold);
  return continuation === undefined ? { text, choices, gold } : { text, choices, gold, continuation };
}

/** A solved example for few-shot prompts: prompt + delimiter + gold choice (multiple-input: gold context + delimiter + continuation). */
export function fewshotExample(def: MultipleChoiceTask, r: RenderedDoc): string {
  return r.continuation !== undefined ? r.choices[r.gold] + def.target_delimiter + r.continuation : r.text + def.target_delimiter + r.choices[r.gold];
}

/** True when the task scores the unconditional requests (the panel's acc_mutual_info). */
export function needsUnconditional(def: MultipleChoiceTask, panel = false): boolean {
  return panel || def.normalizations;
}

/** The log-likelihood requests of one rendered document after the few-shot `prefix`, exactly as lm-eval builds them. */
export function buildRequests(def: MultipleChoiceTask, r: RenderedDoc, prefix = "", unconditional = needsUnconditional(def)): LoglikelihoodRequest[] {
  const d = def.target_delimiter;
  const reqs =
    r.continuation !== undefined ? r.choices.map((c) => ({ context: prefix + c, continuation: d + r.continuation })) : r.choices.map((c) => ({ context: prefix + r.text, continuation: d + c }));
  if (unconditional) for (const c of r.choices) reqs.push({ context: "", continuation: d + c });
  return reqs;
}

/**
 * A task's documents, rendered one at a time on demand: the rows are loaded (and the few-shot pool
 * checked) once, and a document's prompt, few-shot prefix and requests exist only while a caller
 * holds it, so a large task is never held rendered whole (issue 14: memory flat in dataset size).
 */
export interface DocSource {
  /** Documents evaluated (the split's rows, cut to the limit). */
  n: number;
  /** Renders document `i` (0 ≤ i < n) exactly as lm-eval builds it; errors name the file and row. */
  render(i: number): PreparedDoc;
}

/** Loads a task's split (and few-shot pool) and returns its documents, rendered on demand. */
export async function openMultipleChoice(def: MultipleChoiceTask, opts: PrepareOptions): Promise<DocSource> {
  const split = opts.split ?? def.test_split;
  const test = await loadSplit(def, split, opts, opts.data);
  const fromFile = Boolean(opts.data ?? def.data_file);
  const nShot = opts.numFewshot ?? def.num_fewshot;
  const limit = Math.min(opts.limit ?? test.rows.length, test.rows.length);
  let pool: { rows: Row[]; path: string } | undefined;
  const fewshotSplit = def.fewshot_split ?? split;
  if (nShot > 0) pool = fewshotSplit === split || fromFile ? test : await loadSplit(def, fewshotSplit, opts);
  const sameSplit = pool === test;
  // The evaluated document is never its own example, so a same-split pool offers one row fewer.
  const available = pool ? pool.rows.length - (sameSplit ? 1 : 0) : 0;
  if (pool && nShot > available) {
    throw new QuantevalError(`task ${def.task}: num_fewshot ${nShot} exceeds the few-shot pool of ${available} examples (${pool.path}); lower num_fewshot or use a larger fewshot_split`);
  }
  const unconditional = needsUnconditional(def, opts.normalizations);
  const render = (i: number): PreparedDoc => {
    const where = rowWhere(test.path, test.rows, i);
    const rendered = renderDoc(def, test.rows[i], where);
    const { text, choices, gold } = rendered;
    let fewshotIds: number[] = [];
    let prefix = "";
    if (nShot > 0 && pool) {
      fewshotIds = drawFewshot(pool.rows.length, nShot, opts.seed, i, sameSplit ? i : undefined);
      prefix = fewshotIds.map((j) => fewshotExample(def, renderDoc(def, pool!.rows[j], rowWhere(pool!.path, pool!.rows, j)))).join(def.fewshot_delimiter);
      prefix += def.fewshot_delimiter;
    }
    const context = rendered.continuation !== undefined ? prefix : prefix + text;
    const requests = buildRequests(def, rendered, prefix, unconditional);
    const prompt_hash = createHash("sha256").update(JSON.stringify(requests)).digest("hex").slice(0, 16);
    return { doc_id: i, prompt: text, context, choices, gold, fewshot_ids: fewshotIds, requests, unconditional, prompt_hash };
  };
  return { n: limit, render };
}

/** Builds every document's requests, with seeded and recorded few-shot examples. */
export async function prepareMultipleChoice(def: MultipleChoiceTask, opts: PrepareOptions): Promise<PreparedDoc[]> {
  const source = await openMultipleChoice(def, opts);
  return Array.from({ length: source.n }, (_, i) => source.render(i));
}

export interface ScoredDoc {
  doc_id: number;
  /** Conditional log-likelihood per choice. */
  loglikelihoods: number[];
  /** Unconditional log-likelihood per choice (acc_mutual_info / panel only). */
  unconditional?: number[];
  is_greedy: boolean[];
  pred: number;
  pred_norm: number;
  correct: boolean;
  correct_norm: boolean;
  /** PMI prediction (acc_mutual_info / panel only). */
  pred_mutual_info?: number;
  correct_mutual_info?: boolean;
  /** Prediction per normalization of the panel. */
  panel?: Partial<Record<NormalizationName, number>>;
  truncated: boolean;
}

/**
 * Scores one document from its per-request log-likelihoods (conditional ones, then the
 * unconditional ones when the document has them). `nTokens` (per request) enables the
 * panel's token normalization.
 */
export function scoreDoc(doc: PreparedDoc, lls: number[], greedy: boolean[], truncated: boolean, nTokens?: number[]): ScoredDoc {
  const n = doc.choices.length;
  const cond = lls.slice(0, n);
  const pred = argmax(cond);
  // lm-eval's acc_norm divides by the length of the choice text in characters (Python len: code points).
  const pred_norm = argmax(cond.map((ll, i) => ll / Math.max(1, charLength(doc.choices[i]))));
  const out: ScoredDoc = { doc_id: doc.doc_id, loglikelihoods: cond, is_greedy: greedy.slice(0, n), pred, pred_norm, correct: pred === doc.gold, correct_norm: pred_norm === doc.gold, truncated };
  const unconditional = doc.unconditional && lls.length === 2 * n ? lls.slice(n) : undefined;
  if (unconditional) {
    out.unconditional = unconditional;
    out.pred_mutual_info = argmax(cond.map((ll, i) => ll - unconditional[i]));
    out.correct_mutual_info = out.pred_mutual_info === doc.gold;
    out.panel = predictAll({ ll: cond, choices: doc.choices, tokens: nTokens?.slice(0, n), unconditional });
  }
  return out;
}

/** Scores documents from the backend's answers to their requests, in order (every document's requests, flattened). */
export function scoreResults(docs: PreparedDoc[], results: LoglikelihoodResult[]): ScoredDoc[] {
  let k = 0;
  return docs.map((d) => {
    const rs = d.requests.map(() => results[k++]);
    return scoreDoc(
      d,
      rs.map((r) => r.logprob),
      rs.map((r) => r.isGreedy),
      rs.some((r) => r.truncated),
      rs.map((r) => r.nTokens),
    );
  });
}

/** Per-document correctness under a metric (acc, acc_norm, acc_mutual_info or a panel normalization). */
export function correctFor(s: ScoredDoc, gold: number, metric: string): boolean {
  if (metric === "acc_norm") return s.correct_norm;
  if (metric === "acc_mutual_info") return s.correct_mutual_info ?? false;
  if (s.panel && metric in s.panel) return s.panel[metric as NormalizationName] === gold;
  return s.correct;
}

export interface McMetrics {
  /** Always reported: lm-eval's multiple_choice accuracy (the comparisons cover only the task's listed metrics). */
  acc: number;
  acc_stderr: number;
  acc_norm?: number;
  acc_norm_stderr?: number;
  f1?: number;
  acc_mutual_info?: number;
  acc_mutual_info_stderr?: number;
  /** The normalization panel (when the documents carry unconditional scores). */
  acc_norm_chars?: number;
  acc_norm_bytes?: number;
  acc_norm_tokens?: number;
  n: number;
  truncated: number;
}

/** The task's metrics of one model from its scored documents (see aggregateColumns, which the runner uses). */
export function aggregateMultipleChoice(def: MultipleChoiceTask, docs: PreparedDoc[], scored: ScoredDoc[]): McMetrics {
  return aggregateColumns(
    def,
    docs.map((d) => d.gold),
    scoreColumns(scored),
  );
}
