// A real run exported as lm-eval output and read back as a model: the baseline read from the
// lm-eval files gives the same paired deltas against the variant as the run itself; the
// prompt-identity guard names the first changed document; results without samples are unpaired.
// When python3 is on the machine, CPython re-reads every file and checks it is byte-exact
// json.dumps output and that doc/prompt/target/task hashes are lm-eval's hash_string values.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { comparePaired } from "../../src/compare/pairedComparison.js";
import { exportLmEval } from "../../src/lmeval/exportLmEval.js";
import { requestShape } from "../../src/lmeval/exportSamples.js";
import { assertSameLmEvalPrompts, lmEvalCorrect, pairWithLmEval } from "../../src/lmeval/lmEvalPairing.js";
import { readLmEvalResults } from "../../src/lmeval/readLmEvalResults.js";
import { readRun } from "../../src/lmeval/runSource.js";
import { runConfig, tempDir } from "../helpers/runConfig.js";
import { models, sharedPath } from "../helpers/shared.js";

const PY_CHECK = `
import json, glob, hashlib, sys
h = lambda s: hashlib.sha256(s.encode("utf-8")).hexdigest()
n = 0
for f in glob.glob(sys.argv[1] + "/*/samples_*.jsonl"):
    for line in open(f, encoding="utf-8"):
        line = line.rstrip("\\n"); d = json.loads(line)
        assert json.dumps(d, ensure_ascii=False) == line, f
        assert h(json.dumps(d["doc"], indent=2, ensure_ascii=False)) == d["doc_hash"]
        assert h(d["arguments"]["gen_args_0"]["arg_0"]) == d["prompt_hash"]
        assert h(str(d["target"])) == d["target_hash"]
        n += 1
for f in glob.glob(sys.argv[1] + "/*/results_*.json"):
    t = open(f, encoding="utf-8").read(); d = json.loads(t)
    assert json.dumps(d, indent=2, ensure_ascii=False) == t, f
    for task, th in d["task_hashes"].items():
        ss = [json.loads(l) for l in open(glob.glob(f.rsplit("/", 1)[0] + "/samples_" + task + "_*.jsonl")[0], encoding="utf-8")]
        assert h("".join(s["doc_hash"] + s["prompt_hash"] + s["target_hash"] for s in ss)) == th
print(n)
`;

test("export → read back: the lm-eval baseline gives the run's own paired deltas; the guard names a changed document", async () => {
  const { results, out } = await runConfig({
    baseline: { name: "f32", model: models.stories() },
    variants: [{ name: "q4_0", model: models.storiesVariant("q4_0") }],
    tasks: [{ task: "kobest_copa", limit: 20 }],
    seed: 1234,
  });
  const lm = tempDir("quanteval-lmeval-");
  const summary = await exportLmEval(out, lm, { dataDir: sharedPath("datasets") });
  assert.deepEqual(
    summary.models.map((m) => m.model),
    ["f32", "q4_0"],
  );
  assert.deepEqual(readdirSync(lm).sort(), ["f32", "q4_0"]);

  const base = readLmEvalResults(join(lm, "f32")).tasks.kobest_copa;
  assert.equal(base.metrics.acc, results.tasks.kobest_copa.results.f32.acc);
  assert.equal(base.samples?.length, 20);

  const run = readRun(out);
  const shape = requestShape({ target_delimiter: " " } as never);
  const pairs = pairWithLmEval("kobest_copa", run.samples("kobest_copa", "q4_0"), base, shape);
  assert.ok(pairs.paired);
  const expected = results.tasks.kobest_copa.comparisons.q4_0 as Record<string, Record<string, unknown>>;
  for (const metric of ["acc", "f1"] as const) {
    const got = comparePaired(
      {
        metric,
        baselineCorrect: pairs.theirs.map((s) => lmEvalCorrect(s, metric)),
        variantCorrect: pairs.ours.map((s) => s.correct),
        gold: pairs.theirs.map((s) => s.gold!),
        baselinePred: pairs.theirs.map((s) => s.pred!),
        variantPred: pairs.ours.map((s) => s.pred),
      },
      { seed: 1234 },
    );
    for (const k of ["baseline", "variant", "delta", "ci_low", "ci_high", "mcnemar_p", "flips_correct_to_wrong", "flips_wrong_to_correct", "n"]) {
      assert.equal(got[k as keyof typeof got], expected[metric][k], `${metric}.${k}`);
    }
  }

  // The guard: change document 3's context in a copy of the lm-eval samples.
  const samplesFile = base.samplesFile!;
  const lines = readFileSync(samplesFile, "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as { doc_id: number; arguments: Record<string, { arg_0: string }> });
  lines[3].arguments.gen_args_1.arg_0 += " ";
  const changed = tempDir("quanteval-lmeval-changed-");
  mkdirSync(join(changed, "f32"));
  const results0 = readdirSync(join(lm, "f32")).find((f) => f.startsWith("results_"))!;
  copyFileSync(join(lm, "f32", results0), join(changed, "f32", results0));
  writeFileSync(join(changed, "f32", samplesFile.split("/").pop()!), lines.map((l) => JSON.stringify(l)).join("\n") + "\n");
  const altered = readLmEvalResults(changed).tasks.kobest_copa;
  assert.throws(() => assertSameLmEvalPrompts("kobest_copa", run.samples("kobest_copa", "f32"), altered.samples!, shape), /^QuantevalError: task kobest_copa doc 3: request 1 context differs/);

  // Without samples: unpaired, labelled so.
  const bare = tempDir("quanteval-lmeval-bare-");
  copyFileSync(join(lm, "f32", results0), join(bare, results0));
  const unpaired = pairWithLmEval("kobest_copa", run.samples("kobest_copa", "q4_0"), readLmEvalResults(join(bare, results0)).tasks.kobest_copa, shape);
  assert.equal(unpaired.paired, false);
  assert.match(!unpaired.paired ? unpaired.reason : "", /without samples/);

  const py = spawnSync("python3", ["-c", PY_CHECK, lm], { encoding: "utf8" });
  if (py.error) return; // no CPython here: the byte-exactness check is skipped, the rest stands
  assert.equal(py.status, 0, py.stderr);
  assert.equal(py.stdout.trim(), "40");
});
