// One `quanteval run` in a child process under /usr/bin/time -v, for the memory benchmarks
// (bench/memory.ts, bench/memory-dataset.ts, bench/memory-generate.ts): its peak resident set, wall time and the load
// average around it (the machine is shared, so every figure is printed beside its load).
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { formatBytes } from "../src/util/formatBytes.js";
import { repoRoot } from "./llamaBin.js";

/** What one run measured. */
export interface MeasuredRun {
  /** "Maximum resident set size" of the child, bytes (undefined when time -v printed none). */
  peakRss: number | undefined;
  seconds: number;
  /** 1-minute load average before and after the run. */
  load: [number, number];
  /** The first error line of a failed run. */
  error?: string;
}

/** Options of {@link runQuanteval}. */
export interface RunQuantevalOptions {
  /** Extra files written beside config.yaml: name → a function that writes it, given its path. */
  files?: Record<string, (path: string) => void>;
  /** Run the child under `nice` (a long benchmark on a shared machine). */
  nice?: boolean;
}

/** Writes `config` into a temporary folder and runs `quanteval run` on it under /usr/bin/time -v. */
export function runQuanteval(config: Record<string, unknown>, opts: RunQuantevalOptions = {}): MeasuredRun {
  const dir = mkdtempSync(join(tmpdir(), "quanteval-bench-memory-"));
  try {
    for (const [name, write] of Object.entries(opts.files ?? {})) write(join(dir, name));
    writeFileSync(join(dir, "config.yaml"), stringify(config));
    const argv = ["-v", process.execPath, "--import", "tsx", join(repoRoot, "src", "cli", "main.ts"), "run", join(dir, "config.yaml"), "--out", join(dir, "run")];
    const [cmd, args] = opts.nice ? ["nice", ["/usr/bin/time", ...argv]] : ["/usr/bin/time", argv];
    const before = loadavg()[0];
    const t0 = performance.now();
    const r = spawnSync(cmd, args, { cwd: repoRoot, encoding: "utf8", maxBuffer: 256 << 20 });
    const seconds = (performance.now() - t0) / 1000;
    const kb = /Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr);
    const error = r.status === 0 ? undefined : (r.stderr.split("\n").find((l) => /error|Error|quanteval:/.test(l) && !/Command being timed/.test(l)) ?? `exit ${r.status}`).trim();
    return { peakRss: kb ? Number(kb[1]) * 1024 : undefined, seconds, load: [before, loadavg()[0]], error: error?.replaceAll(`${dir}/`, "") };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** "1.23–4.56" (the 1-minute load average before–after a run). */
export const formatLoad = (m: MeasuredRun): string => `${m.load[0].toFixed(2)}–${m.load[1].toFixed(2)}`;

/**
 * Measures one run per size (`measure(n)`) and prints the Markdown table of peak RSS against
 * size (bench/memory-dataset.ts, bench/memory-generate.ts): `unit` names what a size counts,
 * `title` the runs; the ratio is against the first size. Also prints the growth per 1,000 units.
 */
export function sweepSizes(sizes: number[], unit: string, title: string, measure: (n: number) => MeasuredRun & { dataBytes: number }): void {
  const rows: Array<[number, MeasuredRun & { dataBytes: number }]> = [];
  for (const n of sizes) {
    console.error(`running ${n.toLocaleString("en-US")} ${unit} …`);
    rows.push([n, measure(n)]);
  }
  const [n0, m0] = rows[0];
  const first = m0.peakRss;
  console.log(`\n${title}\n`);
  console.log(`| ${unit} | data file | peak RSS | × first | per 1,000 ${unit} | wall time | load average (1 min, before–after) |\n| --- | --- | --- | --- | --- | --- | --- |`);
  for (const [n, m] of rows) {
    const peak = m.error ? `n/a (${m.error.slice(0, 160)})` : formatBytes(m.peakRss ?? null);
    const ratio = first && m.peakRss ? (m.peakRss / first).toFixed(2) : "n/a";
    const growth = first && m.peakRss && n !== n0 ? ((m.peakRss - first) / (n - n0)) * 1000 : undefined;
    // formatBytes takes sizes; a smaller peak at the larger size (run-to-run noise) is shown signed.
    const slope = growth === undefined ? "" : growth < 0 ? `−${formatBytes(-growth)}` : formatBytes(growth);
    console.log(`| ${n.toLocaleString("en-US")} | ${formatBytes(m.dataBytes)} | ${peak} | ${ratio} | ${slope} | ${m.seconds.toFixed(1)} s | ${formatLoad(m)} |`);
  }
}
