// The same weights through two backends are one model, on a real llama-server (stories260K on
// 127.0.0.1) against the same GGUF loaded in-process: the server reports the file it serves
// (/props model_path); that file is readable here, so the HTTP model carries its sha256 and the
// file's size (not the server's smaller tensor bytes), and the verdict says they are the same
// weights and never ranks one as smaller. Skips with a printed reason when llama-server is not built.
import assert from "node:assert/strict";
import { statSync } from "node:fs";
import { after, before, test } from "node:test";
import { localWeights } from "../../src/backends/http/detect.js";
import { buildVerdict } from "../../src/report/verdict.js";
import { summaryTable, verdictSummary } from "../../src/report/verdictTables.js";
import { sha256File } from "../../src/util/sha256File.js";
import { llamaTool } from "../helpers/llamaBin.js";
import { type RunningLlamaServer, startLlamaServer } from "../helpers/llamaServer.js";
import { runConfig } from "../helpers/runConfig.js";
import { models, sharedPath } from "../helpers/shared.js";

const tool = llamaTool("llama-server");
const skip = tool.reason ?? false;
let server: RunningLlamaServer;

before(async () => {
  if (!skip) server = await startLlamaServer({ bin: tool.path!, model: models.stories(), ctx: 512, parallel: 2 });
});
after(async () => {
  await server?.stop();
});

test("a GGUF in-process and the same file behind llama-server: same sha256, the file's size, 'same weights' in the verdict", { skip }, async () => {
  const { results } = await runConfig({
    baseline: { name: "in-process", model: models.stories(), threads: 1 },
    variants: [{ name: "server", backend: "http", base_url: server.url }],
    tasks: [{ task: "perplexity", data: sharedPath("datasets", "wikitext-2-raw-v1", "wiki.test.raw"), n_ctx: 128, chunks: 2 }],
  });
  const gguf = results.models["in-process"] as unknown as Record<string, unknown>;
  const http = results.models.server as unknown as Record<string, unknown>;
  assert.equal(http.backend, "http");
  assert.equal(http.sha256, await sha256File(models.stories()));
  assert.equal(http.sha256, gguf.sha256);
  assert.equal(http.file_bytes, statSync(models.stories()).size, "the size comes from the file");
  assert.equal(http.file_bytes, gguf.file_bytes);
  assert.equal(http.bits_per_weight, gguf.bits_per_weight, "bits/weight from the same tensor bytes on both sides");

  const v = buildVerdict(results);
  assert.deepEqual(v.same_weights, [{ sha256: gguf.sha256, models: ["in-process", "server"], backends: ["gguf", "http"] }]);
  const [a, b] = v.rows;
  assert.equal(a.file_bytes, b.file_bytes, "neither is ranked smaller");
  assert.equal(v.rows.find((r) => r.model === "server")!.same_weights_as, "in-process");
  const line = verdictSummary(v).find((l) => l.includes("same weights"));
  assert.match(line ?? "", /^in-process and server are the same weights \(gguf and http: same sha256 [0-9a-f]{12}…\)/);
  assert.match(
    summaryTable(results, v)
      .rows.find((r) => r[0] === "server")!
      .at(-1)!,
    /same weights as in-process/,
  );
});

test("a server's model path is hashed only when it is an absolute path to a readable GGUF at least as large as the served tensors", async () => {
  const size = statSync(models.stories()).size;
  assert.deepEqual(await localWeights(models.stories(), size - 1), { sha256: await sha256File(models.stories()), file_bytes: size });
  assert.equal(await localWeights("models/stories260K.gguf", 1), undefined, "relative to the server's cwd: unknown here");
  assert.equal(await localWeights(models.stories(), size + 1), undefined, "smaller than the served tensors: not the served file");
  assert.equal(await localWeights(sharedPath("datasets", "wikitext-2-raw-v1", "wiki.test.raw"), 1), undefined, "not a GGUF");
  assert.equal(await localWeights("/nonexistent/model.gguf", 1), undefined);
});
