// multiple_choice evaluated chunk by chunk (issue 14: memory flat in dataset size): on KoBEST COPA
// with stories260K, the chunked evaluation written to the store gives the same metrics, prediction
// columns and sample rows as the documents scored whole, and a run stopped after two chunks resumes
// with the finished chunks read back and only the rest evaluated.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { Backend } from "../../src/backends/backend.js";
import { openBackend } from "../../src/backends/openBackend.js";
import type { ModelSpec } from "../../src/config/schema.js";
import { putChunkedEvaluation, storeChunks, storedEvaluations } from "../../src/run/evaluationStore.js";
import { silentProgress } from "../../src/run/taskContext.js";
import { RunStore } from "../../src/store/runStore.js";
import { evaluateChunks, indexDocs } from "../../src/tasks/kinds/multipleChoiceChunks.js";
import { stoppingAt } from "../helpers/stoppingSink.js";
import { aggregateMultipleChoice, openMultipleChoice, prepareMultipleChoice, scoreResults } from "../../src/tasks/multipleChoice.js";
import { aggregateColumns, decodeColumns, encodeColumns, scoreColumns } from "../../src/tasks/multipleChoiceColumns.js";
import type { MultipleChoiceTask } from "../../src/tasks/taskDefinition.js";
import { loadTask } from "../../src/tasks/taskRegistry.js";
import { tempDir } from "../helpers/runConfig.js";
import { models, sharedPath } from "../helpers/shared.js";

const def = loadTask("kobest_copa").def as MultipleChoiceTask;
// Few-shot and the normalization panel: every column (PMI, panel) and the unconditional requests.
const opts = { dataDir: sharedPath("datasets"), seed: 1234, limit: 50, numFewshot: 1, normalizations: true };

async function scoredWhole(b: Backend) {
  const docs = await prepareMultipleChoice(def, opts);
  const scored = scoreResults(docs, await b.loglikelihood(docs.flatMap((d) => d.requests)));
  return { docs, scored };
}

test("chunked multiple_choice equals the whole evaluation, and resumes only the chunks a stopped run did not finish", async () => {
  const b = await openBackend({ name: "f32", model: models.stories(), n_ctx: 256 } as ModelSpec, models.stories());
  await b.describe();
  const store = RunStore.open(tempDir(), { configHash: "mc-chunks-test" });
  try {
    const { docs, scored } = await scoredWhole(b);
    const index = indexDocs(await openMultipleChoice(def, opts), 16);
    assert.deepEqual(
      index.chunks.map((c) => [c.from, c.to, c.requests]),
      [
        [0, 16, 64],
        [16, 32, 64],
        [32, 48, 64],
        [48, 50, 8],
      ],
      "2 choices, each with its unconditional request",
    );
    assert.deepEqual(
      Array.from(index.gold),
      docs.map((d) => d.gold),
    );
    const env = { name: "kobest_copa", store, progress: silentProgress, warn: () => {} };

    // A run stopped while writing its third chunk (its requests are cached, the chunk is not recorded).
    await assert.rejects(evaluateChunks(index, b, env, stoppingAt(storeChunks(store, "kobest_copa", "f32"), 3)), /stopped/);
    assert.deepEqual(store.counters, { cached: 0, computed: 192 });

    // Resumed: chunks 1–2 from their records, chunk 3 from the request cache, only chunk 4 computed.
    const chunks = storeChunks(store, "kobest_copa", "f32");
    const columns = await evaluateChunks(index, b, env, chunks);
    assert.deepEqual(store.counters, { cached: 192, computed: 200 });
    assert.equal(chunks.end, 50);

    assert.deepEqual(columns, scoreColumns(scored), "the same predictions as scored whole");
    assert.deepEqual(decodeColumns(encodeColumns(columns)), columns, "columns survive the store's encoding");
    const metrics = aggregateColumns(def, index.gold, columns);
    assert.deepEqual(metrics, aggregateMultipleChoice(def, docs, scored));
    assert.ok(metrics.acc_mutual_info !== undefined && metrics.acc_norm_chars !== undefined, "the panel is reported");

    putChunkedEvaluation(store, "kobest_copa", "f32", { results: { ...metrics }, state: encodeColumns(columns) }, chunks);
    const stored = storedEvaluations(store, "kobest_copa").get("f32");
    const samples = stored.samples;
    assert.equal(samples.length, 50);
    assert.deepEqual(
      samples.map((s) => [s.doc_id, s.loglikelihoods, s.pred, s.gold, s.prompt_hash, s.fewshot_ids]),
      scored.map((s, i) => [i, s.loglikelihoods, s.pred, docs[i].gold, docs[i].prompt_hash, docs[i].fewshot_ids]),
    );
    // A store written before the columns holds the scored documents themselves: read as columns too.
    assert.deepEqual(decodeColumns(scored), columns);
  } finally {
    store.close("done");
    await b.dispose();
  }
});
