// Crash safety and determinism on a real run: SIGKILL at several points, then --resume, must
// give results identical to an uninterrupted run, without sending any finished request again.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import Database from "better-sqlite3";
import { cli } from "../helpers/cli.js";
import { tempDir, writeConfig } from "../helpers/runConfig.js";
import { models, repoRoot, sharedPath } from "../helpers/shared.js";

const config = () => ({
  baseline: { name: "f32", model: models.stories() },
  variants: [
    { name: "q8_0", model: models.storiesVariant("q8_0") },
    { name: "q4_0", model: models.storiesVariant("q4_0") },
  ],
  tasks: [
    { task: "kobest_copa", limit: 24 },
    { task: "kobest_wic", limit: 12 },
    { task: "kobest_sentineg", num_fewshot: 1, limit: 16 },
    { task: "perplexity", data: sharedPath("datasets", "wikitext-2-raw-v1", "wiki.test.raw"), n_ctx: 128, chunks: 4 },
  ],
  seed: 7,
});

/** results.json without what legitimately differs between runs: timestamps, timings, cache counters, the free memory the schedule saw. */
function stripped(dir: string): unknown {
  const r = JSON.parse(readFileSync(join(dir, "results.json"), "utf8"));
  delete r.created;
  delete r.requests;
  delete r.manifest.schedule;
  for (const m of Object.values(r.models) as Array<Record<string, unknown>>) delete m.load_ms;
  return r;
}

/** Backend requests committed (perplexity's chunk records, `{"chunk":…}`, are not requests). */
function mcRows(out: string): number {
  const file = join(out, "quanteval.sqlite");
  if (!existsSync(file)) return 0;
  const db = new Database(file, { readonly: true, timeout: 5000 });
  try {
    return (db.prepare(`SELECT count(*) AS n FROM cache WHERE value NOT LIKE '{"chunk":%'`).get() as { n: number }).n;
  } catch {
    return 0;
  } finally {
    db.close();
  }
}

/** Starts a run and sends `signal` once at least `atRows` requests are committed. */
function runAndSignal(configPath: string, out: string, atRows: number, signal: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", join(repoRoot, "src", "cli", "main.ts"), "run", configPath, "--out", out], { cwd: repoRoot, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setInterval(() => {
      if (mcRows(out) >= atRows) {
        clearInterval(timer);
        child.kill(signal);
      }
    }, 10);
    child.on("exit", (code, sig) => {
      clearInterval(timer);
      resolve({ code, signal: sig, stderr });
    });
  });
}

test("SIGKILL at several points, then --resume: identical results, no request sent twice", async () => {
  const dir = tempDir();
  const configPath = writeConfig(config(), dir);
  const clean = join(dir, "clean");
  const first = cli(["run", configPath, "--out", clean]);
  assert.equal(first.status, 0, first.stderr);
  const total = JSON.parse(readFileSync(join(clean, "results.json"), "utf8")).requests.computed as number;
  const cleanSamples = readFileSync(join(clean, "samples.jsonl"), "utf8");
  // Points: after the first model of the first task, mid second task, mid third task.
  for (const atRows of [48, 150, 250]) {
    const out = join(dir, `killed-${atRows}`);
    const killed = await runAndSignal(configPath, out, atRows, "SIGKILL");
    assert.equal(killed.signal, "SIGKILL", `the run finished before ${atRows} rows were committed`);
    const committed = mcRows(out);
    assert.ok(committed >= atRows && committed < total, `killed with ${committed} of ${total} requests done`);
    const resumed = cli(["run", configPath, "--out", out, "--resume"]);
    assert.equal(resumed.status, 0, resumed.stderr);
    const res = JSON.parse(readFileSync(join(out, "results.json"), "utf8"));
    assert.equal(res.requests.computed, total - committed, "resume sent only the missing requests");
    assert.equal(res.requests.cached, committed);
    assert.deepEqual(stripped(out), stripped(clean));
    assert.equal(readFileSync(join(out, "samples.jsonl"), "utf8"), cleanSamples);
  }
});

// SIGTERM is what docker stop, systemd and CI runners send; SIGHUP comes with a closed terminal.
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  test(`${signal} stops cleanly within a batch and leaves a resumable run`, async () => {
    const dir = tempDir();
    const configPath = writeConfig(config(), dir);
    const out = join(dir, "out");
    const r = await runAndSignal(configPath, out, 48, signal);
    assert.equal(r.signal, null, `killed by ${r.signal} instead of stopping cleanly`);
    assert.equal(r.code, 130, r.stderr);
    assert.match(r.stderr, /--resume/);
    const db = new Database(join(out, "quanteval.sqlite"), { readonly: true });
    assert.equal((db.prepare("SELECT value FROM meta WHERE key = 'status'").get() as { value: string }).value, "interrupted");
    assert.equal(db.prepare("SELECT value FROM meta WHERE key = 'lock'").get(), undefined, "lock released");
    assert.equal(db.prepare("SELECT value FROM meta WHERE key = 'lock_pid'").get(), undefined, "no old-style lock");
    db.close();
    const resumed = cli(["run", configPath, "--out", out, "--resume"]);
    assert.equal(resumed.status, 0, resumed.stderr);
    assert.ok(!/stale lock/.test(resumed.stderr), "the lock was released, not left stale");
  });
}

test("determinism: the same config twice gives identical results.json apart from timings", () => {
  const dir = tempDir();
  const configPath = writeConfig({ ...config(), noise_floor: true }, dir);
  const a = cli(["run", configPath, "--out", join(dir, "a")]);
  const b = cli(["run", configPath, "--out", join(dir, "b")]);
  assert.equal(a.status, 0, a.stderr);
  assert.equal(b.status, 0, b.stderr);
  assert.deepEqual(stripped(join(dir, "a")), stripped(join(dir, "b")));
  assert.equal(readFileSync(join(dir, "a", "samples.jsonl"), "utf8"), readFileSync(join(dir, "b", "samples.jsonl"), "utf8"));
  // The noise floor is reported as its own row, and deltas inside it are not significant.
  const r = JSON.parse(readFileSync(join(dir, "a", "results.json"), "utf8"));
  assert.equal(r.noise_floor, "f32~noise");
  const noise = r.tasks.kobest_copa.comparisons["f32~noise"].acc;
  assert.equal(noise.flips_correct_to_wrong + noise.flips_wrong_to_correct, 0, "baseline under another batch layout flips nothing");
  for (const v of ["q8_0", "q4_0"]) assert.equal(typeof r.tasks.kobest_copa.comparisons[v].acc.significant, "boolean");
});

test("two runs writing to the same store at once: the second is refused, neither is corrupted", async () => {
  const dir = tempDir();
  const configPath = writeConfig(config(), dir);
  const out = join(dir, "out");
  const child = spawn(process.execPath, ["--import", "tsx", join(repoRoot, "src", "cli", "main.ts"), "run", configPath, "--out", out], { cwd: repoRoot, stdio: "ignore" });
  const exited = new Promise<number | null>((res) => child.on("exit", (c) => res(c)));
  while (mcRows(out) < 1) await new Promise((r) => setTimeout(r, 10));
  const second = cli(["run", configPath, "--out", out, "--resume"]);
  assert.notEqual(second.status, 0);
  assert.match(second.stderr, /another quanteval run \(pid \d+\) is writing/);
  assert.equal(await exited, 0, "the first run completes");
  const db = new Database(join(out, "quanteval.sqlite"), { readonly: true });
  assert.equal((db.prepare("PRAGMA integrity_check").get() as { integrity_check: string }).integrity_check, "ok");
  db.close();
});
