// HTTP answers are committed as they arrive, and replicas are health-tracked. The servers are
// small node:http stand-ins in this process: one that drops every connection after its 103rd
// answer, and a replica that stops answering (a real server that fails this way on cue cannot
// be had here). The store is the real SQLite run store.
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { test } from "node:test";
import Database from "better-sqlite3";
import { HttpPool } from "../../src/backends/http/pool.js";
import { RunStore } from "../../src/store/runStore.js";
import { tempDir } from "../helpers/runConfig.js";

async function serve(handler: (n: number, body: string, res: import("node:http").ServerResponse) => void): Promise<{ url: string; server: Server }> {
  let n = 0;
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (d) => (body += d));
    req.on("end", () => handler(++n, body, res));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

const answer = (res: import("node:http").ServerResponse, body: string) => {
  res.setHeader("content-type", "application/json");
  res.end(JSON.stringify({ echo: JSON.parse(body).i }));
};

function cacheRows(dir: string): number {
  const db = new Database(join(dir, "quanteval.sqlite"), { readonly: true });
  try {
    return (db.prepare("SELECT count(*) AS n FROM cache").get() as { n: number }).n;
  } finally {
    db.close();
  }
}

test("a connection dropped after 103 answers keeps 103 cache rows, and a resume sends only the rest", async () => {
  let healthy = false;
  const { url, server } = await serve((n, body, res) => (healthy || n <= 103 ? answer(res, body) : res.socket?.destroy()));
  const dir = tempDir();
  const requests = Array.from({ length: 300 }, (_, i) => ({ i }));
  const evaluate = (store: RunStore) => {
    const pool = new HttpPool({ baseUrls: [url], concurrency: 8, timeoutMs: 10_000, maxAttempts: 2, retryBaseMs: 1 });
    return store.cached("fp", "echo", requests, (missing) => pool.forEachAnswer(missing.length, (k) => pool.request<{ echo: number }>("/echo", missing[k])), { batchSize: 512 });
  };
  try {
    const first = RunStore.open(dir, { configHash: "h" });
    await assert.rejects(evaluate(first), /socket|closed|terminated|fetch failed/i);
    first.close("failed");
    assert.equal(cacheRows(dir), 103, "every answer before the failure is committed");
    healthy = true;
    const resumed = RunStore.open(dir, { configHash: "h", resume: true });
    const res = await evaluate(resumed);
    assert.deepEqual(resumed.counters, { cached: 103, computed: 197 });
    resumed.close("done");
    assert.deepEqual(
      res.map((r) => r.echo),
      requests.map((r) => r.i),
    );
    assert.equal(cacheRows(dir), 300);
  } finally {
    server.close();
    server.closeAllConnections();
  }
});

test("a hung replica is taken out after a short deadline, with a logged line, and its requests finish elsewhere", async () => {
  const fast = await serve((_n, body, res) => setTimeout(() => answer(res, body), 5));
  // The second replica answers its first 10 requests, then never again (a hung server).
  const hung = await serve((n, body, res) => (n <= 10 ? setTimeout(() => answer(res, body), 5) : undefined));
  const warnings: string[] = [];
  const pool = new HttpPool({ baseUrls: [fast.url, hung.url], concurrency: 4, timeoutMs: 120_000, hangFloorMs: 500, replicaCooldownMs: 60_000, onWarning: (m) => warnings.push(m) });
  const t0 = Date.now();
  try {
    const res = await pool.forEachIndex(200, (i) => pool.request<{ echo: number }>("/echo", { i }));
    const seconds = (Date.now() - t0) / 1000;
    assert.deepEqual(
      res.map((r) => r.echo),
      Array.from({ length: 200 }, (_, i) => i),
    );
    assert.ok(seconds < 30, `finished in ${seconds.toFixed(1)} s, far below the 120 s timeout`);
    assert.equal(warnings.length, 1, warnings.join("\n"));
    assert.match(warnings[0], new RegExp(`replica ${hung.url.replace(/[.]/g, "\\.")} gave no answer within \\d+ ms.*taken out`));
    assert.equal(pool.stats.replicaTimeouts[1], 1);
    assert.ok(pool.stats.retries >= 1, "the hung attempts count as retries");
  } finally {
    for (const s of [fast.server, hung.server]) {
      s.closeAllConnections();
      s.close();
    }
  }
});
