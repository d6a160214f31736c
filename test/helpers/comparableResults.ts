// results.json of a run, as two runs of one config can be compared: equal when the runs agree.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { RunResults } from "../../src/run/runEvaluation.js";

/**
 * The results.json in `out` without what legitimately differs between runs: timestamps, load
 * timings, cache counters, the free memory the schedule saw; paths under `out` read `<out>/…`.
 * `withoutManifest` drops the whole manifest (runs through different URLs, e.g. a proxy).
 */
export function comparableResults(out: string, opts: { withoutManifest?: boolean } = {}): RunResults {
  const r = JSON.parse(readFileSync(join(out, "results.json"), "utf8").replaceAll(JSON.stringify(out).slice(1, -1), "<out>"));
  delete r.created;
  delete r.requests;
  if (opts.withoutManifest) delete r.manifest;
  else delete r.manifest.schedule;
  for (const m of Object.values(r.models) as Array<Record<string, unknown>>) delete m.load_ms;
  return r;
}
