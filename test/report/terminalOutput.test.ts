// What a person sees, on a real run: stories260K F32 → Q4_0 (llama.cpp's quantizer, which warns
// about its fallback types) on winogrande_llamacpp alone as the accuracy task, wikitext (rolling,
// word perplexity) and WikiText-2 perplexity with KLD. Checks that metricInfo is the one place
// deciding what counts as accuracy (winogrande_llamacpp is an accuracy task; wikitext's
// Δword_perplexity is never averaged into "mean Δ accuracy"), and that the terminal output fits
// 120 columns (or COLUMNS), is short by default, complete with --details, with warnings once.
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { before, test } from "node:test";
import { comparisonRecords, frontierPoints } from "../../src/report/reportData.js";
import { forestChart } from "../../src/report/html/charts.js";
import { comparisonTable } from "../../src/report/tables.js";
import { buildVerdict, verdictSummary } from "../../src/report/verdict.js";
import type { RunResults } from "../../src/run/runEvaluation.js";
import { cli } from "../helpers/cli.js";
import { runConfig, tempDir } from "../helpers/runConfig.js";
import { models, sharedPath } from "../helpers/shared.js";

// Winogrande rows in llama.cpp's CSV layout (header skipped as llama.cpp skips it; the last
// line is not read, as in llama.cpp).
const WG = `index,sentence,option1,option2,answer
0,Tom gave Ben the ball because _ was kind.,Tom,Ben,1
1,Lily could not lift the box because _ was too heavy.,Lily,box,2
2,The sun was hot so _ sat in the shade.,Tim,the sun,1
3,Mom baked a cake for Sue and _ ate it all up with a big smile on her face.,Mom,Sue,2
4,The bird flew over the tree because _ had wings.,bird,tree,1
5,Max wanted the toy that Sam had but _ did not share it.,Max,Sam,2
6,Anna is taller than Ben so _ is short.,Anna,Ben,2
7,The boy hugged his dog because _ loved him very much and wanted to play.,boy,dog,1
8,The girl ran to her mom and _ smiled.,girl,mom,2
9,The cat chased the dog so _ ran away.,cat,dog,2
10,Sara gave her friend a hug because _ was sad.,Sara,friend,2
`;

let results: RunResults;
let out: string;

before(async () => {
  const data = tempDir();
  mkdirSync(join(data, "llamacpp"));
  writeFileSync(join(data, "llamacpp", "winogrande-debiased-eval.csv"), WG);
  const wiki = join(data, "EleutherAI", "wikitext_document_level", "wikitext-2-raw-v1");
  mkdirSync(wiki, { recursive: true });
  const raw = readFileSync(sharedPath("datasets", "wikitext-2-raw-v1", "wiki.test.raw"), "utf8");
  writeFileSync(join(wiki, "test.jsonl"), JSON.stringify({ page: raw.slice(0, raw.indexOf("\n = = ", 2000)) }) + "\n");
  ({ results, out } = await runConfig({
    data_dir: data,
    baseline: { name: "f32", model: models.stories(), n_ctx: 256 },
    variants: { quantize: ["q4_0"] },
    tasks: [{ task: "winogrande_llamacpp" }, { task: "wikitext" }, { task: "perplexity", data: sharedPath("datasets", "wikitext-2-raw-v1", "wiki.test.raw"), n_ctx: 128, chunks: 8 }],
    noise_floor: true,
  }));
});

test("metricInfo decides what counts as accuracy: winogrande_llamacpp is one; wikitext's Δword_perplexity is not averaged into Δaccuracy", () => {
  const v = buildVerdict(results);
  assert.deepEqual(v.accuracy_tasks, ["winogrande_llamacpp"]);
  assert.ok(!verdictSummary(v).some((l) => /No accuracy task/.test(l)));
  const wpl = (results.tasks.wikitext.comparisons.q4_0 as Record<string, { delta: number }>).word_perplexity.delta;
  assert.ok(wpl !== 0, "the rolling task measured a word-perplexity change");
  const acc = (results.tasks.winogrande_llamacpp.comparisons.q4_0 as Record<string, { delta: number }>).acc.delta;
  assert.equal(frontierPoints(results).find((p) => p.model === "q4_0")!.acc_delta, acc);
  // The forest plot has one unit: accuracy rows only.
  const rows = (forestChart(comparisonRecords(results), ["q4_0", results.noise_floor!])!.spec.data as { values: Array<{ row: string }> }).values;
  assert.deepEqual([...new Set(rows.map((r) => r.row))], ["winogrande_llamacpp · acc"]);
  // The HTML's comparison records name the test that decided.
  assert.equal(comparisonRecords(results).find((r) => r.task === "winogrande_llamacpp" && r.variant === "q4_0")!.test, "McNemar exact");
});

const lines = (s: string) => s.split("\n").filter((l) => l.length > 0);
const widest = (s: string) => Math.max(...lines(s).map((l) => [...l].length));

test("terminal: the default fits 120 columns (and COLUMNS=80), one summary row per variant, warnings once; --details prints the full tables", () => {
  assert.ok(results.warnings.length > 0, "the quantizer's fallback warning is there to be printed");
  const def = cli(["report", out], { env: { COLUMNS: "120", NO_COLOR: "1" } });
  assert.equal(def.status, 0, def.stderr);
  assert.ok(widest(def.stdout) <= 120, `widest line ${widest(def.stdout)}`);
  assert.match(def.stdout, /^Verdict/m);
  assert.doesNotMatch(def.stdout, /^Scores/m);
  const from = def.stdout.indexOf("Verdict");
  const summary = def.stdout.slice(from, def.stdout.indexOf("└", from));
  assert.equal(lines(summary).filter((l) => /^│ (f32|q4_0)/.test(l)).length, 2, "one row for the baseline and one per variant");
  assert.match(def.stdout, /^q4_0: (loss|inconclusive|no measurable loss)/m);
  // Long lines wrap at spaces with a two-space indent: unwrap before counting.
  const stderr = def.stderr.replace(/\n {2}/g, " ");
  for (const w of new Set(results.warnings)) assert.equal(stderr.split(`warning: ${w}`).length - 1, 1, `printed once: ${w}`);

  const narrow = cli(["report", out], { env: { COLUMNS: "80", NO_COLOR: "1" } });
  assert.ok(widest(narrow.stdout) <= 80, `widest line ${widest(narrow.stdout)} at COLUMNS=80`);

  const details = cli(["report", out, "--details"], { env: { COLUMNS: "120", NO_COLOR: "1" } });
  assert.equal(details.status, 0, details.stderr);
  for (const title of ["Scores", "Against the baseline", "Distribution drift", "Verdict (largest first"]) assert.match(details.stdout, new RegExp(`^${title.replace(/[()]/g, "\\$&")}`, "m"));
  // The comparison table names the test that decided (the printed cell may wrap).
  assert.match(details.stdout, /decided by/);
  assert.ok(comparisonTable(results).rows.some((r) => r[0] === "winogrande_llamacpp" && r.includes("McNemar exact")));
  assert.ok(widest(details.stdout) <= 120, `widest --details line ${widest(details.stdout)}`);
});
