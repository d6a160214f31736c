// Log-likelihood multiple choice with lm-evaluation-harness semantics: requests are
// (fewshot context + doc_to_text, target_delimiter + choice); the prediction is the choice
// with the highest log-likelihood (acc) or log-likelihood per character (acc_norm).
import { createHash } from "node:crypto";
import type { LoglikelihoodRequest } from "../backends/backend.js";
import { readRows, type Row } from "../data/readRows.js";
import { resolveDataset, resolveLocalPath } from "../data/resolveDataset.js";
import { macroF1 } from "../metrics/f1.js";
import { QuantevalError } from "../util/errors.js";
import { drawFewshot } from "./fewshot.js";
import type { MultipleChoiceTask } from "./taskDefinition.js";
import { type Doc, derive, render } from "./template.js";

export interface PreparedDoc {
  doc_id: number;
  /** The evaluated document's own prompt (doc_to_text). */
  prompt: string;
  /** Few-shot examples + prompt: the context every choice is scored after. */
  context: string;
  choices: string[];
  gold: number;
  fewshot_ids: number[];
  requests: LoglikelihoodRequest[];
  /** sha256 of the exact request strings; compared across runs by the prompt-identity guard. */
  prompt_hash: string;
}

export interface PrepareOptions {
  baseDir: string;
  dataDir?: string;
  seed: number;
  limit?: number;
  numFewshot?: number;
  /** Local data file overriding the dataset id (the test split). */
  data?: string;
  /** Folder of the task YAML, for its relative `data_file`. */
  taskDir?: string;
  split?: string;
}

async function loadSplit(def: MultipleChoiceTask, split: string, opts: PrepareOptions, file?: string): Promise<{ rows: Row[]; path: string }> {
  let path: string;
  if (!file && def.data_file) {
    const p = resolveLocalPath(def.data_file, opts.taskDir ?? opts.baseDir);
    if (!p) throw new QuantevalError(`task ${def.task}: data_file not found: ${def.data_file}`);
    file = p;
  }
  if (file) {
    const p = resolveLocalPath(file, opts.baseDir);
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

/** Renders one document: its prompt, choices and gold index. Errors name the file and row. */
export function renderDoc(def: MultipleChoiceTask, row: Row, where: string): { text: string; choices: string[]; gold: number } {
  const doc: Doc = derive(row, def.derive, where);
  const text = render(def.doc_to_text, doc, where);
  let choices: string[];
  if (Array.isArray(def.doc_to_choice)) {
    choices = def.doc_to_choice.map((c) => render(c, doc, where));
  } else {
    const v = doc[def.doc_to_choice];
    if (!Array.isArray(v)) throw new QuantevalError(`${where}: field '${def.doc_to_choice}' (doc_to_choice) must be a list of choices`);
    choices = v.map(String);
  }
  const t = render(def.doc_to_target, doc, where).trim();
  let gold = /^-?\d+$/.test(t) ? Number(t) : choices.indexOf(t);
  if (!Number.isInteger(gold) || gold < 0 || gold >= choices.length) {
    throw new QuantevalError(`${where}: label '${t}' is out of range for ${choices.length} choices (doc_to_target must give 0..${choices.length - 1} or a choice text)`);
  }
  gold = Number(gold);
  return { text, choices, gold };
}

/** Builds every document's requests, with seeded and recorded few-shot examples. */
export async function prepareMultipleChoice(def: MultipleChoiceTask, opts: PrepareOptions): Promise<PreparedDoc[]> {
  const split = opts.split ?? def.test_split;
  const test = await loadSplit(def, split, opts, opts.data);
  const fromFile = Boolean(opts.data ?? def.data_file);
  const nShot = opts.numFewshot ?? def.num_fewshot;
  const limit = Math.min(opts.limit ?? test.rows.length, test.rows.length);
  let pool: { rows: Row[]; path: string } | undefined;
  const fewshotSplit = def.fewshot_split ?? split;
  if (nShot > 0) pool = fewshotSplit === split || fromFile ? test : await loadSplit(def, fewshotSplit, opts);
  const sameSplit = pool === test;
  const docs: PreparedDoc[] = [];
  for (let i = 0; i < limit; i++) {
    const where = `${test.path}:${i + 1}`;
    const { text, choices, gold } = renderDoc(def, test.rows[i], where);
    let fewshotIds: number[] = [];
    let prefix = "";
    if (nShot > 0 && pool) {
      fewshotIds = drawFewshot(pool.rows.length, nShot, opts.seed, i, sameSplit ? i : undefined);
      prefix = fewshotIds
        .map((j) => {
          const ex = renderDoc(def, pool!.rows[j], `${pool!.path}:${j + 1}`);
          return ex.text + def.target_delimiter + ex.choices[ex.gold];
        })
        .join(def.fewshot_delimiter);
      prefix += def.fewshot_delimiter;
    }
    const context = prefix + text;
    const requests = choices.map((c) => ({ context, continuation: def.target_delimiter + c }));
    const prompt_hash = createHash("sha256").update(JSON.stringify(requests)).digest("hex").slice(0, 16);
    docs.push({ doc_id: i, prompt: text, context, choices, gold, fewshot_ids: fewshotIds, requests, prompt_hash });
  }
  return docs;
}

export interface ScoredDoc {
  doc_id: number;
  loglikelihoods: number[];
  is_greedy: boolean[];
  pred: number;
  pred_norm: number;
  correct: boolean;
  correct_norm: boolean;
  truncated: boolean;
}

function argmax(xs: number[]): number {
  let best = 0;
  for (let i = 1; i < xs.length; i++) if (xs[i] > xs[best]) best = i;
  return best;
}

/** Scores one document from its per-choice log-likelihoods. */
export function scoreDoc(doc: PreparedDoc, lls: number[], greedy: boolean[], truncated: boolean): ScoredDoc {
  const pred = argmax(lls);
  // lm-eval's acc_norm divides by the length of the choice text in characters.
  const pred_norm = argmax(lls.map((ll, i) => ll / Math.max(1, doc.choices[i].length)));
  return { doc_id: doc.doc_id, loglikelihoods: lls, is_greedy: greedy, pred, pred_norm, correct: pred === doc.gold, correct_norm: pred_norm === doc.gold, truncated };
}

export interface McMetrics {
  acc?: number;
  acc_stderr?: number;
  acc_norm?: number;
  acc_norm_stderr?: number;
  f1?: number;
  n: number;
  truncated: number;
}

function meanAndStderr(xs: boolean[]): [number, number] {
  const n = xs.length;
  const m = xs.filter(Boolean).length / n;
  return [m, n > 1 ? Math.sqrt((m * (1 - m)) / (n - 1)) : 0];
}

export function aggregateMultipleChoice(def: MultipleChoiceTask, docs: PreparedDoc[], scored: ScoredDoc[]): McMetrics {
  const out: McMetrics = { n: scored.length, truncated: scored.filter((s) => s.truncated).length };
  if (def.metrics.includes("acc")) [out.acc, out.acc_stderr] = meanAndStderr(scored.map((s) => s.correct));
  if (def.metrics.includes("acc_norm")) [out.acc_norm, out.acc_norm_stderr] = meanAndStderr(scored.map((s) => s.correct_norm));
  if (def.metrics.includes("f1")) out.f1 = macroF1(docs.map((d) => d.gold), scored.map((s) => s.pred));
  return out;
}
