// Answers handed from a backend to the run store as each one arrives, so a batch that fails
// part-way keeps what was answered (a paid API is not asked twice). The store opens a sink
// around one batch; the backend reports answers by their index in that batch. An async-local
// context keeps the Backend interface unchanged: backends that never report simply commit
// whole batches, as before.
import { AsyncLocalStorage } from "node:async_hooks";

/** Where a batch's answers go, by index in the batch of `total` requests. */
export interface AnswerSink {
  total: number;
  put(index: number, value: unknown): void;
}

const sinks = new AsyncLocalStorage<AnswerSink>();

/** Runs `fn` (one batch of `sink.total` requests) with `sink` receiving answers as they arrive. */
export function withAnswerSink<T>(sink: AnswerSink, fn: () => Promise<T>): Promise<T> {
  return sinks.run(sink, fn);
}

/**
 * Reports answer `index` of a batch of `total` requests. A no-op outside a sink, or when the
 * batch is not the one the sink was opened for (its size differs).
 */
export function reportAnswer(total: number, index: number, value: unknown): void {
  const s = sinks.getStore();
  if (s && s.total === total) s.put(index, value);
}
