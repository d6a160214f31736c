// Why one KoBEST COPA document once scored 0.18 nats apart over HTTP and in-process: llama-server's
// unified KV cache. A server started without -np picks 4 slots and turns on --kv-unified (its log
// says `kv_unified = 'true'`): the slots share one KV buffer, and a request's tokens land in
// whichever cells are free (llama_kv_cache::find_slot), scattered between other slots' cached
// prompts instead of in position order. Attention then sums over the cells in a different order
// and over a different padded range than in-process, so the logits move by rounding. A quantized
// model turns that rounding into real differences: its activations are rounded to 8 bits before
// every Q4_0/Q8_0 matmul, and a value that crosses a rounding step moves by a whole step; stories260K
// reads Korean byte by byte at ~−22 nats a token, so a 30-token continuation sums the movement.
// Measured on stories260K Q4_0, KoBEST COPA (see the README's HTTP section for every run):
// - `-c 2048 -np 4` (one KV stream per slot): worst 1.4e-5 nats per request;
// - `-kvu` or no -np: up to 0.6 nats, most requests above 0.05, even one request at a time.
// The test pins both: the per-slot server holds the stated bound, and the unified one does not
// (if a newer llama.cpp makes it hold, the README's explanation is out of date).
// Skips with a printed reason only when llama-server is not built.
import assert from "node:assert/strict";
import { before, test } from "node:test";
import type { LoglikelihoodRequest, LoglikelihoodResult } from "../../src/backends/backend.js";
import { GgufBackend } from "../../src/backends/gguf.js";
import { HttpBackend } from "../../src/backends/http.js";
import { prepareMultipleChoice } from "../../src/tasks/multipleChoice.js";
import { loadTask } from "../../src/tasks/taskRegistry.js";
import { llamaTool } from "../helpers/llamaBin.js";
import { startLlamaServer } from "../helpers/llamaServer.js";
import { models, repoRoot, sharedPath } from "../helpers/shared.js";

const tool = llamaTool("llama-server");
const skip = tool.reason ?? false;
if (skip) console.log(`# skipping: ${skip}`);

const model = () => models.storiesVariant("q4_0");
let requests: LoglikelihoodRequest[];
let want: LoglikelihoodResult[];

before(async () => {
  if (skip) return;
  const task = loadTask("kobest_copa", repoRoot);
  const docs = await prepareMultipleChoice(task.def as Parameters<typeof prepareMultipleChoice>[0], { dataDir: sharedPath("datasets"), seed: 1234, limit: 30 });
  requests = docs.flatMap((d) => d.requests);
  const gguf = await GgufBackend.open({ name: "in-process", path: model(), threads: 1 });
  want = await gguf.loglikelihood(requests);
  await gguf.dispose();
});

/** Per-request |Δ| between a llama-server started with `extraArgs` (4 slots, 2,048 cells) and in-process, at concurrency 8. */
async function deltas(extraArgs: string[]): Promise<number[]> {
  const server = await startLlamaServer({ bin: tool.path!, model: model(), ctx: 2048, parallel: 4, extraArgs });
  try {
    const http = await HttpBackend.open({ name: "server", baseUrl: server.url, concurrency: 8 });
    const got = await http.loglikelihood(requests);
    return got.map((g, i) => {
      assert.equal(g.nTokens, want[i].nTokens, `request ${i}: same continuation tokens`);
      return Math.abs(g.logprob - want[i].logprob);
    });
  } finally {
    await server.stop();
  }
}

const summary = (d: number[]) => `worst ${Math.max(...d).toExponential(2)} nats, ${d.filter((x) => x > 0.05).length}/${d.length} above 0.05`;

test("a llama-server with one KV stream per slot (-np 4) scores Q4_0 KoBEST COPA like in-process (|Δ| ≤ 1e-3 per request)", { skip }, async () => {
  const d = await deltas([]);
  console.log(`-c 2048 -np 4: ${summary(d)}`);
  d.forEach((x, i) => assert.ok(x <= 1e-3, `request ${i} (${JSON.stringify(requests[i].continuation)}): |Δ| ${x}`));
});

test("the same server with a unified KV cache (-kvu, what no -np gives) moves Q4_0 scores by more than 0.05 nats", { skip }, async () => {
  const d = await deltas(["--kv-unified"]);
  console.log(`-c 2048 -np 4 --kv-unified: ${summary(d)}`);
  assert.ok(Math.max(...d) > 0.05, `the unified cache's worst |Δ| is ${summary(d)}`);
});
