// What `quanteval run` and `quanteval report` print for a run: by default the verdict summary
// (one row per variant), the per-task changes that are significant or inconclusive, and the
// verdict's sentences; with --details the full tables as well. Warnings once, at the end.
import { comparisonTable, driftTable, generationTable, hypothesesTable, scoresTable } from "../report/tables.js";
import { buildVerdict } from "../report/verdict.js";
import { changesTable, summaryTable, verdictSummary, verdictTable } from "../report/verdictTables.js";
import type { RunResults } from "../run/runEvaluation.js";
import { printLines, printTable } from "./printTable.js";

export function printRun(results: RunResults, opts: { details?: boolean } = {}): void {
  if (opts.details || results.variants.length === 0) {
    printTable(scoresTable(results));
    printTable(comparisonTable(results));
    printTable(driftTable(results));
  }
  if (results.variants.length > 0) {
    const verdict = buildVerdict(results);
    printTable(opts.details ? verdictTable(results, verdict) : summaryTable(results, verdict));
    printTable(generationTable(results, { all: opts.details }));
    printTable(hypothesesTable(results));
    if (!opts.details) {
      const changes = changesTable(results, verdict);
      if (changes.rows.length > 0) printTable(changes);
      else if (verdict.accuracy_tasks.length > 0) printLines(["No per-task change is significant or inconclusive (--details prints every comparison)."]);
    }
    printLines(verdictSummary(verdict));
  }
  const warnings = [...new Set(results.warnings)];
  printLines(
    warnings.map((w) => `warning: ${w}`),
    process.stderr,
  );
}
