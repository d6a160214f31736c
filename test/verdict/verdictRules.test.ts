// The verdict from all the evidence, on a real sweep of stories260K (F32 → Q8_0, Q4_0 made by
// llama.cpp's quantizer) over KoBEST COPA and SentiNeg and WikiText-2 perplexity, with a noise
// floor. This tiny model is at chance on COPA and predicts one class on SentiNeg, so neither
// task can detect a loss; the verdict must say so and decide by distribution drift, where
// Q4_0's KLD (≈0.2 nats) and PPL ratio (≈ +6%) are a loss.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { before, test } from "node:test";
import { binomialUpperTailP } from "../../src/compare/binomialTest.js";
import { mcnemarExactP } from "../../src/compare/mcnemar.js";
import { metricInfo } from "../../src/metrics/metricInfo.js";
import { buildVerdict, verdictSummary } from "../../src/report/verdict.js";
import type { RunResults } from "../../src/run/runEvaluation.js";
import { markSignificance } from "../../src/run/significance.js";
import type { TaskOutcome } from "../../src/run/taskContext.js";
import { runConfig } from "../helpers/runConfig.js";
import { models, sharedPath } from "../helpers/shared.js";

let results: RunResults;
let samples: Array<Record<string, unknown>>;
let out: string;

before(async () => {
  ({ results, out } = await runConfig({
    baseline: { name: "f32", model: models.stories(), n_ctx: 1024 },
    variants: { quantize: ["q8_0", "q4_0"] },
    tasks: [
      { task: "kobest_copa", limit: 100 },
      { task: "kobest_sentineg", limit: 100 },
      { task: "perplexity", data: sharedPath("datasets", "wikitext-2-raw-v1", "wiki.test.raw"), n_ctx: 512, chunks: 10 },
    ],
    noise_floor: true,
  }));
  samples = readFileSync(join(out, "samples.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Record<string, unknown>);
});

const baseRows = (task: string) => samples.filter((s) => s.task === task && s.model === results.baseline);

test("verdict in results.json: stories260K's Q4_0 (KLD ≈ 0.2, PPL +6%) is a loss, decided by distribution drift", () => {
  const onDisk = JSON.parse(readFileSync(join(out, "results.json"), "utf8")) as RunResults;
  assert.deepEqual(onDisk.verdict?.variants, buildVerdict(results).variants);
  const q4 = onDisk.verdict!.variants.q4_0;
  const d = results.tasks.perplexity.comparisons.q4_0 as Record<string, number>;
  assert.ok(d.kld_mean > 0.1 && d.ppl_ratio > 1.03, `q4_0 drift: KLD ${d.kld_mean}, PPL ratio ${d.ppl_ratio}`);
  assert.equal(q4.status, "loss");
  assert.ok(
    q4.decided_by.some((x) => /^perplexity KLD .* > 0\.0100$/.test(x)),
    q4.decided_by.join(" | "),
  );
  assert.ok(
    q4.decided_by.some((x) => /^perplexity PPL ratio .* > 1\.0100$/.test(x)),
    q4.decided_by.join(" | "),
  );
  // Independently: the KLD's 95% CI lies wholly above the registered tolerance and the noise floor.
  assert.ok(d.kld_mean - 1.96 * d.kld_err > Math.max(metricInfo("kld_mean")!.tolerance!, d.noise_floor_kld));
  // Every status is one of three, and the verdict never clears Q4_0.
  for (const v of Object.values(onDisk.verdict!.variants)) assert.ok(["no_measurable_loss", "loss", "inconclusive"].includes(v.status));
  assert.notEqual(onDisk.verdict!.smallest_not_significant, "q4_0");
});

test("a task on which the baseline predicts one class is informative: false", () => {
  const rows = baseRows("kobest_sentineg");
  assert.equal(rows.length, 100);
  const counts = new Map<unknown, number>();
  for (const r of rows) counts.set(r.pred, (counts.get(r.pred) ?? 0) + 1);
  const share = Math.max(...counts.values()) / rows.length;
  assert.ok(share >= 0.95, `the baseline predicts one class for ${share} of SentiNeg`);
  const t = results.verdict!.tasks.kobest_sentineg;
  assert.equal(t.informative, false);
  assert.ok(
    t.reasons.some((r) => /predicts choice \d+ for \d+% of items/.test(r)),
    t.reasons.join(" | "),
  );
});

test("a task whose baseline is not above chance (exact binomial) is not informative and never clears a variant", () => {
  const rows = baseRows("kobest_copa");
  const k = rows.filter((r) => r.correct === true).length;
  // P(X ≥ k), X ~ Bin(100, 1/2), exactly in BigInt: Σ C(100, i) / 2^100.
  let sum = 0n;
  let c = 1n;
  for (let i = 0; i <= 100; i++) {
    if (i >= k) sum += c;
    c = (c * BigInt(100 - i)) / BigInt(i + 1);
  }
  const exact = Number((sum * 10n ** 15n) / 2n ** 100n) / 1e15;
  assert.ok(Math.abs(binomialUpperTailP(k, 100, 0.5) - exact) < 1e-12);
  const t = results.verdict!.tasks.kobest_copa;
  assert.equal(t.informative, exact < 0.05);
  assert.equal(t.informative, false, `the tiny model is at chance on COPA (${k}/100)`);
  // MDE at 80% power for n = 100 at the baseline's accuracy.
  const p = k / 100;
  assert.ok(Math.abs(t.mde! - 2.8016 * Math.sqrt((2 * p * (1 - p)) / 100)) < 1e-3);
  // Q8_0: no accuracy task can clear it; whatever its status, no uninformative task is among its deciders as "no drop".
  for (const v of Object.values(results.verdict!.variants)) assert.ok(v.decided_by.every((x) => !/^kobest_(copa|sentineg): no significant drop/.test(x)));
  assert.ok(results.verdict!.variants.q8_0.notes.some((n) => n.startsWith("kobest_copa cannot detect a loss")));
  // Said in words: the accuracy tasks cannot see a loss here, so distribution drift decides.
  const lines = verdictSummary(buildVerdict(results));
  assert.ok(lines.includes("None of the accuracy tasks can detect a loss for this model: the verdict rests on distribution drift."), lines.join("\n"));
});

test("significance: exact McNemar decides accuracies — a 5/0 flip split (p = 0.063) is inconclusive, not significant", () => {
  // Every accuracy comparison of the real run obeys the rule.
  for (const task of ["kobest_copa", "kobest_sentineg"]) {
    for (const [variant, perMetric] of Object.entries(results.tasks[task].comparisons)) {
      const c = (perMetric as Record<string, Record<string, unknown>>).acc;
      assert.equal(c.test, "mcnemar_exact");
      if (c.significant) assert.ok((c.mcnemar_p as number) < 0.05, `${task} ${variant}`);
    }
  }
  // The real COPA outcome with Q4_0's flips set to 5 c→w / 0 w→c: the bootstrap CI excludes 0,
  // McNemar does not reject (p = 2 · 0.5^5 = 0.0625).
  const outcome = structuredClone({ ...results.tasks.kobest_copa, samples: {} }) as TaskOutcome;
  const acc = (outcome.comparisons.q4_0 as Record<string, Record<string, unknown>>).acc;
  Object.assign(acc, { delta: -0.05, ci_low: -0.1, ci_high: -0.01, flips_correct_to_wrong: 5, flips_wrong_to_correct: 0, mcnemar_p: mcnemarExactP(5, 0) });
  // The noise floor is zero flips here, so the floor cannot be what decides.
  Object.assign((outcome.comparisons[results.noise_floor!] as Record<string, Record<string, unknown>>).acc, { delta: 0 });
  markSignificance(outcome, results.noise_floor);
  assert.equal(acc.mcnemar_p, 0.0625);
  assert.equal(acc.significant, false);
  assert.equal(acc.change, "inconclusive");
  assert.match(acc.not_significant_reason as string, /^McNemar exact p = 0\.063 ≥ 0\.05 \(the bootstrap CI excludes 0/);
  // F1 is an aggregate: the bootstrap CI decides it.
  const f1 = (outcome.comparisons.q4_0 as Record<string, Record<string, unknown>>).f1;
  if (f1) {
    assert.equal(f1.test, "bootstrap_ci");
    assert.equal(f1.significant === true, !((f1.ci_low as number) <= 0 && (f1.ci_high as number) >= 0) && Math.abs(f1.delta as number) > Math.abs(f1.noise_floor_delta as number));
  }
});
