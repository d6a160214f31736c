// lm-eval results as a model in a run: a real run is exported as lm-eval output, and a second
// run names that export as its baseline (`lm_eval:`). No baseline model is loaded, the
// comparison is paired by doc_id and prompt, and the paired deltas equal the first run's. An
// export without samples is compared unpaired and says so; a different few-shot setting is
// refused naming the first differing document.
import assert from "node:assert/strict";
import { readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { loadConfig } from "../../src/config/loadConfig.js";
import { exportLmEval } from "../../src/lmeval/exportLmEval.js";
import { runConfig, tempDir } from "../helpers/runConfig.js";
import { models, sharedPath } from "../helpers/shared.js";

test("an exported baseline read back as lm_eval gives the run's own paired deltas", async () => {
  const variant = { name: "q4_0", model: models.storiesVariant("q4_0") };
  const first = await runConfig({ baseline: { name: "f32", model: models.stories() }, variants: [variant], tasks: [{ task: "kobest_copa", limit: 20 }] });
  const lm = tempDir("quanteval-lmeval-");
  await exportLmEval(first.out, lm, { dataDir: sharedPath("datasets") });

  const second = await runConfig({ baseline: { name: "f32", lm_eval: join(lm, "f32") }, variants: [variant], tasks: [{ task: "kobest_copa", limit: 20 }] });
  assert.equal(second.results.models.f32.backend, "lm_eval");
  assert.deepEqual(second.results.tasks.kobest_copa.results.f32, first.results.tasks.kobest_copa.results.f32);
  assert.deepEqual(second.results.tasks.kobest_copa.comparisons, first.results.tasks.kobest_copa.comparisons);

  // reference_scores may name the export: its scores (with 1.96 × stderr as the CI) are the reference, and the baseline reproduces them.
  const withRef = await runConfig({ baseline: { name: "f32", model: models.stories(), reference_scores: join(lm, "f32") }, tasks: [{ task: "kobest_copa", limit: 20 }] });
  assert.ok(!withRef.results.warnings.some((w) => w.includes("does not reproduce")), withRef.results.warnings.join("\n"));
  const ref = loadConfig(withRef.configPath).config.baseline.reference_scores?.kobest_copa;
  assert.equal(ref?.acc, (first.results.tasks.kobest_copa.results.f32 as { acc: number }).acc);
  assert.ok((ref?.acc_ci ?? 0) > 0);

  // A different prompt (one few-shot example) is refused, naming the first document.
  await assert.rejects(
    runConfig({ baseline: { name: "f32", lm_eval: join(lm, "f32") }, variants: [variant], tasks: [{ task: "kobest_copa", limit: 20, num_fewshot: 1 }] }),
    /task kobest_copa doc 0: the prompt differs/,
  );

  // Without samples: scores only, compared unpaired and labelled so.
  for (const f of readdirSync(join(lm, "f32"))) if (f.startsWith("samples_")) rmSync(join(lm, "f32", f));
  const third = await runConfig({ baseline: { name: "f32", lm_eval: join(lm, "f32") }, variants: [variant], tasks: [{ task: "kobest_copa", limit: 20 }] });
  const acc = (third.results.tasks.kobest_copa.comparisons.q4_0 as Record<string, { paired: boolean; delta: number }>).acc;
  assert.equal(acc.paired, false);
  const r = first.results.tasks.kobest_copa.results as Record<string, { acc: number }>;
  assert.ok(Math.abs(acc.delta - (r.q4_0.acc - r.f32.acc)) < 1e-12);
});
