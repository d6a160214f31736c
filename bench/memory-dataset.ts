// Peak memory of a run against the size of its dataset (issue 14: samples stream to the store and
// to samples.jsonl as tasks finish; target: peak RSS at 100k documents ≤ 1.5 × peak RSS at 5k).
//
//   node --import tsx bench/memory-dataset.ts [--kind K] [--sizes 5000,100000] [--model M.gguf] [--variant V.gguf] [--nice]
//
// A synthetic task of kind K (multiple_choice by default; loglikelihood, rolling,
// llamacpp_hellaswag, llamacpp_winogrande) is written into a temporary folder for each size: its
// data file has a few tokens a document and every prompt distinct, so every request is computed
// (a task evaluated in chunks would otherwise answer a repeated request from the cache once an
// earlier chunk computed it) and 100k documents × 2 models run in minutes. `quanteval run` then
// evaluates it on stories260K and one variant (stories260K Q4_0 from ../shared) in a child under
// /usr/bin/time -v: every document is evaluated, compared (paired statistics, flips) and written
// to samples.jsonl. No --limit: the whole dataset is the point.
import { statSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { sharedFile } from "./llamaBin.js";
import { type MeasuredRun, runQuanteval, sweepSizes } from "./memoryRun.js";

const { values } = parseArgs({
  options: {
    kind: { type: "string", default: "multiple_choice" },
    sizes: { type: "string", default: "5000,100000" },
    model: { type: "string" },
    variant: { type: "string" },
    nice: { type: "boolean", default: false },
  },
});

const WORDS = ["red", "blue", "cat", "dog", "sun", "moon", "tree", "fish", "bird", "ship"];
const word = (i: number): string => WORDS[i % WORDS.length];

/** Writes `n` lines (deterministic: line i depends on i only) and a trailing newline. */
function writeLines(path: string, n: number, line: (i: number) => string): void {
  const lines: string[] = [];
  for (let i = 0; i < n; i++) lines.push(line(i));
  writeFileSync(path, `${lines.join("\n")}\n`);
}

/** A synthetic task of one kind: its data file and task YAML, and its entry in the config. */
interface SyntheticTask {
  /** What the table's title says of it. */
  title: string;
  /** Writes the data file of `n` documents. */
  data(path: string, n: number): void;
  /** The task YAML over `data.*`, when the kind is defined by one. */
  yaml?: string;
  /** The config's task entry. */
  entry(n: number): Record<string, unknown>;
}

const jsonlRows = (row: (i: number) => Record<string, unknown>) => (path: string, n: number) => writeLines(path, n, (i) => JSON.stringify(row(i)));
const yamlTask = (type: string, fields: string) => `task: synthetic\ntype: ${type}\ndata_file: data.jsonl\n${fields}`;

/** Each kind's synthetic task (a word and the document's number keep every prompt distinct). */
const TASKS: Record<string, SyntheticTask> = {
  multiple_choice: {
    title: "synthetic two-choice task (acc, paired comparison, samples.jsonl)",
    data: jsonlRows((i) => ({ q: `${word(i)} ${i}`, a: word(i * 7), b: word(i * 3 + 1), label: i % 2 })),
    yaml: yamlTask("multiple_choice", `doc_to_text: "{{q}}"\ndoc_to_choice: ["{{a}}", "{{b}}"]\ndoc_to_target: "{{label}}"\nmetrics: [acc]\n`),
    entry: () => ({ task: "synthetic.yaml" }),
  },
  loglikelihood: {
    title: "synthetic lambada-style task: one continuation a document (ppl, acc, paired comparison, samples.jsonl)",
    data: jsonlRows((i) => ({ q: `the ${word(i)} ${i} saw the`, a: word(i * 7) })),
    yaml: yamlTask("loglikelihood", `doc_to_text: "{{q}}"\ndoc_to_target: " {{a}}"\nmetrics: [ppl, acc]\n`),
    entry: () => ({ task: "synthetic.yaml" }),
  },
  rolling: {
    title: "synthetic rolling task: one short text a document (word/byte perplexity, samples.jsonl)",
    data: jsonlRows((i) => ({ text: `the ${word(i)} ${i} saw the ${word(i * 7)} and the ${word(i * 3 + 1)}.` })),
    yaml: yamlTask("rolling", `doc_to_target: "{{text}}"\nmetrics: [word_perplexity, byte_perplexity, bits_per_byte]\n`),
    entry: () => ({ task: "synthetic.yaml" }),
  },
  llamacpp_hellaswag: {
    title: "synthetic llama.cpp HellaSwag file: four one-word endings a task (acc_norm, paired comparison, samples.jsonl)",
    data: (path, n) => writeLines(path, n, (i) => [`the ${word(i)} ${i} saw the`, String(i % 4), ...[1, 2, 3, 4].map((k) => `${word(i + k)}.`)].join("\n")),
    entry: (n) => ({ task: "hellaswag_llamacpp", data: "data.txt", limit: n }),
  },
  llamacpp_winogrande: {
    title: "synthetic llama.cpp Winogrande CSV: two one-word options a task (acc, paired comparison, samples.jsonl)",
    // The file's last line is never read (as llama.cpp): one line more than the tasks.
    data: (path, n) => writeLines(path, n + 1, (i) => `${i},the ${word(i)} ${i} saw _ and the ${word(i * 3)}.,${word(i * 7)},${word(i * 7 + 1)},${1 + (i % 2)}`),
    entry: () => ({ task: "winogrande_llamacpp", data: "data.csv" }),
  },
};

const task = TASKS[values.kind];
if (!task) throw new Error(`--kind ${values.kind}: unknown; one of ${Object.keys(TASKS).join(", ")}`);
const dataFile = task.yaml ? "data.jsonl" : values.kind === "llamacpp_hellaswag" ? "data.txt" : "data.csv";

function measure(n: number): MeasuredRun & { dataBytes: number } {
  let dataBytes = 0;
  const model = values.model ?? sharedFile("models", "stories260K.gguf");
  const variant = values.variant ?? sharedFile("models", "stories260K-variants", "stories260K-q4_0.gguf");
  // One thread and a small KV cache: on a shared 2-core machine ggml's second worker thread mostly
  // waits, and a request of a few tokens needs no 4096-cell cache.
  const settings = { n_ctx: 64, kv_size: 512, threads: 1 };
  const m = runQuanteval(
    { baseline: { name: "base", model, ...settings }, variants: [{ name: "q4_0", model: variant, ...settings }], tasks: [task.entry(n)], seed: 1 },
    {
      nice: values.nice,
      files: {
        [dataFile]: (p) => {
          task.data(p, n);
          dataBytes = statSync(p).size;
        },
        ...(task.yaml ? { "synthetic.yaml": (p: string) => writeFileSync(p, task.yaml!) } : {}),
      },
    },
  );
  return { ...m, dataBytes };
}

sweepSizes(
  values.sizes.split(",").map((s) => Number(s.trim())),
  "documents",
  `stories260K + Q4_0, ${values.kind}: ${task.title}`,
  measure,
);
