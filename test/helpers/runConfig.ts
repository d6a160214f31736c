// Runs a real evaluation from a config object written to a temp folder.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { loadConfig } from "../../src/config/loadConfig.js";
import { runEvaluation, type RunOptions, type RunResults } from "../../src/run/runEvaluation.js";
import { sharedPath } from "./shared.js";

export function tempDir(prefix = "quanteval-test-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Writes `config` as YAML into a temp dir (data_dir → shared datasets) and returns its path. */
export function writeConfig(config: Record<string, unknown>, dir = tempDir()): string {
  const path = join(dir, "config.yaml");
  writeFileSync(path, stringify({ data_dir: sharedPath("datasets"), ...config }));
  return path;
}

export async function runConfig(config: Record<string, unknown>, opts: Partial<RunOptions> = {}): Promise<{ results: RunResults; out: string; configPath: string }> {
  const dir = tempDir();
  const configPath = writeConfig(config, dir);
  const out = opts.out ?? join(dir, "out");
  const results = await runEvaluation(loadConfig(configPath), { ...opts, out });
  return { results, out, configPath };
}

/** {@link runConfig}, keeping the run's log lines (what `onLog` receives) in `logs`. */
export async function runConfigLogged(config: Record<string, unknown>, opts: Partial<RunOptions> = {}): Promise<{ results: RunResults; out: string; configPath: string; logs: string[] }> {
  const logs: string[] = [];
  const run = await runConfig(config, { ...opts, onLog: (l) => logs.push(l) });
  return { ...run, logs };
}
