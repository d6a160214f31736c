// A judge that is one of the run's models, under a schedule that keeps one model resident at a
// time (issue 14): it judges after every model's generations are stored, loaded once for every
// generate task, and its verdicts equal those of a run holding every model together.
// stories260K F32 and Q4_0 from ../shared; the judge is the F32 baseline.
import assert from "node:assert/strict";
import { test } from "node:test";
import { runConfig, runConfigLogged } from "../helpers/runConfig.js";
import { models, sharedPath } from "../helpers/shared.js";
import { generateModel as m } from "../helpers/storiesModels.js";

const gen = (name: string) => ({
  task: "generate",
  name,
  data: sharedPath("datasets", "dolly-hhrlhf-small", "train.jsonl"),
  reference: "response",
  max_tokens: 12,
  limit: 4,
  judge: { model: "f32", max_tokens: 6 },
});

const run = (schedule: string) => runConfigLogged({ baseline: m("f32", models.stories()), variants: [m("q4_0", models.storiesVariant("q4_0"))], tasks: [gen("gen_a"), gen("gen_b")], schedule });

test("judge: one of the run's models judges under schedule sequential, loaded once, as under together", async () => {
  const seq = await run("sequential");
  const tog = await run("together");
  assert.deepEqual((seq.results.manifest.schedule as { groups: string[][] }).groups, [["f32"], ["q4_0"]]);
  assert.deepEqual((tog.results.manifest.schedule as { groups: string[][] }).groups, [["f32", "q4_0"]]);
  assert.equal(seq.logs.filter((l) => /^loaded f32 again for the comparisons/.test(l)).length, 1, "the judge is loaded once for both tasks");
  for (const task of ["gen_a", "gen_b"]) {
    const s = seq.results.tasks[task].comparisons.q4_0 as { judge: { n_judgments: number } };
    const t = tog.results.tasks[task].comparisons.q4_0 as { judge: unknown };
    assert.equal(s.judge.n_judgments, 8);
    assert.deepEqual(s.judge, t.judge);
    assert.equal((seq.results.manifest.tasks as Record<string, { judge: { model: string } }>)[task].judge.model, "f32");
  }
  // The second task's judgments are the first's (same prompts and generations): answered from the store.
  assert.deepEqual(seq.results.tasks.gen_b.comparisons.q4_0, seq.results.tasks.gen_a.comparisons.q4_0);
});

test("judge: a name that is not a model of the run lists every model, also under sequential", async () => {
  const config = { baseline: m("f32", models.stories()), variants: [m("q4_0", models.storiesVariant("q4_0"))], tasks: [{ ...gen("g"), judge: { model: "gpt" } }], schedule: "sequential" };
  await assert.rejects(runConfig(config), {
    name: "QuantevalError",
    message: /^task 'g': judge\.model 'gpt' is not a model of this run \(models: f32, q4_0\)/,
  });
});
