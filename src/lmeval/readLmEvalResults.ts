// lm-evaluation-harness output as a model: a results_<date>.json (or an --output_path folder
// holding one model's folder) and, when present, its samples_<task>_<date>.jsonl, read into
// per-task metrics and per-document samples. With samples a comparison can pair documents by
// doc_id and prompt; without them only the scores are known and comparisons are unpaired.
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { QuantevalError } from "../util/errors.js";
import { fileDateId, fileTaskName } from "./lmEvalNames.js";

/** One document of an lm-eval samples file, narrowed to what a paired comparison needs. */
export interface LmEvalSample {
  doc_id: number;
  /** sha256 of the first request's context (lm-eval's prompt_hash). */
  prompt_hash: string;
  /** The (context, continuation) of every request, in order. */
  arguments: Array<[string, string]>;
  target: string;
  /** Log-likelihood per request (filtered_resps), when they are numbers. */
  loglikelihoods: number[];
  /** is_greedy per request (filtered_resps' second item: a JSON boolean, or "True"/"False" as lm-eval's str() writes it). */
  greedy: boolean[];
  /** Per-document metric values as lm-eval logged them (acc: 0/1; f1: [gold, pred]). */
  metrics: Record<string, unknown>;
  /** Index of the highest log-likelihood (multiple choice). */
  pred?: number;
  /** The gold index, from the f1 tuple or a numeric target. */
  gold?: number;
}

/** One task of an lm-eval results file. */
export interface LmEvalTask {
  name: string;
  /** Metric values by name with the filter stripped ("acc,none" → acc, "acc_stderr,none" → acc_stderr). */
  metrics: Record<string, number>;
  nShot?: number;
  nSamples?: { original: number; effective: number };
  /** Per-document samples; undefined when the results came without a samples file (unpaired). */
  samples?: LmEvalSample[];
  /** The samples file read, if any. */
  samplesFile?: string;
}

/** An lm-eval result for one model. */
export interface LmEvalResults {
  resultsFile: string;
  /** sha256 (hex) of the bytes read: the results file, then each task's samples file in task order. */
  sha256: string;
  modelName: string;
  tasks: Record<string, LmEvalTask>;
}

/** The newest results_*.json under a model folder or a one-model --output_path folder. */
export function findResultsFile(path: string): string {
  if (!existsSync(path)) throw new QuantevalError(`${path}: not found; give an lm-eval results_*.json or its --output_path folder`);
  if (statSync(path).isFile()) return path;
  const newest = (dir: string) =>
    readdirSync(dir)
      .filter((f) => /^results_.*\.json$/.test(f))
      .sort((a, b) => fileDateId(a).localeCompare(fileDateId(b)))
      .pop();
  const here = newest(path);
  if (here) return join(path, here);
  const models = readdirSync(path).filter((d) => statSync(join(path, d)).isDirectory() && newest(join(path, d)));
  if (models.length === 1) return join(path, models[0], newest(join(path, models[0]))!);
  if (models.length > 1) throw new QuantevalError(`${path}: holds lm-eval results of several models (${models.join(", ")}); point lm_eval at one of these folders`);
  throw new QuantevalError(`${path}: no lm-eval results_*.json in it or in a model folder below it; give the --output_path lm_eval wrote`);
}

function parseSample(raw: Record<string, unknown>, where: string): LmEvalSample {
  if (typeof raw.doc_id !== "number") throw new QuantevalError(`${where}: no numeric doc_id; is this an lm-eval samples file?`);
  const args = Object.values((raw.arguments ?? {}) as Record<string, Record<string, unknown>>).map((a) => [String(a.arg_0 ?? ""), String(a.arg_1 ?? "")] as [string, string]);
  const filtered = Array.isArray(raw.filtered_resps) ? raw.filtered_resps : [];
  const lls = filtered.map((r) => Number(Array.isArray(r) ? r[0] : r));
  const greedy = filtered.map((r) => Array.isArray(r) && (r[1] === true || r[1] === "True"));
  const metricNames = Array.isArray(raw.metrics) ? (raw.metrics as string[]) : ["acc", "acc_norm", "f1"].filter((m) => m in raw);
  const metrics = Object.fromEntries(metricNames.map((m) => [m, raw[m]]));
  const f1 = metrics.f1;
  const target = String(raw.target ?? "");
  const gold = Array.isArray(f1) ? Number(f1[0]) : /^\d+$/.test(target) ? Number(target) : undefined;
  const pred = lls.length > 0 && lls.every(Number.isFinite) ? lls.indexOf(Math.max(...lls)) : Array.isArray(f1) ? Number(f1[1]) : undefined;
  return { doc_id: raw.doc_id, prompt_hash: String(raw.prompt_hash ?? ""), arguments: args, target, loglikelihoods: lls, greedy, metrics, pred, gold };
}

/** Reads one samples_*.jsonl file; `text` is its content when the caller has read it already. */
export function readLmEvalSamples(file: string, text = readFileSync(file, "utf8")): LmEvalSample[] {
  return text
    .split("\n")
    .map((line, i) => [line, i] as const)
    .filter(([line]) => line.trim() !== "")
    .map(([line, i]) => {
      let raw: Record<string, unknown>;
      try {
        raw = JSON.parse(line) as Record<string, unknown>;
      } catch (e) {
        throw new QuantevalError(`${file}:${i + 1}: not valid JSON (${(e as Error).message})`);
      }
      return parseSample(raw, `${file}:${i + 1}`);
    })
    .sort((a, b) => a.doc_id - b.doc_id);
}

/** The samples file of `task` beside the results file: same date id first, else the newest. */
function samplesFileFor(resultsFile: string, task: string): string | undefined {
  const dir = dirname(resultsFile);
  const date = fileDateId(basename(resultsFile));
  const files = readdirSync(dir).filter((f) => f.startsWith("samples_") && /\.jsonl?$/.test(f) && fileTaskName(f) === task);
  return files.find((f) => fileDateId(f) === date) ?? files.sort((a, b) => fileDateId(a).localeCompare(fileDateId(b))).pop();
}

/** Reads an lm-eval results file or --output_path folder, with its samples when they are there. */
export function readLmEvalResults(path: string): LmEvalResults {
  const resultsFile = findResultsFile(path);
  // The bytes read are hashed as they are read (the lm_eval backend's fingerprint), not read again.
  const hash = createHash("sha256");
  const read = (file: string) => {
    const bytes = readFileSync(file);
    hash.update(bytes);
    return bytes.toString("utf8");
  };
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(read(resultsFile)) as Record<string, unknown>;
  } catch (e) {
    throw new QuantevalError(`${resultsFile}: not valid JSON (${(e as Error).message})`);
  }
  const results = raw.results as Record<string, Record<string, unknown>> | undefined;
  if (!results || typeof results !== "object") throw new QuantevalError(`${resultsFile}: no 'results' object; is this an lm-eval results file?`);
  const nShot = (raw["n-shot"] ?? {}) as Record<string, number>;
  const nSamples = (raw["n-samples"] ?? {}) as Record<string, { original: number; effective: number }>;
  const tasks: Record<string, LmEvalTask> = {};
  for (const [name, r] of Object.entries(results)) {
    const metrics: Record<string, number> = {};
    for (const [k, v] of Object.entries(r)) if (typeof v === "number") metrics[k.split(",")[0]] = v;
    const samplesName = samplesFileFor(resultsFile, name);
    const samplesFile = samplesName ? join(dirname(resultsFile), samplesName) : undefined;
    tasks[name] = { name, metrics, nShot: nShot[name], nSamples: nSamples[name], samplesFile, samples: samplesFile ? readLmEvalSamples(samplesFile, read(samplesFile)) : undefined };
  }
  const modelName = typeof raw.model_name === "string" && raw.model_name ? raw.model_name : basename(dirname(resultsFile));
  return { resultsFile, sha256: hash.digest("hex"), modelName, tasks };
}
