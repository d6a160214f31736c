// Paired CIs of generation drift on a real run (stories260K F32 against Q8_0/Q4_0 and a
// noise-floor re-run, eight Dolly prompts, the model2vec embedder), and the verdict's rule for them.
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { loadConfig } from "../../src/config/loadConfig.js";
import { generationEvidence } from "../../src/report/verdictEvidence.js";
import { buildVerdict } from "../../src/report/verdict.js";
import { runEvaluation } from "../../src/run/runEvaluation.js";
import { models, sharedPath } from "../helpers/shared.js";
import { tempDir, writeConfig } from "../helpers/runConfig.js";
import { storiesWithNoiseFloor } from "../helpers/storiesModels.js";

type Paired = Record<string, { delta?: number; mean?: number; ci_low: number; ci_high: number; n: number; significant?: boolean; test?: string; noise_floor_delta?: number | null }>;

test("generation drift: paired bootstrap CIs over documents, consistent with the pooled figures; a significant drop is a loss", async (t) => {
  const dir = tempDir();
  const configPath = writeConfig(
    {
      ...storiesWithNoiseFloor(),
      tasks: [
        {
          task: "generate",
          name: "drift",
          data: sharedPath("datasets", "dolly-hhrlhf-small", "train.jsonl"),
          input: "prompt",
          reference: "response",
          max_tokens: 16,
          limit: 8,
          embedders: [{ kind: "model2vec", path: models.model2vec() }],
        },
      ],
    },
    dir,
  );
  const r = await runEvaluation(loadConfig(configPath), { out: join(dir, "out") });
  const cmp = r.tasks.drift.comparisons as Record<string, Record<string, unknown> & { paired: Paired }>;
  const noise = r.noise_floor!;
  for (const v of ["q8_0", "q4_0", noise]) {
    const p = cmp[v].paired;
    for (const k of ["token_f1", "rougeL"]) {
      // The mean per-document Δ is the pooled Δ the task reports; the CI brackets it.
      assert.ok(Math.abs(p[k].delta! - (cmp[v][`${k}_delta`] as number)) < 1e-12, `${v} ${k}`);
      assert.ok(p[k].ci_low <= p[k].delta! && p[k].delta! <= p[k].ci_high, `${v} ${k} CI brackets Δ`);
      assert.equal(p[k].n, 8);
      assert.equal(p[k].test, "bootstrap_ci");
    }
    for (const k of ["embed_l1_to_baseline", "embed_cos_to_baseline"]) {
      assert.ok(Math.abs(p[k].mean! - (cmp[v][k] as number)) < 1e-12, `${v} ${k}`);
      assert.ok(p[k].ci_low <= p[k].mean! && p[k].mean! <= p[k].ci_high);
    }
  }
  for (const v of ["q8_0", "q4_0"]) {
    const p = cmp[v].paired;
    const f = (x: { ci_low: number; ci_high: number }, c: number) => `${c.toFixed(3)} [${x.ci_low.toFixed(3)}, ${x.ci_high.toFixed(3)}]`;
    t.diagnostic(`${v}: Δ token F1 ${f(p.token_f1, p.token_f1.delta!)}, Δ ROUGE-L ${f(p.rougeL, p.rougeL.delta!)}, embed cos to baseline ${f(p.embed_cos_to_baseline, p.embed_cos_to_baseline.mean!)}`);
  }
  // Greedy decoding: the noise-floor re-run reproduces the baseline, Δ = 0 with a zero-width CI, never significant.
  assert.deepEqual([cmp[noise].paired.token_f1.delta, cmp[noise].paired.token_f1.ci_low, cmp[noise].paired.token_f1.ci_high, cmp[noise].paired.token_f1.significant], [0, 0, 0, false]);
  assert.equal(cmp.q4_0.paired.token_f1.noise_floor_delta, 0);
  // Q4_0 moves further from the baseline's outputs than Q8_0 (embedding distance, CI shown).
  assert.ok(cmp.q4_0.paired.embed_l1_to_baseline.mean! > cmp.q8_0.paired.embed_l1_to_baseline.mean!);

  // The verdict reads the paired CIs: the significance the run recorded decides, drops only.
  const v = buildVerdict(r);
  for (const name of ["q8_0", "q4_0"]) {
    const drops = Object.entries(cmp[name].paired).filter(([, p]) => p.significant && p.delta! < 0);
    const losses = v.variants[name].status === "loss" ? v.variants[name].decided_by : [];
    assert.equal(losses.filter((t) => t.startsWith("drift ")).length, drops.length, `${name}: one loss line per significant drop`);
  }
  // The rule on a significant drop and on a significant gain of the same run's figures.
  const p = cmp.q4_0.paired.token_f1;
  const drop = generationEvidence("drift", { paired: { token_f1: { ...p, delta: -0.1, ci_low: -0.15, ci_high: -0.05, significant: true } } });
  assert.deepEqual(drop, [{ says: "loss", text: "drift token_f1 -0.100 [-0.150, -0.050] (bootstrap CI, vs references)" }]);
  assert.deepEqual(generationEvidence("drift", { paired: { token_f1: { ...p, delta: 0.1, ci_low: 0.05, ci_high: 0.15, significant: true } } }), []);
});
