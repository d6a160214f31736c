// Reads and writes results.json, refusing a file this build cannot read with one line that says why.
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { QuantevalError } from "../util/errors.js";
import { RESULTS_VERSION, type RunResults } from "./types.js";

/** Writes a file atomically: a reader never sees half of it. */
export function writeAtomic(path: string, data: string): void {
  writeFileSync(`${path}.tmp`, data);
  renameSync(`${path}.tmp`, path);
}

/** Writes results.json atomically. */
export function writeResults(path: string, results: RunResults): void {
  writeAtomic(path, JSON.stringify(results, null, 2) + "\n");
}

/** Checks parsed JSON is results.json of a version this build reads. `file` names it in errors. */
export function parseResults(value: unknown, file: string): RunResults {
  if (value === null || typeof value !== "object" || Array.isArray(value))
    throw new QuantevalError(`${file}: not a quanteval results file (expected a JSON object); pass a run directory written by 'quanteval run'`);
  const v = (value as { quanteval_results_version?: unknown }).quanteval_results_version;
  if (v === undefined) throw new QuantevalError(`${file}: not a quanteval results file (no quanteval_results_version); pass a run directory written by 'quanteval run'`);
  if (v !== RESULTS_VERSION)
    throw new QuantevalError(`${file}: results version ${JSON.stringify(v)} is not one this quanteval reads (version ${RESULTS_VERSION}); use the quanteval that wrote it, or re-run`);
  const r = value as Partial<RunResults>;
  if (typeof r.baseline !== "string" || !Array.isArray(r.variants) || r.tasks === null || typeof r.tasks !== "object") {
    throw new QuantevalError(`${file}: not a quanteval results file (version ${RESULTS_VERSION} needs baseline, variants and tasks); pass a run directory written by 'quanteval run'`);
  }
  return value as RunResults;
}

/** Reads results.json. A missing, corrupt or unknown-version file is a one-line QuantevalError. */
export function readResults(file: string): RunResults {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    throw new QuantevalError(`${file}: not found; pass a run directory written by 'quanteval run' (is the run finished?)`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new QuantevalError(`${file}: results file is not valid JSON (${(e as Error).message.split("\n")[0]}); re-run with --resume to rewrite it`);
  }
  return parseResults(value, file);
}
