// Failures of the machine and of files on disk, each one line and a non-zero exit: a full
// disk (SQLITE_FULL, on a real tmpfs filled up), a read-only store, a failed write of
// results.json, an unreadable model file (EACCES), a billion-laughs YAML, `report` on a corrupt
// store and `compare` on a truncated results.json. The disk-full case needs root (mount);
// without it the test says so and skips.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { cli } from "../helpers/cli.js";
import { tempDir, writeConfig } from "../helpers/runConfig.js";
import { models, repoRoot } from "../helpers/shared.js";
import { expectOneLineError } from "./expectOneLine.js";

const isRoot = process.getuid?.() === 0;
const config = (limit = 4) => ({ baseline: { name: "f32", model: models.stories() }, tasks: [{ task: "kobest_copa", limit }] });

function sh(cmd: string, args: string[]): boolean {
  try {
    execFileSync(cmd, args, { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

test("disk full while the run writes its store: one line naming the store, and --resume finishes after space is freed", { skip: isRoot ? false : "needs root to mount a small tmpfs" }, () => {
  const dir = tempDir();
  const path = writeConfig(config(100), dir);
  const mnt = join(dir, "small");
  mkdirSync(mnt);
  assert.ok(sh("mount", ["-t", "tmpfs", "-o", "size=512k", "tmpfs", mnt]), "mount tmpfs");
  try {
    // Leave ~160 KiB: enough to open the store, not enough for the run's answers and samples.
    writeFileSync(join(mnt, "filler"), Buffer.alloc(352 * 1024));
    const out = join(mnt, "out");
    const r = cli(["run", path, "--out", out]);
    expectOneLineError(r, join(out, "quanteval.sqlite"), "disk full", "--resume");
    rmSync(join(mnt, "filler"));
    const resumed = cli(["run", path, "--out", out, "--resume"]);
    assert.equal(resumed.status, 0, resumed.stderr);
  } finally {
    sh("umount", [mnt]);
  }
});

test("a read-only run store: one line naming it", () => {
  const dir = tempDir();
  const path = writeConfig(config(), dir);
  const out = join(dir, "out");
  assert.equal(cli(["run", path, "--out", out]).status, 0);
  const store = join(out, "quanteval.sqlite");
  // root ignores file modes; the immutable attribute binds root too.
  if (isRoot) assert.ok(sh("chattr", ["+i", store]), "chattr +i");
  else chmodSync(store, 0o444);
  try {
    expectOneLineError(cli(["run", path, "--out", out, "--resume"]), store, "read-only");
  } finally {
    if (isRoot) sh("chattr", ["-i", store]);
  }
});

test("a failed write of results.json: one line naming the file", () => {
  const dir = tempDir();
  const out = join(dir, "out");
  mkdirSync(join(out, "results.json.tmp"), { recursive: true });
  const r = cli(["run", writeConfig(config(), dir), "--out", out]);
  expectOneLineError(r, join(out, "results.json.tmp"), "EISDIR");
});

/**
 * Root reads any file, so as root the EACCES case runs the CLI as 'nobody'; that needs the
 * checkout itself to be readable by 'nobody' (a clone inside a 0700 mktemp folder is not).
 */
function nobodyCanRunCli(): boolean {
  if (!isRoot) return true;
  const r = spawnSync(process.execPath, ["-e", `require("fs").accessSync(${JSON.stringify(join(repoRoot, "src", "cli", "main.ts"))}, require("fs").constants.R_OK)`], { uid: 65534, gid: 65534 });
  return r.status === 0;
}

test("an unreadable model file (EACCES): one line naming the file", { skip: nobodyCanRunCli() ? false : "the checkout is not readable by 'nobody', whom root needs to run as to meet EACCES" }, () => {
  const dir = tempDir();
  chmodSync(dir, 0o755);
  const model = join(dir, "m.gguf");
  copyFileSync(models.stories(), model);
  chmodSync(model, 0o000);
  const path = writeConfig({ ...config(), baseline: { name: "f32", model } }, dir);
  chmodSync(path, 0o644);
  mkdirSync(join(dir, "o"), { mode: 0o777 });
  chmodSync(join(dir, "o"), 0o777);
  // root reads any file, so the CLI runs as 'nobody' there.
  const r = spawnSync(process.execPath, ["--import", "tsx", join(repoRoot, "src", "cli", "main.ts"), "run", path, "--out", join(dir, "o", "out")], {
    cwd: repoRoot,
    encoding: "utf8",
    env: { ...process.env, HOME: dir },
    ...(isRoot ? { uid: 65534, gid: 65534 } : {}),
  });
  expectOneLineError(r, model, "EACCES", "chmod");
});

test("a billion-laughs YAML config: refused with one line, quickly", () => {
  const dir = tempDir();
  const path = join(dir, "lol.yaml");
  const levels = ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"];
  for (let i = 1; i < 9; i++)
    levels.push(
      `${"abcdefghi"[i]}: &${"abcdefghi"[i]} [${Array(9)
        .fill(`*${"abcdefghi"[i - 1]}`)
        .join(", ")}]`,
    );
  writeFileSync(path, `${levels.join("\n")}\nbaseline: {name: f32, model: ${models.stories()}}\ntasks: [{task: kobest_copa}]\n`);
  const t0 = Date.now();
  expectOneLineError(cli(["run", path, "--out", join(dir, "out")]), path, "aliases");
  assert.ok(Date.now() - t0 < 60_000);
});

test("report on a corrupt store: one line naming it", () => {
  const dir = tempDir();
  const out = join(dir, "out");
  assert.equal(cli(["run", writeConfig(config(), dir), "--out", out]).status, 0);
  const store = join(out, "quanteval.sqlite");
  const size = statSync(store).size;
  writeFileSync(store, Buffer.concat([Buffer.from("SQLite format 3\u0000"), Buffer.alloc(size - 16, 0x5a)]));
  expectOneLineError(cli(["report", out, "--html", join(dir, "r.html")]), store, "corrupt");
});

test("compare on a truncated results.json: one line naming it", () => {
  const dir = tempDir();
  const path = writeConfig(config(), dir);
  for (const o of ["a", "b"]) assert.equal(cli(["run", path, "--out", join(dir, o)]).status, 0);
  const file = join(dir, "b", "results.json");
  writeFileSync(file, readFileSync(file, "utf8").slice(0, 200));
  expectOneLineError(cli(["compare", join(dir, "a"), join(dir, "b")]), file, "not valid JSON");
});
