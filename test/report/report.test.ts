// The report builders on a real run (stories260K F32 vs Q8_0/Q4_0 with the noise floor, a
// two-choice task whose prompts and task name carry injection attempts, and perplexity):
// the HTML is self-contained and its data inert, records match results.json, Markdown and CSV
// carry the same numbers, and the report command writes all three.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { after, before, test } from "node:test";
import { Command } from "commander";
import { parse } from "csv-parse/sync";
import { registerReportCommand } from "../../src/cli/reportCommand.js";
import { buildCsvReport, csvField } from "../../src/report/csv.js";
import { buildHtmlReport } from "../../src/report/html/buildHtmlReport.js";
import { escapeScriptText, jsonForScript } from "../../src/report/html/inlineAssets.js";
import { comparisonRecords, frontierPoints, kldPercentiles, paretoFlags } from "../../src/report/reportData.js";
import { buildMarkdownReport } from "../../src/report/markdown.js";
import { makeXssRun, XSS, type XssRun } from "../helpers/browser.js";

let run: XssRun;
before(async () => {
  run = await makeXssRun();
});
after(() => {
  if (run) rmSync(dirname(run.dir), { recursive: true, force: true });
});

test("the HTML report is one file: inline scripts only, data as escaped JSON, a CSP allowing exactly its scripts", () => {
  const html = buildHtmlReport(run.results);
  const scripts = [...html.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)];
  assert.equal(scripts.length, 5, "JSON data + vega + vega-lite + vega-embed + page script");
  for (const [, attrs] of scripts) assert.doesNotMatch(attrs, /\bsrc=/);
  assert.doesNotMatch(html, /<link\b/);
  // The injection attempts never appear as markup; the data element holds them \u003c-escaped.
  assert.ok(!html.includes(XSS.script) && !html.includes("<img src=x"), "raw injection text found in the HTML");
  const data = scripts.find(([, attrs]) => attrs.includes('type="application/json"'))!;
  assert.doesNotMatch(data[2], /[<>&]/);
  const payload = JSON.parse(data[2]) as { tables: { summary: { rows: string[][] } }; charts: Array<{ id: string }> };
  assert.ok(
    payload.tables.summary.rows.some((r) => r[0] === XSS.taskName),
    "task name survives the round trip",
  );
  assert.deepEqual(
    payload.charts.map((c) => c.id),
    ["forest", "kld-0", "frontier-kld", "frontier-acc"],
  );
  // Every executable script is allowed by hash, and nothing else is.
  const csp = /http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(html)![1];
  assert.match(csp, /connect-src 'none'/);
  for (const [, attrs, body] of scripts) {
    if (attrs.includes("application/json")) continue;
    assert.ok(csp.includes(`'sha256-${createHash("sha256").update(body).digest("base64")}'`), "script hash missing from the CSP");
  }
  assert.doesNotMatch(csp, /unsafe-inline'[^;]*;.*script-src|script-src[^;]*unsafe-inline/);
});

test("script and JSON escaping", () => {
  assert.ok(!escapeScriptText("a = '</script><!--'; b = /<\\/SCRIPT>/").match(/<\/script|<!--/i));
  const value = { s: "</script><!-- & \u2028", n: [1, 2] };
  const text = jsonForScript(value);
  assert.doesNotMatch(text, /[<>&\u2028]/);
  assert.deepEqual(JSON.parse(text), value);
});

test("comparison records carry the run's numbers, the noise floor marked", () => {
  const records = comparisonRecords(run.results);
  const task = run.results.tasks[run.task];
  for (const variant of [...run.results.variants, run.results.noise_floor!]) {
    const c = (task.comparisons[variant] as Record<string, Record<string, number | boolean>>).acc;
    const r = records.find((x) => x.task === run.task && x.variant === variant && x.metric === "acc")!;
    assert.equal(r.delta, c.delta);
    assert.equal(r.ci_low, c.ci_low);
    assert.equal(r.flips_correct_to_wrong, c.flips_correct_to_wrong);
    assert.equal(r.flips_wrong_to_correct, c.flips_wrong_to_correct);
    assert.equal(r.significant, c.significant);
    assert.equal(r.is_noise_floor, variant === run.results.noise_floor);
  }
  const ppl = run.results.tasks.perplexity.comparisons.q4_0 as Record<string, number | boolean>;
  const kld = records.find((x) => x.task === "perplexity" && x.variant === "q4_0" && x.metric === "kld")!;
  assert.equal(kld.value, ppl.kld_mean);
  assert.equal(kld.significant, ppl.significant);
  // 11 KLD percentiles per compared model (2 variants + noise floor), all finite.
  const kp = kldPercentiles(run.results);
  assert.equal(kp.filter((k) => k.variant === "q4_0").length, 11);
  assert.ok(kp.every((k) => Number.isFinite(k.kld)));
  // The frontier has the baseline at KLD 0 and Q4_0 smallest; the smallest model is always on it.
  const fp = frontierPoints(run.results);
  assert.equal(fp.find((p) => p.is_baseline)!.kld_mean, 0);
  const smallest = fp.reduce((a, b) => (a.bits_per_weight! < b.bits_per_weight! ? a : b));
  assert.equal(smallest.model, "q4_0");
  assert.equal(smallest.pareto_kld, true);
});

test("Pareto flags: smaller and better dominates", () => {
  // (size, loss): a is smallest; b is dominated by c (smaller and better); d ties nobody.
  const pts = [
    { x: 4, y: 0.3 },
    { x: 8, y: 0.2 },
    { x: 6, y: 0.1 },
    { x: 16, y: 0 },
    { x: 5, y: null },
  ];
  assert.deepEqual(paretoFlags(pts, false), [true, false, true, true, false]);
  assert.deepEqual(
    paretoFlags(
      pts.map((p) => ({ x: p.x, y: p.y === null ? null : -p.y })),
      true,
    ),
    [true, false, true, true, false],
  );
});

test("Markdown shows every table and keeps HTML-looking text inert", () => {
  const md = buildMarkdownReport(run.results);
  for (const h of [
    "### Against the baseline",
    "### Distribution drift",
    "### KL divergence percentiles",
    "### Quality–size–speed frontier",
    "### Scores",
    "### Models",
    "### Reproducibility manifest",
  ]) {
    assert.ok(md.includes(h), `missing ${h}`);
  }
  assert.ok(md.includes("tiny&lt;img src=x onerror=window.__xss=3&gt;"));
  // Outside the fenced manifest JSON (where Markdown shows text as it is), no raw tags.
  assert.ok(!md.replace(/```json[\s\S]*?```/, "").includes("<img"));
});

test("CSV: one row per comparison record, full precision, formula-safe text", () => {
  const rows = parse(buildCsvReport(run.results), { columns: true }) as Array<Record<string, string>>;
  const records = comparisonRecords(run.results);
  assert.equal(rows.length, records.length);
  rows.forEach((row, i) => {
    assert.equal(row.task, records[i].task);
    assert.equal(row.delta === "" ? null : Number(row.delta), records[i].delta);
  });
  assert.equal(rows[0].variant_bits_per_weight, String(run.results.models[rows[0].variant].bits_per_weight));
  assert.equal(csvField("=HYPERLINK(1)"), "'=HYPERLINK(1)");
  assert.equal(csvField('a,"b"'), '"a,""b"""');
  assert.equal(csvField(-0.5), "-0.5");
  assert.equal(csvField(null), "");
});

test("quanteval report writes HTML, Markdown and CSV and prints JSON with --json", async () => {
  const out = dirname(run.dir);
  const program = new Command().exitOverride();
  registerReportCommand(program);
  let printed = "";
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string) => ((printed += chunk), true)) as typeof process.stdout.write;
  try {
    await program.parseAsync(["report", run.dir, "--html", join(out, "r.html"), "--md", join(out, "r.md"), "--csv", join(out, "r.csv"), "--json"], { from: "user" });
  } finally {
    process.stdout.write = write;
  }
  const summary = JSON.parse(printed) as { written: Record<string, { path: string; bytes: number }>; comparisons: unknown[] };
  assert.deepEqual(Object.keys(summary.written).sort(), ["csv", "html", "md"]);
  for (const f of Object.values(summary.written)) assert.equal(readFileSync(f.path).length, f.bytes);
  assert.equal(summary.comparisons.length, comparisonRecords(run.results).length);
  // The HTML lists the flipped samples read from the store, prompts included (as escaped JSON).
  const html = readFileSync(join(out, "r.html"), "utf8");
  assert.ok(html.includes("\\u003cscript\\u003ewindow.__xss=1\\u003c/script\\u003e") || html.includes("\\u003cimg src=x"));
  assert.ok(existsSync(join(out, "r.md")));
});
