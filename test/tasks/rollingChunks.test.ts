// loglikelihood_rolling evaluated chunk by chunk (issue 14: memory flat in dataset size): on the
// wikitext task over the first 6 articles of the shared WikiText-2 test file with stories260K
// (n_ctx 256, so each article spans many rolling windows), the chunked evaluation written to the
// store gives the same metrics and sample rows as the documents scored whole, and a run stopped
// in its second chunk resumes with the first chunk read back and only the rest evaluated.
import assert from "node:assert/strict";
import { test } from "node:test";
import { openBackend } from "../../src/backends/openBackend.js";
import type { ModelSpec } from "../../src/config/schema.js";
import { putChunkedEvaluation, storeChunks, storedEvaluations } from "../../src/run/evaluationStore.js";
import { silentProgress } from "../../src/run/taskContext.js";
import { RunStore } from "../../src/store/runStore.js";
import { evaluateRollingChunks, indexRolling } from "../../src/tasks/kinds/rollingChunks.js";
import { aggregateRolling, aggregateRollingColumns, openRolling, prepareRolling } from "../../src/tasks/rolling.js";
import type { RollingTask } from "../../src/tasks/taskDefinition.js";
import { loadTask } from "../../src/tasks/taskRegistry.js";
import { tempDir } from "../helpers/runConfig.js";
import { models, sharedPath } from "../helpers/shared.js";
import { stoppingAt } from "../helpers/stoppingSink.js";

const def = loadTask("wikitext").def as RollingTask;
const opts = { data: sharedPath("datasets", "wikitext-2-raw-v1", "wiki.test.raw"), seed: 1234, limit: 6 };

test("chunked loglikelihood_rolling equals the whole evaluation, and resumes only the chunks a stopped run did not finish", async () => {
  const b = await openBackend({ name: "f32", model: models.stories(), n_ctx: 256 } as ModelSpec, models.stories());
  await b.describe();
  const store = RunStore.open(tempDir(), { configHash: "rolling-chunks-test" });
  try {
    const docs = await prepareRolling(def, opts);
    assert.equal(docs.length, 6);
    const whole = await b.loglikelihoodRolling(docs.map((d) => d.text));
    assert.ok(
      whole.every((r) => r.nTokens > 256),
      "every article spans several rolling windows",
    );
    const index = indexRolling(def, await openRolling(def, opts), 2);
    assert.deepEqual(
      index.chunks.map((c) => [c.from, c.to]),
      [
        [0, 2],
        [2, 4],
        [4, 6],
      ],
    );
    const env = { name: "wikitext", store, progress: silentProgress, warn: () => {} };

    // Stopped while writing the second chunk: its texts are cached, the chunk is not recorded.
    await assert.rejects(evaluateRollingChunks(index, b, env, stoppingAt(storeChunks(store, "wikitext", "f32"), 2)), /stopped/);
    assert.deepEqual(store.counters, { cached: 0, computed: 4 });

    // Resumed: chunk 1 from its record, chunk 2 from the request cache, only chunk 3 computed.
    const chunks = storeChunks(store, "wikitext", "f32");
    const columns = await evaluateRollingChunks(index, b, env, chunks);
    assert.deepEqual(store.counters, { cached: 4, computed: 6 });
    assert.equal(chunks.end, 6);

    const metrics = aggregateRollingColumns(def, columns);
    assert.deepEqual(metrics, aggregateRolling(def, docs, whole), "the same metrics as scored whole");
    assert.ok(metrics.word_perplexity! > 1 && Number.isFinite(metrics.bits_per_byte!));

    putChunkedEvaluation(store, "wikitext", "f32", { results: { ...metrics }, state: null }, chunks);
    const samples = storedEvaluations(store, "wikitext").get("f32").samples;
    assert.deepEqual(
      samples.map((s) => [s.doc_id, s.logprob, s.n_tokens, s.words, s.bytes, s.prompt_hash]),
      whole.map((r, i) => [i, r.logprob, r.nTokens, docs[i].words, docs[i].bytes, docs[i].prompt_hash]),
    );
  } finally {
    store.close("done");
    await b.dispose();
  }
});
