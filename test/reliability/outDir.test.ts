// The output folder and its writer lock: someone else's results are never overwritten, an
// empty --out is refused, a run that failed its pre-check does not block the corrected config,
// and a lock left by a dead process (or a reused PID) is taken over with a message.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import Database from "better-sqlite3";
import { processStartTime } from "../../src/store/writerLock.js";
import { cli } from "../helpers/cli.js";
import { tempDir, writeConfig } from "../helpers/runConfig.js";
import { metaValue } from "../helpers/runStoreRows.js";
import { models } from "../helpers/shared.js";
import { expectOneLineError } from "./expectOneLine.js";

const config = () => ({ baseline: { name: "f32", model: models.stories() }, tasks: [{ task: "kobest_copa", limit: 4 }] });

function setLock(out: string, value: string): void {
  const db = new Database(join(out, "quanteval.sqlite"));
  db.prepare("INSERT OR REPLACE INTO meta(key, value) VALUES ('lock', ?)").run(value);
  db.prepare("INSERT OR REPLACE INTO meta(key, value) VALUES ('status', 'running')").run();
  db.close();
}

test("an --out holding someone else's results.json and samples.jsonl (no store) is refused, the files untouched", () => {
  const dir = tempDir();
  const out = join(dir, "out");
  mkdirSync(out);
  writeFileSync(join(out, "results.json"), '{"theirs": true}\n');
  writeFileSync(join(out, "samples.jsonl"), '{"theirs": 1}\n');
  const r = cli(["run", writeConfig(config(), dir), "--out", out]);
  expectOneLineError(r, `--out ${out}`, "results.json", "refusing to overwrite");
  assert.equal(readFileSync(join(out, "results.json"), "utf8"), '{"theirs": true}\n');
  assert.equal(readFileSync(join(out, "samples.jsonl"), "utf8"), '{"theirs": 1}\n');
});

test('--out "" is refused instead of writing into the working directory', () => {
  const dir = tempDir();
  const r = cli(["run", writeConfig(config(), dir), "--out", ""]);
  expectOneLineError(r, "--out is empty");
});

test("a run that fails its pre-check leaves a folder that accepts the corrected config", () => {
  const dir = tempDir();
  const out = join(dir, "out");
  const bad = cli(["run", writeConfig({ ...config(), tasks: [{ task: "perplexity", data: "/nonexistent/wiki.raw" }] }, dir), "--out", out]);
  expectOneLineError(bad, "data file not found");
  const good = cli(["run", writeConfig(config(), dir), "--out", out]);
  assert.equal(good.status, 0, good.stderr);
  assert.equal(metaValue(out, "status"), "done");
});

test("locks record host, PID and start time; a lock whose PID was reused is taken over with a message", () => {
  const dir = tempDir();
  const path = writeConfig(config(), dir);
  const out = join(dir, "out");
  assert.equal(cli(["run", path, "--out", out]).status, 0);
  // As after kill -9 and a container restart: the lock names a PID that now runs something else (pid 1 here).
  setLock(out, JSON.stringify({ host: hostname(), pid: 1, start: (processStartTime(1) ?? 0) + 12345 }));
  const r = cli(["run", path, "--out", out, "--resume"]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /taking over a stale lock \(pid 1 now belongs to another process/);
  assert.equal(metaValue(out, "status"), "done");
  assert.equal(metaValue(out, "lock"), undefined, "lock released at the end");
  // A bare-PID lock from an older version whose process is gone.
  setLock(out, "999999");
  const legacy = cli(["run", path, "--out", out, "--resume"]);
  assert.equal(legacy.status, 0, legacy.stderr);
  assert.match(legacy.stderr, /stale lock \(pid 999999 no longer runs\)/);
});

test("a lock held by a live process (same start time) is respected; one from another host is never taken over", async () => {
  const dir = tempDir();
  const path = writeConfig(config(), dir);
  const out = join(dir, "out");
  assert.equal(cli(["run", path, "--out", out]).status, 0);
  const sleeper = spawn("sleep", ["30"], { stdio: "ignore" });
  try {
    await new Promise((r) => setTimeout(r, 100));
    setLock(out, JSON.stringify({ host: hostname(), pid: sleeper.pid, start: processStartTime(sleeper.pid!) }));
    expectOneLineError(cli(["run", path, "--out", out, "--resume"]), `another quanteval run (pid ${sleeper.pid})`);
    setLock(out, JSON.stringify({ host: "other-machine", pid: 999999, start: 1 }));
    expectOneLineError(cli(["run", path, "--out", out, "--resume"]), "pid 999999 on host other-machine");
  } finally {
    sleeper.kill();
  }
});
