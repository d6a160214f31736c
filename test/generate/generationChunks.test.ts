// A generate task's generations evaluated in chunks on the real stories260K model: the same
// generations as one call over every request, stored as rows a chunk at a time, and a run stopped
// in the middle resumes with no chunk it finished generated or even looked up again.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { GenerateRequest, GenerateResult } from "../../src/backends/backend.js";
import { openBackend } from "../../src/backends/openBackend.js";
import type { ModelSpec } from "../../src/config/schema.js";
import { putChunkedEvaluation, storeChunks, storedEvaluations } from "../../src/run/evaluationStore.js";
import { silentProgress } from "../../src/run/taskContext.js";
import { RunStore } from "../../src/store/runStore.js";
import { evaluateGenerations, type GenerateState, planGenerationChunks, readOutputs } from "../../src/tasks/generate/generationChunks.js";
import { stoppingAt } from "../helpers/stoppingSink.js";
import { tempDir } from "../helpers/runConfig.js";
import { models } from "../helpers/shared.js";

const WORDS = ["cat", "dog", "sun", "moon", "tree"];
// 150 distinct prompts: three chunks of 64, 64 and 22 requests.
const requests: GenerateRequest[] = Array.from({ length: 150 }, (_, i) => ({ prompt: `Once upon a time, a ${WORDS[i % 5]} number ${i} saw`, maxTokens: 8 }));

test("chunked generations equal one call over every request, and a stopped run resumes only its unfinished chunks", async () => {
  const b = await openBackend({ name: "f32", model: models.stories(), n_ctx: 128, threads: 1 } as ModelSpec, models.stories());
  await b.describe();
  const store = RunStore.open(tempDir(), { configHash: "generate-chunks-test" });
  try {
    const chunks = planGenerationChunks(requests, 64);
    assert.deepEqual(
      chunks.map((c) => [c.from, c.to, c.requests]),
      [
        [0, 64, 64],
        [64, 128, 64],
        [128, 150, 22],
      ],
    );
    assert.equal(new Set(chunks.map((c) => c.hash)).size, 3, "a chunk's hash covers its requests");
    assert.deepEqual(planGenerationChunks(requests, 64), chunks, "the plan is deterministic");

    // Reference: the same batches of 64 as the store's cache sends them.
    const whole: GenerateResult[] = [];
    for (let s = 0; s < requests.length; s += 64) whole.push(...(await b.generate(requests.slice(s, s + 64))));

    const env = { name: "gen", store, progress: silentProgress, warn: () => {} };
    // A run stopped while writing its second chunk (its requests cached, the chunk not recorded).
    await assert.rejects(evaluateGenerations(requests, chunks, b, env, stoppingAt(storeChunks(store, "gen", "f32"), 2)), /stopped/);
    assert.deepEqual(store.counters, { cached: 0, computed: 128 });

    // Resumed: chunk 1 from its record (counted as cached, not looked up), chunk 2 from the request cache, chunk 3 generated.
    const sink = storeChunks(store, "gen", "f32");
    await evaluateGenerations(requests, chunks, b, env, sink);
    assert.deepEqual(store.counters, { cached: 128, computed: 150 });
    assert.equal(sink.end, 150);

    const layout = { clean: 100, perturbed: 40, probes: 10 };
    putChunkedEvaluation(store, "gen", "f32", { results: {}, state: { layout } }, sink);
    const outputs = readOutputs(storedEvaluations<GenerateState>(store, "gen"), "f32");
    const strip = (gs: typeof whole) => gs.map(({ text, nTokens, finishReason }) => ({ text, nTokens, finishReason }));
    assert.deepEqual(outputs, { clean: strip(whole.slice(0, 100)), perturbed: strip(whole.slice(100, 140)), probes: strip(whole.slice(140)) }, "the generations of one call, in request order");

    // Read beside the baseline's generations (here its own), each generation is the baseline's object: equal values, nothing copied.
    const again = readOutputs(storedEvaluations<GenerateState>(store, "gen"), "f32", outputs);
    assert.deepEqual(again, outputs);
    for (const part of ["clean", "perturbed", "probes"] as const)
      assert.ok(
        again[part].every((g, i) => g === outputs[part][i]),
        `${part}: the baseline's objects`,
      );
    // A generation that differs from the baseline's in any field is its own, with its own values.
    const other = (g: GenerateResult, k: number): GenerateResult =>
      k % 3 === 0 ? { ...g, nTokens: g.nTokens + 1 } : k % 3 === 1 ? { ...g, finishReason: g.finishReason === "eos" ? "length" : "eos" } : { ...g, text: `${g.text}!` };
    const changed = whole.map((g, k) => (k % 7 === 0 ? other(g, k / 7) : g));
    const mixed = readOutputs({ get: () => ({ results: {}, samples: [], state: { clean: changed.slice(0, 100), perturbed: changed.slice(100, 140), probes: changed.slice(140) } }) }, "v", outputs);
    assert.deepEqual(mixed, { clean: strip(changed.slice(0, 100)), perturbed: strip(changed.slice(100, 140)), probes: strip(changed.slice(140)) });
    const flat = [...mixed.clean, ...mixed.perturbed, ...mixed.probes];
    const base = [...outputs.clean, ...outputs.perturbed, ...outputs.probes];
    assert.ok(
      flat.every((g, k) => (g === base[k]) === (k % 7 !== 0)),
      "shared exactly where equal",
    );

    // A store written before chunks holds the generations in the state: read the same way.
    const legacy = { get: () => ({ results: {}, samples: [], state: { clean: whole.slice(0, 100), perturbed: whole.slice(100, 140), probes: whole.slice(140) } }) };
    assert.deepEqual(readOutputs(legacy, "f32"), outputs);
    assert.deepEqual(readOutputs(legacy, "f32", outputs), outputs);
  } finally {
    store.close("done");
    await b.dispose();
  }
});
