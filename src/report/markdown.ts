// The full Markdown report: warnings, the comparison tables, KLD percentiles, the frontier,
// scores, models and the reproducibility manifest, built from the same tables as the HTML page.
import type { RunResults } from "../run/runEvaluation.js";
import { comparisonRecords, frontierPoints, kldPercentiles } from "./reportData.js";
import { extraTables, frontierTable, kldTable, manifestTable, modelsTable, summaryTable } from "./reportTables.js";
import { driftTable, scoresTable, type Table, toMarkdown } from "./tables.js";
import { buildVerdict, verdictSummary, verdictTable } from "./verdict.js";

/** Text safe in Markdown: HTML-looking text is shown, never interpreted as HTML. */
function mdText(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function mdTable(t: Table): string {
  if (t.rows.length === 0) return "";
  return toMarkdown({ title: mdText(t.title), head: t.head.map(mdText), rows: t.rows.map((r) => r.map(mdText)) });
}

/** Builds the Markdown report. */
export function buildMarkdownReport(results: RunResults): string {
  const records = comparisonRecords(results);
  const parts: string[] = [
    `# quanteval report: ${mdText(results.baseline)} vs ${mdText(results.variants.join(", ") || "no variants")}`,
    "",
    `Created ${results.created} · baseline **${mdText(results.baseline)}** · variants ${results.variants.map((v) => `**${mdText(v)}**`).join(", ") || "none"}${results.noise_floor ? ` · noise floor ${mdText(results.noise_floor)}` : ""}`,
    "",
  ];
  if (results.warnings.length) {
    parts.push(`> **${results.warnings.length === 1 ? "Warning" : `${results.warnings.length} warnings`}**`, ">");
    for (const w of results.warnings) parts.push(`> - ${mdText(w)}`);
    parts.push("");
  }
  if (results.variants.length) {
    const verdict = buildVerdict(results);
    parts.push("### Verdict", "", ...verdictSummary(verdict).flatMap((l) => [mdText(l), ""]), mdTable({ ...verdictTable(results, verdict), title: "Verdict table" }));
  }
  const summary = summaryTable(records);
  const frontier = frontierPoints(results);
  parts.push(
    mdTable(summary),
    mdTable(driftTable(results)),
    mdTable(kldTable(kldPercentiles(results))),
    frontier.some((p) => !p.is_baseline && (p.kld_mean !== null || p.acc_delta !== null)) ? mdTable(frontierTable(frontier)) : "",
    mdTable(scoresTable(results)),
    ...extraTables(results).map(mdTable),
    mdTable(modelsTable(results)),
    mdTable(manifestTable(results)),
    "<details><summary>full manifest (JSON)</summary>",
    "",
    "```json",
    // A ``` inside a string value would close the fence early: break it with a zero-width space.
    JSON.stringify(results.manifest, null, 2).replace(/```/g, "`\u200b``"),
    "```",
    "",
    "</details>",
    "",
  );
  return parts.filter((p, i) => p !== "" || parts[i - 1] !== "").join("\n");
}
