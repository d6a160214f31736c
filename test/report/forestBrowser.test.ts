// The HTML report's forest plot, seen in a real browser (Debian's chromium via playwright-core) on
// real runs, each served by a real llama-server beside the in-process backend:
// - stories260K F32 against its Q8_0 and Q4_0 files and the same F32 file behind llama-server, on
//   two 40-item two-choice tasks, with the noise floor: one point per variant × task, every CI
//   whisker inside the plot area, row labels clear of the plot and of each other;
// - llama-2-tiny-random in-process against the same file behind llama-server (32,000 tokens: the
//   KLD comes from the server's top-k log-probs, an approximate figure): marked ≈ in the table and
//   the frontier chart.
// Saves the forest plot to /tmp/quanteval-forest.png (and the pages to test-artifacts/) to look at.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { after, before, test } from "node:test";
import type { Browser } from "playwright-core";
import { APPROX_MARK, isAccuracyMetric } from "../../src/metrics/metricInfo.js";
import { buildHtmlReport } from "../../src/report/html/buildHtmlReport.js";
import { comparisonRecords } from "../../src/report/reportData.js";
import type { RunResults } from "../../src/run/runEvaluation.js";
import { artifactPath, browserSkipReason, launchBrowser } from "../helpers/browser.js";
import { llamaTool } from "../helpers/llamaBin.js";
import { type RunningLlamaServer, startLlamaServer } from "../helpers/llamaServer.js";
import { runConfig } from "../helpers/runConfig.js";
import { models, sharedPath } from "../helpers/shared.js";

const tool = llamaTool("llama-server");
const skip = browserSkipReason() ?? tool.reason ?? false;
const dir = mkdtempSync(join(tmpdir(), "quanteval-forest-"));
const servers: RunningLlamaServer[] = [];
let browser: Browser;
let stories: RunResults;
let approx: RunResults;

/** Two small two-choice tasks (a forest plot with two rows). */
function twoChoiceTasks(): Array<{ task: string; data: string; name: string }> {
  const subjects = ["Tom", "Lily", "The cat", "The dog", "Mom", "Ben", "The bird", "Sue"];
  const pairs = [
    ["happy", "sad"],
    ["big", "small"],
    ["red", "blue"],
    ["hot", "cold"],
    ["fast", "slow"],
  ];
  return (
    [
      ["feelings", "{{s}} was very"],
      ["sights", "{{s}} saw something"],
    ] as const
  ).map(([name, template]) => {
    const rows = Array.from({ length: 40 }, (_, i) => ({ premise: template.replace("{{s}}", subjects[i % 8]), a: `${pairs[i % 5][0]}.`, b: `${pairs[i % 5][1]}.`, label: Math.floor(i / 3) % 2 }));
    writeFileSync(join(dir, `${name}.jsonl`), rows.map((r) => JSON.stringify(r)).join("\n") + "\n");
    writeFileSync(
      join(dir, `${name}.yaml`),
      [`task: ${name}`, "type: multiple_choice", 'doc_to_text: "{{premise}}"', 'doc_to_choice: ["{{a}}", "{{b}}"]', 'doc_to_target: "{{label}}"', "metrics: [acc]", ""].join("\n"),
    );
    return { task: join(dir, `${name}.yaml`), data: join(dir, `${name}.jsonl`), name };
  });
}

const spec = (name: string, path: string) => ({ name, model: path, n_ctx: 256, threads: 1 });
const served = async (name: string, model: string) => {
  const s = await startLlamaServer({ bin: tool.path!, model, ctx: 1024, parallel: 2 });
  servers.push(s);
  return { name, backend: "http", base_url: s.url, n_ctx: 256 };
};
const perplexity = { task: "perplexity", data: sharedPath("datasets", "wikitext-2-raw-v1", "wiki.test.raw"), n_ctx: 64, chunks: 2 };

before(async () => {
  if (skip) return;
  ({ results: stories } = await runConfig({
    baseline: spec("f32", models.stories()),
    variants: [spec("q8_0", models.storiesVariant("q8_0")), spec("q4_0", models.storiesVariant("q4_0")), await served("server", models.stories())],
    tasks: [...twoChoiceTasks(), perplexity],
    noise_floor: true,
  }));
  ({ results: approx } = await runConfig({
    baseline: spec("f32", models.tinyRandom()),
    variants: [await served("server", models.tinyRandom())],
    tasks: [perplexity],
  }));
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  for (const s of servers) await s.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Opens a report built from `results`, waiting until every chart settled. */
async function open(results: RunResults, name: string) {
  const file = join(dir, `${name}.html`);
  writeFileSync(file, buildHtmlReport(results));
  const page = await browser.newPage({ viewport: { width: 1300, height: 900 } });
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(pathToFileURL(file).href);
  await page.waitForSelector("body[data-charts-rendered]", { timeout: 60_000 });
  assert.deepEqual(errors, []);
  assert.equal(await page.getAttribute("body", "data-charts-failed"), "0");
  return page;
}

type Box = { x: number; y: number; width: number; height: number };

test("the forest plot in chromium: one point per variant × task, CI whiskers inside the plot area, labels clear", { skip }, async () => {
  const page = await open(stories, "stories");
  const records = comparisonRecords(stories).filter((r) => isAccuracyMetric(r.metric) && r.delta !== null);
  const cells = new Set(records.map((r) => `${r.task}|${r.metric}|${r.variant}`));
  // 2 tasks × (3 variants + the noise floor), acc each: one record per cell.
  assert.equal(records.length, 8);
  assert.equal(cells.size, 8);
  assert.ok(
    records.some((r) => r.ci_low! < r.ci_high!),
    "some variant changed answers: a whisker with a length",
  );
  const forest = page.locator("[data-chart=forest] svg");
  assert.equal(await forest.locator(".mark-symbol.role-mark path").count(), records.length);
  const whiskers = forest.locator(".mark-rule.role-mark line");
  // The whiskers plus one dashed zero line.
  assert.equal(await whiskers.count(), records.length + 1);

  // The plot area: from the x axis's domain line (horizontal extent) and the y axis's (vertical).
  const xAxis = forest.locator(".role-axis").filter({ has: page.locator(".role-axis-title", { hasText: "Δ accuracy" }) });
  const yAxis = forest.locator(".role-axis").filter({ hasNot: page.locator(".role-axis-title") });
  const xDomain = (await xAxis.locator(".role-axis-domain line").boundingBox()) as Box;
  const yDomain = (await yAxis.locator(".role-axis-domain line").boundingBox()) as Box;
  assert.ok(xDomain && yDomain, "both axes drawn");
  const area = { left: xDomain.x, right: xDomain.x + xDomain.width, top: yDomain.y, bottom: yDomain.y + yDomain.height };
  for (const b of (await Promise.all((await whiskers.all()).map((w) => w.boundingBox()))) as Box[]) {
    assert.ok(b.x >= area.left - 1 && b.x + b.width <= area.right + 1, `whisker ${JSON.stringify(b)} inside x ${area.left}–${area.right}`);
    assert.ok(b.y >= area.top - 1 && b.y + b.height <= area.bottom + 1, `whisker ${JSON.stringify(b)} inside y ${area.top}–${area.bottom}`);
  }
  // Compact: at most 40 px of plot height per point (4 variants a row, 2 rows).
  assert.ok(area.bottom - area.top <= 40 * records.length, `plot height ${area.bottom - area.top} for ${records.length} points`);
  // Row labels: the task names in full, left of the plot area, not overlapping one another.
  const labelText = await yAxis.locator(".role-axis-label text").allTextContents();
  assert.deepEqual(labelText, ["feelings · acc", "sights · acc"]);
  const labels = (await Promise.all((await yAxis.locator(".role-axis-label text").all()).map((l) => l.boundingBox()))) as Box[];
  for (const l of labels) assert.ok(l.x + l.width <= area.left + 1, "a row label runs into the plot");
  assert.ok(labels[1].y >= labels[0].y + labels[0].height, "row labels overlap");
  // Axis ticks in one unit (a fraction of the items), none repeated.
  const ticks = await xAxis.locator(".role-axis-label text").allTextContents();
  assert.ok(ticks.length >= 3 && new Set(ticks).size === ticks.length, JSON.stringify(ticks));

  await page.locator("#chart-forest").screenshot({ path: "/tmp/quanteval-forest.png" });
  await page.screenshot({ path: artifactPath("report-forest-full.png"), fullPage: true });
  await page.close();
});

test("approximate figures (a server's top-k KLD) carry the mark in the table and the frontier chart", { skip }, async () => {
  const page = await open(approx, "approx");
  const kldRow = page
    .locator("#summary tbody tr")
    .filter({ has: page.locator("td:nth-child(2)", { hasText: /^kld$/ }) })
    .filter({ has: page.locator("td:nth-child(3)", { hasText: /^server$/ }) });
  assert.ok((await kldRow.innerText()).includes(APPROX_MARK), await kldRow.innerText());
  // Not judged either: an approximate KLD is biased upward by the missing tail (no "worse" colour).
  assert.equal(await kldRow.getAttribute("class"), null);
  assert.match(await kldRow.innerText(), /approximate \(top-k log-probs\): not judged/);
  assert.match(await page.locator("#chart-kld-0 h2").first().innerText(), new RegExp(`${APPROX_MARK} approximate: server`));
  const frontierLabels = await page.locator("[data-chart=frontier-kld] svg .mark-text.role-mark text").allTextContents();
  assert.ok(
    frontierLabels.some((t) => t.startsWith("server") && t.includes(`${APPROX_MARK} approximate KLD`)),
    JSON.stringify(frontierLabels),
  );
  await page.screenshot({ path: artifactPath("report-approximate.png"), fullPage: true });
  await page.close();
});
