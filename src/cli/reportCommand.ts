// `quanteval report RUN_DIR [--html FILE] [--md FILE] [--csv FILE] [--examples N] [--json]`
import { existsSync, statSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { type Command, InvalidArgumentError } from "commander";
import { buildCsvReport } from "../report/csv.js";
import { buildHtmlReport, type ReportExample } from "../report/html/buildHtmlReport.js";
import { comparisonRecords } from "../report/reportData.js";
import { collectExamples } from "../report/html/reportExamples.js";
import { buildMarkdownReport } from "../report/markdown.js";
import { verdictJson } from "../report/verdict.js";
import { writeAtomic } from "../run/runEvaluation.js";
import { QuantevalError } from "../util/errors.js";
import { findRuns } from "../view/findRuns.js";
import { isRunDir, readResults, RESULTS_FILE, RunReader } from "../view/runReader.js";
import { printRun } from "./printRun.js";

interface ReportCliOptions {
  html?: string;
  md?: string;
  csv?: string;
  examples?: number;
  json?: boolean;
  details?: boolean;
}

/** The run folder of a RUN_DIR argument (a folder, or its results.json). */
function runFolder(arg: string): string {
  const p = resolve(arg);
  if (existsSync(p) && statSync(p).isFile() && basename(p) === RESULTS_FILE) return dirname(p);
  if (!existsSync(p)) throw new QuantevalError(`${arg}: no such folder; pass a run's output folder (quanteval run --out DIR)`);
  if (!existsSync(join(p, RESULTS_FILE))) {
    const below = findRuns(p)
      .slice(0, 3)
      .map((r) => r.id);
    if (below.length) throw new QuantevalError(`${arg}: not a run folder (no ${RESULTS_FILE}); runs below it: ${below.join(", ")}; pass one of them`);
  }
  return p;
}

function parseExamples(v: string): number {
  if (!/^\d+$/.test(v.trim()) || Number(v) > 1000) throw new InvalidArgumentError(`--examples must be a whole number from 0 to 1000 (got '${v}')`);
  return Number(v);
}

function checkOutput(flag: string, file: string): string {
  const p = resolve(file);
  if (!existsSync(dirname(p))) throw new QuantevalError(`${flag} ${file}: folder ${dirname(p)} does not exist; create it or write the report elsewhere`);
  if (existsSync(p) && statSync(p).isDirectory()) throw new QuantevalError(`${flag} ${file}: is a folder; give a file name such as report.${flag.slice(2)}`);
  return p;
}

export function registerReportCommand(program: Command): void {
  program
    .command("report")
    .description("write a run's results as a self-contained HTML report, Markdown or CSV (tables on the terminal without flags)")
    .argument("<run_dir>", "a run's output folder (holding results.json)")
    .option("--html <file>", "write a self-contained HTML report with charts (opens from disk, no network)")
    .option("--md <file>", "write a Markdown report")
    .option("--csv <file>", "write the comparisons as CSV")
    .option("--examples <n>", "flipped samples per comparison listed in the HTML report (0 for none)", parseExamples, 5)
    .option("--details", "on the terminal, print the full tables (every score, comparison and drift figure), not only the verdict")
    .option("--json", "print a machine-readable summary (files written and every comparison) instead of tables")
    .action((runDir: string, o: ReportCliOptions) => {
      const dir = runFolder(runDir);
      const results = readResults(dir);
      const outputs = { html: o.html && checkOutput("--html", o.html), md: o.md && checkOutput("--md", o.md), csv: o.csv && checkOutput("--csv", o.csv) };
      const written: Record<string, { path: string; bytes: number }> = {};
      const notes: string[] = [];
      if (outputs.html) {
        let examples: ReportExample[] = [];
        if ((o.examples ?? 5) > 0) {
          if (isRunDir(dir)) {
            const reader = RunReader.open(dir);
            try {
              examples = collectExamples(reader, o.examples ?? 5);
            } finally {
              reader.close();
            }
          } else notes.push(`${dir}: no run store, so the report lists no flipped samples`);
        }
        const html = buildHtmlReport(results, { examples });
        writeAtomic(outputs.html, html);
        written.html = { path: outputs.html, bytes: Buffer.byteLength(html) };
      }
      if (outputs.md) {
        const md = buildMarkdownReport(results);
        writeAtomic(outputs.md, md);
        written.md = { path: outputs.md, bytes: Buffer.byteLength(md) };
      }
      if (outputs.csv) {
        const csv = buildCsvReport(results);
        writeAtomic(outputs.csv, csv);
        written.csv = { path: outputs.csv, bytes: Buffer.byteLength(csv) };
      }
      if (o.json) {
        process.stdout.write(JSON.stringify({ run: dir, written, warnings: results.warnings, notes, verdict: verdictJson(results), comparisons: comparisonRecords(results) }, null, 2) + "\n");
        return;
      }
      for (const n of notes) process.stderr.write(`note: ${n}\n`);
      if (Object.keys(written).length === 0) printRun(results, { details: o.details });
      else for (const w of new Set(results.warnings)) process.stderr.write(`warning: ${w}\n`);
      for (const [kind, f] of Object.entries(written)) process.stdout.write(`wrote ${kind}: ${f.path} (${(f.bytes / 1024).toFixed(0)} KiB)\n`);
    });
}
