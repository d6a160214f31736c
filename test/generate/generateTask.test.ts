// The generate task end to end on the real stories260K model, its Q8_0/Q4_0 variants and a
// second copy of the baseline, on the dolly prompts from ../shared, with the model2vec embedder.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { test } from "node:test";
import { loadConfig } from "../../src/config/loadConfig.js";
import { applyTypos, typoSeed } from "../../src/perturb/typos.js";
import { runEvaluation } from "../../src/run/runEvaluation.js";
import { models, repoRoot, sharedPath } from "../helpers/shared.js";
import { tempDir, writeConfig } from "../helpers/runConfig.js";

// threads: 1 — the 2-core machine is shared; llama.cpp's spinning threads slow down ~10× when oversubscribed.
const model = (name: string, path: string) => ({ name, model: path, n_ctx: 256, threads: 1 });
const N = 24;

test("generate: metrics, embedding drift, self-distance 0, Q4_0 drifts further than Q8_0, hypotheses, typos, probes, resume", async (t) => {
  const dir = tempDir();
  // Relative paths, resolved against the config's folder as users write them.
  const task = {
    task: "generate",
    data: relative(dir, sharedPath("datasets", "dolly-hhrlhf-small", "train.jsonl")),
    input: "prompt",
    reference: "response",
    max_tokens: 64,
    limit: N,
    perturb: { typos: 0.05, seed: 7 },
    embedders: [{ kind: "model2vec", path: relative(dir, models.model2vec()) }],
    hypotheses: [{ expect: "baseline_self_distance_is_min" }, { expect: "closer", a: "q8_0", b: "q4_0" }, { expect: "within", factor: 1.05 }],
    probes: join(repoRoot, "examples", "probes.yaml"),
  };
  const configPath = writeConfig(
    {
      baseline: model("f32", models.stories()),
      variants: [model("f32_again", models.stories()), model("q8_0", models.storiesVariant("q8_0")), model("q4_0", models.storiesVariant("q4_0"))],
      tasks: [task],
    },
    dir,
  );
  const out = join(dir, "out");
  const results = await runEvaluation(loadConfig(configPath), { out });
  const g = results.tasks.generate;
  assert.equal(g.type, "generate");
  const res = g.results as Record<string, Record<string, number>>;
  const cmp = g.comparisons as Record<string, Record<string, number>>;

  // Reference metrics, diversity and lengths for every model.
  for (const m of ["f32", "f32_again", "q8_0", "q4_0"]) {
    const r = res[m];
    assert.equal(r.n, N);
    for (const k of [
      "exact_match",
      "exact_match_prefix",
      "exact_match_suffix",
      "exact_match_quasi",
      "token_f1",
      "rouge1",
      "rougeL",
      "distinct_1",
      "distinct_2",
      "distinct_3",
      "unique_sentence_ratio",
    ]) {
      assert.ok(r[k] >= 0 && r[k] <= 1, `${m} ${k} = ${r[k]} in [0, 1]`);
    }
    assert.ok(r.rougeL > 0, `${m} shares some words with the references`);
    assert.ok(r.mean_length > 0 && r.mean_tokens > 0 && r.mean_tokens <= 64);
    assert.ok(Number.isFinite(r.length_ratio_to_baseline));
    assert.ok(r.embed_l1_to_reference > 0 && r.embed_cos_to_reference > 0);
  }
  assert.equal(res.f32.length_ratio_to_baseline, 1);
  assert.equal(res.f32.embed_l1_to_baseline, 0);
  assert.equal(res.f32.embed_cos_to_baseline, 0);

  // The baseline against itself: exactly 0.
  for (const k of ["embed_l1_to_baseline", "embed_cos_to_baseline", "embed_l1_to_baseline_median", "embed_cos_to_baseline_median"]) assert.equal(cmp.f32_again[k], 0, k);
  assert.equal(cmp.f32_again.identical_to_baseline, 1);
  assert.equal(cmp.f32_again.embed_l1_to_reference, res.f32.embed_l1_to_reference);

  // results.json carries the four key names per variant, flattened and per embedder.
  const onDisk = JSON.parse(readFileSync(join(out, "results.json"), "utf8"));
  for (const v of ["f32_again", "q8_0", "q4_0"]) {
    const c = onDisk.tasks.generate.comparisons[v];
    for (const k of ["embed_l1_to_baseline", "embed_cos_to_baseline", "embed_l1_to_reference", "embed_cos_to_reference"]) {
      assert.equal(typeof c[k], "number", `${v}.${k}`);
      assert.equal(c.embedders["model2vec:model2vec-test"][k], c[k]);
    }
  }

  // Q4_0 drifts further from the baseline than Q8_0.
  t.diagnostic(
    `to baseline, mean L1: q8_0 ${cmp.q8_0.embed_l1_to_baseline.toFixed(4)} q4_0 ${cmp.q4_0.embed_l1_to_baseline.toFixed(4)}; mean cosine: q8_0 ${cmp.q8_0.embed_cos_to_baseline.toFixed(4)} q4_0 ${cmp.q4_0.embed_cos_to_baseline.toFixed(4)}`,
  );
  t.diagnostic(`identical outputs: q8_0 ${cmp.q8_0.identical_to_baseline} q4_0 ${cmp.q4_0.identical_to_baseline}`);
  assert.ok(cmp.q4_0.embed_l1_to_baseline > cmp.q8_0.embed_l1_to_baseline);
  assert.ok(cmp.q4_0.embed_cos_to_baseline > cmp.q8_0.embed_cos_to_baseline);
  assert.ok(cmp.q8_0.embed_l1_to_baseline > 0);

  // Hypothesis table: metric × distance rows.
  const hyp = g.extra!.hypotheses as Array<Record<string, unknown>>;
  assert.equal(hyp.length, 3 * 2);
  for (const r of hyp) for (const k of ["metric", "distance", "hypothesis", "win", "cells", "win_rate"]) assert.ok(k in r, `row has ${k}`);
  const self = hyp.filter((r) => r.hypothesis === "baseline self-distance is min");
  assert.deepEqual(
    self.map((r) => [r.distance, r.win, r.cells]),
    [
      ["l1", 3, 3],
      ["cos", 3, 3],
    ],
  );
  const closer = hyp.filter((r) => r.hypothesis === "q8_0 closer than q4_0");
  assert.deepEqual(
    closer.map((r) => [r.win, r.cells, r.win_rate]),
    [
      [1, 1, 1],
      [1, 1, 1],
    ],
  );
  t.diagnostic(JSON.stringify(hyp.filter((r) => String(r.hypothesis).startsWith("within"))));

  // Samples.
  const samples = readFileSync(join(out, "samples.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
  assert.equal(samples.length, 4 * N);
  const s = samples.find((x) => x.model === "q4_0" && x.doc_id === 3);
  for (const k of [
    "doc_id",
    "prompt",
    "reference",
    "output",
    "finish_reason",
    "n_tokens",
    "token_f1",
    "rougeL",
    "embed_l1_to_baseline",
    "embed_cos_to_baseline",
    "embed_l1_to_reference",
    "embed_cos_to_reference",
    "perturbed_prompt",
    "perturbed_output",
  ])
    assert.ok(k in s, `sample has ${k}`);

  // Typos are a pure function of (prompt, rate, seed): the samples hold exactly that noise.
  for (const x of samples.filter((y) => y.model === "f32")) assert.equal(x.perturbed_prompt, applyTypos(x.prompt, 0.05, typoSeed(7, x.doc_id)));
  const changed = samples.filter((y) => y.model === "f32" && y.perturbed_prompt !== y.prompt).length;
  assert.ok(changed >= N - 2, `typos changed ${changed} of ${N} prompts`);
  assert.notEqual(applyTypos(s.prompt, 0.05, typoSeed(8, 3)), s.perturbed_prompt);
  const pert = res.q4_0 as unknown as { perturbed: Record<string, number>; degradation: Record<string, number> };
  for (const k of ["token_f1", "rougeL", "embed_l1_to_reference"]) assert.ok(Number.isFinite(pert.degradation[k]), `degradation ${k}`);
  assert.ok(pert.perturbed.embed_l1_clean_to_perturbed > 0);

  // Probes: fact retention per model and the answers side by side.
  const probes = g.extra!.probes as { retention: Record<string, number>; questions: Array<{ answers: Record<string, { text: string; found: boolean[] }> }> };
  assert.deepEqual(Object.keys(probes.retention), ["f32", "f32_again", "q8_0", "q4_0"]);
  assert.equal(probes.questions.length, 4);
  assert.equal(probes.retention.f32, probes.retention.f32_again);
  t.diagnostic(`fact retention: ${JSON.stringify(probes.retention)}`);

  // Resume: every generation comes from the cache, nothing is regenerated.
  const again = await runEvaluation(loadConfig(configPath), { out, resume: true });
  assert.equal(again.requests.computed, 0);
  assert.ok(again.requests.cached >= 4 * (2 * N + 4));
  assert.deepEqual(again.tasks.generate.comparisons, g.comparisons);
});

test("generate: the issue's minimal config works with paths relative to the config", async () => {
  const dir = tempDir();
  const configPath = writeConfig(
    {
      baseline: model("f32", models.stories()),
      variants: [model("q4_0", models.storiesVariant("q4_0"))],
      tasks: [
        {
          task: "generate",
          data: relative(dir, sharedPath("datasets", "dolly-hhrlhf-small", "train.jsonl")),
          input: "prompt",
          reference: "response",
          max_tokens: 64,
          limit: 16,
          embedders: [{ kind: "model2vec", path: relative(dir, models.model2vec()) }],
        },
      ],
    },
    dir,
  );
  const r = await runEvaluation(loadConfig(configPath), { out: join(dir, "out") });
  const c = r.tasks.generate.comparisons.q4_0 as Record<string, number>;
  for (const k of ["embed_l1_to_baseline", "embed_cos_to_baseline", "embed_l1_to_reference", "embed_cos_to_reference"]) assert.ok(c[k] > 0, k);
  assert.equal((r.tasks.generate.results.f32 as Record<string, number>).n, 16);
  // Prompts too long for n_ctx 256 are passed over with a warning, not truncated.
  assert.ok(r.warnings.some((w) => /passed over/.test(w)));
});

test("generate: seeded sampling is reproducible, stop strings cut, chat needs a template", async () => {
  const run = async (extra: Record<string, unknown>) => {
    const dir = tempDir();
    const configPath = writeConfig(
      {
        baseline: model("f32", models.stories()),
        tasks: [{ task: "generate", data: sharedPath("datasets", "dolly-hhrlhf-small", "train.jsonl"), max_tokens: 24, limit: 4, ...extra }],
      },
      dir,
    );
    const out = join(dir, "out");
    await runEvaluation(loadConfig(configPath), { out });
    return readFileSync(join(out, "samples.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { output: string; finish_reason: string });
  };
  const greedy = await run({});
  const a = await run({ temperature: 0.9, top_p: 0.95, seed: 5 });
  const b = await run({ temperature: 0.9, top_p: 0.95, seed: 5 });
  const c = await run({ temperature: 0.9, top_p: 0.95, seed: 6 });
  assert.deepEqual(a, b);
  assert.notDeepEqual(
    a.map((s) => s.output),
    c.map((s) => s.output),
  );
  assert.notDeepEqual(
    a.map((s) => s.output),
    greedy.map((s) => s.output),
  );
  const stopped = await run({ stop: ["."] });
  for (const [i, s] of stopped.entries()) {
    assert.ok(!s.output.includes("."));
    if (greedy[i].output.includes(".")) assert.equal(s.finish_reason, "stop");
  }
  // stories260K has no chat template in its GGUF metadata.
  await assert.rejects(run({ chat: true }), { name: "QuantevalError", message: /has no chat template in its GGUF metadata \(tokenizer\.chat_template\); set chat: false$/ });
});
