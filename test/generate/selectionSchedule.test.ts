// A generate task's prompts fit EVERY model of the run, whichever schedule group it is in
// (issue 14): a variant with a smaller context, loaded after the baseline under schedule
// sequential, rules out prompts the baseline already generated for; the baseline is loaded
// again for the replacement prompts only, and the results equal a run holding every model together.
// stories260K F32 (n_ctx 256) and Q4_0 (n_ctx 140: prompt + 8 tokens rules out a 133-token prompt) from ../shared, Dolly prompts.
import assert from "node:assert/strict";
import { test } from "node:test";
import { runConfigLogged } from "../helpers/runConfig.js";
import { models, sharedPath } from "../helpers/shared.js";
import { generateModel as m } from "../helpers/storiesModels.js";

const run = (schedule: string) =>
  runConfigLogged({
    baseline: m("f32", models.stories()),
    variants: [m("q8_0", models.storiesVariant("q8_0")), m("q4_0", models.storiesVariant("q4_0"), 140)],
    tasks: [{ task: "generate", data: sharedPath("datasets", "dolly-hhrlhf-small", "train.jsonl"), reference: "response", max_tokens: 8, limit: 6 }],
    schedule,
  });

test("generate: prompt selection holds for every schedule group; a model made stale is evaluated again", async () => {
  const tog = await run("together");
  const seq = await run("sequential");
  const datasets = (r: typeof tog) => (r.results.manifest.tasks as Record<string, { datasets: Array<{ used: number; skipped_too_long: number }> }>).generate.datasets;
  assert.equal(datasets(tog)[0].used, 6);
  assert.ok(datasets(tog)[0].skipped_too_long > 0, "q4_0's 140-token context rules out some prompts");
  assert.deepEqual(datasets(seq), datasets(tog));
  assert.deepEqual(seq.results.tasks.generate.results, tog.results.tasks.generate.results);
  assert.deepEqual(seq.results.tasks.generate.comparisons, tog.results.tasks.generate.comparisons);
  // f32 and q8_0 generated for prompts q4_0 then ruled out: each was loaded again, once.
  assert.deepEqual(
    seq.logs.filter((l) => /^loaded .* again: a later model ruled out prompts/.test(l)).map((l) => l.split(" ")[1]),
    ["f32", "q8_0"],
  );
  // Every prompt of the final selection was generated once per model, plus the ruled-out ones f32 and q8_0 generated first.
  assert.equal(tog.results.requests.computed, 3 * 6);
  assert.ok(seq.results.requests.computed > 3 * 6);
});
