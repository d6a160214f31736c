// The one place that reads a finished quanteval run folder for lm-eval export: results.json and
// samples.jsonl as src/run/runEvaluation.ts writes them, narrowed to the typed view below.
// Repoint this file (only) when the run's result schema moves.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { QuantevalError } from "../util/errors.js";

/** What the exporter needs to know about one model of a run. */
export interface RunModel {
  name: string;
  backend: string;
  path?: string;
  sha256?: string;
  params?: number;
  quantization?: string;
  add_bos?: boolean;
  n_ctx_train?: number;
}

/** One scored multiple-choice document of one model. */
export interface McSample {
  doc_id: number;
  /** The document's own prompt (multiple-input tasks: the shared continuation). */
  prompt: string;
  /** Few-shot prefix + prompt (multiple-input tasks: the few-shot prefix only). */
  context: string;
  choices: string[];
  loglikelihoods: number[];
  is_greedy: boolean[];
  pred: number;
  pred_norm: number;
  gold: number;
  correct: boolean;
  fewshot_ids: number[];
}

/** One task of a run. */
export interface RunTask {
  name: string;
  type: string;
  /** The task YAML the run used (YAML-defined tasks). */
  taskFile?: string;
  numFewshot: number;
  /** Documents scored. */
  n: number;
  /** Metrics per model, e.g. {acc, acc_stderr, f1}. */
  results: Record<string, Record<string, unknown>>;
}

/** A finished run, narrowed to what lm-eval export reads. */
export interface RunView {
  dir: string;
  created: string;
  baseline: string;
  /** Baseline and variants (not the noise-floor re-run). */
  modelNames: string[];
  models: Record<string, RunModel>;
  seed: number;
  limit: number | null;
  tasks: RunTask[];
  /** Multiple-choice samples of one task and model, in document order. */
  samples(task: string, model: string): McSample[];
}

interface ResultsJson {
  created: string;
  baseline: string;
  variants: string[];
  models: Record<string, RunModel>;
  tasks: Record<string, { type: string; results: Record<string, Record<string, unknown>>; manifest?: Record<string, unknown> }>;
  manifest?: { seed?: number; limit_override?: number | null };
}

/** Reads a run folder; a one-line QuantevalError when it is not a finished run. */
export function readRun(dir: string): RunView {
  const resultsPath = join(dir, "results.json");
  const samplesPath = join(dir, "samples.jsonl");
  if (!existsSync(resultsPath) || !existsSync(samplesPath)) throw new QuantevalError(`${dir}: no results.json and samples.jsonl; give the --out directory of a finished 'quanteval run'`);
  let res: ResultsJson;
  try {
    res = JSON.parse(readFileSync(resultsPath, "utf8")) as ResultsJson;
  } catch (e) {
    throw new QuantevalError(`${resultsPath}: not valid JSON (${(e as Error).message}); re-run 'quanteval run' to rewrite it`);
  }
  const byKey = new Map<string, McSample[]>();
  readFileSync(samplesPath, "utf8")
    .split("\n")
    .forEach((line, i) => {
      if (!line.trim()) return;
      let s: McSample & { task: string; model: string };
      try {
        s = JSON.parse(line) as McSample & { task: string; model: string };
      } catch (e) {
        throw new QuantevalError(`${samplesPath}:${i + 1}: not valid JSON (${(e as Error).message})`);
      }
      const key = `${s.task}\u0000${s.model}`;
      if (!byKey.has(key)) byKey.set(key, []);
      byKey.get(key)!.push(s);
    });
  const tasks: RunTask[] = Object.entries(res.tasks).map(([name, t]) => ({
    name,
    type: t.type,
    taskFile: typeof t.manifest?.task_file === "string" ? t.manifest.task_file : undefined,
    numFewshot: typeof t.manifest?.num_fewshot === "number" ? t.manifest.num_fewshot : 0,
    n: typeof t.manifest?.n === "number" ? t.manifest.n : 0,
    results: t.results,
  }));
  return {
    dir,
    created: res.created,
    baseline: res.baseline,
    modelNames: [res.baseline, ...res.variants],
    models: res.models,
    seed: res.manifest?.seed ?? 1234,
    limit: res.manifest?.limit_override ?? null,
    tasks,
    samples: (task, model) => (byKey.get(`${task}\u0000${model}`) ?? []).slice().sort((a, b) => a.doc_id - b.doc_id),
  };
}
