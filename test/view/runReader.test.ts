// The viewer's data side on a real run: filters and search inside SQLite agree with counts
// computed here from the raw store rows, paging covers every sample once, the store is opened
// read-only, and the HTTP API binds 127.0.0.1 and refuses what it should.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, test } from "node:test";
import Database from "better-sqlite3";
import { STORE_FILE } from "../../src/store/runStore.js";
import { QuantevalError } from "../../src/util/errors.js";
import { findRuns } from "../../src/view/findRuns.js";
import { readResults, RunReader, SAMPLE_FILTERS, type SampleFilter } from "../../src/view/runReader.js";
import { startViewer } from "../../src/view/startViewer.js";
import { makeXssRun, type XssRun } from "../helpers/browser.js";

type Sample = { doc_id: number; pred: number; correct: boolean; prompt: string; choices: string[] };
let run: XssRun;

before(async () => {
  run = await makeXssRun();
});
after(() => {
  if (run) rmSync(dirname(run.dir), { recursive: true, force: true });
});

/** Samples of one model straight from the store, by doc_id. */
function rawSamples(model: string): Map<number, Sample> {
  const db = new Database(join(run.dir, STORE_FILE), { readonly: true });
  const rows = db.prepare("SELECT data FROM samples WHERE task = ? AND model = ? ORDER BY doc_id").all(run.task, model) as Array<{ data: string }>;
  db.close();
  return new Map(rows.map((r) => JSON.parse(r.data) as Sample).map((s) => [s.doc_id, s]));
}

/** doc_ids each filter must show, computed independently of the SQL. */
function expected(variant: string): Record<SampleFilter, number[]> {
  const b = rawSamples(run.results.baseline);
  const v = rawSamples(variant);
  const ids = [...b.keys()].sort((x, y) => x - y);
  return {
    all: ids,
    changed: ids.filter((i) => b.get(i)!.pred !== v.get(i)!.pred),
    correct_to_wrong: ids.filter((i) => b.get(i)!.correct && !v.get(i)!.correct),
    wrong_to_correct: ids.filter((i) => !b.get(i)!.correct && v.get(i)!.correct),
  };
}

test("filters agree with counts computed from the store, and paging covers each sample once", () => {
  const reader = RunReader.open(run.dir);
  try {
    assert.deepEqual(
      reader.comparisons().map((c) => c.variant),
      ["q8_0", "q4_0", "f32~noise"],
    );
    const exp = expected("q4_0");
    assert.ok(exp.changed.length > 0, "the fixture must have changed answers for this test to mean anything");
    for (const filter of SAMPLE_FILTERS) {
      const seen: number[] = [];
      for (let offset = 0; ; offset += 3) {
        const page = reader.page({ task: run.task, variant: "q4_0", filter, offset, limit: 3 });
        assert.equal(page.total, exp[filter].length, filter);
        assert.equal(page.counts[filter], exp[filter].length);
        assert.ok(page.rows.length <= 3);
        if (page.rows.length === 0) break;
        seen.push(...page.rows.map((r) => r.doc_id));
      }
      assert.deepEqual(seen, exp[filter], filter);
    }
    // For the results' own flip counts too.
    const acc = (run.results.tasks[run.task].comparisons.q4_0 as Record<string, Record<string, number>>).acc;
    const counts = reader.page({ task: run.task, variant: "q4_0", limit: 1 }).counts;
    assert.equal(counts.correct_to_wrong, acc.flips_correct_to_wrong);
    assert.equal(counts.wrong_to_correct, acc.flips_wrong_to_correct);
  } finally {
    reader.close();
  }
});

test("search is case-insensitive over prompts and choices, and combines with filters", () => {
  const reader = RunReader.open(run.dir);
  try {
    const b = rawSamples("f32");
    const tom = [...b.values()].filter((s) => s.prompt.toLowerCase().includes("tom")).map((s) => s.doc_id);
    assert.ok(tom.length > 0);
    assert.deepEqual(
      reader.page({ task: run.task, variant: "q4_0", q: "TOM" }).rows.map((r) => r.doc_id),
      tom,
    );
    const scripts = reader.page({ task: run.task, variant: "q4_0", q: "<script>window.__xss=1" });
    assert.equal(scripts.total, 20);
    const happy = [...b.values()].filter((s) => s.choices.some((c) => c.includes("happy"))).map((s) => s.doc_id);
    assert.deepEqual(
      reader.page({ task: run.task, variant: "q4_0", q: "happy" }).rows.map((r) => r.doc_id),
      happy,
    );
    const exp = expected("q4_0");
    const both = reader.page({ task: run.task, variant: "q4_0", q: "__xss=2", filter: "changed" });
    assert.deepEqual(
      both.rows.map((r) => r.doc_id),
      exp.changed.filter((i) => b.get(i)!.prompt.includes("__xss=2")),
    );
    assert.throws(() => reader.page({ task: run.task, variant: "q4_0", filter: "nope" as SampleFilter }), QuantevalError);
  } finally {
    reader.close();
  }
});

test("the reader opens the store read-only and takes no lock", () => {
  const file = join(run.dir, STORE_FILE);
  const before = statSync(file).mtimeMs;
  const reader = RunReader.open(run.dir);
  reader.page({ task: run.task, variant: "q4_0" });
  reader.close();
  assert.equal(statSync(file).mtimeMs, before);
  const db = new Database(file, { readonly: true });
  assert.equal(db.prepare("SELECT value FROM meta WHERE key = 'lock_pid'").get(), undefined);
  db.close();
});

test("runs are found at the root or below it; bad results files are one-line errors", () => {
  assert.deepEqual(
    findRuns(run.dir).map((r) => r.id),
    ["."],
  );
  assert.deepEqual(
    findRuns(dirname(run.dir)).map((r) => r.id),
    ["run"],
  );
  const bad = mkdtempSync(join(tmpdir(), "quanteval-bad-"));
  try {
    writeFileSync(join(bad, "results.json"), "{not json");
    assert.throws(
      () => readResults(bad),
      (e: Error) => e instanceof QuantevalError && e.message.startsWith(join(bad, "results.json")) && !e.message.includes("\n"),
    );
    writeFileSync(join(bad, "results.json"), JSON.stringify({ hello: 1 }));
    assert.throws(() => readResults(bad), /not a quanteval results file/);
    mkdirSync(join(bad, "empty"));
    assert.throws(() => readResults(join(bad, "empty")), /not found/);
  } finally {
    rmSync(bad, { recursive: true, force: true });
  }
});

function get(url: string, headers: Record<string, string> = {}, method = "GET"): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((ok, fail) => {
    const req = request(url, { method, headers }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => ok({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on("error", fail);
    req.end();
  });
}

test("the JSON API: 127.0.0.1 by default, paged samples, and refusals", async () => {
  const viewer = await startViewer({ root: dirname(run.dir) });
  try {
    assert.match(viewer.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    const page = await get(viewer.url);
    assert.equal(page.status, 200);
    assert.match(String(page.headers["content-security-policy"]), /script-src 'sha256-/);
    const runs = JSON.parse((await get(`${viewer.url}api/runs`)).body) as { runs: Array<{ id: string; baseline: string }> };
    assert.deepEqual(
      runs.runs.map((r) => [r.id, r.baseline]),
      [["run", "f32"]],
    );
    const q = new URLSearchParams({ run: "run", task: run.task, variant: "q4_0", limit: "5", offset: "5" });
    const samples = JSON.parse((await get(`${viewer.url}api/samples?${q}`)).body) as { total: number; rows: Array<{ doc_id: number }> };
    assert.equal(samples.total, 40);
    assert.deepEqual(
      samples.rows.map((r) => r.doc_id),
      [5, 6, 7, 8, 9],
    );
    assert.equal((await get(`${viewer.url}api/run?run=${encodeURIComponent("../..")}`)).status, 404);
    assert.equal((await get(`${viewer.url}api/samples?${new URLSearchParams({ run: "run", task: run.task, variant: "q4_0", filter: "x" })}`)).status, 400);
    assert.equal((await get(`${viewer.url}api/samples?${new URLSearchParams({ run: "run", task: "nope", variant: "q4_0" })}`)).status, 404);
    assert.equal((await get(`${viewer.url}api/runs`, { host: "evil.example" })).status, 403, "DNS-rebinding host refused");
    assert.equal((await get(`${viewer.url}api/runs`, {}, "POST")).status, 405);
  } finally {
    await viewer.close();
  }
  await assert.rejects(startViewer({ root: join(run.dir, "nope") }), QuantevalError);
});
