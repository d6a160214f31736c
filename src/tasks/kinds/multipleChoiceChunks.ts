// multiple_choice evaluated in chunks of documents (documentChunks.ts), so a run's memory does not
// grow with its dataset (issue 14): preparation keeps only a few bytes of each document (gold
// index; a hash per chunk); a chunk's record is its prediction columns.
import type { Backend } from "../../backends/backend.js";
import type { SampleRow } from "../../run/taskContext.js";
import { type DocSource, type PreparedDoc, type ScoredDoc, scoreResults } from "../multipleChoice.js";
import { decodeColumns, emptyColumns, encodeColumns, placeColumns, type ScoreColumns, scoreColumns } from "../multipleChoiceColumns.js";
import { CHUNK_DOCS, type ChunkPlan, evaluateDocumentChunks, loglikelihoodRequests, planChunks } from "./documentChunks.js";
import type { ChunkSink, EvaluateEnv } from "./taskKind.js";

/** What preparation keeps of a task's documents: enough to evaluate, aggregate and compare them. */
export interface IndexedDocs {
  source: DocSource;
  n: number;
  /** Gold choice per document. */
  gold: Int32Array;
  chunks: ChunkPlan[];
  /** sha256 of every document's prompt hash, comma-joined (the manifest's prompts_hash, 16 hex). */
  promptsHash: string;
  /** True when the documents carry the unconditional requests (normalization panel). */
  unconditional: boolean;
}

/** Renders every document once (so bad data fails before any model loads) and keeps its index. */
export function indexDocs(source: DocSource, chunkDocs = CHUNK_DOCS): IndexedDocs {
  const gold = new Int32Array(source.n);
  let unconditional = false;
  const { chunks, promptsHash } = planChunks(source.n, chunkDocs, "multiple_choice", (i, hash) => {
    const d = source.render(i);
    gold[i] = d.gold;
    unconditional ||= d.unconditional;
    // Everything a sample row holds beyond the requests (whose hash covers prompt, context and choices).
    hash.update(`${d.prompt_hash}:${d.gold}:${d.fewshot_ids.join(" ")}\u0000`);
    return { requests: d.requests.length, promptHash: d.prompt_hash };
  });
  return { source, n: source.n, gold, chunks, promptsHash, unconditional };
}

/** A chunk's sample rows, exactly as the whole evaluation wrote them. */
function sampleRows(docs: PreparedDoc[], scored: ScoredDoc[]): SampleRow[] {
  return docs.map(
    (d, i): SampleRow => ({
      doc_id: d.doc_id,
      prompt: d.prompt,
      context: d.context,
      choices: d.choices,
      loglikelihoods: scored[i].loglikelihoods,
      is_greedy: scored[i].is_greedy,
      pred: scored[i].pred,
      pred_norm: scored[i].pred_norm,
      gold: d.gold,
      correct: scored[i].correct,
      fewshot_ids: d.fewshot_ids,
      prompt_hash: d.prompt_hash,
      truncated: scored[i].truncated,
    }),
  );
}

/** Evaluates one model on every chunk (skipping those `sink` holds) and returns its prediction columns. */
export async function evaluateChunks(docs: IndexedDocs, m: Backend, env: EvaluateEnv, sink: ChunkSink): Promise<ScoreColumns> {
  const columns = emptyColumns(docs.n);
  await evaluateDocumentChunks(
    docs,
    {
      type: loglikelihoodRequests,
      requests: (d) => d.requests,
      score(rendered, results) {
        const scored = scoreResults(rendered, results);
        return { samples: sampleRows(rendered, scored), record: encodeColumns(scoreColumns(scored)) };
      },
      place: (from, record) => placeColumns(columns, from, decodeColumns(record)),
    },
    m,
    env,
    sink,
  );
  return columns;
}
