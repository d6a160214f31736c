// An HTTP model's config can state which weights the server serves (`sha256:`, `file:`), for a
// server that cannot reveal its file: here a real llama-server started with a RELATIVE -m path
// (its /props model_path is relative, so nothing is hashed from it). Stated, the served model is
// recognised as the same weights as the GGUF loaded in-process; a wrong or malformed statement
// fails at open with one line naming the field. Skips with a printed reason when llama-server is not built.
import assert from "node:assert/strict";
import { statSync } from "node:fs";
import { relative } from "node:path";
import { after, before, test } from "node:test";
import { HttpBackend } from "../../src/backends/http.js";
import { servedWeights } from "../../src/backends/http/statedWeights.js";
import { loadConfig } from "../../src/config/loadConfig.js";
import { buildVerdict } from "../../src/report/verdict.js";
import { QuantevalError } from "../../src/util/errors.js";
import { sha256File } from "../../src/util/sha256File.js";
import { llamaTool } from "../helpers/llamaBin.js";
import { type RunningLlamaServer, startLlamaServer } from "../helpers/llamaServer.js";
import { runConfig, writeConfig } from "../helpers/runConfig.js";
import { models, sharedPath } from "../helpers/shared.js";

const tool = llamaTool("llama-server");
const skip = tool.reason ?? false;
if (skip) console.log(`# skipping: ${skip}`);
let server: RunningLlamaServer;
let sha: string;

before(async () => {
  sha = await sha256File(models.stories());
  // Relative to this process's working directory, which the server inherits.
  if (!skip) server = await startLlamaServer({ bin: tool.path!, model: relative(process.cwd(), models.stories()), ctx: 512, parallel: 1 });
});
after(async () => {
  await server?.stop();
});

const perplexity = () => ({ task: "perplexity", data: sharedPath("datasets", "wikitext-2-raw-v1", "wiki.test.raw"), n_ctx: 128, chunks: 2 });

test("a server started with a relative -m path reveals no sha256; a stated sha256 or file makes it the same weights as the in-process GGUF", { skip }, async () => {
  const plain = await HttpBackend.open({ name: "s", baseUrl: server.url });
  assert.equal((await plain.describe()).sha256, undefined, "a relative /props model_path is not hashed");

  const bySha = await HttpBackend.open({ name: "s", baseUrl: server.url, sha256: sha.toUpperCase() });
  assert.equal((await bySha.describe()).sha256, sha, "stated digest, lower-cased");
  const byFile = await HttpBackend.open({ name: "s", baseUrl: server.url, file: models.stories() });
  const d = await byFile.describe();
  assert.equal(d.sha256, sha);
  assert.equal(d.file_bytes, statSync(models.stories()).size, "the size comes from the stated file");

  const { results } = await runConfig({
    baseline: { name: "in-process", model: models.stories(), threads: 1 },
    variants: [{ name: "server", backend: "http", base_url: server.url, sha256: sha }],
    tasks: [perplexity()],
  });
  assert.equal(results.models.server.sha256, sha);
  const v = buildVerdict(results);
  assert.deepEqual(v.same_weights, [{ sha256: sha, models: ["in-process", "server"], backends: ["gguf", "http"] }]);
  assert.equal(v.rows.find((r) => r.model === "server")!.file_bytes, statSync(models.stories()).size, "ranked at the file's size");
});

test("stated weights that contradict each other or the served file fail at open with one line naming the field", { skip }, async () => {
  const other = models.storiesVariant("q8_0");
  const open = (o: { sha256?: string; file?: string }) => HttpBackend.open({ name: "s", baseUrl: server.url, ...o });
  await assert.rejects(open({ sha256: "abc" }), (e: Error) => e instanceof QuantevalError && /^model 's': sha256 "abc" is not 64 hex digits/.test(e.message) && !e.message.includes("\n"));
  await assert.rejects(open({ file: sharedPath("datasets", "wikitext-2-raw-v1", "wiki.test.raw") }), /model 's': file ".*wiki\.test\.raw" is not a readable GGUF/);
  await assert.rejects(open({ file: "/nonexistent/model.gguf" }), /model 's': file "\/nonexistent\/model\.gguf" is not a readable GGUF/);
  await assert.rejects(open({ sha256: "0".repeat(64), file: models.stories() }), /model 's': sha256 0{64} differs from the sha256 of file/);
  // A smaller quantization of the same model cannot be the file holding the served tensors.
  await assert.rejects(open({ file: other }), /model 's': file .* is not a readable GGUF at least as large as the served tensors/);
});

test("the server's own absolute path and a stated sha256 must agree", async () => {
  const size = statSync(models.stories()).size;
  const revealed = { sha256: sha, file_bytes: size };
  assert.deepEqual(await servedWeights("model 'm'", { sha256: sha }, revealed, size), revealed, "agreeing: the file's size is kept");
  await assert.rejects(
    servedWeights("model 'm'", { sha256: "f".repeat(64) }, revealed, size),
    /^QuantevalError: model 'm': the server serves weights with sha256 [0-9a-f]{64}, not the sha256 the config states/,
  );
  assert.deepEqual(await servedWeights("model 'm'", {}, undefined, size), undefined, "nothing stated, nothing revealed");
});

test("config: a malformed sha256 is a one-line error naming the field", () => {
  const path = writeConfig({ baseline: { name: "b", model: models.stories() }, variants: [{ name: "s", base_url: "http://127.0.0.1:1", sha256: "xyz" }], tasks: [perplexity()] });
  assert.throws(
    () => loadConfig(path),
    (e: Error) => e instanceof QuantevalError && /sha256/.test(e.message) && /64 hex digits/.test(e.message) && !e.message.includes("\n"),
  );
});
