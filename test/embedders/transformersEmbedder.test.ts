// No ONNX sentence-embedding model is available offline here, so this only checks the failure
// path: a missing folder must fail fast with one line that names the path.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { TransformersEmbedder } from "../../src/embedders/transformersEmbedder.js";

test("missing model folder: clear one-line error naming the path", async () => {
  const missing = join(tmpdir(), "quanteval-no-such-onnx-model");
  await assert.rejects(TransformersEmbedder.load(missing), (e: Error) => {
    assert.equal(e.message, `ONNX embedding model folder not found: ${missing}`);
    assert.ok(!e.message.includes("\n"));
    return true;
  });
  // relative paths are reported resolved
  await assert.rejects(TransformersEmbedder.load("no-such-dir/model"), {
    message: `ONNX embedding model folder not found: ${resolve("no-such-dir/model")}`,
  });
});

test("folder without config.json: clear error", async () => {
  const dir = mkdtempSync(join(tmpdir(), "quanteval-onnx-"));
  try {
    await assert.rejects(TransformersEmbedder.load(dir), { message: `ONNX embedding model folder ${dir} has no config.json` });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
