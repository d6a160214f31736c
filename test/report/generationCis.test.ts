// Generation results with paired CIs reach every output, on a real run: stories260K F32 against
// Q4_0 and the noise-floor re-run, 6 dolly prompts with references and typo-perturbed copies, fact
// probes, a hypothesis that is trivial (greedy decoding reproduces the baseline exactly) and
// stories260K as the LLM judge.
// - Δ fact retention and the judge's win rate carry a seeded bootstrap CI over prompts, computed
//   from the same per-prompt units as the point figure; so do diversity (Δ distinct-2, Δ mean
//   length), robustness (Δ typo degradation) and the embedding distances (to the baseline, judged
//   against the noise floor's; Δ to the reference);
// - the terminal shows the generation rows (Δ with CI, test, significance) and the trivial
//   hypothesis, within 120 columns (and COLUMNS=80);
// - Markdown, CSV, JSON (results.json) and HTML carry the same CIs, labelled from metricInfo.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { before, test } from "node:test";
import { parse } from "csv-parse/sync";
import { ratioBootstrapCI } from "../../src/compare/ratioBootstrap.js";
import { metricInfo, TEST_LABEL } from "../../src/metrics/metricInfo.js";
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
        perturb: { typos: 0.1, seed: 7 },
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
  const notes = buildVerdict(results).variants.q4_0.notes;
  assert.ok(
    notes.some((n) => n.startsWith("dolly: generation drift can show a loss (bootstrap CI of Δ fact retention / Δ token F1 / Δ ROUGE-L / ")),
    JSON.stringify(notes),
  );

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

/** The measures this run must carry a paired CI for, with the point figure each CI must contain. */
const NEW_CIS = ["distinct_2_delta", "mean_length_delta", "token_f1_degradation_delta", "rougeL_degradation_delta", "embed_cos_to_reference_delta", "embed_l1_to_reference_delta"] as const;
const DISTANCES = ["embed_l1_to_baseline", "embed_cos_to_baseline"] as const;
type D = Record<string, { mean: number; ci_low: number; ci_high: number; n: number; test: string; significant?: boolean; noise_floor_delta: number | null }>;

test("diversity, robustness and embedding distances carry paired CIs that contain their point figures", () => {
  const c = results.tasks.dolly.comparisons.q4_0 as Record<string, number> & { paired: P & D };
  for (const k of NEW_CIS) {
    const p = c.paired[k];
    assert.ok(p, `${k} missing from paired: ${JSON.stringify(Object.keys(c.paired))}`);
    assert.ok(Math.abs(p.delta - c[k]) < 1e-9, `${k}: CI's Δ ${p.delta} ≠ point figure ${c[k]}`);
    assert.ok(p.ci_low <= p.delta && p.delta <= p.ci_high, `${k}: ${JSON.stringify(p)}`);
    assert.equal(p.test, metricInfo(k)!.test, k);
    if (p.test === "none") assert.equal(p.significant, false, `${k} is shown, never judged`);
  }
  assert.equal(c.paired.distinct_2_delta.n, 6);
  assert.equal(c.paired.token_f1_degradation_delta.n, c.paired.token_f1.n);
  // The flat point figure is the per-model degradation difference the results already held.
  assert.equal(c.token_f1_degradation_delta, (c as unknown as { degradation_vs_baseline: Record<string, number> }).degradation_vs_baseline.token_f1);
  // The noise-floor re-run reproduces the baseline exactly: distance 0 is the floor q4_0's distance CI is judged against.
  const floor = (results.tasks.dolly.comparisons[results.noise_floor!] as { paired: D & P }).paired;
  for (const k of DISTANCES) {
    const p = c.paired[k];
    assert.ok(p.ci_low <= p.mean && p.mean <= p.ci_high, `${k}: ${JSON.stringify(p)}`);
    assert.ok(Math.abs(p.mean - c[k]) < 1e-9);
    assert.deepEqual([floor[k].mean, floor[k].ci_low, floor[k].ci_high], [0, 0, 0]);
    assert.equal(p.noise_floor_delta, 0);
    assert.equal(p.significant, p.ci_low > 0, k);
    assert.equal(metricInfo(k)!.test, "ci_vs_tolerance");
  }
  for (const k of NEW_CIS) assert.equal(floor[k].delta, 0, `${k} of the noise floor`);
  // Only the bootstrap-judged measures are named as able to show a loss.
  const note = buildVerdict(results).variants.q4_0.notes.find((n) => n.startsWith("dolly: generation drift can show a loss"))!;
  assert.match(note, /Δ typo drop, token F1 \/ Δ typo drop, ROUGE-L \/ Δ embed cos to reference/);
  assert.doesNotMatch(note, /distinct-2|mean length/);
});

test("the new CIs reach the terminal (judged by default, the rest with --details), Markdown, CSV, results.json and HTML", () => {
  const paired = (results.tasks.dolly.comparisons.q4_0 as { paired: P & D }).paired;
  const def = cli(["report", out], { env: { COLUMNS: "120", NO_COLOR: "1" } }).stdout;
  const details = cli(["report", out, "--details"], { env: { COLUMNS: "120", NO_COLOR: "1" } }).stdout;
  const flat = (s: string) => s.replace(/\s+/g, " ");
  const labelsOf = (t: ReturnType<typeof generationTable>) => t.rows.filter((r) => r[1] === "q4_0").map((r) => r[2]);
  const [defRows, detailRows] = [labelsOf(generationTable(results)), labelsOf(generationTable(results, { all: true }))];
  for (const k of [...NEW_CIS, ...DISTANCES]) {
    const label = metricInfo(k)!.label;
    // Narrow columns wrap a label, so the terminal is searched for its first words.
    const head = label.slice(0, 12);
    if (metricInfo(k)!.test !== "none") assert.ok(defRows.includes(label) && flat(def).includes(head), `${label} missing from the default terminal view`);
    else assert.ok(!defRows.includes(label) && !flat(def).includes(head), `${label} is for --details only`);
    assert.ok(detailRows.includes(label) && flat(details).includes(head), `${label} missing from --details`);
  }
  assert.ok(widest(details) <= 120, `widest line ${widest(details)}`);
  const rows = parse(buildCsvReport(results), { columns: true }) as Array<Record<string, string>>;
  const md = buildMarkdownReport(results);
  const html = buildHtmlReport(results);
  const onDisk = JSON.parse(readFileSync(join(out, "results.json"), "utf8")) as RunResults;
  for (const k of [...NEW_CIS, ...DISTANCES]) {
    const p = paired[k] as { delta?: number; mean?: number; ci_low: number; ci_high: number; n: number };
    const csv = rows.find((r) => r.task === "dolly" && r.variant === "q4_0" && r.metric === k);
    assert.ok(csv, `${k} missing from the CSV`);
    assert.deepEqual([Number(csv.delta), Number(csv.ci_low), Number(csv.ci_high), Number(csv.n)], [p.delta ?? p.mean, p.ci_low, p.ci_high, p.n], k);
    assert.equal(csv.test, TEST_LABEL[metricInfo(k)!.test]);
    assert.ok(
      md.split("\n").some((l) => l.startsWith(`| dolly | ${k} | q4_0 |`)),
      `${k} missing from the Markdown`,
    );
    assert.ok(html.includes(k), `${k} missing from the HTML`);
    assert.deepEqual((onDisk.tasks.dolly.comparisons.q4_0 as { paired: Record<string, unknown> }).paired[k], p);
  }
});
