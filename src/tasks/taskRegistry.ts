// Finds task definitions: built-in YAML files shipped in <package>/tasks, or a user's YAML file.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseDocument } from "yaml";
import { describeZodError } from "../config/zodErrors.js";
import { yamlToJs } from "../util/yamlToJs.js";
import { QuantevalError } from "../util/errors.js";
import { taskDefinition, type TaskDefinition } from "./taskDefinition.js";

/** The folder of built-in task YAML files (works from src/ under tsx and from dist/). */
export const builtinTaskDir = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "tasks");

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

/** Loads a built-in task by name, or a task YAML by path (absolute, or relative to `dir`, then to the working directory). */
export function loadTask(nameOrPath: string, dir = process.cwd()): LoadedTask {
  const candidates = /\.ya?ml$/i.test(nameOrPath) ? [resolve(dir, nameOrPath), resolve(nameOrPath)] : [join(builtinTaskDir, `${nameOrPath}.yaml`)];
  const file = candidates.find((c) => existsSync(c));
  if (!file) {
    const known = yamlTaskNames();
    throw new QuantevalError(`unknown task '${nameOrPath}'; run 'quanteval tasks' to list them (known: ${known.join(", ")}) or give a path to a task .yaml`);
  }
  const text = readFileSync(file, "utf8");
  return { def: parseTaskYaml(text, file), file, text };
}

/** The built-in task YAML names (code tasks such as perplexity are listed by the kind registry). */
export function yamlTaskNames(): string[] {
  return existsSync(builtinTaskDir)
    ? readdirSync(builtinTaskDir)
        .filter((f) => f.endsWith(".yaml"))
        .map((f) => basename(f, ".yaml"))
        .sort()
    : [];
}
