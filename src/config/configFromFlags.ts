// The config a config-free run (`quanteval run --baseline A.gguf --variant B.gguf --tasks …`)
// stands for. It is written into the run's folder, so the run can be repeated with
// `quanteval run DIR/config.yaml`: every path in it is absolute or a name the data and models
// dirs resolve, never relative to the folder the flags were typed in.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { stringify } from "yaml";
import { resolveLocalPath } from "../data/resolveDataset.js";
import { kindOf } from "../tasks/kinds/registry.js";
import { QuantevalError } from "../util/errors.js";
import { type LoadedConfig, loadConfig } from "./loadConfig.js";
import type { ModelSpec, RunConfig, TaskSpec } from "./schema.js";

/** The flags a config-free run is made from. */
export interface RunFlags {
  /** The baseline model file. */
  baseline: string;
  /** Variant model files, in order. */
  variants: string[];
  /** Built-in task names or task YAML paths (the flag's comma-separated list, already split). */
  tasks: string[];
  /** Few-shot examples for every task that takes them. */
  numFewshot?: number;
}

/** The task kinds whose entries take `num_fewshot` (the others refuse it: lm-eval scores them 0-shot). */
const FEWSHOT_KINDS = new Set(["multiple_choice"]);

/** A model named after its file without `.gguf`; a local path made absolute, a bare name left for the models dir. */
function modelFromPath(p: string): ModelSpec {
  const name = basename(p).replace(/\.gguf$/i, "");
  if (!name) throw new QuantevalError(`--baseline/--variant '${p}': not a model file; pass the path of a .gguf file`);
  return { name, model: resolveLocalPath(p) ?? p };
}

/** One task entry: a task YAML path made absolute; `--num-fewshot` where the task's kind takes it. */
function taskEntry(task: string, numFewshot: number | undefined): TaskSpec {
  const isFile = /\.ya?ml$/i.test(task);
  const entry: TaskSpec = { task: isFile ? (resolveLocalPath(task) ?? task) : task };
  if (numFewshot !== undefined && FEWSHOT_KINDS.has(kindOf(entry.task).kind.name)) entry.num_fewshot = numFewshot;
  return entry;
}

/**
 * Builds the run config a config-free run stands for. Model names default to the file name
 * without `.gguf` (a repeated name gets `#2` …); `perplexity` without data reads WikiText-2 test.
 */
export function configFromFlags(flags: RunFlags): RunConfig {
  const tasks = flags.tasks.map((t) => t.trim()).filter((t) => t !== "");
  if (tasks.length === 0) throw new QuantevalError("--tasks is empty; name built-in tasks or task YAML files, e.g. --tasks kobest_copa,perplexity");
  const models = [flags.baseline, ...flags.variants].map(modelFromPath);
  const used = new Set<string>();
  for (const m of models) {
    const base = m.name;
    for (let k = 2; used.has(m.name); k++) m.name = `${base}#${k}`;
    used.add(m.name);
  }
  const [baseline, ...variants] = models;
  return {
    baseline,
    variants,
    tasks: tasks.map((t) => taskEntry(t, flags.numFewshot)),
    seed: 1234,
    noise_floor: false,
    bootstrap: 1000,
    cost: false,
    schedule: "auto",
    keep_distributions: false,
  };
}

/** The config as YAML, headed by the command that re-runs it. */
export function configYaml(config: RunConfig): string {
  return `# Written by a config-free \`quanteval run\`; run it again with: quanteval run <this file> --out <dir>\n${stringify(config)}`;
}

/** What `quanteval run` was given: a config file, or the flags of a config-free run. */
export interface RunSource {
  config?: string;
  baseline?: string;
  variant?: string[];
  tasks?: string;
  numFewshot?: number;
}

/**
 * The config a `quanteval run` evaluates: the config file, or (config-free) the one the flags
 * stand for, written to `<out>/config.yaml` first and loaded from there, so the run and its
 * re-run read the same file. A contradictory combination of flags is refused in one line.
 */
export function loadRunConfig(src: RunSource, out: string): LoadedConfig {
  const flagged = src.baseline !== undefined || (src.variant?.length ?? 0) > 0 || src.tasks !== undefined;
  if (src.config !== undefined) {
    if (flagged) throw new QuantevalError(`quanteval run: pass either a config file (${src.config}) or --baseline/--variant/--tasks, not both`);
    if (src.numFewshot !== undefined) throw new QuantevalError("--num-fewshot is for a config-free run; set num_fewshot on the task entries of the config instead");
    return loadConfig(src.config);
  }
  if (src.baseline === undefined) {
    if ((src.variant?.length ?? 0) > 0 || src.tasks !== undefined) throw new QuantevalError("--variant and --tasks need --baseline: name the baseline model file (e.g. --baseline model-f16.gguf)");
    throw new QuantevalError("quanteval run: pass a config file, or --baseline A.gguf [--variant B.gguf …] --tasks NAME,…");
  }
  if (src.tasks === undefined) throw new QuantevalError("--tasks is missing; name built-in tasks or task YAML files, e.g. --tasks kobest_copa,perplexity");
  const text = configYaml(configFromFlags({ baseline: src.baseline, variants: src.variant ?? [], tasks: src.tasks.split(","), numFewshot: src.numFewshot }));
  const path = join(resolve(out), "config.yaml");
  // A folder holding another run's config keeps it (the same flags write the same text, so --resume finds its own).
  if (existsSync(path) && readFileSync(path, "utf8") !== text) {
    throw new QuantevalError(`--out ${out}: already holds a config.yaml of another run; choose another --out, or re-run that one with quanteval run ${path} --out ${out}`);
  }
  mkdirSync(resolve(out), { recursive: true });
  writeFileSync(path, text);
  return loadConfig(path);
}
