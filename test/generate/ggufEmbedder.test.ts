// A GGUF model as a sentence embedder through node-llama-cpp, alone and beside model2vec in a
// generate task. stories260K is not an embedding model, but it is a real GGUF that llama.cpp
// pools (last token for a decoder without pooling metadata), which is what is under test here.
import assert from "node:assert/strict";
import { join, relative } from "node:path";
import { test } from "node:test";
import { loadConfig } from "../../src/config/loadConfig.js";
import { GgufEmbedder } from "../../src/embedders/ggufEmbedder.js";
import { cosineDistance } from "../../src/metrics/embeddingDistance.js";
import { runEvaluation } from "../../src/run/runEvaluation.js";
import { models, sharedPath } from "../helpers/shared.js";
import { tempDir, writeConfig } from "../helpers/runConfig.js";

test("gguf embedder: deterministic, normalized vectors of n_embd dimensions", async () => {
  // threads: 1 — the machine is shared; oversubscribed llama.cpp threads are very slow.
  const e = await GgufEmbedder.load(models.stories(), { threads: 1, contextSize: 128 });
  try {
    assert.equal(e.id, "gguf:stories260K.gguf");
    const [a, b, a2, empty] = await e.embed(["Lily went to the park.", "Tom ate a big red apple at home.", "Lily went to the park.", ""]);
    assert.equal(a.length, 64);
    assert.ok(Math.abs(Math.hypot(...a) - 1) < 1e-5);
    assert.deepEqual(a, a2);
    assert.equal(cosineDistance(a, a2), 0);
    assert.ok(cosineDistance(a, b) > 0);
    assert.ok(empty.every((x) => x === 0));
  } finally {
    await e.dispose();
  }
  await assert.rejects(GgufEmbedder.load("/nonexistent/model.gguf"), { message: "GGUF embedding model not found: /nonexistent/model.gguf" });
});

test("two embedder kinds behind one interface in a generate task", async () => {
  const dir = tempDir();
  const m = (name: string, path: string) => ({ name, model: path, n_ctx: 256, threads: 1 });
  const configPath = writeConfig(
    {
      baseline: m("f32", models.stories()),
      variants: [m("q4_0", models.storiesVariant("q4_0"))],
      tasks: [
        {
          task: "generate",
          data: relative(dir, sharedPath("datasets", "dolly-hhrlhf-small", "train.jsonl")),
          reference: "response",
          max_tokens: 24,
          limit: 6,
          embedders: [
            { kind: "model2vec", path: models.model2vec() },
            { kind: "gguf", path: models.stories(), threads: 1 },
          ],
        },
      ],
    },
    dir,
  );
  const r = await runEvaluation(loadConfig(configPath), { out: join(dir, "out") });
  const c = r.tasks.generate.comparisons.q4_0 as Record<string, unknown> & { embedders: Record<string, Record<string, number>> };
  assert.deepEqual(Object.keys(c.embedders), ["model2vec:model2vec-test", "gguf:stories260K.gguf"]);
  for (const per of Object.values(c.embedders)) for (const k of ["embed_l1_to_baseline", "embed_cos_to_baseline", "embed_l1_to_reference", "embed_cos_to_reference"]) assert.ok(per[k] > 0, k);
  // The flattened keys are the first embedder's.
  assert.equal(c.embedder, "model2vec:model2vec-test");
  assert.equal(c.embed_l1_to_baseline, c.embedders["model2vec:model2vec-test"].embed_l1_to_baseline);
  const base = r.tasks.generate.results.f32 as { embedders: Record<string, Record<string, number>> };
  assert.equal(base.embedders["gguf:stories260K.gguf"].embed_cos_to_baseline, 0);
});
