// lm-eval's output_type `loglikelihood` (lambada_openai): one (context, continuation) request
// per document, no target delimiter added. acc is the fraction of documents whose
// continuation is the greedy decode; ppl is lm-eval's `perplexity` aggregation,
// exp(−mean log-likelihood) over documents.
import { createHash } from "node:crypto";
import type { LoglikelihoodRequest, LoglikelihoodResult } from "../backends/backend.js";
import { rowWhere, type Row } from "../data/readRows.js";
import { QuantevalError } from "../util/errors.js";
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

/** Loads and renders the documents (few-shot is not defined for this type). */
export async function prepareLoglikelihood(def: LoglikelihoodTask, opts: PrepareOptions): Promise<LoglikelihoodDoc[]> {
  if (opts.numFewshot) throw new QuantevalError(`task ${def.task}: num_fewshot is not supported for loglikelihood tasks (lm-eval scores them 0-shot); remove it`);
  const split = opts.split ?? def.test_split;
  const test = await loadSplit(def, split, opts, opts.data);
  const limit = Math.min(opts.limit ?? test.rows.length, test.rows.length);
  const docs: LoglikelihoodDoc[] = [];
  for (let i = 0; i < limit; i++) {
    const request = renderLoglikelihoodDoc(def, test.rows[i], rowWhere(test.path, test.rows, i));
    if (request.continuation === "") throw new QuantevalError(`${rowWhere(test.path, test.rows, i)}: the continuation (doc_to_target) is empty; nothing to score`);
    docs.push({ doc_id: i, request, prompt_hash: createHash("sha256").update(JSON.stringify(request)).digest("hex").slice(0, 16) });
  }
  return docs;
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
  const n = results.length;
  const out: LoglikelihoodMetrics = { n, truncated: results.filter((r) => r.truncated).length };
  if (n === 0) return out;
  if (def.metrics.includes("acc")) {
    const m = results.filter((r) => r.isGreedy).length / n;
    out.acc = m;
    out.acc_stderr = n > 1 ? Math.sqrt((m * (1 - m)) / (n - 1)) : 0;
  }
  if (def.metrics.includes("ppl")) out.ppl = Math.exp(-results.reduce((s, r) => s + r.logprob, 0) / n);
  return out;
}
