// A per-model task evaluated in chunks of documents, so a run's memory does not grow with its
// dataset (issue 14): preparation renders every document once (validating the data before any
// model loads) but keeps only a few bytes of each and a hash per chunk; evaluation renders one
// chunk at a time, scores it, writes its sample rows and its compact record to the sink (the
// store) and lets it go. A chunk the sink already holds under the same key (same model
// fingerprint, same documents) is not evaluated again on resume. Each kind (multiple_choice,
// loglikelihood, loglikelihood_rolling) supplies how a document is rendered, requested and scored
// and what its record holds.
import { createHash, type Hash } from "node:crypto";
import type { Backend, LoglikelihoodRequest, LoglikelihoodResult } from "../../backends/backend.js";
import type { SampleRow } from "../../run/taskContext.js";
import type { ChunkSink, EvaluateEnv } from "./taskKind.js";

/**
 * Documents a chunk: log-likelihood requests are sent to the backend in batches of 512 within a
 * chunk, so a task of at most this many documents (and a loglikelihood task of any size, one
 * request a document) is batched exactly as when it was evaluated whole.
 */
export const CHUNK_DOCS = 1024;

/** One chunk of documents: `from` … `to` − 1, its request count (for progress) and a hash of what its rows hold. */
export interface ChunkPlan {
  from: number;
  to: number;
  requests: number;
  hash: string;
}

/** A task's chunks and the manifest's prompts_hash (sha256 of every document's prompt hash, comma-joined; 16 hex). */
export interface ChunkIndex {
  chunks: ChunkPlan[];
  promptsHash: string;
}

/**
 * Splits `n` documents into chunks of `chunkDocs`; `visit` is called once per document in order
 * (render it, keep what the kind needs, feed the chunk's hash what its sample row holds beyond
 * the requests) and returns the document's request count and prompt hash.
 */
export function planChunks(n: number, chunkDocs: number, kind: string, visit: (i: number, hash: Hash) => { requests: number; promptHash: string }): ChunkIndex {
  const prompts = createHash("sha256");
  const chunks: ChunkPlan[] = [];
  for (let from = 0; from < n; from += chunkDocs) {
    const to = Math.min(n, from + chunkDocs);
    const hash = createHash("sha256").update(`${kind} chunk of ${chunkDocs}\u0000`);
    let requests = 0;
    for (let i = from; i < to; i++) {
      const doc = visit(i, hash);
      requests += doc.requests;
      prompts.update(i > 0 ? `,${doc.promptHash}` : doc.promptHash);
    }
    chunks.push({ from, to, requests, hash: hash.digest("hex") });
  }
  return { chunks, promptsHash: prompts.digest("hex").slice(0, 16) };
}

/** A type of backend request: its name in the store's request cache, the backend call, and the batch size. */
export interface RequestType<Q, A> {
  kind: string;
  compute(m: Backend, missing: Q[]): Promise<A[]>;
  batchSize(m: Backend): number;
}

/** (context, continuation) log-likelihoods, 512 a batch. */
export const loglikelihoodRequests: RequestType<LoglikelihoodRequest, LoglikelihoodResult> = {
  kind: "loglikelihood",
  compute: (m, missing) => m.loglikelihood(missing),
  batchSize: () => 512,
};

/** How a kind scores a chunk of its documents; `R` is a chunk's compact record (JSON). */
export interface ChunkScoring<D, R, Q = LoglikelihoodRequest, A = LoglikelihoodResult> {
  type: RequestType<Q, A>;
  /** A document's requests. */
  requests(doc: D): Q[];
  /** A chunk's sample rows and record from its documents and their requests' results (in order). */
  score(docs: D[], results: A[]): { samples: SampleRow[]; record: R };
  /** Takes a chunk's record (fresh or read from the sink) for documents from … from + its length − 1. */
  place(from: number, record: R): void;
}

/** A kind's indexed documents: the chunks, and the documents rendered on demand. */
export interface ChunkedDocs<D> {
  chunks: ChunkPlan[];
  source: { render(i: number): D };
}

/**
 * Evaluates one model on every chunk, skipping those `sink` holds: a chunk's requests go through
 * the store's request cache; each chunk's record goes to `scoring.place`.
 */
export async function evaluateDocumentChunks<D, R, Q, A>(docs: ChunkedDocs<D>, scoring: ChunkScoring<D, R, Q, A>, m: Backend, env: EvaluateEnv, sink: ChunkSink): Promise<void> {
  const id = `${env.name}:${m.name}`;
  env.progress.start(
    id,
    `${env.name} · ${m.name}`,
    docs.chunks.reduce((s, c) => s + c.requests, 0),
  );
  const fingerprint = m.fingerprint();
  let before = 0;
  for (const [index, chunk] of docs.chunks.entries()) {
    const key = createHash("sha256").update(fingerprint).update("\u0000").update(chunk.hash).digest("hex");
    const kept = sink.stored(index, key) as R | undefined;
    if (kept) {
      // Answered from the store like a cached request, and counted so in the run's summary.
      env.store.counters.cached += chunk.requests;
      scoring.place(chunk.from, kept);
    } else {
      const rendered: D[] = [];
      for (let i = chunk.from; i < chunk.to; i++) rendered.push(docs.source.render(i));
      const { type } = scoring;
      const results = await env.store.cached<Q, A>(fingerprint, type.kind, rendered.flatMap(scoring.requests), (missing) => type.compute(m, missing), {
        batchSize: type.batchSize(m),
        onProgress: (done) => env.progress.update(id, before + done),
      });
      const { samples, record } = scoring.score(rendered, results);
      sink.put(index, key, chunk.from, samples, record);
      scoring.place(chunk.from, record);
    }
    before += chunk.requests;
    env.progress.update(id, before);
  }
  env.progress.stop(id);
}
