// The verdict on a real sweep: stories260K quantized to Q8_0 and Q4_0 by the config's
// `variants: {quantize: [...]}`, evaluated on KoBEST COPA and WikiText-2 perplexity with a
// noise floor, and its cost measured. Later cases edit a copy of those real results to
// exercise a significant loss (the real run is too small to produce one).
import assert from "node:assert/strict";
import { before, test } from "node:test";
import { measureCost } from "../../src/cost/measureCost.js";
import { comparisonRecords, frontierPoints } from "../../src/report/reportData.js";
import { buildVerdict, verdictSummary, verdictTable } from "../../src/report/verdict.js";
import type { RunResults } from "../../src/run/runEvaluation.js";
import { runConfig } from "../helpers/runConfig.js";
import { models, sharedPath } from "../helpers/shared.js";

let results: RunResults;

before(async () => {
  ({ results } = await runConfig({
    baseline: { name: "f32", model: models.stories(), n_ctx: 512 },
    variants: { quantize: ["q8_0", "q4_0"] },
    tasks: [
      { task: "kobest_copa", limit: 20 },
      { task: "perplexity", data: sharedPath("datasets", "wikitext-2-raw-v1", "wiki.test.raw"), n_ctx: 128, chunks: 4 },
    ],
    noise_floor: true,
    cost: true,
  }));
  // Until the runner measures cost itself (config `cost: true`), measure it here the same way.
  for (const name of [results.baseline, ...results.variants]) {
    const m = results.models[name];
    if (m.prefill_tps === undefined) Object.assign(m, await measureCost(m.path!, { threads: 2, repetitions: 1 }));
  }
});

const clone = (r: RunResults): RunResults => structuredClone(r);
type Cmp = Record<string, Record<string, unknown>>;

test("verdict: rows sorted by size with quality next to cost", () => {
  assert.deepEqual(results.variants, ["q8_0", "q4_0"]);
  assert.equal(results.noise_floor, "f32~noise");
  const v = buildVerdict(results);
  assert.deepEqual(
    v.rows.map((r) => r.model),
    ["f32", "q8_0", "q4_0"],
  );
  assert.deepEqual(
    v.rows.map((r) => r.quantization),
    ["F32", "Q8_0", "Q4_0"],
  );
  for (let i = 1; i < v.rows.length; i++) assert.ok(v.rows[i - 1].file_bytes! > v.rows[i].file_bytes!);
  assert.deepEqual(v.accuracy_tasks, ["kobest_copa"]);
  assert.equal(v.kld_task, "perplexity");
  const [base, q8, q4] = v.rows;
  assert.equal(base.role, "baseline");
  assert.equal(base.kld_mean, 0);
  assert.equal(base.ppl_ratio, 1);
  assert.deepEqual(base.accuracy, []);
  for (const r of [q8, q4]) {
    const c = (results.tasks.kobest_copa.comparisons[r.model] as Cmp).acc;
    assert.deepEqual(
      r.accuracy.map((a) => [a.task, a.metric, a.delta, a.ci_low, a.ci_high, a.significant]),
      [["kobest_copa", "acc", c.delta, c.ci_low, c.ci_high, c.significant]],
    );
    assert.equal(r.flips_correct_to_wrong, c.flips_correct_to_wrong);
    const d = results.tasks.perplexity.comparisons[r.model] as Record<string, unknown>;
    assert.equal(r.kld_mean, d.kld_mean);
    assert.equal(r.ppl_ratio, d.ppl_ratio);
    for (const k of ["prefill_tps", "decode_tps", "peak_rss_bytes", "bits_per_weight"] as const) assert.ok((r[k] ?? 0) > 0, `${r.model}.${k}`);
  }
  assert.ok(q4.kld_mean! > q8.kld_mean! && q8.kld_mean! > 0);
});

test("verdict: Pareto frontier of size against KLD, and the smallest variant without a measurable loss", () => {
  const v = buildVerdict(results);
  // Brute force: on the frontier exactly when no other model is both no larger and no farther, and better in one.
  for (const r of v.rows) {
    const dominated = v.rows.some((o) => o !== r && o.file_bytes! <= r.file_bytes! && o.kld_mean! <= r.kld_mean! && (o.file_bytes! < r.file_bytes! || o.kld_mean! < r.kld_mean!));
    assert.equal(r.pareto, !dominated, r.model);
  }
  // Smaller means more KLD here, so every model is on the frontier.
  assert.deepEqual(v.pareto, ["f32", "q8_0", "q4_0"]);
  // The smallest variant whose status (from every measure) is no_measurable_loss.
  const cleared = results.variants.filter((n) => v.variants[n].status === "no_measurable_loss");
  const expected = cleared.sort((a, b) => (results.models[a].file_bytes as number) - (results.models[b].file_bytes as number))[0] ?? null;
  assert.equal(v.smallest_not_significant, expected);
  // A KLD beyond the noise floor is reported; it is a loss only beyond the KLD tolerance, never an accuracy loss.
  const q8 = v.rows.find((r) => r.model === "q8_0")!;
  assert.equal(q8.kld_significant, (results.tasks.perplexity.comparisons.q8_0 as Record<string, unknown>).significant);
  assert.ok(q8.losses.every((l) => !l.startsWith("perplexity")));
});

/** The run's results with only the accuracy task deciding: drift removed, COPA taken as informative. */
function accuracyOnly(): RunResults {
  const r = clone(results);
  delete r.tasks.perplexity;
  r.tasks.kobest_copa.extra = { ...r.tasks.kobest_copa.extra, baseline_check: { informative: true, mde: 0.1, reasons: [] } };
  return r;
}

test("verdict: a significant accuracy loss moves the choice to the next larger variant", () => {
  const r = accuracyOnly();
  const acc = (r.tasks.kobest_copa.comparisons.q4_0 as Cmp).acc;
  Object.assign(acc, { delta: -0.2, ci_low: -0.35, ci_high: -0.05, mcnemar_p: 0.004, significant: true, change: "significant" });
  for (const m of ["acc", "f1"]) Object.assign((r.tasks.kobest_copa.comparisons.q8_0 as Cmp)[m], { significant: false, change: "none" });
  const v = buildVerdict(r);
  assert.equal(v.smallest_not_significant, "q8_0");
  const q4 = v.rows.find((x) => x.model === "q4_0")!;
  assert.deepEqual(q4.losses, ["kobest_copa acc -0.200 [-0.350, -0.050], McNemar p = 0.0040"]);
  assert.equal(v.variants.q4_0.status, "loss");
  assert.deepEqual(v.variants.q4_0.decided_by, q4.losses);
  const t = verdictTable(r, v);
  const row = t.rows.find((x) => x[0] === "q4_0")!;
  assert.match(row[t.head.indexOf("kobest_copa Δacc [95% CI]")], /^-0\.200 \[-0\.350, -0\.050\] loss$/);
  assert.match(row[row.length - 1], /1 significant loss/);
  assert.match(t.rows.find((x) => x[0] === "q8_0")!.at(-1)!, /smallest w\/o loss/);
  // A significant gain is not a loss.
  Object.assign(acc, { delta: 0.2, ci_low: 0.05, ci_high: 0.35 });
  assert.equal(buildVerdict(r).smallest_not_significant, "q4_0");
  // Losses everywhere: no variant is named.
  Object.assign(acc, { delta: -0.2 });
  Object.assign((r.tasks.kobest_copa.comparisons.q8_0 as Cmp).acc, { delta: -0.1, ci_low: -0.2, ci_high: -0.01, mcnemar_p: 0.01, significant: true, change: "significant" });
  const none = buildVerdict(r);
  assert.equal(none.smallest_not_significant, null);
  assert.ok(verdictSummary(none).includes("Every variant has a measurable loss."));
});

test("verdict: without an accuracy task the variants are judged by distribution drift; the table shows KLD and cost", () => {
  const r = clone(results);
  delete r.tasks.kobest_copa;
  const v = buildVerdict(r);
  assert.deepEqual(v.pareto, ["f32", "q8_0", "q4_0"]);
  assert.match(verdictSummary(v)[0], /No accuracy task in this run: only distribution drift can judge the variants/);
  for (const n of results.variants)
    assert.ok(
      v.variants[n].decided_by.every((d) => d.startsWith("perplexity ")),
      n,
    );
  const t = verdictTable(r, v);
  assert.deepEqual(t.head, ["model", "quant", "size", "bits/w", "KLD", "PPL ratio", "pp tok/s min/med/max", "tg tok/s min/med/max", "peak RSS", "verdict"]);
});

test("verdictTable: one cell per column, baseline first, sizes and rates formatted", () => {
  const t = verdictTable(results);
  assert.equal(t.rows.length, 3);
  for (const row of t.rows) assert.equal(row.length, t.head.length);
  assert.ok(t.head.includes("kobest_copa Δacc [95% CI]") && t.head.includes("KLD") && t.head.includes("tg tok/s min/med/max"));
  assert.equal(t.rows[0][0], "f32 (baseline)");
  assert.equal(t.rows[0][2], "1.13 MiB");
  assert.match(t.rows[2][t.head.indexOf("KLD")], /^\d\.\d+(e-\d+)? ± /);
  const lines = verdictSummary(buildVerdict(results));
  assert.match(lines.at(-1)!, /^Pareto frontier of size against KLD \(perplexity\): f32 → q8_0 → q4_0\.$/);
});

test("an approximate KLD (a server's top-k log-probs) is marked and never ranked; the same weights through two backends are one model, sized by the file", () => {
  // The real Q8_0 row again as if served over HTTP: same sha256, the server's smaller tensor
  // bytes, and a KLD from top-k log-probs (the backend lists that as a limitation).
  const r = clone(results);
  const q8 = r.models.q8_0;
  assert.ok(typeof q8.sha256 === "string" && q8.sha256.length === 64, "the runner records the file's sha256");
  r.models["q8_0-http"] = { ...q8, name: "q8_0-http", backend: "http", file_bytes: (q8.file_bytes as number) - 50_000, limitations: ["KLD: top-k approximation (k = 100)"] };
  r.variants.push("q8_0-http");
  const drift = r.tasks.perplexity.comparisons;
  drift["q8_0-http"] = { ...(drift.q8_0 as Record<string, unknown>), kld_mean: (drift.q8_0 as { kld_mean: number }).kld_mean / 10 };
  const v = buildVerdict(r);
  const http = v.rows.find((x) => x.model === "q8_0-http")!;
  assert.equal(http.kld_approximate, true);
  assert.equal(http.pareto, false, "an approximate KLD is not ranked against exact ones");
  assert.ok(!v.pareto.includes("q8_0-http"));
  assert.equal(http.same_weights_as, "q8_0");
  assert.equal(http.file_bytes, q8.file_bytes, "the size comes from the file, not the server");
  assert.ok(
    v.variants["q8_0-http"].decided_by.every((d) => !/KLD .* ≤/.test(d)),
    "an approximate KLD never rules a loss out",
  );
  const t = verdictTable(r, v);
  assert.match(t.rows.find((x) => x[0] === "q8_0-http")![t.head.indexOf("KLD")], /^≈/);
  assert.match(t.rows.find((x) => x[0] === "q8_0-http")!.at(-1)!, /same weights as q8_0/);
  const fp = frontierPoints(r).find((p) => p.model === "q8_0-http")!;
  assert.equal(fp.kld_approximate, true);
  assert.equal(fp.pareto_kld, false);
  assert.equal(comparisonRecords(r).find((x) => x.variant === "q8_0-http" && x.metric === "kld")!.approximate, true);
});
