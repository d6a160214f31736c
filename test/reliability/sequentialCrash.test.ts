// kill -9 in the middle of a `schedule: sequential` run (issue 14): while the second model is
// being evaluated, SIGKILL, then --resume. The results and samples equal an uninterrupted run's,
// and nothing of the first model is computed again: its requests come from the store and its
// stored perplexity distributions are not rewritten. stories260K F32, Q8_0 and Q4_0 from ../shared.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import Database from "better-sqlite3";
import { cli } from "../helpers/cli.js";
import { tempDir, writeConfig } from "../helpers/runConfig.js";
import { models, repoRoot, sharedPath } from "../helpers/shared.js";

const TASKS = ["kobest_copa", "kobest_wic", "perplexity"];
const config = () => ({
  baseline: { name: "f32", model: models.stories() },
  variants: [
    { name: "q8_0", model: models.storiesVariant("q8_0") },
    { name: "q4_0", model: models.storiesVariant("q4_0") },
  ],
  tasks: [
    { task: "kobest_copa", limit: 24 },
    { task: "kobest_wic", limit: 12 },
    { task: "perplexity", data: sharedPath("datasets", "wikitext-2-raw-v1", "wiki.test.raw"), n_ctx: 128, chunks: 4 },
  ],
  schedule: "sequential",
  // Kept so the test can see the first model's stored distributions were not written again.
  keep_distributions: true,
  seed: 7,
});
/** The first model's multiple-choice requests: COPA 24 × 2 choices, WiC 12 × 2. */
const FIRST_MODEL_REQUESTS = 24 * 2 + 12 * 2;

/** results.json without what legitimately differs between runs (timestamps, timings, cache counters, free memory, the out folder). */
function stripped(out: string): unknown {
  const r = JSON.parse(readFileSync(join(out, "results.json"), "utf8").replaceAll(out, "<out>"));
  delete r.created;
  delete r.requests;
  delete r.manifest.schedule;
  for (const m of Object.values(r.models) as Array<Record<string, unknown>>) delete m.load_ms;
  return r;
}

/** What the store holds now: committed multiple-choice answers and the models whose evaluation of every task is stored. */
function progress(out: string): { rows: number; done: string[] } {
  const file = join(out, "quanteval.sqlite");
  if (!existsSync(file)) return { rows: 0, done: [] };
  const db = new Database(file, { readonly: true, timeout: 5000 });
  try {
    const rows = (db.prepare(`SELECT count(*) AS n FROM cache WHERE value NOT LIKE '%"drift"%' AND value NOT LIKE '%stored_distributions%'`).get() as { n: number }).n;
    let done: string[] = [];
    try {
      const per = db.prepare("SELECT model, count(*) AS n FROM evaluations GROUP BY model").all() as Array<{ model: string; n: number }>;
      done = per.filter((p) => p.n === TASKS.length).map((p) => p.model);
    } catch {
      // no evaluation stored yet
    }
    return { rows, done };
  } catch {
    return { rows: 0, done: [] };
  } finally {
    db.close();
  }
}

test("sequential: kill -9 while the second model runs, --resume: identical results, nothing of the first model computed again", async () => {
  const dir = tempDir();
  const configPath = writeConfig(config(), dir);
  const clean = join(dir, "clean");
  const first = cli(["run", configPath, "--out", clean]);
  assert.equal(first.status, 0, first.stderr);
  const total = JSON.parse(readFileSync(join(clean, "results.json"), "utf8")).requests.computed as number;
  assert.equal(total, 3 * FIRST_MODEL_REQUESTS);

  const out = join(dir, "killed");
  const child = spawn(process.execPath, ["--import", "tsx", join(repoRoot, "src", "cli", "main.ts"), "run", configPath, "--out", out], { cwd: repoRoot, stdio: "ignore" });
  const exited = new Promise<NodeJS.Signals | null>((res) => child.on("exit", (_c, sig) => res(sig)));
  // Kill once f32 is stored for every task and q8_0 has committed some of its requests, not all.
  let seen = { rows: 0, done: [] as string[] };
  for (;;) {
    seen = progress(out);
    if (seen.done.includes("f32") && seen.rows >= FIRST_MODEL_REQUESTS + 10) break;
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 10));
  }
  child.kill("SIGKILL");
  assert.equal(await exited, "SIGKILL", "the run finished before the second model was under way");
  const killed = progress(out);
  assert.deepEqual(killed.done, ["f32"], "killed while q8_0 was being evaluated");
  assert.ok(killed.rows > FIRST_MODEL_REQUESTS && killed.rows < 2 * FIRST_MODEL_REQUESTS, `killed with ${killed.rows} requests committed`);
  const rows = join(out, "distributions", "perplexity.distributions", "rows.bin");
  const written = statSync(rows).mtimeMs;

  const resumed = cli(["run", configPath, "--out", out, "--resume"]);
  assert.equal(resumed.status, 0, resumed.stderr);
  const res = JSON.parse(readFileSync(join(out, "results.json"), "utf8"));
  assert.equal(res.requests.computed, total - killed.rows, "resume computed only the requests not yet committed");
  assert.equal(res.requests.cached, killed.rows);
  assert.equal(statSync(rows).mtimeMs, written, "f32's stored distributions were not written again");
  assert.deepEqual(stripped(out), stripped(clean));
  assert.equal(readFileSync(join(out, "samples.jsonl"), "utf8"), readFileSync(join(clean, "samples.jsonl"), "utf8"));
});
