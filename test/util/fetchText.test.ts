// fetchText's deadline against a real node:http server on 127.0.0.1 that answers late, with
// garbage collections forced while the request waits: on Node 20 that is what made
// `AbortSignal.any([AbortSignal.timeout(…)])` lose its timeout (a 3 s reply accepted under a
// 500 ms timeout, seen in CI), so the test runs the collector on purpose.
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { runInNewContext } from "node:vm";
import { setFlagsFromString } from "node:v8";
import { after, before, test } from "node:test";
import { fetchText } from "../../src/util/fetchText.js";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

let server: Server;
let base: string;
const timers = new Set<NodeJS.Timeout>();

before(async () => {
  server = createServer((req, res) => {
    const delay = Number(new URL(req.url ?? "/", "http://x").searchParams.get("delay") ?? 0);
    const t = setTimeout(() => {
      timers.delete(t);
      if (res.destroyed) return;
      res.writeHead(503, { "content-type": "application/json", "retry-after": "2" });
      res.end('{"late":true}');
    }, delay);
    timers.add(t);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  for (const t of timers) clearTimeout(t);
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});

/** Forces a collection every 20 ms while `p` is pending. */
async function underGc<T>(p: Promise<T>): Promise<T> {
  const t = setInterval(gc, 20);
  try {
    return await p;
  } finally {
    clearInterval(t);
  }
}

test("a reply later than the deadline is a TimeoutError at the deadline, even with collections in between", async () => {
  for (let i = 0; i < 3; i++) {
    const t0 = Date.now();
    await assert.rejects(underGc(fetchText(`${base}/?delay=3000`, { method: "GET" }, 300)), (e: Error) => {
      assert.equal(e.name, "TimeoutError");
      assert.match(e.message, /no answer within 300 ms/);
      return true;
    });
    const took = Date.now() - t0;
    assert.ok(took >= 290 && took < 2500, `settled after ${took} ms`);
  }
});

test("a cancel settles the request as an AbortError before its deadline", async () => {
  const cancel = new AbortController();
  setTimeout(() => cancel.abort(new Error("hung")), 100);
  const t0 = Date.now();
  await assert.rejects(underGc(fetchText(`${base}/?delay=3000`, { method: "GET" }, 10_000, cancel.signal)), { name: "AbortError" });
  assert.ok(Date.now() - t0 < 2500);
});

test("a reply within the deadline gives its status, Retry-After and whole body", async () => {
  const got = await fetchText(`${base}/?delay=10`, { method: "POST", body: "{}" }, 5000);
  assert.deepEqual(got, { status: 503, retryAfter: "2", text: '{"late":true}' });
});
