// Per-model evaluations of each task, written to the run's store as each model finishes and
// read back by the comparison: the comparison never sees a model, only what was stored.
import type Database from "better-sqlite3";
import type { ChunkedEvaluation, ChunkSink, ModelEvaluation, StoredEvaluations } from "../tasks/kinds/taskKind.js";
import type { SampleRow } from "./taskContext.js";
import type { RunStore } from "../store/runStore.js";
import { guardStore } from "../store/storeErrors.js";
import { QuantevalError } from "../util/errors.js";

// JSON has no ±Infinity or NaN (a log-likelihood can be −Infinity): they are written as tagged strings.
const NON_FINITE = "\u0000num:";

function encode(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === "number" && !Number.isFinite(v) ? `${NON_FINITE}${v}` : v));
}

function decode<T>(text: string): T {
  return JSON.parse(text, (_k, v: unknown) => (typeof v === "string" && v.startsWith(NON_FINITE) ? Number(v.slice(NON_FINITE.length)) : v)) as T;
}

// Tables of their own in the run's SQLite file, beside `cache` (whose rows count finished backend
// requests) and `samples` (the viewer's, keyed by doc_id). They belong in RunStore's schema; they
// are created here until the store's owner moves them there. An evaluation's samples are rows of
// their own (`seq` keeps their order), apart from its results and state: the comparison reads the
// state of every model, but the samples of one model at a time (to samples.jsonl), so a run never
// holds every model's samples of a large task at once, nor one JSON text of all of them.
// (Stores written before the split hold the samples inside `data`; they are read as they are.)
// A kind that evaluates in chunks (evaluateInChunks) writes each finished chunk's sample rows and
// its compact record (`evaluation_chunks`, under a key naming the model and the chunk's documents)
// in one transaction, and the evaluation's row once every chunk is done; a resumed run skips the
// chunks whose key matches. Stores without the chunk table get it when first written (additive).
const TABLES = `CREATE TABLE IF NOT EXISTS evaluations (task TEXT NOT NULL, model TEXT NOT NULL, data TEXT NOT NULL, PRIMARY KEY (task, model));
  CREATE TABLE IF NOT EXISTS evaluation_samples (task TEXT NOT NULL, model TEXT NOT NULL, seq INTEGER NOT NULL, data TEXT NOT NULL, PRIMARY KEY (task, model, seq));
  CREATE TABLE IF NOT EXISTS evaluation_chunks (task TEXT NOT NULL, model TEXT NOT NULL, chunk INTEGER NOT NULL, key TEXT NOT NULL, data TEXT NOT NULL, PRIMARY KEY (task, model, chunk))`;

/** Stores known to hold the tables: sqlite_master is asked once per store, not on every read (a table, once there, stays). */
const withTables = new WeakSet<Database.Database>();

/** Creates the tables where missing (additive). */
function createTables(store: Pick<RunStore, "db">): void {
  store.db.exec(TABLES);
  withTables.add(store.db);
}

/** Whether the store holds the evaluations table; looked up, not created: the store may be another run's, opened read-only (baseline.from). */
function hasEvaluations(store: Pick<RunStore, "db">): boolean {
  if (withTables.has(store.db)) return true;
  const has = store.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'evaluations'").get() !== undefined;
  if (has) withTables.add(store.db);
  return has;
}

/** Writes a model's evaluation of a task, whole (samples in their order, duplicates kept). */
export function putEvaluation(store: RunStore, task: string, model: string, evaluation: ModelEvaluation): void {
  createTables(store);
  const { samples, ...rest } = evaluation;
  const putSample = store.db.prepare("INSERT INTO evaluation_samples(task, model, seq, data) VALUES (?, ?, ?, ?)");
  store.db.transaction(() => {
    store.db.prepare("INSERT OR REPLACE INTO evaluations(task, model, data) VALUES (?, ?, ?)").run(task, model, encode(rest));
    store.db.prepare("DELETE FROM evaluation_samples WHERE task = ? AND model = ?").run(task, model);
    // Chunk records describe sample rows this write replaced.
    store.db.prepare("DELETE FROM evaluation_chunks WHERE task = ? AND model = ?").run(task, model);
    for (const [seq, row] of samples.entries()) putSample.run(task, model, seq, encode(row));
  })();
}

/** A model's chunks of a task in the store; `end` is one past the last sample row the evaluation has (stored or put). */
export interface StoreChunks extends ChunkSink {
  readonly end: number;
}

/** The statements of a chunked evaluation's writes, prepared once per store. */
interface ChunkStatements {
  get: Database.Statement;
  putChunk: Database.Statement;
  putSample: Database.Statement;
  putEvaluationRow: Database.Statement;
  dropSamplesFrom: Database.Statement;
}

const chunkStatementsOf = new WeakMap<Database.Database, ChunkStatements>();

function chunkStatements(store: RunStore): ChunkStatements {
  let s = chunkStatementsOf.get(store.db);
  if (!s) {
    createTables(store);
    s = {
      get: store.db.prepare("SELECT key, data FROM evaluation_chunks WHERE task = ? AND model = ? AND chunk = ?"),
      putChunk: store.db.prepare("INSERT OR REPLACE INTO evaluation_chunks(task, model, chunk, key, data) VALUES (?, ?, ?, ?, ?)"),
      putSample: store.db.prepare("INSERT OR REPLACE INTO evaluation_samples(task, model, seq, data) VALUES (?, ?, ?, ?)"),
      putEvaluationRow: store.db.prepare("INSERT OR REPLACE INTO evaluations(task, model, data) VALUES (?, ?, ?)"),
      dropSamplesFrom: store.db.prepare("DELETE FROM evaluation_samples WHERE task = ? AND model = ? AND seq >= ?"),
    };
    chunkStatementsOf.set(store.db, s);
  }
  return s;
}

/**
 * The store as a chunked evaluation's sink for one task and model: each chunk's sample rows
 * (seq = document index) and record are written in one transaction, so a run killed in the
 * middle keeps every finished chunk and its resumption evaluates only the others.
 */
export function storeChunks(store: RunStore, task: string, model: string): StoreChunks {
  const { get, putChunk, putSample } = chunkStatements(store);
  let end = 0;
  return {
    get end() {
      return end;
    },
    stored(index, key) {
      const row = get.get(task, model, index) as { key: string; data: string } | undefined;
      if (row?.key !== key) return undefined;
      const { first, count, record } = decode<{ first: number; count: number; record: unknown }>(row.data);
      end = Math.max(end, first + count);
      return record;
    },
    put(index, key, first, samples, record) {
      guardStore(store.file, () =>
        store.db.transaction(() => {
          for (const [i, row] of samples.entries()) putSample.run(task, model, first + i, encode(row));
          putChunk.run(task, model, index, key, encode({ first, count: samples.length, record }));
        })(),
      );
      end = Math.max(end, first + samples.length);
    },
  };
}

/**
 * Writes a chunked evaluation's results and state once every chunk is in the store (`chunks`),
 * dropping sample rows past its last one (left by an earlier, larger evaluation of the model).
 */
export function putChunkedEvaluation(store: RunStore, task: string, model: string, evaluation: ChunkedEvaluation, chunks: StoreChunks): void {
  const { results, state } = evaluation;
  const { putEvaluationRow, dropSamplesFrom } = chunkStatements(store);
  guardStore(store.file, () =>
    store.db.transaction(() => {
      putEvaluationRow.run(task, model, encode({ results, state }));
      dropSamplesFrom.run(task, model, chunks.end);
    })(),
  );
}

/** Rows per page when stored samples are read page by page. */
const PAGE_ROWS = 2000;

/**
 * The key under which a task's stored evaluations (and a samples record built from them, see
 * collectStored) carry a reader of one model's samples page by page.
 */
export const SAMPLE_PAGES = Symbol("quanteval.samplePages");

/** A samples record that may carry {@link SAMPLE_PAGES}. */
type PagedSamples = Record<string, SampleRow[]> & { [SAMPLE_PAGES]?: (model: string) => Iterable<SampleRow[]> };

/**
 * One model's samples, page by page: read from the store in pages of {@link PAGE_ROWS} rows when
 * `samples` came from stored evaluations, else the whole array as one page. A caller that reduces
 * or writes rows one at a time never holds a large task's samples at once.
 */
export function samplePages(samples: Record<string, SampleRow[]>, model: string): Iterable<SampleRow[]> {
  const pages = (samples as PagedSamples)[SAMPLE_PAGES];
  return pages && Object.getOwnPropertyDescriptor(samples, model)?.get ? pages(model) : [samples[model]];
}

function* readPages(store: RunStore, task: string, model: string): Generator<SampleRow[]> {
  // Ranges of seq, not one open cursor: the caller writes to the same database between pages.
  const page = store.db.prepare("SELECT data FROM evaluation_samples WHERE task = ? AND model = ? AND seq >= ? AND seq < ? ORDER BY seq");
  for (let from = 0; ; from += PAGE_ROWS) {
    const rows = (page.all(task, model, from, from + PAGE_ROWS) as Array<{ data: string }>).map((r) => decode<SampleRow>(r.data));
    if (rows.length === 0) return;
    yield rows;
  }
}

/**
 * Reads a task's stored evaluations back, one model at a time. `samples` is read from the store
 * each time it is accessed (not kept): read it once per model, when it is needed, or page by page
 * through {@link samplePages}.
 */
export function storedEvaluations<S>(store: RunStore, task: string): StoredEvaluations<S> & { [SAMPLE_PAGES]: (model: string) => Iterable<SampleRow[]> } {
  return {
    [SAMPLE_PAGES]: (model: string) => readPages(store, task, model),
    get(model: string): ModelEvaluation<S> {
      const evaluation = storedEvaluation<S>(store, task, model);
      if (evaluation === undefined) throw new QuantevalError(`task ${task}: no stored evaluation of model '${model}' in ${store.dir}; run it again with --resume`);
      return evaluation;
    },
  };
}

/**
 * A model's stored evaluation of a task, or undefined when the store has none (one read of its
 * row). `samples` is read from the store each time it is accessed, as in {@link storedEvaluations}.
 */
export function storedEvaluation<S>(store: Pick<RunStore, "db">, task: string, model: string): ModelEvaluation<S> | undefined {
  const text = hasEvaluations(store) ? (store.db.prepare("SELECT data FROM evaluations WHERE task = ? AND model = ?").get(task, model) as { data: string } | undefined)?.data : undefined;
  if (text === undefined) return undefined;
  const evaluation = decode<ModelEvaluation<S>>(text);
  if (evaluation.samples !== undefined) return evaluation;
  const read = () =>
    (store.db.prepare("SELECT data FROM evaluation_samples WHERE task = ? AND model = ? ORDER BY seq").all(task, model) as Array<{ data: string }>).map((r) => decode<SampleRow>(r.data));
  return Object.defineProperty(evaluation, "samples", { get: read, enumerable: true });
}
