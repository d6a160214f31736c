// Equal-length windows (perplexity chunks) are decoded on a context shaped as llama-perplexity's
// (n_batch / len windows per llama_decode, one KV stream each: src/backends/gguf/windowContext.ts);
// ragged windows on the scoring context, one window per session. The same windows must give the
// same log-prob rows, bit for bit, on both: the layout is a speed choice, never a figure change.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, test } from "node:test";
import { GgufBackend } from "../../src/backends/gguf.js";
import { windowShape } from "../../src/backends/gguf/windowContext.js";
import type { ContextShape } from "../../src/backends/gguf/options.js";
import { models, sharedPath } from "../helpers/shared.js";

let backend: GgufBackend;
before(async () => {
  backend = await GgufBackend.open({ name: "stories260K", path: models.stories(), nCtx: 512, threads: 2 });
});
after(async () => {
  await backend?.dispose();
});

test("windowShape: n_batch / len streams of len cells, at most n_seq_max, one stream when a window exceeds n_batch", () => {
  const base: ContextShape = { nCtx: 4096, nBatch: 2048, nUbatch: 512, nSeqMax: 64, threads: 2, kvUnified: true, flashAttn: "auto", cacheType: "f16" };
  assert.deepEqual(windowShape(base, 512), { ...base, nCtx: 2048, nSeqMax: 4, kvUnified: false });
  assert.deepEqual(windowShape(base, 600), { ...base, nCtx: 1800, nSeqMax: 3, kvUnified: false });
  assert.deepEqual(windowShape(base, 4096), { ...base, nCtx: 4096, nSeqMax: 1, kvUnified: false });
  assert.deepEqual(windowShape(base, 8), { ...base, nCtx: 512, nSeqMax: 64, kvUnified: false });
});

test("perplexity windows: the window context's rows equal the scoring context's bit for bit", async () => {
  const text = readFileSync(sharedPath("datasets", "wikitext-2-raw-v1", "wiki.test.raw"), "utf8").slice(0, 40_000);
  const tokens = await backend.tokenize(text, true);
  // Five chunks of 512 as the perplexity task makes them: two llama_decode calls on the window context (4 + 1).
  const chunks = [0, 1, 2, 3, 4].map((i) => ({ tokens: tokens.slice(i * 512, (i + 1) * 512), firstScored: 257 }));
  assert.ok(chunks.every((c) => c.tokens.length === 512));
  const equal = await backend.distributions(chunks);
  // A shorter window makes the call ragged, so the same chunks go to the scoring context.
  const ragged = await backend.distributions([...chunks, { tokens: tokens.slice(0, 300), firstScored: 1 }]);
  equal.forEach((d, w) => {
    assert.equal(d.nRows, 255);
    assert.ok(d.logprobs.every(Number.isFinite), `chunk ${w}: non-finite log-prob`);
    assert.deepEqual(d.logprobs, ragged[w].logprobs, `chunk ${w}: rows differ between the two contexts`);
  });
});
