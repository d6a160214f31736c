// loglikelihood_rolling evaluated in chunks of documents (documentChunks.ts), so a run's memory
// does not grow with its dataset (issue 14): preparation keeps each document's word and byte
// counts and a hash per chunk; a chunk's record is its log-likelihood and token columns.
import type { Backend, RollingResult } from "../../backends/backend.js";
import type { SampleRow } from "../../run/taskContext.js";
import { fromBase64, toBase64 } from "../multipleChoiceColumns.js";
import { nothingToScore, type RollingColumns, type RollingDoc, type RollingSource } from "../rolling.js";
import type { RollingTask } from "../taskDefinition.js";
import { CHUNK_DOCS, type ChunkIndex, evaluateDocumentChunks, planChunks, type RequestType } from "./documentChunks.js";
import type { ChunkSink, EvaluateEnv } from "./taskKind.js";

/** What preparation keeps of a task's documents: their source, count, chunks, prompts hash and counts. */
export interface IndexedRolling extends ChunkIndex {
  source: RollingSource;
  n: number;
  words: Float64Array;
  bytes: Float64Array;
}

/** Renders every document once (so bad data fails before any model loads) and keeps its index. */
export function indexRolling(def: RollingTask, source: RollingSource, chunkDocs = CHUNK_DOCS): IndexedRolling {
  const words = new Float64Array(source.n);
  const bytes = new Float64Array(source.n);
  let anyText = false;
  const index = planChunks(source.n, chunkDocs, "rolling", (i, hash) => {
    const d = source.render(i);
    words[i] = d.words;
    bytes[i] = d.bytes;
    anyText ||= d.text !== "";
    // A sample row holds the counts besides what the prompt hash covers (the text).
    hash.update(`${d.prompt_hash}:${d.words}:${d.bytes}\u0000`);
    return { requests: 1, promptHash: d.prompt_hash };
  });
  if (!anyText) throw nothingToScore(def, source.path);
  return { source, n: source.n, words, bytes, ...index };
}

/**
 * Whole texts, scored by rolling windows. Documents per backend call: one for an in-process
 * model (documents are long; progress and Ctrl-C stay per document); an HTTP model's in-flight
 * limit, so its slots stay busy, each document committed to the store as its last window is scored.
 */
const rollingRequests: RequestType<string, RollingResult> = {
  kind: "loglikelihood_rolling",
  compute: (m, texts) => m.loglikelihoodRolling(texts),
  batchSize: (m) => Math.max(1, m.concurrency ?? 1),
};

/** A chunk's columns as the store keeps them: base64 of little-endian float64 / int32. */
interface EncodedRolling {
  n: number;
  logprob: string;
  n_tokens: string;
}

/** Evaluates one model on every chunk (skipping those `sink` holds) and returns the columns the aggregation needs. */
export async function evaluateRollingChunks(docs: IndexedRolling, m: Backend, env: EvaluateEnv, sink: ChunkSink): Promise<RollingColumns> {
  const columns: RollingColumns = { logprob: new Float64Array(docs.n), n_tokens: new Int32Array(docs.n), words: docs.words, bytes: docs.bytes };
  await evaluateDocumentChunks(
    docs,
    {
      type: rollingRequests,
      requests: (d: RollingDoc) => [d.text],
      score: (rendered, results) => ({
        samples: rendered.map((d, i): SampleRow => ({ doc_id: d.doc_id, logprob: results[i].logprob, n_tokens: results[i].nTokens, words: d.words, bytes: d.bytes, prompt_hash: d.prompt_hash })),
        record: {
          n: results.length,
          logprob: toBase64(Float64Array.from(results, (r) => r.logprob)),
          n_tokens: toBase64(Int32Array.from(results, (r) => r.nTokens)),
        } satisfies EncodedRolling,
      }),
      place: (from, record: EncodedRolling) => {
        columns.logprob.set(new Float64Array(fromBase64(record.logprob)), from);
        columns.n_tokens.set(new Int32Array(fromBase64(record.n_tokens)), from);
      },
    },
    m,
    env,
    sink,
  );
  return columns;
}
