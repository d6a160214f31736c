// The backend registry behind openBackend()/backendKind(): how a spec picks its backend, and
// that only a missing optional package is softened into an "install it" error.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { ModelSpec } from "../../src/config/schema.js";
import { backendKind, openBackend } from "../../src/backends/openBackend.js";
import { importOptional, isMissingPackageImportError } from "../../src/backends/optionalPackage.js";
import { BACKEND_IDS, backendFor } from "../../src/backends/registry.js";
import { QuantevalError } from "../../src/util/errors.js";
import { models } from "../helpers/shared.js";

const spec = (s: Partial<ModelSpec>): ModelSpec => ({ name: "m", ...s }) as ModelSpec;

test("a spec picks its backend: explicit backend, else base_url → http, .gguf → gguf", () => {
  assert.deepEqual(BACKEND_IDS.slice().sort(), ["gguf", "http", "onnx"]);
  assert.equal(backendKind(spec({ model: "a/B.GGUF" })), "gguf");
  assert.equal(backendKind(spec({ base_url: "http://127.0.0.1:8080", model: "x.gguf" })), "http");
  assert.equal(backendKind(spec({ backend: "onnx", model: "folder" })), "onnx");
  assert.equal(backendKind(spec({ backend: "gguf", model: "weights.bin" })), "gguf");
  assert.equal(backendFor(spec({ model: "x.gguf" })).localModel, true);
  assert.equal(backendFor(spec({ base_url: "http://h" })).localModel, false);
  assert.throws(() => backendKind(spec({ model: "weights.bin" })), /model 'm': cannot infer the backend from 'weights\.bin'; add backend: gguf, http or onnx$/);
});

test("openBackend opens a real GGUF model through the registry", async () => {
  const b = await openBackend(spec({ model: models.stories(), n_ctx: 64 }), models.stories());
  try {
    assert.equal(b.kind, "gguf");
    assert.equal(b.contextLength(), 64);
    assert.ok(b.loadMs >= 0);
    assert.equal(b.manifestSettings().backend, "gguf");
    assert.equal(b.detokenize(await b.tokenize("Once upon a time", false)), "Once upon a time");
  } finally {
    await b.dispose();
  }
});

test("only a missing optional package is softened; other load errors surface unchanged", async () => {
  const missing = await import("quanteval-no-such-package" as string).catch((e: unknown) => e);
  assert.equal(isMissingPackageImportError(missing, "quanteval-no-such-package"), true);
  assert.equal(isMissingPackageImportError(missing, "other-package"), false);
  await assert.rejects(
    importOptional("quanteval-no-such-package", "model 'm' (backend x)", () => import("quanteval-no-such-package" as string)),
    (e: unknown) =>
      e instanceof QuantevalError && /model 'm' \(backend x\) needs the package quanteval-no-such-package, which is not installed; run 'npm install quanteval-no-such-package'/.test(e.message),
  );
  const broken = new SyntaxError("Unexpected token in the module");
  await assert.rejects(
    importOptional("quanteval-no-such-package", "x", () => Promise.reject(broken)),
    (e: unknown) => e === broken,
  );
});
