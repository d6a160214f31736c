// Rolling log-likelihood (wikitext) over HTTP commits each document as its last window is
// scored, not per batch. End to end through the CLI: a real llama-server behind a proxy that drops
// every connection after a number of scoring requests (the proxy is the only stand-in: a server
// that fails on cue cannot be had otherwise). All documents are one batch (-j 8 sends 8 documents
// per call), so the documents finished before the failure are kept only if committed as they
// arrive; `--resume` sends only the rest, and the results equal an uninterrupted run's.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import Database from "better-sqlite3";
import { llamaTool } from "../helpers/llamaBin.js";
import { type RunningLlamaServer, startLlamaServer } from "../helpers/llamaServer.js";
import { tempDir, writeConfig } from "../helpers/runConfig.js";
import { models, repoRoot, sharedPath } from "../helpers/shared.js";
import { expectOneLineError } from "./expectOneLine.js";
import { type StandIn, startStandIn } from "./standInServer.js";

const DOCS = 6;
const tool = llamaTool("llama-server");
const skip = tool.reason ?? false;
let server: RunningLlamaServer | undefined;
before(async () => {
  if (!skip) server = await startLlamaServer({ bin: tool.path!, model: models.stories(), parallel: 4, ctx: 2048, extraArgs: ["-ctk", "f32", "-ctv", "f32", "-fa", "off"] });
});
after(async () => server?.stop());

/** Forwards to `upstream`; after `limit` scoring requests (POST /completion) drops every connection until `healFile` exists. */
function dropAfterScoring(upstream: string, limit: number, healFile: string): Promise<StandIn> {
  return startStandIn(`(() => { let n = 0; const http = require("node:http"); const fs = require("node:fs");
    return (url, req, res) => {
      if (url === "/completion" && ++n > ${limit} && !fs.existsSync(${JSON.stringify(healFile)})) return req.socket.destroy();
      const up = http.request(${JSON.stringify(upstream)} + url, { method: req.method, headers: req.headers }, (r) => { res.writeHead(r.statusCode, r.headers); r.pipe(res); });
      up.on("error", () => req.socket.destroy());
      req.pipe(up);
    }; })()`);
}

/** The CLI in a child process without blocking this event loop (llama-server and the proxy are children whose pipes must keep draining). */
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

const scoring = async (proxy: StandIn) => (await proxy.requests()).filter((r) => r === "POST /completion").length;

const strip = (out: string) => {
  const r = JSON.parse(readFileSync(join(out, "results.json"), "utf8"));
  delete r.created;
  delete r.requests;
  delete r.manifest;
  for (const m of Object.values(r.models) as Array<Record<string, unknown>>) delete m.load_ms;
  return r;
};

test("rolling log-likelihood over HTTP: a connection dropped mid-batch keeps the finished documents, --resume scores only the rest", { skip }, async () => {
  const dir = tempDir();
  const heal = join(dir, "healed");
  const config = (url: string) =>
    writeConfig(
      { baseline: { name: "srv", backend: "http", base_url: url, timeout_ms: 20_000 }, tasks: [{ task: "wikitext", data: sharedPath("datasets", "wikitext-2-raw-v1", "wiki.test.raw"), limit: DOCS }] },
      tempDir(),
    );
  // The uninterrupted run, through a proxy that never drops, counts the scoring requests (windows).
  const counting = await dropAfterScoring(server!.url, 1e9, heal);
  const clean = join(dir, "clean");
  let windows: number;
  try {
    const r = await cli(["run", config(counting.url), "--out", clean, "-j", "8"]);
    assert.equal(r.status, 0, r.stderr);
    windows = await scoring(counting);
  } finally {
    counting.stop();
  }
  assert.ok(windows > 2 * DOCS, `${windows} windows over ${DOCS} documents`);

  const proxy = await dropAfterScoring(server!.url, Math.floor(windows * 0.6), heal);
  try {
    const viaProxy = config(proxy.url);
    const out = join(dir, "out");
    const failed = await cli(["run", viaProxy, "--out", out, "-j", "8"]);
    // The run fails once the proxy drops connections, with one line naming the model.
    expectOneLineError(failed, "srv");
    const kept = cacheRows(out);
    assert.ok(kept > 0 && kept < DOCS, `documents kept from the failed batch: ${kept} of ${DOCS}`);
    writeFileSync(heal, "");
    const before = await scoring(proxy);
    const resumed = await cli(["run", viaProxy, "--out", out, "--resume", "-j", "8"]);
    assert.equal(resumed.status, 0, resumed.stderr);
    const res = JSON.parse(readFileSync(join(out, "results.json"), "utf8"));
    assert.deepEqual(res.requests, { cached: kept, computed: DOCS - kept });
    const sent = (await scoring(proxy)) - before;
    assert.ok(sent < windows, `the resume scored ${sent} windows, fewer than the whole task's ${windows}`);
    // llama-server decodes concurrent requests together, so a log-prob can move in its last bits
    // between two runs of the same config (2e-8 relative here): the figures agree to 1e-6, the rest exactly.
    const [a, b] = [strip(out).tasks.wikitext, strip(clean).tasks.wikitext];
    for (const [k, v] of Object.entries(b.results.srv as Record<string, number>)) {
      const w = (a.results.srv as Record<string, number>)[k];
      assert.ok(Math.abs(w - v) <= 1e-6 * Math.abs(v), `${k}: resumed ${w}, uninterrupted ${v}`);
    }
    assert.deepEqual({ ...a, results: {} }, { ...b, results: {} });
  } finally {
    proxy.stop();
  }
});
