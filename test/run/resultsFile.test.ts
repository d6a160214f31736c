// results.json: the typed schema round-trips, and a file this build cannot read is refused in one line.
import assert from "node:assert/strict";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { loadConfig } from "../../src/config/loadConfig.js";
import { readResults, writeResults } from "../../src/results/resultsFile.js";
import { RESULTS_VERSION, type RunResults } from "../../src/results/types.js";
import { tempDir } from "../helpers/runConfig.js";
import { models, sharedPath } from "../helpers/shared.js";

const sample: RunResults = {
  quanteval_results_version: RESULTS_VERSION,
  created: "2026-01-01T00:00:00.000Z",
  baseline: "f32",
  variants: ["q8_0"],
  noise_floor: null,
  models: { f32: { name: "f32", backend: "gguf" } as unknown as RunResults["models"][string] },
  tasks: {
    kobest_copa: {
      type: "multiple_choice",
      results: { f32: { acc: 0.5, acc_stderr: 0.1, n: 4, truncated: 0 }, q8_0: { acc: 0.25, acc_stderr: 0.1, n: 4, truncated: 0 } },
      comparisons: {},
      manifest: {},
    },
  },
  warnings: [],
  manifest: {},
  requests: { cached: 0, computed: 8 },
};

test("results.json round-trips through the typed schema; acc is a number on a multiple_choice task", () => {
  const file = join(tempDir(), "results.json");
  writeResults(file, sample);
  const back = readResults(file);
  assert.deepEqual(back, sample);
  const t = back.tasks.kobest_copa;
  assert.equal(t.type, "multiple_choice");
  // Narrowed by `type`, acc is a number: this line typechecks without a cast.
  if (t.type === "multiple_choice") assert.equal(t.results.f32.acc.toFixed(3), "0.500");
});

test("an unknown version, a foreign JSON and a corrupt file are each one line naming the file", () => {
  const dir = tempDir();
  const write = (name: string, text: string) => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };
  const future = write("future.json", JSON.stringify({ ...sample, quanteval_results_version: 99 }));
  assert.throws(() => readResults(future), {
    name: "QuantevalError",
    message: `${future}: results version 99 is not one this quanteval reads (version 1); use the quanteval that wrote it, or re-run`,
  });
  const foreign = write("foreign.json", JSON.stringify({ hello: 1 }));
  assert.throws(() => readResults(foreign), { message: /^.*foreign\.json: not a quanteval results file \(no quanteval_results_version\)/ });
  const corrupt = write("corrupt.json", '{"quanteval_results_version": 1, "tasks": {');
  assert.throws(() => readResults(corrupt), { message: /corrupt\.json: results file is not valid JSON \(.*\); re-run with --resume to rewrite it$/ });
  assert.throws(() => readResults(join(dir, "absent.json")), { message: /absent\.json: not found; pass a run directory/ });
  for (const f of [future, foreign, corrupt]) {
    try {
      readResults(f);
    } catch (e) {
      assert.ok(!(e as Error).message.includes("\n"), "one line");
    }
  }
});

test("models_dir and data_dir resolve beside the config, whatever the working directory", () => {
  const dir = tempDir();
  mkdirSync(join(dir, "models"));
  mkdirSync(join(dir, "data"));
  symlinkSync(models.stories(), join(dir, "models", "m.gguf"));
  symlinkSync(sharedPath("datasets", "wikitext-2-raw-v1", "wiki.test.raw"), join(dir, "data", "wiki.raw"));
  const path = join(dir, "config.yaml");
  writeFileSync(path, "models_dir: models\ndata_dir: data\nbaseline: {name: f32, model: m.gguf}\ntasks:\n  - {task: perplexity, data: wiki.raw}\n");
  const cwd = process.cwd();
  process.chdir(tempDir());
  try {
    const loaded = loadConfig(path);
    assert.equal(loaded.modelsDir, join(dir, "models"));
    assert.equal(loaded.dataDir, join(dir, "data"));
    assert.equal(loaded.config.baseline.model, join(dir, "models", "m.gguf"));
    assert.equal(loaded.tasks[0].entry.data, join(dir, "data", "wiki.raw"));
  } finally {
    process.chdir(cwd);
  }
});
