// The HTTP backend's vLLM/OpenAI protocols (`prompt_logprobs`, and legacy `echo` + `logprobs`).
// vLLM needs a GPU and cannot run here, so this test serves vLLM's documented response shapes
// from a small node:http stand-in whose numbers come from the real stories260K model through
// the in-process GGUF backend. What it checks is the backend's side: protocol detection,
// token-id prompts, alignment of prompt log-probs with continuations, greedy flags, and that
// the scores equal the in-process backend's (same numerics, so to 1e-4).
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, test } from "node:test";
import { GgufBackend } from "../../src/backends/gguf.js";
import { HttpBackend } from "../../src/backends/http.js";
import type { LoglikelihoodRequest } from "../../src/backends/backend.js";
import { models } from "../helpers/shared.js";

let gguf: GgufBackend;

before(async () => {
  gguf = await GgufBackend.open({ name: "in-process", path: models.stories(), threads: 1 });
});
after(async () => {
  await gguf?.dispose();
});

/** A stand-in with vLLM's endpoints; `promptLogprobs: false` makes it ignore that field, like servers that only echo. */
async function startVllmShape(opts: { promptLogprobs: boolean }): Promise<{ url: string; close: () => Promise<void> }> {
  const V = 512;
  const handle = async (path: string, body: Record<string, unknown>): Promise<[number, unknown]> => {
    if (path === "/v1/models") return [200, { object: "list", data: [{ id: "stories", object: "model", max_model_len: 2048 }] }];
    if (path === "/tokenize") return [200, { tokens: gguf.tokenizeSync(String(body.prompt), body.add_special_tokens !== false), max_model_len: 2048 }];
    if (path === "/detokenize") return [200, { prompt: gguf.detokenize(body.tokens as number[]) }];
    if (path !== "/v1/completions") return [404, { error: "not found" }];
    if (body.model !== "stories") return [404, { error: `model ${String(body.model)} does not exist` }];
    const prompt = body.prompt;
    if (typeof prompt === "string") {
      const [g] = await gguf.generate([{ prompt, maxTokens: Number(body.max_tokens), stop: body.stop as string[] | undefined }]);
      return [200, { choices: [{ index: 0, text: g.text, finish_reason: g.finishReason === "length" ? "length" : "stop" }], usage: { completion_tokens: g.nTokens } }];
    }
    const tokens = prompt as number[];
    const [d] = await gguf.distributions([{ tokens, firstScored: 1 }]);
    const row = (i: number) => Array.from(d.logprobs.subarray((i - 1) * V, i * V));
    const ranked = (r: number[]) => r.map((lp, id) => ({ id, lp })).sort((x, y) => y.lp - x.lp);
    const choice: Record<string, unknown> = { index: 0, text: "x", finish_reason: "length" };
    if (opts.promptLogprobs && typeof body.prompt_logprobs === "number") {
      const k = body.prompt_logprobs;
      choice.prompt_logprobs = tokens.map((t, i) => {
        if (i === 0) return null;
        const r = ranked(row(i));
        const entry: Record<string, { logprob: number; rank: number; decoded_token: string }> = {};
        r.slice(0, k).forEach((x, j) => (entry[String(x.id)] = { logprob: x.lp, rank: j + 1, decoded_token: "" }));
        entry[String(t)] = { logprob: row(i)[t], rank: r.findIndex((x) => x.id === t) + 1, decoded_token: "" };
        return entry;
      });
    }
    if (body.echo === true && typeof body.logprobs === "number") {
      const k = body.logprobs;
      const key = (id: number) => (body.return_tokens_as_token_ids ? `token_id:${id}` : `tok${id}`);
      choice.logprobs = {
        tokens: [...tokens.map(key), key(0)],
        token_logprobs: [null, ...tokens.slice(1).map((t, i) => row(i + 1)[t]), -1],
        top_logprobs: [
          null,
          ...tokens.slice(1).map((t, i) => {
            const r = ranked(row(i + 1));
            const o: Record<string, number> = Object.fromEntries(r.slice(0, k).map((x) => [key(x.id), x.lp]));
            o[key(t)] = row(i + 1)[t];
            return o;
          }),
          { [key(0)]: -1 },
        ],
        text_offset: tokens.map((_, i) => i),
      };
    }
    return [200, { id: "cmpl-1", object: "text_completion", model: "stories", choices: [choice] }];
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = chunks.length ? (JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>) : {};
      handle(req.url ?? "/", body).then(
        ([status, out]) => {
          res.writeHead(status, { "content-type": "application/json" });
          res.end(JSON.stringify(out));
        },
        (e: Error) => {
          res.writeHead(500);
          res.end(JSON.stringify({ error: e.message }));
        },
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

const reqs: LoglikelihoodRequest[] = [
  { context: "Once upon a time", continuation: " there was a little girl" },
  { context: "Once upon a time ", continuation: "there was" },
  { context: "The cat sat on the", continuation: " mat" },
  { context: "Lily liked to play. One day,", continuation: " she saw a big dog." },
  { context: "전화가 고장났다. 왜냐하면", continuation: " 떨어뜨렸다" },
];

for (const promptLogprobs of [true, false]) {
  const protocol = promptLogprobs ? "vllm-prompt-logprobs" : "openai-echo";
  test(`vLLM-shaped server: ${protocol} scores equal the in-process backend`, async () => {
    const srv = await startVllmShape({ promptLogprobs });
    try {
      const http = await HttpBackend.open({ name: "vllm", baseUrl: `${srv.url}/v1`, model: "stories" });
      const d = await http.describe();
      assert.equal(d.protocol, protocol);
      assert.equal(d.server, "vllm");
      assert.equal(http.contextLength(), 2046, "max_model_len minus one predicted and one generated token");
      assert.equal(http.capabilities.distributions, "none", "vLLM reports no vocabulary size");
      assert.ok(d.limitations.some((l) => /KLD/.test(l)));
      const got = await http.loglikelihood(reqs);
      const want = await gguf.loglikelihood(reqs);
      got.forEach((r, i) => {
        assert.equal(r.nTokens, want[i].nTokens);
        assert.equal(r.isGreedy, want[i].isGreedy, `greedy flag ${i}`);
        assert.ok(Math.abs(r.logprob - want[i].logprob) < 1e-4, `request ${i}: ${r.logprob} vs ${want[i].logprob}`);
      });
      const texts = ["Once upon a time, there was a little dog named Max."];
      const [ra] = await http.loglikelihoodRolling(texts);
      const [rb] = await gguf.loglikelihoodRolling(texts);
      assert.ok(Math.abs(ra.logprob - rb.logprob) < 1e-4);
      const [g] = await http.generate([{ prompt: "Once upon a time", maxTokens: 12 }]);
      const [gg] = await gguf.generate([{ prompt: "Once upon a time", maxTokens: 12 }]);
      assert.equal(g.text, gg.text);
      assert.equal(g.finishReason, "length");
    } finally {
      await srv.close();
    }
  });
}

test("vLLM-shaped server: a model name the server does not serve is a one-line error", async () => {
  const srv = await startVllmShape({ promptLogprobs: true });
  try {
    await assert.rejects(HttpBackend.open({ name: "vllm", baseUrl: srv.url, model: "llama-70b" }), /model 'llama-70b' is not served at http:\/\/127\.0\.0\.1:\d+ \(it serves stories\)/);
  } finally {
    await srv.close();
  }
});

test("an API key echoed back by a server is redacted from the error", async () => {
  const server = createServer((req, res) => {
    res.writeHead(req.url === "/props" ? 404 : 400, { "content-type": "application/json" });
    res.end(JSON.stringify({ error: `bad request from ${req.headers.authorization ?? ""} at http://user:pw@example.com/x` }));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const secret = "sk-echoed-secret-123456";
  process.env.QE_ECHO_KEY = secret;
  try {
    await assert.rejects(HttpBackend.open({ name: "echo", baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, apiKeyEnv: "QE_ECHO_KEY" }), (e: Error) => {
      assert.ok(!e.message.includes(secret), e.message);
      assert.ok(!e.message.includes("user:pw"), e.message);
      assert.match(e.message, /\[redacted\]/);
      return true;
    });
  } finally {
    delete process.env.QE_ECHO_KEY;
    await new Promise<void>((r) => server.close(() => r()));
  }
});
