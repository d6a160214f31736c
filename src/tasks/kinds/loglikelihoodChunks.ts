// loglikelihood evaluated in chunks of documents (documentChunks.ts), so a run's memory does not
// grow with its dataset (issue 14): preparation keeps only a hash per chunk; a chunk's record is
// its result columns (log-likelihood, greedy, tokens, truncated per document).
import type { Backend, LoglikelihoodResult } from "../../backends/backend.js";
import type { SampleRow } from "../../run/taskContext.js";
import type { LoglikelihoodDoc, LoglikelihoodSource } from "../loglikelihood.js";
import {
  decodeLoglikelihoodColumns,
  emptyLoglikelihoodColumns,
  encodeLoglikelihoodColumns,
  type LoglikelihoodColumns,
  loglikelihoodColumns,
  placeLoglikelihoodColumns,
} from "../loglikelihoodColumns.js";
import { CHUNK_DOCS, type ChunkIndex, evaluateDocumentChunks, loglikelihoodRequests, planChunks } from "./documentChunks.js";
import type { ChunkSink, EvaluateEnv } from "./taskKind.js";

/** What preparation keeps of a task's documents: their source, count, chunks and prompts hash. */
export interface IndexedLoglikelihood extends ChunkIndex {
  source: LoglikelihoodSource;
  n: number;
}

/** Renders every document once (so bad data fails before any model loads) and keeps its index. */
export function indexLoglikelihood(source: LoglikelihoodSource, chunkDocs = CHUNK_DOCS): IndexedLoglikelihood {
  const index = planChunks(source.n, chunkDocs, "loglikelihood", (i, hash) => {
    // A sample row holds the request (which its prompt hash covers) and the document's index.
    const { prompt_hash } = source.render(i);
    hash.update(`${prompt_hash}\u0000`);
    return { requests: 1, promptHash: prompt_hash };
  });
  return { source, n: source.n, ...index };
}

/** A document's sample row, as the whole evaluation wrote it. */
function sampleRow(d: LoglikelihoodDoc, r: LoglikelihoodResult): SampleRow {
  return {
    doc_id: d.doc_id,
    context: d.request.context,
    continuation: d.request.continuation,
    logprob: r.logprob,
    is_greedy: r.isGreedy,
    n_tokens: r.nTokens,
    truncated: r.truncated,
    prompt_hash: d.prompt_hash,
  };
}

/** Evaluates one model on every chunk (skipping those `sink` holds) and returns its result columns. */
export async function evaluateLoglikelihoodChunks(docs: IndexedLoglikelihood, m: Backend, env: EvaluateEnv, sink: ChunkSink): Promise<LoglikelihoodColumns> {
  const columns = emptyLoglikelihoodColumns(docs.n);
  await evaluateDocumentChunks(
    docs,
    {
      type: loglikelihoodRequests,
      requests: (d) => [d.request],
      score: (rendered, results) => ({ samples: rendered.map((d, i) => sampleRow(d, results[i])), record: encodeLoglikelihoodColumns(loglikelihoodColumns(results)) }),
      place: (from, record) => placeLoglikelihoodColumns(columns, from, decodeLoglikelihoodColumns(record)),
    },
    m,
    env,
    sink,
  );
  return columns;
}
