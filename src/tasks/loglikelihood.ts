// lm-eval's output_type `loglikelihood` (lambada_openai): one (context, continuation) request
// per document, no target delimiter added. acc is the fraction of documents whose
// continuation is the greedy decode; ppl is lm-eval's `perplexity` aggregation,
// exp(−mean log-likelihood) over documents.
import { createHash } from "node:crypto";
import type { LoglikelihoodRequest, LoglikelihoodResult } from "../backends/backend.js";
import { rowWhere, type Row } from "../data/readRows.js";
import { QuantevalError } from "../util/errors.js";
import { type LoglikelihoodColumns, loglikelihoodColumns } from "./loglikelihoodColumns.js";
import { loadSplit, type PrepareOptions } from "./multipleChoice.js";
import type { LoglikelihoodTask } from "./taskDefinition.js";
import { derive, render } from "./template.js";

export interface LoglikelihoodDoc {
  doc_id: number;
  request: LoglikelihoodRequest;
  /** sha256 of the exact request strings. */
  prompt_hash: string;
}

/** Renders one document's request. */
export function renderLoglikelihoodDoc(def: LoglikelihoodTask, row: Row, where: string): LoglikelihoodRequest {
  const doc = derive(row, def.derive, where);
  return { context: render(def.doc_to_text, doc, where), continuation: render(def.doc_to_target, doc, where) };
}

/** A task's documents, rendered one at a time on demand (so a large task is never held rendered whole). */
export interface LoglikelihoodSource {
  /** Documents evaluated (the split's rows, cut to the limit). */
  n: number;
  /** Renders document `i` (0 ≤ i < n); errors name the file and row. */
  render(i: number): LoglikelihoodDoc;
}

/** Loads the split and returns its documents, rendered on demand (few-shot is not defined for this type). */
export async function openLoglikelihood(def: LoglikelihoodTask, opts: PrepareOptions): Promise<LoglikelihoodSource> {
  if (opts.numFewshot) throw new QuantevalError(`task ${def.task}: num_fewshot is not supported for loglikelihood tasks (lm-eval scores them 0-shot); remove it`);
  const split = opts.split ?? def.test_split;
  const test = await loadSplit(def, split, opts, opts.data);
  const render = (i: number): LoglikelihoodDoc => {
    const request = renderLoglikelihoodDoc(def, test.rows[i], rowWhere(test.path, test.rows, i));
    if (request.continuation === "") throw new QuantevalError(`${rowWhere(test.path, test.rows, i)}: the continuation (doc_to_target) is empty; nothing to score`);
    return { doc_id: i, request, prompt_hash: createHash("sha256").update(JSON.stringify(request)).digest("hex").slice(0, 16) };
  };
  return { n: Math.min(opts.limit ?? test.rows.length, test.rows.length), render };
}

/** Loads and renders every document. */
export async function prepareLoglikelihood(def: LoglikelihoodTask, opts: PrepareOptions): Promise<LoglikelihoodDoc[]> {
  const source = await openLoglikelihood(def, opts);
  return Array.from({ length: source.n }, (_, i) => source.render(i));
}

export interface LoglikelihoodMetrics {
  acc?: number;
  acc_stderr?: number;
  ppl?: number;
  n: number;
  truncated: number;
}

/** lm-eval's aggregation: acc = mean(is_greedy), perplexity = exp(−mean(ll)). */
export function aggregateLoglikelihood(def: LoglikelihoodTask, results: LoglikelihoodResult[]): LoglikelihoodMetrics {
  return aggregateLoglikelihoodColumns(def, loglikelihoodColumns(results));
}

/** lm-eval's aggregation over one model's columns (summed in document order, as over the results). */
export function aggregateLoglikelihoodColumns(def: LoglikelihoodTask, c: LoglikelihoodColumns): LoglikelihoodMetrics {
  const n = c.logprob.length;
  let truncated = 0;
  let greedy = 0;
  let ll = 0;
  for (let i = 0; i < n; i++) {
    truncated += c.truncated[i];
    greedy += c.is_greedy[i];
    ll += c.logprob[i];
  }
  const out: LoglikelihoodMetrics = { n, truncated };
  if (n === 0) return out;
  if (def.metrics.includes("acc")) {
    const m = greedy / n;
    out.acc = m;
    out.acc_stderr = n > 1 ? Math.sqrt((m * (1 - m)) / (n - 1)) : 0;
  }
  if (def.metrics.includes("ppl")) out.ppl = Math.exp(-ll / n);
  return out;
}
