// The HTTP backend and the in-process backend build the same lm-eval requests token for token
// on a real 32,000-token SentencePiece vocabulary (llama-2-tiny-random: Llama 2's tokenizer,
// random weights), served by a real llama-server on 127.0.0.1. stories260K's 512-token vocabulary
// spells Korean byte by byte, so it cannot show a different split at the context/continuation
// boundary (_encode_pair), a BOS or special-token parsing difference of the server's /tokenize,
// or a whitespace move; this vocabulary has whole Hangul syllables, "▁" merges and byte fallback.
// Scoring over HTTP costs ~3 s a request at this vocabulary on this machine (byte-fallback tokens
// are read from full 32k-entry distributions), so scores are compared on chosen documents only:
// the one with an invisible U+200E in a choice and those with a trailing space. Skips with a
// printed reason when llama-server is not built.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { LoglikelihoodRequest } from "../../src/backends/backend.js";
import { GgufBackend } from "../../src/backends/gguf.js";
import { HttpBackend } from "../../src/backends/http.js";
import { type RequestTokenizer, encodePair } from "../../src/backends/requests.js";
import { prepareMultipleChoice } from "../../src/tasks/multipleChoice.js";
import { loadTask } from "../../src/tasks/taskRegistry.js";
import { llamaTool } from "../helpers/llamaBin.js";
import { type RunningLlamaServer, startLlamaServer } from "../helpers/llamaServer.js";
import { models, repoRoot, sharedPath } from "../helpers/shared.js";

const tool = llamaTool("llama-server");
const skip = tool.reason ?? false;
if (skip) console.log(`# skipping: ${skip}`);

let server: RunningLlamaServer;
let gguf: GgufBackend;
let http: HttpBackend;

before(async () => {
  if (skip) return;
  server = await startLlamaServer({ bin: tool.path!, model: models.tinyRandom(), ctx: 2048, parallel: 2 });
  gguf = await GgufBackend.open({ name: "in-process", path: models.tinyRandom(), threads: 1 });
  http = await HttpBackend.open({ name: "server", baseUrl: server.url });
});
after(async () => {
  await gguf?.dispose();
  await server?.stop();
});

async function requestsOf(task: string): Promise<LoglikelihoodRequest[][]> {
  const t = loadTask(task, repoRoot);
  const docs = await prepareMultipleChoice(t.def as Parameters<typeof prepareMultipleChoice>[0], { dataDir: sharedPath("datasets"), seed: 1234 });
  return docs.map((d) => d.requests);
}

/** A backend's tokenizer as the request layer sees it (contexts are never empty here, so no prefix token is needed). */
const tokenizerOf = (b: GgufBackend | HttpBackend): RequestTokenizer => ({ name: b.name, prefixToken: undefined, tokenize: (text, addBos) => b.tokenize(text, addBos) });

for (const task of ["kobest_copa", "kobest_hellaswag"]) {
  test(`${task}: every request's context and continuation token ids are the same in-process and over HTTP (32k vocabulary)`, { skip }, async () => {
    const reqs = (await requestsOf(task)).flat();
    assert.ok(reqs.length >= 2000, `all documents (${reqs.length} requests)`);
    const [local, remote] = [tokenizerOf(gguf), tokenizerOf(http)];
    let bytePieces = 0;
    for (const [i, r] of reqs.entries()) {
      const [a, b] = await Promise.all([encodePair(local, r.context, r.continuation), encodePair(remote, r.context, r.continuation)]);
      assert.deepEqual(b, a, `request ${i}: ${JSON.stringify(r.continuation)}`);
      bytePieces += a.cont.filter((t) => t >= 3 && t < 259).length;
    }
    assert.ok(bytePieces > 0, "the data reaches the vocabulary's byte fallback");
  });
}

test("kobest_copa: the documents with an invisible U+200E and with trailing spaces score the same over HTTP (|Δ| ≤ 1e-3 nats)", { skip }, async () => {
  const docs = await requestsOf("kobest_copa");
  assert.match(docs[981][0].continuation, /\u200e/, "doc 981's first choice holds a LEFT-TO-RIGHT MARK");
  const reqs = [981, 168, 744].flatMap((d) => docs[d]);
  const [got, want] = [await http.loglikelihood(reqs), await gguf.loglikelihood(reqs)];
  let worst = 0;
  reqs.forEach((r, i) => {
    assert.equal(got[i].nTokens, want[i].nTokens, `token count of request ${i}`);
    const d = Math.abs(got[i].logprob - want[i].logprob);
    assert.ok(d <= 1e-3, `request ${i} (${JSON.stringify(r.continuation)}): http ${got[i].logprob} vs gguf ${want[i].logprob}`);
    worst = Math.max(worst, d);
  });
  console.log(`worst |Δ| ${worst.toExponential(2)} nats over ${reqs.length} requests`);
});
