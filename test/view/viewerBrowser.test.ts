// The viewer in a real browser (Debian's chromium through playwright-core) on a real run: it
// lists the run, the filters show exactly the items counted from the store, search works,
// prompts full of injection attempts render as inert text, and a screenshot is saved.
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { after, before, test } from "node:test";
import Database from "better-sqlite3";
import type { Browser, Page } from "playwright-core";
import { STORE_FILE } from "../../src/store/runStore.js";
import { startViewer, type Viewer } from "../../src/view/startViewer.js";
import { artifactPath, browserSkipReason, launchBrowser, makeXssRun, XSS, type XssRun } from "../helpers/browser.js";

const skip = browserSkipReason();
let run: XssRun;
let viewer: Viewer;
let browser: Browser;
let page: Page;
const errors: string[] = [];

before(async () => {
  if (skip) return;
  run = await makeXssRun();
  viewer = await startViewer({ root: dirname(run.dir) });
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
});
after(async () => {
  await browser?.close();
  await viewer?.close();
  if (run) rmSync(dirname(run.dir), { recursive: true, force: true });
});

type Sample = { doc_id: number; pred: number; correct: boolean };

/** doc_ids whose answer changed / flipped between f32 and q4_0, straight from the store. */
function fromStore(): { changed: number[]; c2w: number[]; w2c: number[] } {
  const db = new Database(join(run.dir, STORE_FILE), { readonly: true });
  const load = (model: string) =>
    new Map((db.prepare("SELECT data FROM samples WHERE task = ? AND model = ?").all(run.task, model) as Array<{ data: string }>).map((r) => JSON.parse(r.data) as Sample).map((s) => [s.doc_id, s]));
  const b = load("f32");
  const v = load("q4_0");
  db.close();
  const ids = [...b.keys()].sort((x, y) => x - y);
  return {
    changed: ids.filter((i) => b.get(i)!.pred !== v.get(i)!.pred),
    c2w: ids.filter((i) => b.get(i)!.correct && !v.get(i)!.correct),
    w2c: ids.filter((i) => !b.get(i)!.correct && v.get(i)!.correct),
  };
}

const idle = () => page.waitForSelector("body[data-state=idle]");
const shownDocIds = async () => await page.locator("tr.sample-row").evaluateAll((rows) => rows.map((r) => Number(r.getAttribute("data-doc-id"))));

test("the viewer lists the run and opens its comparison side by side", { skip }, async () => {
  await page.goto(viewer.url);
  await page.waitForSelector("li.run");
  assert.deepEqual(await page.locator("li.run button").allTextContents(), ["run"]);
  await page.click("li.run button");
  await idle();
  const option = await page.locator("#comparison option", { hasText: "q4_0" }).getAttribute("value");
  await page.selectOption("#comparison", option!);
  await idle();
  assert.equal(await page.locator("tr.sample-row").count(), 40);
  // Each row: the choices with both models' log-likelihoods, the gold marked.
  const first = page.locator("tr.sample-row").first();
  assert.deepEqual(await first.locator("table.choices th").allTextContents(), ["", "choice", "f32", "q4_0"]);
  assert.equal(await first.locator("table.choices tr.gold").count(), 1);
  assert.equal(await first.locator("td.ll.pred").count(), 2);
});

test("'changed only' and the flip filters show exactly the items counted from the store", { skip }, async () => {
  const exp = fromStore();
  assert.ok(exp.changed.length > 0 && exp.c2w.length > 0 && exp.w2c.length > 0, "the fixture needs flips both ways");
  await page.check("input[name=filter][value=changed]");
  await idle();
  assert.deepEqual(await shownDocIds(), exp.changed);
  assert.equal(await page.textContent("[data-label=changed]"), `changed only (${exp.changed.length})`);
  await page.screenshot({ path: artifactPath("viewer-changed-only.png"), fullPage: true });
  await page.check("input[name=filter][value=correct_to_wrong]");
  await idle();
  assert.deepEqual(await shownDocIds(), exp.c2w);
  await page.check("input[name=filter][value=wrong_to_correct]");
  await idle();
  assert.deepEqual(await shownDocIds(), exp.w2c);
  assert.equal(await page.locator("tr.sample-row.better").count(), exp.w2c.length);
});

test("search narrows the rows; paging moves through them", { skip }, async () => {
  await page.check("input[name=filter][value=all]");
  await page.fill("#search", "tom was");
  await idle();
  const texts = await page.locator("tr.sample-row .prompt-text").allTextContents();
  assert.ok(texts.length > 0 && texts.every((t) => t.includes("Tom was")));
  await page.fill("#search", "");
  await idle();
  await page.selectOption("#limit", "25");
  await idle();
  assert.equal(await page.textContent("#status"), "rows 1–25 of 40");
  await page.click("#next");
  await idle();
  assert.equal(await page.textContent("#status"), "rows 26–40 of 40");
  assert.deepEqual(
    await shownDocIds(),
    Array.from({ length: 15 }, (_, i) => 25 + i),
  );
});

test("prompts with <script> and <img onerror> render as inert text in the viewer", { skip }, async () => {
  await page.click("#prev");
  await idle();
  const prompts = await page.locator("tr.sample-row .prompt-text").allTextContents();
  assert.ok(prompts.some((p) => p.startsWith(XSS.script)));
  assert.ok(prompts.some((p) => p.startsWith(XSS.img)));
  assert.ok((await page.locator("#comparison option").allTextContents()).every((t) => t.startsWith(XSS.taskName)));
  assert.equal(await page.locator("main img, main script").count(), 0);
  assert.equal(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss), undefined);
  assert.deepEqual(errors, []);
});
