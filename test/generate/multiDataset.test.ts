// generate over two datasets (`data: [a, b]`) on the real stories260K model and its Q4_0/Q8_0
// variants with the model2vec embedder: the hypotheses count dataset × variant cells, every
// model and variant gets per-dataset figures, and the greedy self-distance row is trivial.
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { test } from "node:test";
import { loadConfig } from "../../src/config/loadConfig.js";
import { runEvaluation } from "../../src/run/runEvaluation.js";
import { models, sharedPath } from "../helpers/shared.js";
import { tempDir, writeConfig } from "../helpers/runConfig.js";
import { storiesWithNoiseFloor } from "../helpers/storiesModels.js";

const N = 4;

test("generate over two datasets: dataset × variant hypothesis cells, per-dataset results, trivial greedy self-distance", async () => {
  const dir = tempDir();
  const dolly = sharedPath("datasets", "dolly-hhrlhf-small", "train.jsonl");
  // The second dataset: later dolly rows (disjoint from the first N that fit), as a file beside the config.
  const later = readFileSync(dolly, "utf8").trim().split("\n").slice(200, 260);
  writeFileSync(join(dir, "later.jsonl"), `${later.join("\n")}\n`);
  const configPath = writeConfig(
    {
      ...storiesWithNoiseFloor(),
      tasks: [
        {
          task: "generate",
          data: [relative(dir, dolly), "later.jsonl"],
          input: "prompt",
          reference: "response",
          max_tokens: 16,
          limit: N,
          embedders: [{ kind: "model2vec", path: relative(dir, models.model2vec()) }],
          hypotheses: [{ expect: "baseline_self_distance_is_min" }, { expect: "closer", a: "q8_0", b: "q4_0" }],
        },
      ],
    },
    dir,
  );
  const r = await runEvaluation(loadConfig(configPath), { out: join(dir, "out") });
  const g = r.tasks.generate;
  assert.equal(g.type, "generate");
  const labels = (g.manifest.datasets as Array<{ label: string; used: number }>).map((d) => [d.label, d.used]);
  // Each entry resolved like any data path (relative to the config's folder); its label is the resolved path.
  assert.deepEqual(labels, [
    [dolly, N],
    [join(dir, "later.jsonl"), N],
  ]);

  // Per-dataset results: each dataset's own n, and the pooled figure is the mean of the two halves.
  for (const m of ["f32", "q8_0", "q4_0"]) {
    const res = g.results[m] as Record<string, unknown> & { by_dataset: Record<string, Record<string, number>> };
    assert.equal(res.n, 2 * N);
    const parts = Object.values(res.by_dataset);
    assert.equal(parts.length, 2);
    for (const p of parts) assert.equal(p.n, N);
    const pooled = res.token_f1 as number;
    assert.ok(Math.abs(pooled - (parts[0].token_f1 + parts[1].token_f1) / 2) < 1e-12, `${m} token_f1 pools its datasets`);
  }
  for (const v of ["q8_0", "q4_0"]) {
    const c = g.comparisons[v] as Record<string, unknown> & { by_dataset: Record<string, Record<string, number>> };
    const parts = Object.values(c.by_dataset);
    assert.equal(parts.length, 2);
    for (const p of parts) assert.ok(p.embed_l1_to_baseline >= 0 && Number.isFinite(p.rougeL_delta));
    assert.ok(Math.abs((c.embed_l1_to_baseline as number) - (parts[0].embed_l1_to_baseline + parts[1].embed_l1_to_baseline) / 2) < 1e-9);
    // Each dataset gets its own paired CIs, over its own documents.
    for (const p of Object.values(c.by_dataset) as unknown as Array<{ paired: Record<string, { n: number; ci_low: number; ci_high: number }> }>) {
      assert.equal(p.paired.token_f1.n, N);
      assert.ok(p.paired.embed_cos_to_baseline.ci_low <= p.paired.embed_cos_to_baseline.ci_high);
    }
  }

  // Hypotheses over the grid: self-distance per dataset × variant (2 × 2 cells), closer per dataset (2).
  const hyp = g.extra!.hypotheses as Array<{ hypothesis: string; distance: string; win: number; cells: number; trivial: boolean; trivial_reason?: string }>;
  const self = hyp.filter((h) => h.hypothesis === "baseline self-distance is min");
  assert.deepEqual(
    self.map((h) => [h.distance, h.cells, h.trivial]),
    [
      ["l1", 4, true],
      ["cos", 4, true],
    ],
  );
  // Greedy decoding: the noise-floor re-run reproduces the baseline, so the row holds by construction.
  assert.match(self[0].trivial_reason!, /reproduced the baseline's outputs exactly/);
  for (const h of hyp.filter((x) => x.hypothesis === "q8_0 closer than q4_0")) {
    assert.equal(h.cells, 2);
    assert.equal(h.trivial, false);
  }
});
