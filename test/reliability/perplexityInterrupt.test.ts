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
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import Database from "better-sqlite3";
import { cli } from "../helpers/cli.js";
import { tempDir, writeConfig } from "../helpers/runConfig.js";
import { models, repoRoot, sharedPath } from "../helpers/shared.js";
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

/** results.json without what legitimately differs between runs: timestamps, timings, cache counters, the free memory the schedule saw. */
function stripped(dir: string): unknown {
  // The one-model-at-a-time path names the folder of the baseline's stored rows, under --out.
  const r = JSON.parse(readFileSync(join(dir, "results.json"), "utf8"), (k, v) => (k === "dir" && String(v).endsWith(".distributions") ? "" : v));
  delete r.created;
  delete r.requests;
  delete r.manifest.schedule;
  for (const m of Object.values(r.models) as Array<Record<string, unknown>>) delete m.load_ms;
  return r;
}

/** The store's perplexity chunk records: key → rowid (a record written again gets a new rowid). */
function chunkRecords(out: string): Map<string, number> {
  const file = join(out, "quanteval.sqlite");
  if (!existsSync(file)) return new Map();
  try {
    const db = new Database(file, { readonly: true, timeout: 5000 });
    try {
      const rows = db.prepare(`SELECT key, rowid AS id FROM cache WHERE value LIKE '{"chunk":%'`).all() as Array<{ key: string; id: number }>;
      return new Map(rows.map((r) => [r.key, r.id]));
    } finally {
      db.close();
    }
  } catch {
    return new Map();
  }
}

function meta(out: string, key: string): string | undefined {
  const db = new Database(join(out, "quanteval.sqlite"), { readonly: true });
  try {
    return (db.prepare("SELECT value FROM meta WHERE key = ?").get(key) as { value: string } | undefined)?.value;
  } finally {
    db.close();
  }
}

interface Stopped {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  /** Seconds from the signal to the process's exit. */
  seconds: number;
}

/** Runs the CLI and sends `signal` once the store holds at least `atRecords` chunk records (polled, not timed). */
function runAndSignal(args: string[], out: string, atRecords: number, signal: NodeJS.Signals): Promise<Stopped> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", join(repoRoot, "src", "cli", "main.ts"), ...args], {
      cwd: repoRoot,
      env: { ...process.env, ...env },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    let sentAt = 0;
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setInterval(() => {
      if (chunkRecords(out).size >= atRecords) {
        clearInterval(timer);
        sentAt = performance.now();
        child.kill(signal);
      }
    }, 20);
    child.on("exit", (code, sig) => {
      clearInterval(timer);
      resolve({ code, signal: sig, stderr, seconds: sentAt ? (performance.now() - sentAt) / 1000 : Number.NaN });
    });
  });
}

/** Asserts a clean stop: exit 130 within one batch, the one-line message, store interrupted, lock released. */
function assertStopped(r: Stopped, out: string, signal: string): void {
  console.log(`# ${signal}: exited ${r.seconds.toFixed(1)} s after the signal`);
  assert.equal(r.signal, null, `killed by ${r.signal} instead of stopping cleanly`);
  assert.equal(r.code, 130, r.stderr);
  expectOneLineError({ status: r.code, stderr: r.stderr }, /interrupted: .* continue with the same command and --resume/);
  // Generous: one chunk of two models takes a few seconds even on a loaded machine (the old loop ran the whole task, minutes).
  assert.ok(r.seconds < 30, `stopped ${r.seconds.toFixed(1)} s after ${signal}`);
  assert.equal(meta(out, "status"), "interrupted");
  assert.equal(meta(out, "lock"), undefined, "lock released");
}

for (const schedule of ["together", "sequential"] as const) {
  test(`perplexity (${schedule}): SIGINT, then SIGTERM, then kill -9 mid-run, each resumed: identical results, finished chunks kept`, async () => {
    const dir = tempDir();
    const configPath = writeConfig(config(schedule), dir);
    const clean = join(dir, "clean");
    const first = cli(["run", configPath, "--out", clean], { env });
    assert.equal(first.status, 0, first.stderr);
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
    assert.deepEqual(stripped(out), stripped(clean));
    assert.equal(readFileSync(join(out, "samples.jsonl"), "utf8"), readFileSync(join(clean, "samples.jsonl"), "utf8"));
  });
}
