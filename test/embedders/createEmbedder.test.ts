import { test } from "node:test";
import assert from "node:assert/strict";
import { createEmbedder } from "../../src/embedders/createEmbedder.js";
import { HttpEmbedder } from "../../src/embedders/httpEmbedder.js";
import { Model2VecEmbedder } from "../../src/embedders/model2vec.js";
import { models } from "../helpers/shared.js";

test("model2vec spec loads the shared model", async () => {
  const e = await createEmbedder({ kind: "model2vec", path: models.model2vec() });
  assert.ok(e instanceof Model2VecEmbedder);
  const [v] = await e.embed(["hello"]);
  assert.equal(v.length, 64);
});

test("http spec builds an HttpEmbedder without contacting the server", async () => {
  const e = await createEmbedder({ kind: "http", base_url: "http://127.0.0.1:1/v1", model: "m" });
  assert.ok(e instanceof HttpEmbedder);
  assert.equal(e.id, "http:m");
});

test("missing fields, gguf and unknown kinds fail clearly", async () => {
  await assert.rejects(createEmbedder({ kind: "model2vec" }), { message: 'embedder kind "model2vec" needs "path"' });
  await assert.rejects(createEmbedder({ kind: "http", base_url: "http://x" }), { message: 'embedder kind "http" needs "model"' });
  await assert.rejects(createEmbedder({ kind: "onnx", path: "/nonexistent/onnx" }), /ONNX embedding model folder not found: \/nonexistent\/onnx/);
  await assert.rejects(createEmbedder({ kind: "gguf", path: "/nonexistent/x.gguf" }), /x\.gguf/);
  await assert.rejects(createEmbedder({ kind: "nope" } as never), /unknown embedder kind "nope"/);
});
