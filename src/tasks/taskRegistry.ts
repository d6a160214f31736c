// Finds task definitions: built-in YAML files shipped in <package>/tasks, or a user's YAML file.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseDocument } from "yaml";
import { yamlToJs } from "../util/yamlToJs.js";
import { describeZodError } from "../config/loadConfig.js";
import { QuantevalError } from "../util/errors.js";
import { taskDefinition, type TaskDefinition } from "./taskDefinition.js";

/** The folder of built-in task YAML files (works from src/ under tsx and from dist/). */
export const builtinTaskDir = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "tasks");

/** Task types implemented in code rather than YAML. */
export const CODE_TASKS: Record<string, { type: string; description: string; metrics: string[] }> = {
  perplexity: {
    type: "perplexity",
    description: "llama-perplexity-compatible chunked perplexity over raw text; with variants also KLD, top-1 agreement and Δp against the baseline",
    metrics: ["ppl", "word_perplexity", "byte_perplexity", "bits_per_byte", "kld_mean", "top1_agreement"],
  },
};

export interface LoadedTask<D extends TaskDefinition = TaskDefinition> {
  def: D;
  /** The YAML file it came from. */
  file: string;
  /** The YAML text, hashed into the manifest. */
  text: string;
}

export function parseTaskYaml(text: string, file: string): TaskDefinition {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) {
    const line = doc.errors[0].linePos?.[0]?.line;
    throw new QuantevalError(`${file}${line ? `:${line}` : ""}: malformed task YAML: ${doc.errors[0].message.split("\n")[0]}`);
  }
  const parsed = taskDefinition.safeParse(yamlToJs(doc, file));
  if (!parsed.success) throw new QuantevalError(describeZodError(file, parsed.error));
  return parsed.data;
}

/** Loads a built-in task by name, or a task YAML by path (relative to `baseDir`). */
export function loadTask(nameOrPath: string, baseDir: string): LoadedTask {
  const candidates = /\.ya?ml$/i.test(nameOrPath) ? [resolve(baseDir, nameOrPath), resolve(nameOrPath)] : [join(builtinTaskDir, `${nameOrPath}.yaml`)];
  const file = candidates.find((c) => existsSync(c));
  if (!file) {
    const known = listTaskNames();
    throw new QuantevalError(`unknown task '${nameOrPath}'; run 'quanteval tasks' to list them (known: ${known.join(", ")}) or give a path to a task .yaml`);
  }
  const text = readFileSync(file, "utf8");
  return { def: parseTaskYaml(text, file), file, text };
}

export function listTaskNames(): string[] {
  const yamls = existsSync(builtinTaskDir) ? readdirSync(builtinTaskDir).filter((f) => f.endsWith(".yaml")).map((f) => basename(f, ".yaml")) : [];
  return [...Object.keys(CODE_TASKS), ...yamls].sort();
}
