// End to end on the real stories260K model and its Q8_0/Q4_0 variants from ../shared.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { models, sharedPath } from "../helpers/shared.js";
import { storiesModels } from "../helpers/storiesModels.js";
import { runConfig } from "../helpers/runConfig.js";

test("run: KoBEST with few-shot and perplexity on stories260K and its variants", async () => {
  const { results, out } = await runConfig({
    ...storiesModels(),
    tasks: [
      { task: "kobest_copa", limit: 24 },
      { task: "kobest_sentineg", num_fewshot: 2, limit: 12 },
      { task: "perplexity", data: sharedPath("datasets", "wikitext-2-raw-v1", "wiki.test.raw"), n_ctx: 128, chunks: 6 },
    ],
    seed: 1234,
  });
  const copa = results.tasks.kobest_copa;
  for (const m of ["f32", "q8_0", "q4_0"]) {
    const r = copa.results[m] as Record<string, number>;
    assert.equal(r.n, 24);
    assert.ok(r.acc >= 0 && r.acc <= 1 && r.f1 >= 0 && r.f1 <= 1, `acc/f1 in range for ${m}`);
    const p = results.tasks.perplexity.results[m] as Record<string, number>;
    assert.ok(p.ppl > 1 && Number.isFinite(p.ppl), `ppl finite for ${m}`);
    assert.equal(p.n_tokens, 6 * (128 - 1 - 64));
  }
  // Comparison entries carry the paired statistics.
  const c = (copa.comparisons.q4_0 as Record<string, Record<string, number>>).acc;
  for (const k of ["baseline", "variant", "delta", "recovery_pct", "ci_low", "ci_high", "mcnemar_p", "flips_correct_to_wrong", "flips_wrong_to_correct"]) assert.ok(k in c, `comparison has ${k}`);
  const drift = results.tasks.perplexity.comparisons as Record<string, Record<string, number>>;
  for (const k of ["kld_mean", "kld_p99", "kld_median", "top1_agreement", "delta_p_rms", "ppl_ratio"]) assert.ok(Number.isFinite(drift.q4_0[k]), `drift has ${k}`);
  // Q4_0 loses more than Q8_0.
  assert.ok(drift.q4_0.kld_mean > drift.q8_0.kld_mean);
  assert.ok(drift.q4_0.top1_agreement < drift.q8_0.top1_agreement);

  // results.json and samples.jsonl on disk.
  const onDisk = JSON.parse(readFileSync(join(out, "results.json"), "utf8"));
  assert.deepEqual(Object.keys(onDisk.tasks), ["kobest_copa", "kobest_sentineg", "perplexity"]);
  const samples = readFileSync(join(out, "samples.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
  assert.equal(samples.length, 3 * 24 + 3 * 12);
  const s = samples.find((x) => x.task === "kobest_sentineg" && x.model === "f32");
  for (const k of ["doc_id", "prompt", "choices", "loglikelihoods", "pred", "gold", "fewshot_ids"]) assert.ok(k in s, `sample has ${k}`);
  assert.equal(s.fewshot_ids.length, 2);
  // Few-shot examples come from the train split and are recorded.
  assert.ok(s.context.length > s.prompt.length && s.context.endsWith(s.prompt));
  // The manifest records model hashes.
  assert.equal((onDisk.manifest.models.f32 as { sha256: string }).sha256, "270cba1bd5109f42d03350f60406024560464db173c0e387d91f0426d3bd256d");
});

test("run: the baseline against itself gives exact zeros", async () => {
  const { results } = await runConfig({
    baseline: { name: "a", model: models.stories() },
    variants: [{ name: "b", model: models.stories() }],
    tasks: [
      { task: "kobest_copa", limit: 30 },
      { task: "perplexity", data: sharedPath("datasets", "wikitext-2-raw-v1", "wiki.test.raw"), n_ctx: 128, chunks: 3 },
    ],
  });
  const c = (results.tasks.kobest_copa.comparisons.b as Record<string, Record<string, number>>).acc;
  assert.equal(c.delta, 0);
  assert.equal(c.flips_correct_to_wrong, 0);
  assert.equal(c.flips_wrong_to_correct, 0);
  assert.equal(c.ci_low, 0);
  assert.equal(c.ci_high, 0);
  const d = results.tasks.perplexity.comparisons.b as Record<string, number>;
  assert.equal(d.kld_mean, 0);
  assert.equal(d.top1_agreement, 1);
  assert.equal(d.ppl_ratio, 1);
});

test("run: a baseline that does not reproduce its published score is flagged before the deltas", async () => {
  const { results } = await runConfig({
    baseline: { name: "f32", model: models.stories(), reference_scores: { kobest_copa: { acc: 0.95, f1: 0.45, f1_ci: 0.2 } } },
    variants: [{ name: "q4_0", model: models.storiesVariant("q4_0") }],
    tasks: [{ task: "kobest_copa", limit: 30 }],
  });
  const w = results.warnings.filter((x) => x.startsWith("baseline does not reproduce reference"));
  assert.equal(w.length, 1, `one metric off its reference: ${results.warnings.join(" | ")}`);
  assert.match(w[0], /kobest_copa acc measured 0\.\d+ vs reference 0\.9500/);
});
