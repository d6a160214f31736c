// Reads and validates a run config. Every problem becomes one line naming the file,
// the line where YAML knows it, the field, and how to fix it.
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { closest, distance } from "fastest-levenshtein";
import { LineCounter, parseDocument } from "yaml";
import { yamlToJs } from "../util/yamlToJs.js";
import type { ZodError } from "zod";
import { QuantevalError } from "../util/errors.js";
import { configSchema, modelSpec, quantizeSweep, type RunConfig } from "./schema.js";

export interface LoadedConfig {
  config: RunConfig;
  /** Absolute path of the config file. */
  path: string;
  /** Folder relative paths in the config are resolved against. */
  baseDir: string;
  /** The raw text, hashed into the manifest. */
  text: string;
}

function fieldPath(path: PropertyKey[]): string {
  return path.map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join("");
}

/** Turns the first zod issue into one actionable line. */
export function describeZodError(file: string, err: ZodError, lineOf?: (path: PropertyKey[]) => number | undefined): string {
  const issue = err.issues[0];
  const at = (p: PropertyKey[]) => {
    const line = lineOf?.(p);
    return `${file}${line ? `:${line}` : ""}`;
  };
  if (issue.code === "unrecognized_keys") {
    const key = issue.keys[0];
    const known = knownKeysAt(issue.path);
    const guess = known.length > 0 ? closest(key, known) : undefined;
    const hint = guess && distance(key, guess) <= Math.max(2, Math.floor(key.length / 3)) ? `; did you mean '${guess}'?` : `; remove it${known.length ? ` (known keys: ${known.join(", ")})` : ""}`;
    const p = fieldPath([...issue.path, key]);
    return `${at([...issue.path, key])}: unknown key '${p}'${hint}`;
  }
  const p = fieldPath(issue.path);
  if (issue.code === "invalid_type" && /received undefined/.test(issue.message)) {
    return `${at(issue.path)}: missing required field '${p}'; add it (${issue.expected})`;
  }
  return `${at(issue.path)}: field '${p || "(root)"}': ${issue.message}`;
}

/** The keys a config object accepts at a path, for "did you mean". */
function knownKeysAt(path: PropertyKey[]): string[] {
  const top = Object.keys(configSchema.shape);
  if (path.length === 0) return top;
  const head = path[0];
  if (head === "baseline" || head === "variants") {
    return [...Object.keys(modelSpec.shape), ...Object.keys(quantizeSweep.shape)];
  }
  return [];
}

/** Parses YAML text into a validated config. `file` is used in error messages only. */
export function parseConfig(text: string, file: string): RunConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    const line = e.linePos?.[0]?.line;
    throw new QuantevalError(`${file}${line ? `:${line}` : ""}: malformed YAML: ${e.message.split("\n")[0]}`);
  }
  const raw = yamlToJs(doc, file);
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw new QuantevalError(`${file}: the config must be a YAML mapping with baseline, variants and tasks`);
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
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) throw new QuantevalError(describeZodError(file, parsed.error, lineOf));
  return parsed.data;
}

export function loadConfig(path: string): LoadedConfig {
  const abs = resolve(path);
  let text: string;
  try {
    text = readFileSync(abs, "utf8");
  } catch {
    throw new QuantevalError(`${path}: config file not found; pass the path of a YAML config (see examples/)`);
  }
  return { config: parseConfig(text, path), path: abs, baseDir: dirname(abs), text };
}
