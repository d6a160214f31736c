// The uninterrupted run a crash or signal test compares its resumed run against.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { cli } from "./cli.js";
import { tempDir, writeConfig } from "./runConfig.js";

/**
 * Writes `config` into a temp folder and runs it through the CLI to completion into `clean`
 * there (asserting exit 0). `computed` is the run's count of backend requests.
 */
export function uninterruptedRun(config: Record<string, unknown>, opts: { env?: Record<string, string> } = {}): { dir: string; configPath: string; clean: string; computed: number } {
  const dir = tempDir();
  const configPath = writeConfig(config, dir);
  const clean = join(dir, "clean");
  const r = cli(["run", configPath, "--out", clean], opts);
  assert.equal(r.status, 0, r.stderr);
  const computed = JSON.parse(readFileSync(join(clean, "results.json"), "utf8")).requests.computed as number;
  return { dir, configPath, clean, computed };
}
