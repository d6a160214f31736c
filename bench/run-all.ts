// `npm run bench`: every benchmark in this folder with its default settings, one after the
// other (they compete for the same cores, so never in parallel).
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "./llamaBin.js";

const helpers = new Set(["run-all.ts", "llamaBin.ts", "syntheticModel.ts", "alternateRounds.ts", "memoryRun.ts"]);
const benches = readdirSync(join(repoRoot, "bench"))
  .filter((f) => f.endsWith(".ts") && !helpers.has(f))
  .sort();
let failed = 0;
for (const b of benches) {
  process.stdout.write(`\n== bench/${b}\n`);
  const r = spawnSync(process.execPath, [...process.execArgv, join(repoRoot, "bench", b)], { stdio: "inherit", cwd: repoRoot });
  if (r.status !== 0) {
    failed++;
    process.stdout.write(`bench/${b} failed (exit ${r.status ?? r.signal})\n`);
  }
}
process.exit(failed ? 1 : 0);
