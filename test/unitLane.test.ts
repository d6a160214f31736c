// The unit lane (test/unit-tests.txt, `npm run test:unit`) promises model-free tests. This keeps
// the promise checked: every listed file exists and uses none of the ways a test reaches a model
// or a llama.cpp tool. It reads source text (an import graph would not see what a call does).
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { repoRoot } from "./helpers/shared.js";

/** Calls and imports that load a model, start a server or run the CLI (which may load one). */
const MODEL_USES: Array<[RegExp, string]> = [
  [/\bmodels\.\w+\(/, "a model from ../shared (models.…)"],
  [/\brunConfig\(/, "runConfig (a real evaluation)"],
  [/\brunEvaluation\(/, "runEvaluation"],
  [/\b(Gguf|Http|Onnx)Backend\b|\bopenBackend\(/, "a backend"],
  [/\bGgufEmbedder\b|\bModel2Vec/, "an embedding model"],
  [/helpers\/(llamaBin|llamaServer|cli|browser)\.js/, "a llama.cpp tool, the CLI or the browser"],
];

function unitLane(): string[] {
  return readFileSync(join(repoRoot, "test", "unit-tests.txt"), "utf8")
    .split("\n")
    .map((l) => l.replace(/#.*/, "").trim())
    .filter((l) => l !== "");
}

test("unit lane: every listed file exists, once", () => {
  const files = unitLane();
  assert.ok(files.length > 0);
  assert.deepEqual(
    files.filter((f) => !existsSync(join(repoRoot, f))),
    [],
    "listed in test/unit-tests.txt but missing",
  );
  assert.equal(new Set(files).size, files.length, "a file is listed twice");
});

test("unit lane: no listed file loads a model, a llama.cpp tool, the CLI or a browser", () => {
  const offenders = unitLane().flatMap((f) => {
    const text = readFileSync(join(repoRoot, f), "utf8");
    return MODEL_USES.filter(([re]) => re.test(text)).map(([, what]) => `${f}: uses ${what}`);
  });
  assert.deepEqual(offenders, [], "move these out of test/unit-tests.txt (they belong to `npm test`)");
});
