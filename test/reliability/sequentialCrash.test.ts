// kill -9 in the middle of a `schedule: sequential` run (issue 14): while the second model is
// being evaluated, SIGKILL, then --resume. The results and samples equal an uninterrupted run's,
// and nothing of the first model is computed again: its requests come from the store and its
// stored perplexity distributions are not rewritten. stories260K F32, Q8_0 and Q4_0 from ../shared.
import assert from "node:assert/strict";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import type Database from "better-sqlite3";
import { cli, signalWhen } from "../helpers/cli.js";
import { comparableResults } from "../helpers/comparableResults.js";
import { requestCount, tryReadStore } from "../helpers/runStoreRows.js";
import { sharedPath } from "../helpers/shared.js";
import { storiesModels } from "../helpers/storiesModels.js";
import { uninterruptedRun } from "../helpers/uninterruptedRun.js";

const TASKS = ["kobest_copa", "kobest_wic", "perplexity"];
const config = () => ({
  ...storiesModels(),
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

/** What the store holds now: committed multiple-choice answers and the models whose evaluation of every task is stored. */
function progress(out: string): { rows: number; done: string[] } {
  const read = (db: Database.Database) => {
    let per: Array<{ model: string; n: number }> = [];
    try {
      per = db.prepare("SELECT model, count(*) AS n FROM evaluations GROUP BY model").all() as typeof per;
    } catch {
      // no evaluation stored yet (the table comes with the first)
    }
    return { rows: requestCount(db), done: per.filter((p) => p.n === TASKS.length).map((p) => p.model) };
  };
  return tryReadStore(out, read) ?? { rows: 0, done: [] };
}

test("sequential: kill -9 while the second model runs, --resume: identical results, nothing of the first model computed again", async () => {
  const { dir, configPath, clean, computed: total } = uninterruptedRun(config());
  assert.equal(total, 3 * FIRST_MODEL_REQUESTS);

  const out = join(dir, "killed");
  // Kill once f32 is stored for every task and q8_0 has committed some of its requests, not all.
  const ready = () => {
    const seen = progress(out);
    return seen.done.includes("f32") && seen.rows >= FIRST_MODEL_REQUESTS + 10;
  };
  const killed9 = await signalWhen(["run", configPath, "--out", out], ready, "SIGKILL");
  assert.equal(killed9.signal, "SIGKILL", "the run finished before the second model was under way");
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
  assert.deepEqual(comparableResults(out), comparableResults(clean));
  assert.equal(readFileSync(join(out, "samples.jsonl"), "utf8"), readFileSync(join(clean, "samples.jsonl"), "utf8"));
});
