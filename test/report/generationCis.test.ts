// Generation results with paired CIs reach every output, on a real run: stories260K F32 against
// Q4_0 and the noise-floor re-run, 6 dolly prompts with references, fact probes, a hypothesis that
// is trivial (greedy decoding reproduces the baseline exactly) and stories260K as the LLM judge.
// - Δ fact retention and the judge's win rate carry a seeded bootstrap CI over prompts, computed
//   from the same per-prompt units as the point figure;
// - the terminal shows the generation rows (Δ with CI, test, significance) and the trivial
//   hypothesis, within 120 columns (and COLUMNS=80);
// - Markdown, CSV, JSON (results.json) and HTML carry the same CIs, labelled from metricInfo.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { before, test } from "node:test";
import { parse } from "csv-parse/sync";
import { ratioBootstrapCI } from "../../src/compare/ratioBootstrap.js";
import { metricInfo } from "../../src/metrics/metricInfo.js";
import { buildCsvReport } from "../../src/report/csv.js";
import { buildHtmlReport } from "../../src/report/html/buildHtmlReport.js";
import { buildMarkdownReport } from "../../src/report/markdown.js";
import { generationTable } from "../../src/report/tables.js";
import { buildVerdict } from "../../src/report/verdict.js";
import type { RunResults } from "../../src/run/runEvaluation.js";
import { judgeUnits, summarizeJudgments, type PairJudgment } from "../../src/tasks/generate/judge.js";
import { cli } from "../helpers/cli.js";
import { runConfig } from "../helpers/runConfig.js";
import { models, repoRoot, sharedPath } from "../helpers/shared.js";

const model = (name: string, path: string) => ({ name, model: path, n_ctx: 512, threads: 1 });
let results: RunResults;
let out: string;
type P = Record<string, { value: number; delta: number; ci_low: number; ci_high: number; n: number; test: string; significant: boolean; noise_floor_delta: number | null }>;

before(async () => {
  ({ results, out } = await runConfig({
    baseline: model("f32", models.stories()),
    variants: [model("q4_0", models.storiesVariant("q4_0"))],
    noise_floor: true,
    tasks: [
      {
        task: "generate",
        name: "dolly",
        data: sharedPath("datasets", "dolly-hhrlhf-small", "train.jsonl"),
        input: "prompt",
        reference: "response",
        max_tokens: 24,
        limit: 6,
        embedders: [{ kind: "model2vec", path: models.model2vec() }],
        hypotheses: [{ expect: "baseline_self_distance_is_min" }],
        probes: join(repoRoot, "examples", "probes.yaml"),
        judge: { model: model("judge", models.stories()), max_tokens: 4 },
      },
    ],
  }));
});

test("Δ fact retention and the judge's win rate carry a paired CI over prompts, consistent with their point figures", () => {
  const c = results.tasks.dolly.comparisons.q4_0 as Record<string, unknown> & { paired: P };
  const f = c.paired.fact_retention_delta;
  assert.ok(f, JSON.stringify(Object.keys(c.paired)));
  assert.equal(f.value, c.fact_retention_delta);
  assert.equal(f.delta, c.fact_retention_delta);
  assert.ok(f.ci_low <= f.delta && f.delta <= f.ci_high, JSON.stringify(f));
  assert.equal(f.test, metricInfo("fact_retention_delta")!.test);
  const probes = (results.tasks.dolly.extra as { probes: { questions: unknown[] } }).probes.questions.length;
  assert.equal(f.n, probes);
  // The noise-floor re-run reproduces the baseline: Δ 0 with CI [0, 0], which is the floor q4_0 must exceed.
  const floor = (results.tasks.dolly.comparisons[results.noise_floor!] as { paired: P }).paired.fact_retention_delta;
  assert.deepEqual([floor.delta, floor.ci_low, floor.ci_high, floor.significant], [0, 0, 0, false]);
  assert.equal(f.noise_floor_delta, 0);
  // The verdict names every judged paired measure, labelled by metricInfo.
  assert.ok(buildVerdict(results).variants.q4_0.notes.some((n) => n.startsWith("dolly: generation drift can show a loss (bootstrap CI of Δ fact retention / Δ token F1 / Δ ROUGE-L)")));

  const judge = c.judge as { win_rate: number | null };
  const w = c.paired.judge_win_rate;
  if (judge.win_rate === null) assert.equal(w, undefined, "no parsed verdict: no CI");
  else {
    assert.equal(w.value, judge.win_rate);
    assert.ok(Math.abs(w.delta - (judge.win_rate - 0.5)) < 1e-12);
    assert.ok(w.ci_low <= w.delta && w.delta <= w.ci_high);
  }
});

test("the judge's win rate from per-prompt units equals summarizeJudgments', and its CI is seeded", () => {
  // Scripted verdicts (stories260K rarely answers A/B): both orders, unparseable and too-long ones included.
  const v = ["A", "B", "Even", null] as const;
  const pairs: PairJudgment[] = Array.from({ length: 40 }, (_, i) => ({
    doc_id: i,
    ab: { raw: "", verdict: v[i % 4] },
    ba: i % 7 === 0 ? { raw: "", verdict: null, too_long: true } : { raw: "", verdict: v[(i * 3) % 4] },
  }));
  const u = judgeUnits(pairs);
  const ci = ratioBootstrapCI(u.num, u.den, { seed: 3 })!;
  assert.equal(ci.value, summarizeJudgments(pairs, "j").win_rate);
  assert.deepEqual(ratioBootstrapCI(u.num, u.den, { seed: 3 }), ci);
  assert.ok(ci.ci_low < ci.value && ci.value < ci.ci_high);
  assert.equal(ci.n, u.den.filter((d) => d > 0).length);
});

const widest = (s: string) => Math.max(...s.split("\n").map((l) => [...l].length));

test("the terminal shows the generation rows with their CIs and the trivial hypothesis, within 120 columns (and 80)", () => {
  const def = cli(["report", out], { env: { COLUMNS: "120", NO_COLOR: "1" } });
  assert.equal(def.status, 0, def.stderr);
  assert.ok(widest(def.stdout) <= 120, `widest line ${widest(def.stdout)}`);
  assert.match(def.stdout, /^Generation drift against the baseline/m);
  assert.match(def.stdout, /Δ fact retention/);
  assert.match(def.stdout, /^Generation hypotheses/m);
  assert.match(def.stdout.replace(/\s+/g, " "), /trivial: the noise-floor re-run/);
  const table = generationTable(results);
  const row = table.rows.find((r) => r[1] === "q4_0" && r[2] === metricInfo("fact_retention_delta")!.label)!;
  assert.ok(row, JSON.stringify(table.rows));
  assert.equal(row[6], "bootstrap CI");
  const narrow = cli(["report", out], { env: { COLUMNS: "80", NO_COLOR: "1" } });
  assert.ok(widest(narrow.stdout) <= 80, `widest line ${widest(narrow.stdout)} at COLUMNS=80`);
  const details = cli(["report", out, "--details"], { env: { COLUMNS: "120", NO_COLOR: "1" } });
  assert.ok(widest(details.stdout) <= 120);
  assert.ok(generationTable(results, { all: true }).rows.length > table.rows.length, "--details adds the measures without a CI");
});

test("Markdown, CSV, results.json and HTML carry the same CIs", () => {
  const f = (results.tasks.dolly.comparisons.q4_0 as { paired: P }).paired.fact_retention_delta;
  const rows = parse(buildCsvReport(results), { columns: true }) as Array<Record<string, string>>;
  const csv = rows.find((r) => r.task === "dolly" && r.variant === "q4_0" && r.metric === "fact_retention_delta")!;
  assert.deepEqual([Number(csv.delta), Number(csv.ci_low), Number(csv.ci_high), Number(csv.n), csv.test], [f.delta, f.ci_low, f.ci_high, f.n, "bootstrap CI"]);
  const onDisk = JSON.parse(readFileSync(join(out, "results.json"), "utf8")) as RunResults;
  assert.deepEqual((onDisk.tasks.dolly.comparisons.q4_0 as { paired: P }).paired.fact_retention_delta, f);
  const md = buildMarkdownReport(results);
  const mdRow = md.split("\n").find((l) => l.startsWith("| dolly | fact_retention_delta | q4_0 |"));
  assert.ok(mdRow?.includes("bootstrap CI"), String(mdRow));
  const html = buildHtmlReport(results);
  assert.ok(html.includes("fact_retention_delta") && html.includes("bootstrap CI"));
});
