// Peak memory of a run against the size of its dataset (issue 14: samples stream to the store and
// to samples.jsonl as tasks finish; target: peak RSS at 100k documents ≤ 1.5 × peak RSS at 5k).
//
//   node --import tsx bench/memory-dataset.ts [--sizes 5000,100000] [--model M.gguf] [--variant V.gguf] [--nice]
//
// A synthetic multiple-choice task (a task YAML over a JSONL file of rows "word number", two one-word
// choices: a few tokens a request, every request distinct, so 100k documents × 2 choices × 2 models run in minutes) is written into a temporary folder for each size, then `quanteval run` evaluates it
// on stories260K and one variant (stories260K Q4_0 from ../shared) in a child under
// /usr/bin/time -v: every document is evaluated, compared (paired statistics, flips) and
// written to samples.jsonl. No --limit: the whole dataset is the point.
import { statSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { sharedFile } from "./llamaBin.js";
import { type MeasuredRun, runQuanteval, sweepSizes } from "./memoryRun.js";

const { values } = parseArgs({
  options: {
    sizes: { type: "string", default: "5000,100000" },
    model: { type: "string" },
    variant: { type: "string" },
    nice: { type: "boolean", default: false },
  },
});

const WORDS = ["red", "blue", "cat", "dog", "sun", "moon", "tree", "fish", "bird", "ship"];

/**
 * `n` rows of a two-choice task, deterministic (row i's fields depend on i only). Every prompt is
 * distinct (a word and the row's number), so every request is computed: a task evaluated in
 * chunks would otherwise answer a repeated request from the cache once an earlier chunk computed it.
 */
function writeRows(path: string, n: number): void {
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const w = `${WORDS[i % WORDS.length]} ${i}`;
    lines.push(JSON.stringify({ q: w, a: WORDS[(i * 7) % WORDS.length], b: WORDS[(i * 3 + 1) % WORDS.length], label: i % 2 }));
  }
  writeFileSync(path, `${lines.join("\n")}\n`);
}

const taskYaml = (data: string) =>
  `task: synthetic_mc\ntype: multiple_choice\ndata_file: ${data}\ndoc_to_text: "{{q}}"\ndoc_to_choice: ["{{a}}", "{{b}}"]\ndoc_to_target: "{{label}}"\nmetrics: [acc]\n`;

function measure(n: number): MeasuredRun & { dataBytes: number } {
  let dataBytes = 0;
  const model = values.model ?? sharedFile("models", "stories260K.gguf");
  const variant = values.variant ?? sharedFile("models", "stories260K-variants", "stories260K-q4_0.gguf");
  // One thread and a small KV cache: on a shared 2-core machine ggml's second worker thread mostly
  // waits, and a request of a few tokens needs no 4096-cell cache.
  const settings = { n_ctx: 64, kv_size: 512, threads: 1 };
  const m = runQuanteval(
    { baseline: { name: "base", model, ...settings }, variants: [{ name: "q4_0", model: variant, ...settings }], tasks: [{ task: "synthetic_mc.yaml" }], seed: 1 },
    {
      nice: values.nice,
      files: {
        "data.jsonl": (p) => {
          writeRows(p, n);
          dataBytes = statSync(p).size;
        },
        "synthetic_mc.yaml": (p) => writeFileSync(p, taskYaml("data.jsonl")),
      },
    },
  );
  return { ...m, dataBytes };
}

sweepSizes(
  values.sizes.split(",").map((s) => Number(s.trim())),
  "documents",
  `stories260K + Q4_0, synthetic two-choice task (acc, paired comparison, samples.jsonl)`,
  measure,
);
