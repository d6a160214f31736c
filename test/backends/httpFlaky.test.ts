// Scale-out and fault tolerance of the HTTP backend: two real llama-servers serving
// stories260K as replicas of one model, one of them behind a fault-injecting proxy (a
// node:http server on 127.0.0.1, the only stand-in here: it forwards to the real server but
// answers every 10th request with 503, a dropped connection, or a reply slower than the
// client's timeout, after the server already did the work). With concurrency 32 every
// request must resolve exactly once, and the results must equal the healthy server's.
// Both servers run with an f32 KV cache and flash attention off: then llama-server's
// results no longer depend on how its slots batch tokens together (with the defaults, f16
// rounding makes two identical calls differ by up to ~1e-3 nats), and the replicas agree to 1e-5.
import assert from "node:assert/strict";
import { type IncomingMessage, type ServerResponse, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, test } from "node:test";
import { HttpBackend } from "../../src/backends/http.js";
import type { LoglikelihoodRequest } from "../../src/backends/backend.js";
import { llamaTool } from "../helpers/llamaBin.js";
import { type RunningLlamaServer, startLlamaServer } from "../helpers/llamaServer.js";
import { models } from "../helpers/shared.js";

const tool = llamaTool("llama-server");
const skip = tool.reason ?? false;
if (skip) console.log(`# skipping: ${skip}`);

const TIMEOUT_MS = 2000;

interface FlakyProxy {
  url: string;
  counts: { forwarded: number; status503: number; reset: number; slow: number };
  close(): Promise<void>;
}

/**
 * Forwards to `upstream`; every `every`-th request fails, cycling through 503, a dropped
 * connection and a too-slow reply (every = 1: all requests fail).
 */
async function startFlakyProxy(upstream: string, every: number): Promise<FlakyProxy> {
  let n = 0;
  const counts = { forwarded: 0, status503: 0, reset: 0, slow: 0 };
  const timers = new Set<NodeJS.Timeout>();
  const forward = async (req: IncomingMessage, body: Buffer, res: ServerResponse, delayMs: number) => {
    const r = await fetch(upstream + req.url, { method: req.method, headers: { "content-type": "application/json" }, body: req.method === "GET" ? undefined : body.toString("utf8") });
    const text = await r.text();
    const send = () => {
      if (res.destroyed) return;
      res.writeHead(r.status, { "content-type": r.headers.get("content-type") ?? "application/json" });
      res.end(text);
    };
    if (delayMs === 0) return send();
    const t = setTimeout(() => {
      timers.delete(t);
      send();
    }, delayMs);
    timers.add(t);
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const k = ++n;
      const fault = k % every === 0 ? (k / every) % 3 : -1;
      if (fault === 0) {
        counts.status503++;
        res.writeHead(503, { "content-type": "application/json", "retry-after": "0" });
        res.end('{"error":{"code":503,"message":"Loading model"}}');
      } else if (fault === 1) {
        counts.reset++;
        req.socket.destroy();
      } else if (fault === 2) {
        counts.slow++;
        forward(req, Buffer.concat(chunks), res, TIMEOUT_MS + 1000).catch(() => res.destroy());
      } else {
        counts.forwarded++;
        forward(req, Buffer.concat(chunks), res, 0).catch(() => res.destroy());
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    counts,
    close: async () => {
      for (const t of timers) clearTimeout(t);
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

let a: RunningLlamaServer;
let b: RunningLlamaServer;
let proxy: FlakyProxy;

before(async () => {
  if (skip) return;
  [a, b] = await Promise.all([0, 1].map(() => startLlamaServer({ bin: tool.path!, model: models.stories(), ctx: 2048, parallel: 4, extraArgs: ["-ctk", "f32", "-ctv", "f32", "-fa", "off"] })));
  proxy = await startFlakyProxy(a.url, 10);
});

after(async () => {
  await proxy?.close();
  await Promise.all([a?.stop(), b?.stop()]);
});

function requests(): LoglikelihoodRequest[] {
  const subjects = ["Lily", "Tom", "The little dog", "A big bird", "Mom", "The girl", "Ben", "The cat"];
  const verbs = [" went to the park", " was very happy", " saw a big tree", " wanted to play", " ate a red apple", " ran home", " found a toy", " said hello", " had a nap", " looked at the sky"];
  const out: LoglikelihoodRequest[] = [];
  for (const s of subjects) for (const v of verbs) out.push({ context: `Once upon a time, ${s}`, continuation: v });
  out.push({ context: "전화가 고장났다. 왜냐하면", continuation: " 떨어뜨렸다" }, { context: "날씨가 추웠다. 그래서", continuation: " 외투를 입었다" });
  return out;
}

test("flaky replica: concurrency 32, every request resolved exactly once, results equal the healthy server's", { skip }, async () => {
  const reqs = requests();
  const healthy = await HttpBackend.open({ name: "healthy", baseUrl: b.url });
  const want = await healthy.loglikelihood(reqs);

  const sharded = await HttpBackend.open({ name: "sharded", baseUrl: [proxy.url, b.url], concurrency: 32, timeoutMs: TIMEOUT_MS, retryBaseMs: 20 });
  assert.equal((await sharded.describe()).replicas, 2);
  assert.equal(sharded.fingerprint(), healthy.fingerprint(), "replicas and URLs do not change the cache key");
  const progress: number[] = [];
  const got = await sharded.loglikelihood(reqs, (done) => progress.push(done));

  assert.equal(got.length, reqs.length);
  assert.deepEqual(
    progress,
    reqs.map((_, i) => i + 1),
    "each request resolved once, none lost",
  );
  got.forEach((r, i) => {
    assert.equal(r.nTokens, want[i].nTokens);
    assert.equal(r.isGreedy, want[i].isGreedy);
    // Same build, but batching differs between servers and calls (see httpLlamaServer.test.ts).
    assert.ok(Math.abs(r.logprob - want[i].logprob) <= 1e-5 * r.nTokens, `request ${i}: ${r.logprob} vs ${want[i].logprob}`);
  });
  const stats = sharded.requestStats;
  const c = proxy.counts;
  console.log(`# proxy: ${JSON.stringify(c)}; client: ${stats.requests} requests, ${stats.retries} retries, attempts per replica ${stats.perReplica.join("/")}`);
  assert.ok(c.status503 > 0 && c.reset > 0 && c.slow > 0, "every kind of fault was injected");
  assert.ok(stats.retries >= c.status503 + c.reset + c.slow - 2, "failed attempts were retried");
  assert.ok(stats.perReplica[0] > 0 && stats.perReplica[1] > 0, "requests were sharded over both replicas");
});

test("a server that never answers fails with one clear line, after the configured attempts", { skip }, async () => {
  const dead = await startFlakyProxy(a.url, 1); // every request fails
  try {
    const t0 = Date.now();
    await assert.rejects(HttpBackend.open({ name: "dead", baseUrl: dead.url, timeoutMs: 500, maxAttempts: 3, retryBaseMs: 10 }), (e: Error) => {
      assert.match(e.message, /model 'dead': GET http:\/\/127\.0\.0\.1:\d+\/props .*gave up after 3 attempts/);
      assert.ok(!e.message.includes("\n"));
      return true;
    });
    assert.ok(Date.now() - t0 < 10_000);
  } finally {
    await dead.close();
  }
});
