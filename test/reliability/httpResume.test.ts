// End to end through the CLI: a real llama-server behind a proxy that drops every connection
// after a number of forwarded requests (the proxy is the only stand-in: a server that fails on
// cue cannot be had otherwise). The answers that arrived before the failure are in the run
// store, `--resume` sends only the rest, and the results equal an uninterrupted run's.
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

const { skip, server } = storiesServerForTests();
const strip = (out: string) => comparableResults(out, { withoutManifest: true });

test("HTTP answers are committed as they arrive: a dropped connection mid-batch keeps them, --resume sends only the rest", { skip }, async () => {
  const dir = tempDir();
  const heal = join(dir, "healed");
  const proxy = await dropConnectionsAfter(server().url, 120, heal);
  try {
    const config = (url: string) => writeConfig({ baseline: { name: "srv", backend: "http", base_url: url, timeout_ms: 20_000 }, tasks: [{ task: "kobest_copa", limit: 40 }] }, tempDir());
    const viaProxy = config(proxy.url);
    const clean = join(dir, "clean");
    assert.equal((await cli(["run", config(server().url), "--out", clean])).status, 0);
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
