// Reads and validates a run config. Every problem becomes one line naming the file,
// the line where YAML knows it, the field, and how to fix it. Every task entry is checked
// by its kind's strict schema and every path is resolved here, before any model loads.
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { LineCounter, parseDocument } from "yaml";
import type { z } from "zod";
import { configureTask } from "../tasks/kinds/registry.js";
import type { ConfigureContext, ConfiguredTask } from "../tasks/kinds/taskKind.js";
import { yamlToJs } from "../util/yamlToJs.js";
import { QuantevalError } from "../util/errors.js";
import { inlineReferenceScores } from "./referenceScores.js";
import { configDirs, pathResolver, resolveModelSpec } from "./resolvePaths.js";
import { baselineSpec, configSchema, type ModelSpec, modelSpec, quantizeSweep, type RunConfig } from "./schema.js";
import { describeZodError } from "./zodErrors.js";

export { describeZodError } from "./zodErrors.js";

/** A validated config with every path resolved. */
export interface LoadedConfig {
  /** The config, with model paths, data paths, task files, data_dir and models_dir absolute where they exist. */
  config: RunConfig;
  /** Absolute path of the config file. */
  path: string;
  /** The config file's folder (its relative paths are already resolved against it). */
  baseDir: string;
  /** The data dir (absolute): data_dir beside the config, else QUANTEVAL_DATA_DIR, else the default cache. */
  dataDir: string;
  /** The models dir (absolute): models_dir beside the config, else QUANTEVAL_MODELS_DIR, else the default cache. */
  modelsDir: string;
  /** The task entries, each validated by its kind, in config order with unique names. */
  tasks: ConfiguredTask[];
  /** The raw text, hashed into the manifest. */
  text: string;
}

/** The keys a config object accepts at a path, for "did you mean". */
function knownKeysAt(path: PropertyKey[]): string[] {
  if (path.length === 0) return Object.keys(configSchema.shape);
  const head = path[0];
  if (head === "baseline") return Object.keys(baselineSpec.shape);
  if (head === "variants") return [...Object.keys(modelSpec.shape), ...Object.keys(quantizeSweep.shape)];
  return [];
}

interface ParsedYaml {
  raw: unknown;
  lineOf: (path: PropertyKey[]) => number | undefined;
}

function parseYaml(text: string, file: string): ParsedYaml {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    const line = e.linePos?.[0]?.line;
    throw new QuantevalError(`${file}${line ? `:${line}` : ""}: malformed YAML: ${e.message.split("\n")[0]}`);
  }
  const lineOf = (path: PropertyKey[]): number | undefined => {
    for (let n = path.length; n > 0; n--) {
      const node = doc.getIn(path.slice(0, n) as unknown[], true) as { range?: [number, number, number] } | undefined;
      if (node && typeof node === "object" && node.range) return lineCounter.linePos(node.range[0]).line;
      // a key's own node: look for the pair inside the parent mapping
      const parent = doc.getIn(path.slice(0, n - 1) as unknown[], true) as { items?: Array<{ key: { value: unknown; range?: [number, number, number] } }> } | undefined;
      const pair = parent?.items?.find((it) => it.key?.value === path[n - 1]);
      if (pair?.key?.range) return lineCounter.linePos(pair.key.range[0]).line;
    }
    return undefined;
  };
  return { raw: yamlToJs(doc, file), lineOf };
}

function validate(parsed: ParsedYaml, file: string): RunConfig {
  const { raw } = parsed;
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw new QuantevalError(`${file}: the config must be a YAML mapping with baseline, variants and tasks`);
  }
  const result = configSchema.safeParse(raw);
  if (!result.success) throw new QuantevalError(describeZodError(file, result.error, parsed.lineOf, { knownKeys: knownKeysAt }));
  return result.data;
}

/** Parses YAML text into a validated config (task entries checked as loosely as the config schema does). `file` is used in error messages only. */
export function parseConfig(text: string, file: string): RunConfig {
  return validate(parseYaml(text, file), file);
}

/** A kind's strict-schema check of one entry, whose errors name the file, line and key ("did you mean …"). */
function entryParser(file: string, prefix: PropertyKey[], lineOf?: (path: PropertyKey[]) => number | undefined): ConfigureContext["parse"] {
  return <S extends z.ZodType>(schema: S, value: unknown): z.infer<S> => {
    const r = schema.safeParse(value);
    if (r.success) return r.data;
    const shape = (schema as unknown as { shape?: Record<string, unknown> }).shape;
    throw new QuantevalError(describeZodError(file, r.error, lineOf, { prefix, knownKeys: (p) => (p.length === 0 && shape ? Object.keys(shape) : []) }));
  };
}

/**
 * Configures one task entry outside a config file (library use and tests): its paths resolve
 * against `dir` (default: the working directory), dataset ids under `dataDir`.
 */
export function configureEntry(entry: { task: string } & Record<string, unknown>, opts: { dir?: string; dataDir?: string } = {}): ConfiguredTask {
  const dirs = configDirs({ data_dir: opts.dataDir }, resolve(opts.dir ?? "."));
  const paths = pathResolver(dirs);
  const task = /\.ya?ml$/i.test(entry.task) ? paths.file(entry.task) : entry.task;
  const name = typeof entry.name === "string" ? entry.name : entry.task;
  return configureTask({ ...entry, task }, { name, file: `task entry '${name}'`, paths, parse: entryParser(`task entry '${name}'`, []) });
}

/** Validates every task entry with its kind's strict schema and resolves every path against `configDir`. */
export function resolveConfig(config: RunConfig, configDir: string, file: string, lineOf?: (path: PropertyKey[]) => number | undefined): Omit<LoadedConfig, "path" | "text" | "baseDir"> {
  const dirs = configDirs(config, configDir);
  const paths = pathResolver(dirs);
  const sweep = Array.isArray(config.variants) ? undefined : config.variants;
  const variants = sweep
    ? {
        ...sweep,
        ...(sweep.out ? { out: resolve(configDir, sweep.out) } : {}),
        ...(sweep.imatrix ? { imatrix: sweep.imatrix.map((c) => (c === "none" ? c : { ...c, data: paths.data(c.data) })) } : {}),
      }
    : (config.variants as ModelSpec[]).map((v) => resolveModelSpec(v, paths));
  const used = new Set<string>();
  const tasks = config.tasks.map((raw, i) => {
    let name = raw.name ?? raw.task;
    for (let k = 2; used.has(name); k++) name = `${raw.name ?? raw.task}#${k}`;
    used.add(name);
    const task = /\.ya?ml$/i.test(raw.task) ? paths.file(raw.task) : raw.task;
    return configureTask({ ...raw, task }, { name, file, paths, parse: entryParser(file, ["tasks", i], lineOf) });
  });
  return {
    config: {
      ...config,
      // `from` (a run folder) resolves beside the config, like data_dir.
      baseline: { ...resolveModelSpec(config.baseline, paths), ...(config.baseline.from !== undefined ? { from: resolve(configDir, config.baseline.from) } : {}) },
      variants,
      tasks: tasks.map((t) => t.entry),
      ...(config.data_dir !== undefined ? { data_dir: dirs.dataDir } : {}),
      ...(config.models_dir !== undefined ? { models_dir: dirs.modelsDir } : {}),
    },
    dataDir: dirs.dataDir,
    modelsDir: dirs.modelsDir,
    tasks,
  };
}

/** Reads, validates and resolves a config file. */
export function loadConfig(path: string): LoadedConfig {
  const abs = resolve(path);
  let text: string;
  try {
    text = readFileSync(abs, "utf8");
  } catch {
    throw new QuantevalError(`${path}: config file not found; pass the path of a YAML config (see examples/)`);
  }
  const parsed = parseYaml(text, path);
  inlineReferenceScores(parsed.raw, dirname(abs), path);
  const config = validate(parsed, path);
  return { ...resolveConfig(config, dirname(abs), path, parsed.lineOf), path: abs, baseDir: dirname(abs), text };
}
