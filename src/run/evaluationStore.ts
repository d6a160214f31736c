// Per-model evaluations of each task, written to the run's store as each model finishes and
// read back by the comparison: the comparison never sees a model, only what was stored.
import type { ModelEvaluation, StoredEvaluations } from "../tasks/kinds/taskKind.js";
import type { RunStore } from "../store/runStore.js";
import { QuantevalError } from "../util/errors.js";

// JSON has no ±Infinity or NaN (a log-likelihood can be −Infinity): they are written as tagged strings.
const NON_FINITE = "\u0000num:";

function encode(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === "number" && !Number.isFinite(v) ? `${NON_FINITE}${v}` : v));
}

function decode<T>(text: string): T {
  return JSON.parse(text, (_k, v: unknown) => (typeof v === "string" && v.startsWith(NON_FINITE) ? Number(v.slice(NON_FINITE.length)) : v)) as T;
}

// A table of its own in the run's SQLite file, beside `cache` (whose rows count finished backend
// requests) and `samples` (the viewer's, keyed by doc_id). It belongs in RunStore's schema; it
// is created here until the store's owner moves it there.
const TABLE = "CREATE TABLE IF NOT EXISTS evaluations (task TEXT NOT NULL, model TEXT NOT NULL, data TEXT NOT NULL, PRIMARY KEY (task, model))";

/**
 * Writes a model's evaluation of a task, whole (samples in their order, duplicates kept: the
 * samples table, keyed by doc_id, is written for the viewer once the task is compared).
 */
export function putEvaluation(store: RunStore, task: string, model: string, evaluation: ModelEvaluation): void {
  store.db.exec(TABLE);
  store.db.prepare("INSERT OR REPLACE INTO evaluations(task, model, data) VALUES (?, ?, ?)").run(task, model, encode(evaluation));
}

/** Reads a task's stored evaluations back, one model at a time. */
export function storedEvaluations<S>(store: RunStore, task: string): StoredEvaluations<S> {
  return {
    get(model: string): ModelEvaluation<S> {
      store.db.exec(TABLE);
      const text = (store.db.prepare("SELECT data FROM evaluations WHERE task = ? AND model = ?").get(task, model) as { data: string } | undefined)?.data;
      if (text === undefined) throw new QuantevalError(`task ${task}: no stored evaluation of model '${model}' in ${store.dir}; run it again with --resume`);
      return decode<ModelEvaluation<S>>(text);
    },
  };
}
