// Rolling log-likelihood (wikitext) over HTTP commits each document as its last window is
// scored, not per batch. End to end through the CLI: a real llama-server behind a proxy that drops
// every connection after a number of scoring requests (the proxy is the only stand-in: a server
// that fails on cue cannot be had otherwise). All documents are one batch (-j 8 sends 8 documents
// per call), so the documents finished before the failure are kept only if committed as they
// arrive; `--resume` sends only the rest, and the results equal an uninterrupted run's.
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { cliAsync as cli } from "../helpers/cli.js";
import { comparableResults } from "../helpers/comparableResults.js";
import { dropConnectionsAfter } from "../helpers/faultProxy.js";
import { storiesServerForTests } from "../helpers/llamaServer.js";
import { tempDir, writeConfig } from "../helpers/runConfig.js";
import { cacheRows } from "../helpers/runStoreRows.js";
import { sharedPath } from "../helpers/shared.js";
import type { StandIn } from "../helpers/standInServer.js";
import { expectOneLineError } from "./expectOneLine.js";

const DOCS = 6;
const { skip, server } = storiesServerForTests();
/** Drops every connection after `limit` scoring requests (POST /completion) until `healFile` exists. */
const dropAfterScoring = (upstream: string, limit: number, healFile: string) => dropConnectionsAfter(upstream, limit, healFile, "/completion");

const scoring = async (proxy: StandIn) => (await proxy.requests()).filter((r) => r === "POST /completion").length;

const strip = (out: string) => comparableResults(out, { withoutManifest: true });

test("rolling log-likelihood over HTTP: a connection dropped mid-batch keeps the finished documents, --resume scores only the rest", { skip }, async () => {
  const dir = tempDir();
  const heal = join(dir, "healed");
  const config = (url: string) =>
    writeConfig(
      { baseline: { name: "srv", backend: "http", base_url: url, timeout_ms: 20_000 }, tasks: [{ task: "wikitext", data: sharedPath("datasets", "wikitext-2-raw-v1", "wiki.test.raw"), limit: DOCS }] },
      tempDir(),
    );
  // The uninterrupted run, through a proxy that never drops, counts the scoring requests (windows).
  const counting = await dropAfterScoring(server().url, 1e9, heal);
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

  const proxy = await dropAfterScoring(server().url, Math.floor(windows * 0.6), heal);
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
