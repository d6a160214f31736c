// End to end through the CLI: a real llama-server behind a proxy that drops every connection
// after a number of forwarded requests (the proxy is the only stand-in: a server that fails on
// cue cannot be had otherwise). The answers that arrived before the failure are in the run
// store, `--resume` sends only the rest, and the results equal an uninterrupted run's.
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import Database from "better-sqlite3";
import { spawn } from "node:child_process";
import { llamaTool } from "../helpers/llamaBin.js";
import { type RunningLlamaServer, startLlamaServer } from "../helpers/llamaServer.js";
import { tempDir, writeConfig } from "../helpers/runConfig.js";
import { models, repoRoot } from "../helpers/shared.js";
import { startStandIn, type StandIn } from "./standInServer.js";

const tool = llamaTool("llama-server");
const skip = tool.reason ?? false;
let server: RunningLlamaServer | undefined;
before(async () => {
  if (!skip) server = await startLlamaServer({ bin: tool.path!, model: models.stories(), parallel: 4, ctx: 2048, extraArgs: ["-ctk", "f32", "-ctv", "f32", "-fa", "off"] });
});
after(async () => server?.stop());

/** Forwards to `upstream` until `limit` requests went through, then drops every connection until `healFile` exists. */
function dropAfter(upstream: string, limit: number, healFile: string): Promise<StandIn> {
  return startStandIn(`(() => { let n = 0; const http = require("node:http"); const fs = require("node:fs");
    return (url, req, res) => {
      if (++n > ${limit} && !fs.existsSync(${JSON.stringify(healFile)})) return req.socket.destroy();
      const up = http.request(${JSON.stringify(upstream)} + url, { method: req.method, headers: req.headers }, (r) => { res.writeHead(r.statusCode, r.headers); r.pipe(res); });
      up.on("error", () => req.socket.destroy());
      req.pipe(up);
    }; })()`);
}

/**
 * The CLI in a child process without blocking this event loop: llama-server and the proxy are
 * children whose output pipes this process must keep draining (spawnSync would stall them).
 */
function cli(args: string[]): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", join(repoRoot, "src", "cli", "main.ts"), ...args], { cwd: repoRoot, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    child.on("exit", (status) => resolve({ status, stderr }));
  });
}

function cacheRows(out: string): number {
  const db = new Database(join(out, "quanteval.sqlite"), { readonly: true });
  try {
    return (db.prepare("SELECT count(*) AS n FROM cache").get() as { n: number }).n;
  } finally {
    db.close();
  }
}

const strip = (out: string) => {
  const r = JSON.parse(readFileSync(join(out, "results.json"), "utf8"));
  delete r.created;
  delete r.requests;
  delete r.manifest;
  for (const m of Object.values(r.models) as Array<Record<string, unknown>>) delete m.load_ms;
  return r;
};

test("HTTP answers are committed as they arrive: a dropped connection mid-batch keeps them, --resume sends only the rest", { skip }, async () => {
  const dir = tempDir();
  const heal = join(dir, "healed");
  const proxy = await dropAfter(server!.url, 120, heal);
  try {
    const config = (url: string) => writeConfig({ baseline: { name: "srv", backend: "http", base_url: url, timeout_ms: 20_000 }, tasks: [{ task: "kobest_copa", limit: 40 }] }, tempDir());
    const viaProxy = config(proxy.url);
    const clean = join(dir, "clean");
    assert.equal((await cli(["run", config(server!.url), "--out", clean])).status, 0);
    const out = join(dir, "out");
    const failed = await cli(["run", viaProxy, "--out", out, "-j", "4"]);
    assert.notEqual(failed.status, 0, "the run fails once the proxy drops connections");
    const kept = cacheRows(out);
    assert.ok(kept > 0 && kept < 80, `answers kept from the failed batch: ${kept} of 80`);
    writeFileSync(heal, "");
    const resumed = await cli(["run", viaProxy, "--out", out, "--resume", "-j", "4"]);
    assert.equal(resumed.status, 0, resumed.stderr);
    const res = JSON.parse(readFileSync(join(out, "results.json"), "utf8"));
    assert.deepEqual(res.requests, { cached: kept, computed: 80 - kept });
    const traffic = res.manifest.models.srv.settings.traffic;
    assert.equal(typeof traffic.retries, "number", "retries are counted in results.json");
    assert.ok(traffic.requests >= 80 - kept, JSON.stringify(traffic));
    assert.deepEqual(strip(out).tasks, strip(clean).tasks);
  } finally {
    proxy.stop();
  }
});
