// The bad-input catalogue: each case must give ONE line that names the file, field or flag
// and says how to fix it, a non-zero exit, and leave any existing store intact.
import assert from "node:assert/strict";
import { copyFileSync, mkdirSync, openSync, readFileSync, writeFileSync, closeSync, readSync, writeSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import Database from "better-sqlite3";
import { cli } from "../helpers/cli.js";
import { tempDir, writeConfig } from "../helpers/runConfig.js";
import { models, sharedPath } from "../helpers/shared.js";
import { expectOneLineError } from "./expectOneLine.js";

const wiki = () => sharedPath("datasets", "wikitext-2-raw-v1", "wiki.test.raw");

function runWith(config: Record<string, unknown> | string, extra: string[] = []) {
  const dir = tempDir();
  const path = join(dir, "config.yaml");
  if (typeof config === "string") writeFileSync(path, config);
  else writeConfig(config, dir);
  return { r: cli(["run", path, "--out", join(dir, "out"), ...extra]), path, dir };
}

const base = () => ({ baseline: { name: "f32", model: models.stories() }, tasks: [{ task: "kobest_copa", limit: 4 }] });

/** A task YAML + JSONL dataset written to a temp dir. */
function customTask(rows: string, taskExtra = ""): { taskPath: string; dataPath: string } {
  const dir = tempDir();
  const dataPath = join(dir, "data.jsonl");
  writeFileSync(dataPath, rows);
  const taskPath = join(dir, "mytask.yaml");
  writeFileSync(
    taskPath,
    `task: mytask\ntype: multiple_choice\ndata_file: ${dataPath}\ndoc_to_text: "Q: {{question}}\\nA:"\ndoc_to_choice: ["{{a}}", "{{b}}"]\ndoc_to_target: "{{label}}"\nmetrics: [acc]\n${taskExtra}`,
  );
  return { taskPath, dataPath };
}

test("malformed YAML names the file and line", () => {
  const { r, path } = runWith("baseline: {name: f32, model: x.gguf\ntasks: [");
  expectOneLineError(r, path, "malformed YAML", /:\d+:/);
});

test("unknown config key suggests the right one", () => {
  const { r } = runWith({ ...base(), varaints: [] });
  expectOneLineError(r, "unknown key 'varaints'", "did you mean 'variants'");
});

test("unknown model key suggests the right one", () => {
  const { r } = runWith({ baseline: { name: "f32", modle: models.stories() }, tasks: [{ task: "kobest_copa" }] });
  expectOneLineError(r, "baseline.modle", "did you mean 'model'");
});

test("missing required field", () => {
  const { r } = runWith({ tasks: [{ task: "kobest_copa" }] });
  expectOneLineError(r, "missing required field 'baseline'");
});

test("wrong type names the field", () => {
  const { r } = runWith({ ...base(), seed: "abc" });
  expectOneLineError(r, "'seed'");
});

test("config file not found", () => {
  const r = cli(["run", "/nonexistent/config.yaml", "--out", join(tempDir(), "o")]);
  expectOneLineError(r, "/nonexistent/config.yaml", "not found");
});

test("missing model file", () => {
  const { r } = runWith({ baseline: { name: "f32", model: "/nonexistent/model.gguf" }, tasks: [{ task: "kobest_copa" }] });
  expectOneLineError(r, "baseline.model", "/nonexistent/model.gguf");
});

test("a non-GGUF file with a .gguf name", () => {
  const dir = tempDir();
  const fake = join(dir, "fake.gguf");
  writeFileSync(fake, "this is not a model\n".repeat(100));
  const { r } = runWith({ baseline: { name: "f32", model: fake }, tasks: [{ task: "kobest_copa" }] });
  expectOneLineError(r, fake, "not a GGUF file");
});

test("a truncated GGUF", () => {
  const dir = tempDir();
  const cut = join(dir, "cut.gguf");
  const src = readFileSync(models.stories());
  writeFileSync(cut, src.subarray(0, Math.floor(src.length / 3)));
  const { r } = runWith({ baseline: { name: "f32", model: cut }, tasks: [{ task: "kobest_copa" }] });
  expectOneLineError(r, cut, /truncated|corrupt/);
});

test("unknown task lists how to find the known ones", () => {
  const { r } = runWith({ baseline: { name: "f32", model: models.stories() }, tasks: [{ task: "kobest_cop" }] });
  expectOneLineError(r, "unknown task 'kobest_cop'", "quanteval tasks");
});

test("a dataset field missing from a row names the file and line", () => {
  const { taskPath, dataPath } = customTask('{"question": "q1", "a": "x", "b": "y", "label": 0}\n{"question": "q2", "a": "x", "label": 1}\n');
  const { r } = runWith({ baseline: { name: "f32", model: models.stories() }, tasks: [{ task: taskPath }] });
  expectOneLineError(r, `${dataPath}:2`, "field 'b' missing");
});

test("a label out of the range of choices", () => {
  const { taskPath, dataPath } = customTask('{"question": "q1", "a": "x", "b": "y", "label": 5}\n');
  const { r } = runWith({ baseline: { name: "f32", model: models.stories() }, tasks: [{ task: taskPath }] });
  expectOneLineError(r, `${dataPath}:1`, "out of range");
});

test("a one-item choice list is refused (acc would be trivially 1.0)", () => {
  const dir = tempDir();
  const dataPath = join(dir, "one.jsonl");
  // A choice list read from the row (a literal one-item list is already refused by the task schema).
  writeFileSync(dataPath, '{"question": "q1", "opts": ["x", "y"], "label": 0}\n{"question": "q2", "opts": ["x"], "label": 0}\n');
  const taskPath = join(dir, "one.yaml");
  writeFileSync(taskPath, `task: one\ntype: multiple_choice\ndata_file: ${dataPath}\ndoc_to_text: "Q: {{question}}"\ndoc_to_choice: opts\ndoc_to_target: "{{label}}"\nmetrics: [acc]\n`);
  const { r } = runWith({ baseline: { name: "f32", model: models.stories() }, tasks: [{ task: taskPath }] });
  expectOneLineError(r, `${dataPath}:2`, "1 choice", "at least 2");
});

test("num_fewshot larger than the few-shot pool names the task and the pool size", () => {
  const { taskPath } = customTask('{"question": "q1", "a": "x", "b": "y", "label": 0}\n{"question": "q2", "a": "x", "b": "y", "label": 1}\n{"question": "q3", "a": "x", "b": "y", "label": 1}\n');
  const { r } = runWith({ baseline: { name: "f32", model: models.stories() }, tasks: [{ task: taskPath, num_fewshot: 5 }] });
  expectOneLineError(r, "task mytask", "num_fewshot 5", "pool of 2 examples");
});

test("an empty split", () => {
  const { taskPath, dataPath } = customTask("");
  const { r } = runWith({ baseline: { name: "f32", model: models.stories() }, tasks: [{ task: taskPath }] });
  expectOneLineError(r, dataPath, "empty");
});

test("a non-UTF-8 data file", () => {
  const { taskPath, dataPath } = customTask('{"question": "caf\u00e9", "a": "x", "b": "y", "label": 0}\n');
  writeFileSync(
    dataPath,
    Buffer.concat([Buffer.from('{"question": "ok", "a": "x", "b": "y", "label": 0}\n{"question": "caf'), Buffer.from([0xe9]), Buffer.from('", "a": "x", "b": "y", "label": 0}\n')]),
  );
  const { r } = runWith({ baseline: { name: "f32", model: models.stories() }, tasks: [{ task: taskPath }] });
  expectOneLineError(r, `${dataPath}:2`, "not valid UTF-8");
});

test("an invalid JSON line", () => {
  const { taskPath, dataPath } = customTask('{"question": "q1", "a": "x", "b": "y", "label": 0}\n{"question": \n');
  const { r } = runWith({ baseline: { name: "f32", model: models.stories() }, tasks: [{ task: taskPath }] });
  expectOneLineError(r, `${dataPath}:2`, "invalid JSON");
});

test("perplexity on text shorter than 2×n_ctx", () => {
  const dir = tempDir();
  const short = join(dir, "short.txt");
  writeFileSync(short, "Once upon a time there was a cat.\n");
  const { r } = runWith({ baseline: { name: "f32", model: models.stories() }, tasks: [{ task: "perplexity", data: short, n_ctx: 128 }] });
  expectOneLineError(r, "perplexity", "needs at least 256");
});

test("an out-of-range --limit", () => {
  for (const bad of ["0", "-3", "abc", "1.5"]) {
    const { r } = runWith(base(), ["--limit", bad]);
    expectOneLineError(r, "--limit");
  }
});

test("an out-of-range --concurrency", () => {
  for (const bad of ["0", "5000", "x"]) {
    const { r } = runWith(base(), ["-j", bad]);
    expectOneLineError(r, "--concurrency");
  }
});

test("an unwritable output directory", () => {
  const dir = tempDir();
  const file = join(dir, "a-file");
  writeFileSync(file, "x");
  const { r } = runWith(base(), []);
  void r;
  const path = join(dir, "config.yaml");
  writeConfig(base(), dir);
  const r2 = cli(["run", path, "--out", join(file, "sub")]);
  expectOneLineError(r2, "--out", "not writable");
});

test("an output directory that holds a different run is refused, and its store stays intact", () => {
  const dir = tempDir();
  const out = join(dir, "out");
  const a = join(dir, "a.yaml");
  writeConfig(base(), dir);
  copyFileSync(join(dir, "config.yaml"), a);
  const first = cli(["run", a, "--out", out]);
  assert.equal(first.status, 0, first.stderr);
  const before = readFileSync(join(out, "results.json"), "utf8");
  const other = join(dir, "b.yaml");
  mkdirSync(join(dir, "b"), { recursive: true });
  writeConfig({ ...base(), seed: 99 }, join(dir, "b"));
  copyFileSync(join(dir, "b", "config.yaml"), other);
  const second = cli(["run", other, "--out", out]);
  expectOneLineError(second, "--out", "different run");
  assert.equal(readFileSync(join(out, "results.json"), "utf8"), before);
  const db = new Database(join(out, "quanteval.sqlite"), { readonly: true });
  assert.equal((db.prepare("PRAGMA integrity_check").get() as { integrity_check: string }).integrity_check, "ok");
  db.close();
  // The same config again without --resume is refused too, with the fix named.
  const again = cli(["run", a, "--out", out]);
  expectOneLineError(again, "--resume");
});

test("duplicate model names", () => {
  const { r } = runWith({ baseline: { name: "m", model: models.stories() }, variants: [{ name: "m", model: models.storiesVariant("q8_0") }], tasks: [{ task: "kobest_copa" }] });
  expectOneLineError(r, "'m' is used twice");
});

test("an unknown quantization type in a sweep lists the valid ones", () => {
  const { r } = runWith({ baseline: { name: "f32", model: models.stories() }, variants: { quantize: ["q9_k"] }, tasks: [{ task: "kobest_copa" }] });
  expectOneLineError(r, "q9_k", "valid:");
});

test("text longer than the context is truncated as lm-eval does, and reported", () => {
  const { r } = runWith({ baseline: { name: "f32", model: models.stories(), n_ctx: 64 }, tasks: [{ task: "kobest_copa", limit: 3 }] }, ["--json"]);
  assert.equal(r.status, 0, r.stderr);
  const res = JSON.parse(r.stdout);
  assert.ok(res.tasks.kobest_copa.results.f32.truncated > 0);
  assert.match(r.stderr, /exceeded the context window and were cut from the left/);
  // It counts documents, and says so (issue 16 item 13).
  assert.match(r.stderr, /\d+ of 3 documents for 'f32' exceeded/);
});

test("NaN log-probs from a backend are refused, naming the model", () => {
  // A real GGUF whose output weights were overwritten with NaN.
  const dir = tempDir();
  const bad = join(dir, "nan.gguf");
  copyFileSync(models.stories(), bad);
  const fd = openSync(bad, "r+");
  const size = readFileSync(bad).length;
  // stories260K's last tensor data run is the F32 output matrix; poison its final 16 KiB.
  const nan = Buffer.alloc(16384);
  for (let i = 0; i < nan.length; i += 4) nan.writeFloatLE(Number.NaN, i);
  writeSync(fd, nan, 0, nan.length, size - nan.length);
  const probe = Buffer.alloc(4);
  readSync(fd, probe, 0, 4, 0);
  closeSync(fd);
  const { r } = runWith({ baseline: { name: "poisoned", model: bad }, tasks: [{ task: "kobest_copa", limit: 2 }] });
  expectOneLineError(r, "poisoned", "non-finite");
});

test("different vocabularies: token-level metrics are refused with the reason", () => {
  const { r } = runWith(
    {
      baseline: { name: "stories", model: models.stories() },
      variants: [{ name: "random32k", model: models.tinyRandom() }],
      tasks: [{ task: "perplexity", data: wiki(), n_ctx: 64, chunks: 2 }],
    },
    ["--json"],
  );
  assert.equal(r.status, 0, r.stderr);
  const res = JSON.parse(r.stdout);
  assert.match(res.tasks.perplexity.comparisons.random32k.skipped, /tokenizer differs/);
  assert.match(r.stderr, /different tokenizer/);
});

test("QUANTEVAL_LLAMA_LIB_DIR without a libllama names the variable and how to build one", () => {
  const dir = tempDir();
  const config = writeConfig(base(), dir);
  const r = cli(["run", config, "--out", join(dir, "out")], { env: { QUANTEVAL_LLAMA_LIB_DIR: dir } });
  expectOneLineError(r, `QUANTEVAL_LLAMA_LIB_DIR=${dir}`, "scripts/build-llamacpp.sh --native-lib");
});
