// samples.jsonl is streamed as each task is compared, into a temporary file renamed at the end:
// the lines are on disk before the run finishes, and a failed run never leaves half a
// samples.jsonl under the final name (nor touches an earlier one).
import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { putEvaluation, SAMPLE_PAGES, samplePages, storedEvaluations } from "../../src/run/evaluationStore.js";
import { collectStored } from "../../src/tasks/kinds/yamlKind.js";
import { SamplesWriter } from "../../src/run/samplesWriter.js";
import { RunStore } from "../../src/store/runStore.js";
import { runConfig, tempDir } from "../helpers/runConfig.js";
import { models } from "../helpers/shared.js";

const lines = (path: string) =>
  readFileSync(path, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);

test("a real run writes each task's samples before the run ends, to samples.jsonl.tmp, renamed to samples.jsonl when it finishes", async () => {
  const dir = tempDir();
  const data = join(dir, "data.jsonl");
  const row = (q: string, label: number) => `${JSON.stringify({ question: q, a: "yes", b: "no", label })}\n`;
  writeFileSync(data, row("Is the sky blue?", 0) + row("Is fire cold?", 1) + row("Do cats fly?", 1));
  const yaml = (task: string) =>
    `task: ${task}\ntype: multiple_choice\ndata_file: ${data}\ndoc_to_text: "Q: {{question}}\\nA:"\ndoc_to_choice: ["{{a}}", "{{b}}"]\ndoc_to_target: "{{label}}"\nmetrics: [acc]\n`;
  writeFileSync(join(dir, "one.yaml"), yaml("one"));
  writeFileSync(join(dir, "two.yaml"), yaml("two"));
  const out = join(dir, "out");
  // What was on disk when each task finished ("finished <task>" is logged right after its samples are written).
  const seen: Array<{ task: string; tmp: number; final: boolean }> = [];
  const { results } = await runConfig(
    {
      baseline: { name: "f32", model: models.stories() },
      variants: [{ name: "q8_0", model: models.storiesVariant("q8_0") }],
      tasks: [
        { task: join(dir, "one.yaml"), name: "one" },
        { task: join(dir, "two.yaml"), name: "two" },
      ],
    },
    {
      out,
      onLog: (m) => {
        const task = /^finished (\S+)$/.exec(m)?.[1];
        if (task) seen.push({ task, tmp: existsSync(join(out, "samples.jsonl.tmp")) ? lines(join(out, "samples.jsonl.tmp")).length : -1, final: existsSync(join(out, "samples.jsonl")) });
      },
    },
  );
  assert.deepEqual(Object.keys(results.tasks), ["one", "two"]);
  // 3 documents × 2 models per task, on disk as soon as the task is compared; no samples.jsonl yet.
  assert.deepEqual(seen, [
    { task: "one", tmp: 6, final: false },
    { task: "two", tmp: 12, final: false },
  ]);
  assert.ok(!existsSync(join(out, "samples.jsonl.tmp")));
  const written = lines(join(out, "samples.jsonl"));
  assert.deepEqual(
    written.map((r) => `${r.task}/${r.model}/${r.doc_id}`),
    ["one", "two"].flatMap((t) => ["f32", "q8_0"].flatMap((m) => [0, 1, 2].map((d) => `${t}/${m}/${d}`))),
  );
});

test("a discarded writer removes its temporary file and leaves an earlier samples.jsonl as it was", () => {
  const out = tempDir();
  const store = RunStore.open(out, { configHash: "samples-writer-test" });
  try {
    writeFileSync(join(out, "samples.jsonl"), '{"earlier": true}\n');
    const w = new SamplesWriter(out, store);
    w.writeTask("t", { m: [{ doc_id: 0, correct: true }] });
    assert.deepEqual(lines(w.tempPath), [{ task: "t", model: "m", doc_id: 0, correct: true }]);
    w.discard();
    assert.ok(!existsSync(w.tempPath));
    assert.equal(readFileSync(join(out, "samples.jsonl"), "utf8"), '{"earlier": true}\n');
    assert.deepEqual(store.samples("t", "m"), [{ doc_id: 0, correct: true }]);
  } finally {
    store.close("failed");
  }
});

test("stored samples are read per model on access, in order; an evaluation stored whole (before the split) reads the same", () => {
  const store = RunStore.open(tempDir(), { configHash: "evaluation-samples-test" });
  try {
    const evaluation = { results: { n: 3 }, samples: [{ doc_id: 5 }, { doc_id: 1 }, { doc_id: 5 }], state: [1, 2, 3] };
    putEvaluation(store, "t", "m", evaluation);
    const got = storedEvaluations(store, "t").get("m");
    assert.deepEqual(got.state, [1, 2, 3]);
    assert.notEqual(got.samples, got.samples, "read from the store on each access, not kept");
    assert.deepEqual(got.samples, evaluation.samples);
    store.db.prepare("UPDATE evaluations SET data = ? WHERE task = 't' AND model = 'm'").run(JSON.stringify(evaluation));
    store.db.prepare("DELETE FROM evaluation_samples").run();
    assert.deepEqual(storedEvaluations(store, "t").get("m"), evaluation);
  } finally {
    store.close("done");
  }
});

test("a large task's stored samples are written page by page, in order, identical to the whole array", () => {
  const out = tempDir();
  const store = RunStore.open(out, { configHash: "samples-pages-test" });
  try {
    const rows = Array.from({ length: 4500 }, (_, i) => ({ doc_id: 4499 - i, pred: i % 3 }));
    putEvaluation(store, "t", "a", { results: {}, samples: rows, state: null });
    putEvaluation(store, "t", "b", { results: {}, samples: rows.slice(0, 10), state: null });
    const stored = storedEvaluations(store, "t");
    const { samples } = collectStored(stored, { baseline: "a", variants: ["b"] });
    assert.equal(typeof (samples as { [SAMPLE_PAGES]?: unknown })[SAMPLE_PAGES], "function");
    assert.deepEqual(
      [...samplePages(samples, "a")].map((p) => p.length),
      [2000, 2000, 500],
    );
    assert.deepEqual([...samplePages(samples, "a")].flat(), rows);
    assert.deepEqual([...samplePages({ x: rows }, "x")], [rows], "a plain record is one page");
    const w = new SamplesWriter(out, store);
    w.writeTask("t", samples);
    w.finish();
    assert.deepEqual(lines(join(out, "samples.jsonl")), [...rows.map((r) => ({ task: "t", model: "a", ...r })), ...rows.slice(0, 10).map((r) => ({ task: "t", model: "b", ...r }))]);
    assert.equal(store.samples("t", "a").length, 4500);
  } finally {
    store.close("done");
  }
});
