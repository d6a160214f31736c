// loglikelihood evaluated chunk by chunk (issue 14: memory flat in dataset size): on lambada_openai
// over 40 real sentences (the first body lines of the shared WikiText-2 test file, in LAMBADA's
// field layout: the task predicts each line's last word) with stories260K, the chunked evaluation
// written to the store gives the same metrics, result columns and sample rows as the documents
// scored whole, and a run stopped after two chunks resumes with the finished chunks read back
// and only the rest evaluated.
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { openBackend } from "../../src/backends/openBackend.js";
import type { ModelSpec } from "../../src/config/schema.js";
import { putChunkedEvaluation, storeChunks, storedEvaluations } from "../../src/run/evaluationStore.js";
import { silentProgress } from "../../src/run/taskContext.js";
import { RunStore } from "../../src/store/runStore.js";
import { evaluateLoglikelihoodChunks, indexLoglikelihood } from "../../src/tasks/kinds/loglikelihoodChunks.js";
import { aggregateLoglikelihood, aggregateLoglikelihoodColumns, openLoglikelihood, prepareLoglikelihood } from "../../src/tasks/loglikelihood.js";
import { decodeLoglikelihoodColumns, encodeLoglikelihoodColumns, loglikelihoodColumns } from "../../src/tasks/loglikelihoodColumns.js";
import type { LoglikelihoodTask } from "../../src/tasks/taskDefinition.js";
import { loadTask } from "../../src/tasks/taskRegistry.js";
import { tempDir } from "../helpers/runConfig.js";
import { stoppingAt } from "../helpers/stoppingSink.js";
import { models, sharedPath } from "../helpers/shared.js";

const def = loadTask("lambada_openai").def as LoglikelihoodTask;

/** A data directory holding 40 WikiText-2 body lines (cut to 24 words) as lambada_openai's test split. */
function lambadaFromWikitext(): string {
  const lines = readFileSync(sharedPath("datasets", "wikitext-2-raw-v1", "wiki.test.raw"), "utf8")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l.length > 80 && !l.startsWith("="))
    .slice(0, 40)
    .map((l) => l.split(" ").slice(0, 24).join(" "));
  const dataDir = tempDir();
  const dir = join(dataDir, "EleutherAI", "lambada_openai", "default");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "test.jsonl"), lines.map((text) => JSON.stringify({ text })).join("\n") + "\n");
  return dataDir;
}

test("chunked loglikelihood equals the whole evaluation, and resumes only the chunks a stopped run did not finish", async () => {
  const opts = { dataDir: lambadaFromWikitext(), seed: 1234 };
  const b = await openBackend({ name: "f32", model: models.stories(), n_ctx: 256 } as ModelSpec, models.stories());
  await b.describe();
  const store = RunStore.open(tempDir(), { configHash: "ll-chunks-test" });
  try {
    const docs = await prepareLoglikelihood(def, opts);
    assert.equal(docs.length, 40);
    const whole = await b.loglikelihood(docs.map((d) => d.request));
    const index = indexLoglikelihood(await openLoglikelihood(def, opts), 12);
    assert.deepEqual(
      index.chunks.map((c) => [c.from, c.to, c.requests]),
      [
        [0, 12, 12],
        [12, 24, 12],
        [24, 36, 12],
        [36, 40, 4],
      ],
    );
    const env = { name: "lambada_openai", store, progress: silentProgress, warn: () => {} };

    // A run stopped while writing its third chunk (its requests are cached, the chunk is not recorded).
    await assert.rejects(evaluateLoglikelihoodChunks(index, b, env, stoppingAt(storeChunks(store, "lambada_openai", "f32"), 3)), /stopped/);
    assert.deepEqual(store.counters, { cached: 0, computed: 36 });

    // Resumed: chunks 1–2 from their records, chunk 3 from the request cache, only chunk 4 computed.
    const chunks = storeChunks(store, "lambada_openai", "f32");
    const columns = await evaluateLoglikelihoodChunks(index, b, env, chunks);
    assert.deepEqual(store.counters, { cached: 36, computed: 40 });
    assert.equal(chunks.end, 40);

    assert.deepEqual(columns, loglikelihoodColumns(whole), "the same results as scored whole");
    assert.deepEqual(decodeLoglikelihoodColumns(encodeLoglikelihoodColumns(columns)), columns, "columns survive the store's encoding");
    const metrics = aggregateLoglikelihoodColumns(def, columns);
    assert.deepEqual(metrics, aggregateLoglikelihood(def, whole));
    assert.ok(metrics.ppl! > 1 && Number.isFinite(metrics.ppl!) && metrics.acc !== undefined);

    putChunkedEvaluation(store, "lambada_openai", "f32", { results: { ...metrics }, state: encodeLoglikelihoodColumns(columns) }, chunks);
    const samples = storedEvaluations(store, "lambada_openai").get("f32").samples;
    assert.deepEqual(
      samples.map((s) => [s.doc_id, s.continuation, s.logprob, s.is_greedy, s.n_tokens, s.prompt_hash]),
      whole.map((r, i) => [i, docs[i].request.continuation, r.logprob, r.isGreedy, r.nTokens, docs[i].prompt_hash]),
    );
    // A store written before the columns holds the backend's results themselves: read as columns too.
    assert.deepEqual(decodeLoglikelihoodColumns(whole), columns);
  } finally {
    store.close("done");
    await b.dispose();
  }
});
