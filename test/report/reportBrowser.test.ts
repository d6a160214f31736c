// The HTML report in a real browser (Debian's chromium through playwright-core): it opens from
// disk with no network, vega draws every chart (asserted on the SVG marks), warnings show
// first, and injection attempts in prompts and the task name stay inert text.
import assert from "node:assert/strict";
import { rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { after, before, test } from "node:test";
import type { Browser, Page } from "playwright-core";
import { buildHtmlReport } from "../../src/report/html/buildHtmlReport.js";
import { comparisonRecords, driftValues, kldPercentiles } from "../../src/report/reportData.js";
import { collectExamples } from "../../src/report/html/reportExamples.js";
import { RunReader } from "../../src/view/runReader.js";
import { artifactPath, browserSkipReason, launchBrowser, makeGenerateRun, makeXssRun, XSS, type XssRun } from "../helpers/browser.js";

const skip = browserSkipReason();
let run: XssRun;
let browser: Browser;
let file: string;

before(async () => {
  if (skip) return;
  run = await makeXssRun();
  const reader = RunReader.open(run.dir);
  const examples = collectExamples(reader, 50);
  reader.close();
  file = join(dirname(run.dir), "report.html");
  writeFileSync(file, buildHtmlReport(run.results, { examples }));
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  if (run) rmSync(dirname(run.dir), { recursive: true, force: true });
});

/** Opens a file, records every request and error, and waits until every chart settled. */
async function open(path: string): Promise<{ page: Page; requests: string[]; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1300, height: 900 } });
  const requests: string[] = [];
  const errors: string[] = [];
  page.on("request", (r) => requests.push(r.url()));
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
  await page.goto(pathToFileURL(path).href);
  await page.waitForSelector("body[data-charts-rendered]", { timeout: 60_000 });
  return { page, requests, errors };
}

test("the report opens from disk, loads nothing from the network and renders every chart", { skip }, async () => {
  const { page, requests, errors } = await open(file);
  assert.deepEqual(errors, []);
  assert.deepEqual(
    requests.filter((u) => !u.startsWith("file:") && !u.startsWith("data:")),
    [],
  );
  assert.equal(await page.getAttribute("body", "data-charts-failed"), "0");
  assert.equal(await page.getAttribute("body", "data-charts-rendered"), "4");

  // Forest plot: one point and one CI rule per paired comparison (2 variants + noise floor).
  const paired = comparisonRecords(run.results).filter((r) => r.type === "multiple_choice");
  assert.equal(await page.locator("[data-chart=forest] svg .mark-symbol.role-mark path").count(), paired.length);
  assert.ok((await page.locator("[data-chart=forest] svg .mark-rule.role-mark line").count()) >= paired.length);
  // KLD percentile bars: one bar per positive percentile value.
  const bars = kldPercentiles(run.results).filter((k) => k.kld > 0).length;
  assert.equal(await page.locator("[data-chart=kld-0] svg .mark-rect.role-mark path").count(), bars);
  // Frontier: a point and a label per model, and the Pareto line.
  const labels = await page.locator("[data-chart=frontier-kld] svg .mark-text.role-mark text").allTextContents();
  assert.deepEqual(labels.sort(), ["f32", "q4_0", "q8_0"]);
  assert.equal(await page.locator("[data-chart=frontier-kld] svg .mark-symbol.role-mark path").count(), 3);
  assert.equal(await page.locator("[data-chart=frontier-kld] svg .mark-line.role-mark path").count(), 1);
  // The summary table: one row per comparison record.
  assert.equal(await page.locator("#summary tbody tr").count(), comparisonRecords(run.results).length);
  await page.screenshot({ path: artifactPath("report.png"), fullPage: true });
  await page.close();
});

test("injection attempts in prompts and the task name render as inert text in the report", { skip }, async () => {
  const { page } = await open(file);
  assert.equal(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss), undefined);
  assert.equal(await page.locator("main img, main script").count(), 0);
  const text = await page.locator("main").innerText();
  assert.ok(text.includes(XSS.taskName), "task name shown literally");
  const prompts = await page.locator("#examples tbody td:nth-child(5)").allTextContents();
  assert.ok(prompts.length > 0, "the run has flipped samples to list");
  for (const p of prompts) assert.ok(p.includes(XSS.script) || p.includes(XSS.img), `prompt not shown literally: ${p}`);
  await page.close();
});

test("warnings such as a baseline that does not reproduce its reference come first", { skip }, async () => {
  const warning = `baseline does not reproduce reference: ${XSS.taskName} acc measured 0.5 vs reference 0.9`;
  const path = join(dirname(run.dir), "warned.html");
  writeFileSync(path, buildHtmlReport({ ...run.results, warnings: [warning, "another <b>warning</b>"] }));
  const { page } = await open(path);
  const first = await page.locator("main > *").first().getAttribute("id");
  assert.equal(first, "warnings");
  assert.deepEqual(await page.locator("#warnings li.severe").allTextContents(), [warning]);
  assert.deepEqual(await page.locator("#warnings li").allTextContents(), [warning, "another <b>warning</b>"]);
  assert.equal(await page.locator("#warnings b, #warnings img").count(), 0);
  assert.equal(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss), undefined);
  await page.close();
});

test("a generate task gets generation-drift charts: one bar per variant and measure", { skip }, async () => {
  const gen = await makeGenerateRun();
  try {
    const path = join(dirname(gen.dir), "generate.html");
    writeFileSync(path, buildHtmlReport(gen.results));
    const { page, errors } = await open(path);
    assert.deepEqual(errors, []);
    assert.equal(await page.getAttribute("body", "data-charts-failed"), "0");
    const values = driftValues(gen.results);
    assert.ok(values.some((v) => v.variant === "q4_0" && v.metric === "embed_l1_to_baseline"));
    assert.equal(await page.locator("[data-chart=drift-0] svg .mark-rect.role-mark path").count(), values.length);
    await page.locator("#chart-drift-0").screenshot({ path: artifactPath("report-generation-drift.png") });
    await page.close();
  } finally {
    rmSync(dirname(gen.dir), { recursive: true, force: true });
  }
});
