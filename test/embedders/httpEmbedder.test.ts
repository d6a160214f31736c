// The node:http server below is a stand-in for a real OpenAI-compatible embeddings server
// (llama.cpp server, vLLM, OpenAI), which cannot run in this offline test environment.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { embeddingsUrl, HttpEmbedder } from "../../src/embedders/httpEmbedder.js";

const KEY_ENV = "QUANTEVAL_TEST_EMBED_KEY";
const KEY = "sk-test-secret-123";
let server: Server;
let base: string;
const requests: Array<{ url: string; auth: string | undefined; body: { model: string; input: string[] } }> = [];

// Fake embedding: [length, number of vowels, 1]. Items are returned in reverse order with their
// index, as a server is allowed to do.
function fakeEmbedding(s: string): number[] {
  return [s.length, (s.match(/[aeiou]/g) ?? []).length, 1];
}

before(async () => {
  server = createServer((req, res) => {
    let raw = "";
    req.on("data", (c) => (raw += c));
    req.on("end", () => {
      const body = JSON.parse(raw) as { model: string; input: string[] };
      requests.push({ url: req.url ?? "", auth: req.headers.authorization, body });
      if (body.model === "broken") {
        res.writeHead(500, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: `bad key ${req.headers.authorization}` }));
        return;
      }
      const data = body.input.map((s, index) => ({ object: "embedding", index, embedding: fakeEmbedding(s) })).reverse();
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ object: "list", data, model: body.model }));
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  process.env[KEY_ENV] = KEY;
});

after(async () => {
  delete process.env[KEY_ENV];
  await new Promise<void>((r) => server.close(() => r()));
});

test("embeddingsUrl accepts a bare host, a /v1 base or the full endpoint", () => {
  assert.equal(embeddingsUrl("http://h:8080"), "http://h:8080/v1/embeddings");
  assert.equal(embeddingsUrl("http://h:8080/v1/"), "http://h:8080/v1/embeddings");
  assert.equal(embeddingsUrl("http://h:8080/v1/embeddings"), "http://h:8080/v1/embeddings");
});

test("posts {model, input}, sends the bearer key, batches, and keeps input order", async () => {
  requests.length = 0;
  const e = new HttpEmbedder({ baseUrl: base, model: "fake-embed", apiKeyEnv: KEY_ENV, batchSize: 2 });
  assert.equal(e.id, "http:fake-embed");
  const texts = ["a", "hello", "quantization", "xyz", "aeiou"];
  const vecs = await e.embed(texts);
  assert.deepEqual(
    vecs.map((v) => Array.from(v)),
    texts.map(fakeEmbedding),
  );
  assert.equal(requests.length, 3);
  assert.deepEqual(requests[0], { url: "/v1/embeddings", auth: `Bearer ${KEY}`, body: { model: "fake-embed", input: ["a", "hello"] } });
  assert.deepEqual(await e.embed([]), []);
});

test("no key env: no Authorization header", async () => {
  requests.length = 0;
  await new HttpEmbedder({ baseUrl: `${base}/v1`, model: "m" }).embed(["x"]);
  assert.equal(requests[0].auth, undefined);
});

test("server errors name the status but never reveal the key", async () => {
  const e = new HttpEmbedder({ baseUrl: base, model: "broken", apiKeyEnv: KEY_ENV });
  await assert.rejects(e.embed(["x"]), (err: Error) => {
    assert.match(err.message, /HTTP 500/);
    assert.ok(!err.message.includes(KEY), err.message);
    return true;
  });
});

test("unset key variable fails before any request, naming the variable only", () => {
  assert.throws(() => new HttpEmbedder({ baseUrl: base, model: "m", apiKeyEnv: "QUANTEVAL_UNSET_KEY_VAR" }), {
    message: "http embedder: environment variable QUANTEVAL_UNSET_KEY_VAR (API key) is not set",
  });
});

test("unreachable server: clear error", async () => {
  const e = new HttpEmbedder({ baseUrl: "http://127.0.0.1:9", model: "m", timeoutMs: 2000 });
  await assert.rejects(e.embed(["x"]), /embeddings request to http:\/\/127\.0\.0\.1:9\/v1\/embeddings failed/);
});
