// Ctrl-C, SIGTERM and kill -9 during `perplexity`, through the real CLI on stories260K (f32 and
// Q4_0) and WikiText-2 test: a signal stops the run within one batch (exit 130, store marked
// interrupted, lock released); kill -9 loses at most the batch in flight; `--resume` continues at
// the last finished chunk and ends with results.json and samples.jsonl identical to an
// uninterrupted run's. Both paths: co-evaluated (`schedule: together`) and one model at a time
// (`schedule: sequential`, the baseline's rows stored on disk and checkpointed per batch).
//
// QUANTEVAL_DIST_BUFFER_MB=0.6 makes every batch one chunk (0.5 MB of log-probs per chunk at
// n_ctx 512 and stories260K's 512-token vocabulary), so "within one batch" is one chunk here.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { cli, type SignalledExit, signalWhen } from "../helpers/cli.js";
import { comparableResults } from "../helpers/comparableResults.js";
import { metaValue, tryReadStore } from "../helpers/runStoreRows.js";
import { models, sharedPath } from "../helpers/shared.js";
import { uninterruptedRun } from "../helpers/uninterruptedRun.js";
import { expectOneLineError } from "./expectOneLine.js";

const env = { QUANTEVAL_DIST_BUFFER_MB: "0.6" };
const CHUNKS = 6;

const config = (schedule: "together" | "sequential") => ({
  baseline: { name: "f32", model: models.stories() },
  variants: [{ name: "q4_0", model: models.storiesVariant("q4_0") }],
  tasks: [{ task: "perplexity", data: sharedPath("datasets", "wikitext-2-raw-v1", "wiki.test.raw"), n_ctx: 512, chunks: CHUNKS }],
  schedule,
  seed: 7,
});

/** The store's perplexity chunk records: key → rowid (a record written again gets a new rowid). */
function chunkRecords(out: string): Map<string, number> {
  const rows = tryReadStore(out, (db) => db.prepare(`SELECT key, rowid AS id FROM cache WHERE value LIKE '{"chunk":%'`).all() as Array<{ key: string; id: number }>);
  return new Map(rows?.map((r) => [r.key, r.id]));
}

/** Runs the CLI and sends `signal` once the store holds at least `atRecords` chunk records (polled, not timed). */
const runAndSignal = (args: string[], out: string, atRecords: number, signal: NodeJS.Signals) => signalWhen(args, () => chunkRecords(out).size >= atRecords, signal, { env, pollMs: 20 });

/** Asserts a clean stop: exit 130 within one batch, the one-line message, store interrupted, lock released. */
function assertStopped(r: SignalledExit, out: string, signal: string): void {
  console.log(`# ${signal}: exited ${r.seconds.toFixed(1)} s after the signal`);
  assert.equal(r.signal, null, `killed by ${r.signal} instead of stopping cleanly`);
  assert.equal(r.status, 130, r.stderr);
  expectOneLineError(r, /interrupted: .* continue with the same command and --resume/);
  // Generous: one chunk of two models takes a few seconds even on a loaded machine (the old loop ran the whole task, minutes).
  assert.ok(r.seconds < 30, `stopped ${r.seconds.toFixed(1)} s after ${signal}`);
  assert.equal(metaValue(out, "status"), "interrupted");
  assert.equal(metaValue(out, "lock"), undefined, "lock released");
}

for (const schedule of ["together", "sequential"] as const) {
  test(`perplexity (${schedule}): SIGINT, then SIGTERM, then kill -9 mid-run, each resumed: identical results, finished chunks kept`, async () => {
    const { dir, configPath, clean } = uninterruptedRun(config(schedule), { env });
    const total = chunkRecords(clean).size;
    assert.equal(total, 2 * CHUNKS, "one record per model per chunk");

    const out = join(dir, "out");
    let kept = new Map<string, number>();
    // Each step starts (or resumes) the run and stops it once two more records are stored.
    for (const [i, signal] of (["SIGINT", "SIGTERM", "SIGKILL"] as const).entries()) {
      const r = await runAndSignal(["run", configPath, "--out", out, ...(i > 0 ? ["--resume"] : [])], out, kept.size + 2, signal);
      if (signal === "SIGKILL") assert.equal(r.signal, "SIGKILL", "the run finished before it was killed");
      else assertStopped(r, out, signal);
      const now = chunkRecords(out);
      assert.ok(now.size < total, `${signal}: stopped with ${now.size} of ${total} chunk records`);
      for (const [key, id] of kept) assert.equal(now.get(key), id, `${signal}: a record stored before was written again`);
      kept = now;
    }
    const resumed = cli(["run", configPath, "--out", out, "--resume"], { env });
    assert.equal(resumed.status, 0, resumed.stderr);
    const final = chunkRecords(out);
    assert.equal(final.size, total);
    for (const [key, id] of kept) assert.equal(final.get(key), id, "the resumed run kept every finished chunk");
    assert.deepEqual(comparableResults(out), comparableResults(clean));
    assert.equal(readFileSync(join(out, "samples.jsonl"), "utf8"), readFileSync(join(clean, "samples.jsonl"), "utf8"));
  });
}
