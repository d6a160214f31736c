// The run's schedule (issue 14) on stories260K and its Q8_0/Q4_0 variants from ../shared:
// one model resident at a time gives the same results as all models together, KLD from the
// baseline's stored distributions included; --only evaluates a subset of the variants.
import assert from "node:assert/strict";
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { loadConfig } from "../../src/config/loadConfig.js";
import { runEvaluation } from "../../src/run/runEvaluation.js";
import { runConfig, tempDir, writeConfig } from "../helpers/runConfig.js";
import { models, sharedPath } from "../helpers/shared.js";
import { storiesModels } from "../helpers/storiesModels.js";

const base = (extra: Record<string, unknown> = {}) => ({
  ...storiesModels(),
  tasks: [
    { task: "kobest_copa", limit: 20 },
    { task: "perplexity", data: sharedPath("datasets", "wikitext-2-raw-v1", "wiki.test.raw"), n_ctx: 128, chunks: 4 },
  ],
  seed: 1234,
  ...extra,
});

const relClose = (a: number, b: number, tol: number, what: string) => assert.ok(Math.abs(a - b) <= tol * Math.max(Math.abs(a), Math.abs(b), 1e-300), `${what}: ${a} vs ${b}`);

test("schedule: sequential and together give the same scores, and KLD within 1e-6 relative", async () => {
  const together = await runConfig(base({ schedule: "together", noise_floor: true }));
  const sequential = await runConfig(base({ schedule: "sequential", noise_floor: true }));
  const t = together.results;
  const s = sequential.results;
  const ts = t.manifest.schedule as { used: string; groups: string[][] };
  const ss = s.manifest.schedule as { used: string; groups: string[][] };
  assert.equal(ts.used, "together");
  assert.deepEqual(ts.groups, [["f32", "q8_0", "q4_0", "f32~noise"]]);
  assert.equal(ss.used, "sequential");
  assert.deepEqual(ss.groups, [["f32"], ["q8_0"], ["q4_0"], ["f32~noise"]]);
  // Accuracy, paired statistics and perplexity: identical.
  assert.deepEqual(s.tasks.kobest_copa.results, t.tasks.kobest_copa.results);
  assert.deepEqual(s.tasks.kobest_copa.comparisons, t.tasks.kobest_copa.comparisons);
  assert.deepEqual(s.tasks.perplexity.results, t.tasks.perplexity.results);
  // Drift: every figure within 1e-6 relative (the stored rows are exact f32; sums differ in rounding only).
  for (const v of ["q8_0", "q4_0", "f32~noise"]) {
    const a = t.tasks.perplexity.comparisons[v] as Record<string, unknown>;
    const b = s.tasks.perplexity.comparisons[v] as Record<string, unknown>;
    assert.deepEqual(Object.keys(b).sort(), Object.keys(a).sort());
    for (const k of Object.keys(a)) if (typeof a[k] === "number") relClose(b[k] as number, a[k] as number, 1e-6, `${v} ${k}`);
  }
  assert.ok((t.tasks.perplexity.comparisons.q4_0 as { kld_mean: number }).kld_mean > 0.01);
  // The manifest says how KLD was computed and how much disk the stored rows took; the folder is gone after the run.
  const pm = s.manifest.tasks as Record<string, Record<string, unknown>>;
  const stored = pm.perplexity.stored_distributions as { encoding: string; n_rows: number; bytes: number };
  assert.equal(stored.encoding, "f32");
  assert.equal(stored.n_rows, 4 * (128 - 1 - 64));
  assert.ok(stored.bytes >= stored.n_rows * 512 * 4, `disk use ${stored.bytes} B holds the exact rows`);
  assert.match(String(pm.perplexity.kld_path), /stored baseline distributions/);
  assert.match(String((t.manifest.tasks as Record<string, Record<string, unknown>>).perplexity.kld_path), /co-evaluated/);
  assert.equal(existsSync(join(sequential.out, "distributions")), false);
});

test("schedule: keep_distributions keeps the baseline's stored rows", async () => {
  const { out } = await runConfig({ ...base({ schedule: "sequential", keep_distributions: true }), variants: [{ name: "q4_0", model: models.storiesVariant("q4_0") }], tasks: [base().tasks[1]] });
  assert.ok(existsSync(join(out, "distributions", "perplexity.distributions", "rows.bin")));
});

test("schedule: a memory budget too small for one model names it and what it needs", async () => {
  await assert.rejects(runConfig(base({ memory_budget: "1MB" })), /schedule: model 'f32' needs ~[\d.]+ MiB \(weights .*\) but the memory budget is 977 KiB \(memory_budget\)/);
});

test("--only: evaluates only the named variants; a later --resume computes only the new one's requests", async () => {
  const dir = tempDir();
  const configPath = writeConfig(base({ schedule: "sequential" }), dir);
  const out = join(dir, "out");
  const first = await runEvaluation(loadConfig(configPath), { out, only: ["q8_0"] });
  assert.deepEqual(first.variants, ["q8_0"]);
  assert.deepEqual(Object.keys(first.tasks.kobest_copa.results).sort(), ["f32", "q8_0"]);
  // COPA: 20 documents × 2 choices per model, the baseline and q8_0.
  assert.equal(first.requests.computed, 2 * 40);
  const second = await runEvaluation(loadConfig(configPath), { out, only: ["q4_0"], resume: true });
  assert.deepEqual(second.variants, ["q4_0"]);
  assert.equal(second.requests.computed, 40, "only q4_0's requests are computed");
  assert.equal(second.requests.cached, 40, "the baseline's come from the store");
  const all = await runEvaluation(loadConfig(configPath), { out, resume: true });
  assert.deepEqual(all.variants, ["q8_0", "q4_0"]);
  assert.equal(all.requests.computed, 0);
  await assert.rejects(runEvaluation(loadConfig(configPath), { out, only: ["q5_k"], resume: true }), /--only: no variant named 'q5_k' in .*; the variants are q8_0, q4_0/);
});

test("resume: a variant added to a finished run computes only its own requests; the kept baseline distributions serve it", async () => {
  const dir = tempDir();
  const out = join(dir, "out");
  const config = base({ schedule: "sequential", keep_distributions: true });
  const first = await runEvaluation(loadConfig(writeConfig({ ...config, variants: [config.variants[0]] }, dir)), { out });
  assert.equal(first.requests.computed, 2 * 40);
  const rows = join(out, "distributions", "perplexity.distributions", "rows.bin");
  const written = statSync(rows).mtimeMs;
  const second = await runEvaluation(loadConfig(writeConfig(config, dir)), { out, resume: true });
  assert.deepEqual(second.variants, ["q8_0", "q4_0"]);
  assert.equal(second.requests.computed, 40, "only q4_0's COPA requests are computed");
  assert.equal(second.requests.cached, 2 * 40);
  assert.equal(statSync(rows).mtimeMs, written, "the baseline's distributions were not written again");
  assert.deepEqual(second.tasks.perplexity.results.f32, first.tasks.perplexity.results.f32);
  assert.deepEqual(second.tasks.perplexity.comparisons.q8_0, first.tasks.perplexity.comparisons.q8_0);
  assert.ok((second.tasks.perplexity.comparisons.q4_0 as { kld_mean: number }).kld_mean > 0.01);
});
