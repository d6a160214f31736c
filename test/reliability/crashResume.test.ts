// Crash safety and determinism on a real run: SIGKILL at several points, then --resume, must
// give results identical to an uninterrupted run, without sending any finished request again.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { cli, signalWhen, startCli } from "../helpers/cli.js";
import { comparableResults } from "../helpers/comparableResults.js";
import { tempDir, writeConfig } from "../helpers/runConfig.js";
import { metaValue, readStore, requestRows } from "../helpers/runStoreRows.js";
import { sharedPath } from "../helpers/shared.js";
import { storiesModels } from "../helpers/storiesModels.js";
import { uninterruptedRun } from "../helpers/uninterruptedRun.js";

const config = () => ({
  ...storiesModels(),
  tasks: [
    { task: "kobest_copa", limit: 24 },
    { task: "kobest_wic", limit: 12 },
    { task: "kobest_sentineg", num_fewshot: 1, limit: 16 },
    { task: "perplexity", data: sharedPath("datasets", "wikitext-2-raw-v1", "wiki.test.raw"), n_ctx: 128, chunks: 4 },
  ],
  seed: 7,
});

/** Starts a run and sends `signal` once at least `atRows` requests are committed. */
const runAndSignal = (configPath: string, out: string, atRows: number, signal: NodeJS.Signals) => signalWhen(["run", configPath, "--out", out], () => requestRows(out) >= atRows, signal);

test("SIGKILL at several points, then --resume: identical results, no request sent twice", async () => {
  const { dir, configPath, clean, computed: total } = uninterruptedRun(config());
  const cleanSamples = readFileSync(join(clean, "samples.jsonl"), "utf8");
  // Points: after the first model of the first task, mid second task, mid third task.
  for (const atRows of [48, 150, 250]) {
    const out = join(dir, `killed-${atRows}`);
    const killed = await runAndSignal(configPath, out, atRows, "SIGKILL");
    assert.equal(killed.signal, "SIGKILL", `the run finished before ${atRows} rows were committed`);
    const committed = requestRows(out);
    assert.ok(committed >= atRows && committed < total, `killed with ${committed} of ${total} requests done`);
    const resumed = cli(["run", configPath, "--out", out, "--resume"]);
    assert.equal(resumed.status, 0, resumed.stderr);
    const res = JSON.parse(readFileSync(join(out, "results.json"), "utf8"));
    assert.equal(res.requests.computed, total - committed, "resume sent only the missing requests");
    assert.equal(res.requests.cached, committed);
    assert.deepEqual(comparableResults(out), comparableResults(clean));
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
    assert.equal(r.status, 130, r.stderr);
    assert.match(r.stderr, /--resume/);
    assert.equal(metaValue(out, "status"), "interrupted");
    assert.equal(metaValue(out, "lock"), undefined, "lock released");
    assert.equal(metaValue(out, "lock_pid"), undefined, "no old-style lock");
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
  assert.deepEqual(comparableResults(join(dir, "a")), comparableResults(join(dir, "b")));
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
  const first = startCli(["run", configPath, "--out", out]);
  while (requestRows(out) < 1) await new Promise((r) => setTimeout(r, 10));
  const second = cli(["run", configPath, "--out", out, "--resume"]);
  assert.notEqual(second.status, 0);
  assert.match(second.stderr, /another quanteval run \(pid \d+\) is writing/);
  assert.equal((await first.exited).status, 0, "the first run completes");
  assert.equal(
    readStore(out, (db) => (db.prepare("PRAGMA integrity_check").get() as { integrity_check: string }).integrity_check),
    "ok",
  );
});
