// RowBuffers hands a given-back buffer out again (the next batch's rows reuse its pages), only for
// the same length, and keeps none after clear(). That reused rows are rewritten whole is checked
// where they are filled (src/backends/gguf/distributions.ts) and by the perplexity tests, whose
// later batches run on reused buffers and still equal llama-perplexity.
import assert from "node:assert/strict";
import { test } from "node:test";
import { RowBuffers } from "../../src/metrics/rowBuffers.js";

test("RowBuffers: reuse by length, none after clear", () => {
  const pool = new RowBuffers();
  const a = pool.take(1024);
  const b = pool.take(1024);
  assert.notEqual(a, b, "two buffers taken at once are distinct");
  pool.give([a, b]);
  const c = pool.take(1024);
  const d = pool.take(1024);
  assert.ok((c === a || c === b) && (d === a || d === b) && c !== d, "both come back, each once");
  assert.notEqual(pool.take(1024), a, "a third one is new");
  pool.give([c]);
  assert.equal(pool.take(512).length, 512, "another length is never served from the wrong list");
  pool.clear();
  const e = pool.take(1024);
  assert.ok(e !== c && e.every((x) => x === 0), "after clear, a fresh zeroed buffer");
});
