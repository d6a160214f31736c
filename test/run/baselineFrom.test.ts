// `baseline: {name, from: runs/base}` (issue 14) on stories260K and its Q8_0/Q4_0 variants with
// KoBEST COPA and WikiText-2 perplexity + KLD from ../shared: a run takes its baseline's scores
// and kept distributions from another finished run, loads no baseline, and gives the same
// paired deltas as one run holding the baseline and the variant; bad input is one line naming the folder.
import assert from "node:assert/strict";
import { cpSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import Database from "better-sqlite3";
import { loadConfig } from "../../src/config/loadConfig.js";
import { runEvaluation } from "../../src/run/runEvaluation.js";
import { tempDir, writeConfig } from "../helpers/runConfig.js";
import { models, sharedPath } from "../helpers/shared.js";

const copa = { task: "kobest_copa", limit: 20 };
const ppl = { task: "perplexity", data: sharedPath("datasets", "wikitext-2-raw-v1", "wiki.test.raw"), n_ctx: 128, chunks: 4 };
// Every model keeps its default context, so B's prompts are those A's baseline answered.
const gen = { task: "generate", data: sharedPath("datasets", "dolly-hhrlhf-small", "train.jsonl"), reference: "response", max_tokens: 8, limit: 4 };
const q8 = { name: "q8_0", model: models.storiesVariant("q8_0") };
const q4 = { name: "q4_0", model: models.storiesVariant("q4_0") };
const f32 = { name: "f32", model: models.stories() };

const dir = tempDir();
const runA = join(dir, "A");
let ready: Promise<void> | undefined;
/** Run A: the baseline and q8_0, one model at a time, distributions kept (made once for every test). */
function baseRun(): Promise<void> {
  ready ??= runEvaluation(loadConfig(configIn("a", { baseline: f32, variants: [q8], tasks: [copa, ppl, gen], schedule: "sequential", keep_distributions: true })), {
    out: runA,
  }).then(() => undefined);
  return ready;
}

function configIn(name: string, config: Record<string, unknown>): string {
  mkdirSync(join(dir, name), { recursive: true });
  return writeConfig(config, join(dir, name));
}

test("baseline.from: B takes the baseline from A, computes none of its requests, and equals one run with baseline + q4_0", async () => {
  await baseRun();
  const b = await runEvaluation(loadConfig(configIn("b", { baseline: { name: "f32", from: runA }, variants: [q4], tasks: [copa, ppl, gen], schedule: "sequential" })), { out: join(dir, "B") });
  const single = await runEvaluation(loadConfig(configIn("c", { baseline: f32, variants: [q4], tasks: [copa, ppl, gen], schedule: "sequential" })), { out: join(dir, "C") });
  // COPA: 20 documents × 2 choices, generate: 4 prompts; B computed only q4_0's, the single run the baseline's too.
  assert.equal(single.requests.computed, 2 * (40 + 4));
  assert.equal(b.requests.computed, 40 + 4, "B computed no baseline request");
  assert.deepEqual(b.manifest.baseline_from, { folder: runA, tasks: { kobest_copa: ["f32"], perplexity: ["f32"], generate: ["f32"] }, not_loaded: ["f32"] });
  assert.deepEqual((b.manifest.schedule as { groups: string[][] }).groups, [["q4_0"]], "the baseline was never loaded");
  assert.equal((b.manifest.models as Record<string, { from?: string }>).f32.from, runA);
  assert.equal(b.models.f32.sha256, single.models.f32.sha256);
  // Paired deltas, flips, McNemar, and KLD against A's kept distributions: as the single run.
  assert.deepEqual(b.tasks.kobest_copa.results, single.tasks.kobest_copa.results);
  assert.deepEqual(b.tasks.kobest_copa.comparisons, single.tasks.kobest_copa.comparisons);
  assert.deepEqual(b.tasks.perplexity.results, single.tasks.perplexity.results);
  assert.deepEqual(b.tasks.perplexity.comparisons, single.tasks.perplexity.comparisons);
  assert.deepEqual(b.tasks.generate.results, single.tasks.generate.results);
  assert.deepEqual(b.tasks.generate.comparisons, single.tasks.generate.comparisons);
  assert.ok((b.tasks.perplexity.comparisons.q4_0 as { kld_mean: number }).kld_mean > 0.01);
  assert.equal(b.verdict?.variants.q4_0.status, single.verdict?.variants.q4_0.status);
});

test("baseline.from: a task A lacks is evaluated with baseline.model, refused without it", async () => {
  await baseRun();
  const boolq = { task: "kobest_boolq", limit: 10 };
  const without = configIn("d", { baseline: { name: "f32", from: runA }, variants: [q4], tasks: [copa, boolq] });
  await assert.rejects(
    runEvaluation(loadConfig(without), { out: join(dir, "D") }),
    (e: Error) => /baseline\.from .*\/A: holds no evaluation of baseline 'f32' for task\(s\) kobest_boolq under these settings.*add baseline\.model/.test(e.message) && !e.message.includes("\n"),
  );
  const withModel = configIn("e", { baseline: { ...f32, from: runA }, variants: [q4], tasks: [copa, boolq] });
  const r = await runEvaluation(loadConfig(withModel), { out: join(dir, "E") });
  // BoolQ: 10 documents × 2 choices for the baseline and q4_0; COPA only q4_0's 40.
  assert.equal(r.requests.computed, 40 + 2 * 20);
  assert.deepEqual(r.manifest.baseline_from, { folder: runA, tasks: { kobest_copa: ["f32"] }, not_loaded: [] });
});

test("baseline.from: bad folders and changed weights are one line naming the folder", async () => {
  await baseRun();
  const run = (baseline: Record<string, unknown>, name: string) => runEvaluation(loadConfig(configIn(name, { baseline, variants: [q4], tasks: [copa] })), { out: join(dir, `${name}-out`) });
  const oneLine = (re: RegExp) => (e: Error) => re.test(e.message) && !e.message.includes("\n");
  await assert.rejects(run({ name: "f32", from: join(dir, "nowhere") }, "bad1"), oneLine(/baseline\.from .*\/nowhere: holds no quanteval run \(no quanteval\.sqlite\)/));
  const unfinished = join(dir, "A-unfinished");
  cpSync(runA, unfinished, { recursive: true });
  const db = new Database(join(unfinished, "quanteval.sqlite"));
  db.prepare("UPDATE meta SET value = 'interrupted' WHERE key = 'status'").run();
  db.close();
  await assert.rejects(run({ name: "f32", from: unfinished }, "bad2"), oneLine(/baseline\.from .*\/A-unfinished: the run there is not finished \(status interrupted\); finish it with .*--resume/));
  await assert.rejects(run({ name: "fp16", from: runA }, "bad3"), oneLine(/baseline\.from .*\/A: holds no baseline named 'fp16' \(its baseline is 'f32'\)/));
  await assert.rejects(
    run({ name: "f32", model: models.storiesVariant("f16"), from: runA }, "bad4"),
    oneLine(/baseline\.from .*\/A: the baseline's weights changed since that run was written \(sha256 [0-9a-f]{12}… there, [0-9a-f]{12}… now in .*stories260K-f16\.gguf\)/),
  );
  await assert.rejects(run({ name: "f32", from: runA, n_ctx: 256 }, "bad5"), oneLine(/baseline\.from .*\/A: baseline n_ctx 256 differs from that run's \(n_ctx unset\)/));
  await assert.rejects(
    runEvaluation(loadConfig(configIn("bad6", { baseline: { name: "f32", from: join(dir, "self") }, variants: [q4], tasks: [copa] })), { out: join(dir, "self") }),
    oneLine(/baseline\.from .*\/self: is this run's own --out; to add variants to that run use --resume/),
  );
  // A variant whose smaller context rules out a prompt A's baseline answered (110 tokens + 8 > 117): the baseline must answer others.
  await assert.rejects(
    runEvaluation(loadConfig(configIn("bad8", { baseline: { name: "f32", from: runA }, variants: [{ ...q4, n_ctx: 117 }], tasks: [gen] })), { out: join(dir, "bad8-out") }),
    oneLine(/baseline\.from .*\/A: task generate: this run's items differ from those 'f32' answered there .*add baseline\.model .*--resume/),
  );
  // A noise floor A did not evaluate needs the model, named as such.
  await assert.rejects(
    runEvaluation(loadConfig(configIn("bad7", { baseline: { name: "f32", from: runA }, variants: [q4], tasks: [copa], noise_floor: true })), { out: join(dir, "bad7-out") }),
    oneLine(/holds no evaluation of baseline 'f32' for task\(s\) kobest_copa \(its noise floor f32~noise\) under/),
  );
});

test("baseline.from: A run with every model together and keep_distributions serves KLD too", async () => {
  const a = join(dir, "A-together");
  const first = await runEvaluation(loadConfig(configIn("at", { baseline: f32, variants: [q8], tasks: [ppl], schedule: "together", keep_distributions: true })), { out: a });
  assert.match(String((first.manifest.tasks as Record<string, Record<string, unknown>>).perplexity.kld_path), /stored baseline distributions/);
  const b = await runEvaluation(loadConfig(configIn("bt", { baseline: { name: "f32", from: a }, variants: [q4], tasks: [ppl] })), { out: join(dir, "B-together") });
  assert.deepEqual(b.manifest.baseline_from, { folder: a, tasks: { perplexity: ["f32"] }, not_loaded: ["f32"] });
  assert.deepEqual(b.tasks.perplexity.results.f32, first.tasks.perplexity.results.f32);
  assert.ok((b.tasks.perplexity.comparisons.q4_0 as { kld_mean: number }).kld_mean > 0.01);
});
