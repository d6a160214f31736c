// A chunk sink that stops a run in the middle: the way tests of chunked evaluation simulate a
// run killed while writing a chunk (its requests cached, the chunk itself not recorded).
import type { ChunkSink } from "../../src/tasks/kinds/taskKind.js";

/** Passes chunks to `sink` until the `n`th put, which throws "stopped" without writing. */
export function stoppingAt(sink: ChunkSink, n: number): ChunkSink {
  let puts = 0;
  return {
    stored: (i, key) => sink.stored(i, key),
    put: (i, key, from, rows, record) => {
      if (++puts === n) throw new Error("stopped");
      sink.put(i, key, from, rows, record);
    },
  };
}
