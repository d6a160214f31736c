// multiple_choice evaluated in chunks of documents, so a run's memory does not grow with its
// dataset (issue 14): preparation renders every document once (validating the data before any
// model loads) but keeps only a few bytes of each (gold index; a hash per chunk); evaluation
// renders one chunk at a time, scores it, writes its sample rows and its prediction columns to
// the store and lets it go. A chunk the store already holds under the same key (same model
// fingerprint, same documents) is not evaluated again on resume.
import { createHash } from "node:crypto";
import type { Backend, LoglikelihoodRequest, LoglikelihoodResult } from "../../backends/backend.js";
import type { SampleRow } from "../../run/taskContext.js";
import { type DocSource, type PreparedDoc, type ScoredDoc, scoreResults } from "../multipleChoice.js";
import { decodeColumns, type EncodedColumns, emptyColumns, encodeColumns, placeColumns, type ScoreColumns, scoreColumns } from "../multipleChoiceColumns.js";
import type { ChunkSink, EvaluateEnv } from "./taskKind.js";

/**
 * Documents a chunk: requests are sent to the backend in batches of 512 within a chunk, so a
 * task of at most this many documents is batched exactly as when it was evaluated whole.
 */
export const CHUNK_DOCS = 1024;

/** What preparation keeps of a task's documents: enough to evaluate, aggregate and compare them. */
export interface IndexedDocs {
  source: DocSource;
  n: number;
  /** Gold choice per document. */
  gold: Int32Array;
  chunks: Array<{ from: number; to: number; requests: number; hash: string }>;
  /** sha256 of every document's prompt hash, comma-joined (the manifest's prompts_hash, 16 hex). */
  promptsHash: string;
  /** True when the documents carry the unconditional requests (normalization panel). */
  unconditional: boolean;
}

/** Renders every document once (so bad data fails before any model loads) and keeps its index. */
export function indexDocs(source: DocSource, chunkDocs = CHUNK_DOCS): IndexedDocs {
  const gold = new Int32Array(source.n);
  const prompts = createHash("sha256");
  const chunks: IndexedDocs["chunks"] = [];
  let unconditional = false;
  for (let from = 0; from < source.n; from += chunkDocs) {
    const to = Math.min(source.n, from + chunkDocs);
    const hash = createHash("sha256").update(`multiple_choice chunk of ${chunkDocs}\u0000`);
    let requests = 0;
    for (let i = from; i < to; i++) {
      const d = source.render(i);
      gold[i] = d.gold;
      unconditional ||= d.unconditional;
      requests += d.requests.length;
      prompts.update(i > 0 ? `,${d.prompt_hash}` : d.prompt_hash);
      // Everything a sample row holds beyond the requests (whose hash covers prompt, context and choices).
      hash.update(`${d.prompt_hash}:${d.gold}:${d.fewshot_ids.join(" ")}\u0000`);
    }
    chunks.push({ from, to, requests, hash: hash.digest("hex") });
  }
  return { source, n: source.n, gold, chunks, promptsHash: prompts.digest("hex").slice(0, 16), unconditional };
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
  const id = `${env.name}:${m.name}`;
  const total = docs.chunks.reduce((s, c) => s + c.requests, 0);
  env.progress.start(id, `${env.name} · ${m.name}`, total);
  const columns = emptyColumns(docs.n);
  const fingerprint = m.fingerprint();
  let before = 0;
  for (const [index, chunk] of docs.chunks.entries()) {
    const key = createHash("sha256").update(fingerprint).update("\u0000").update(chunk.hash).digest("hex");
    const kept = sink.stored(index, key) as EncodedColumns | undefined;
    if (kept) {
      // Answered from the store like a cached request, and counted so in the run's summary.
      env.store.counters.cached += chunk.requests;
      placeColumns(columns, chunk.from, decodeColumns(kept));
    } else {
      const rendered: PreparedDoc[] = [];
      for (let i = chunk.from; i < chunk.to; i++) rendered.push(docs.source.render(i));
      const flat: LoglikelihoodRequest[] = rendered.flatMap((d) => d.requests);
      const res = await env.store.cached<LoglikelihoodRequest, LoglikelihoodResult>(fingerprint, "loglikelihood", flat, (missing) => m.loglikelihood(missing), {
        batchSize: 512,
        onProgress: (done) => env.progress.update(id, before + done),
      });
      const scored = scoreResults(rendered, res);
      const part = scoreColumns(scored);
      sink.put(index, key, chunk.from, sampleRows(rendered, scored), encodeColumns(part));
      placeColumns(columns, chunk.from, part);
    }
    before += chunk.requests;
    env.progress.update(id, before);
  }
  env.progress.stop(id);
  return columns;
}
