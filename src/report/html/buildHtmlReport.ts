// The self-contained HTML report: one file with the charting library, the page script, the
// stylesheet and the data inline, so it opens from disk with no network. Data travels as JSON
// in a <script type="application/json"> element and the page renders it with textContent; a
// Content-Security-Policy allows only the page's own scripts (by hash) and no connections.
import { createHash } from "node:crypto";
import type { RunResults } from "../../run/runEvaluation.js";
import { driftTable, scoresTable } from "../tables.js";
import { buildVerdict, verdictSummary, verdictTable } from "../verdict.js";
import { allCharts } from "./charts.js";
import { chartLibraries, escapeScriptText, jsonForScript } from "./inlineAssets.js";
import { REPORT_PAGE_SCRIPT } from "./pageScript.js";
import { REPORT_PAGE_STYLE } from "./pageStyle.js";
import { driftValues } from "../generationRecords.js";
import { comparisonRecords, frontierPoints, kldPercentiles } from "../reportData.js";
import { extraTables, frontierTable, kldTable, manifestTable, modelsTable, summaryTable } from "../reportTables.js";

/** A sample whose answer changed between the baseline and a variant, shown in the report. */
export interface ReportExample {
  task: string;
  variant: string;
  doc_id: number;
  kind: "correct→wrong" | "wrong→correct" | "changed";
  prompt: string;
  gold: string;
  baseline_answer: string;
  variant_answer: string;
}

export interface HtmlReportOptions {
  /** Page heading; defaults to "quanteval report: <baseline> vs <variants>". */
  title?: string;
  /** Flipped samples to list (read from the run store by the CLI). */
  examples?: ReportExample[];
}

/** Everything the page script receives. */
export function reportPayload(results: RunResults, opts: HtmlReportOptions = {}): Record<string, unknown> {
  const records = comparisonRecords(results);
  const kld = kldPercentiles(results);
  const frontier = frontierPoints(results);
  const drift = driftValues(results);
  const verdict = buildVerdict(results);
  return {
    title: opts.title ?? `quanteval report: ${results.baseline} vs ${results.variants.join(", ") || "no variants"}`,
    created: results.created,
    baseline: results.baseline,
    variants: results.variants,
    noise_floor: results.noise_floor,
    warnings: results.warnings,
    verdict: { lines: verdictSummary(verdict), table: verdictTable(results, verdict) },
    tables: {
      summary: summaryTable(records),
      scores: scoresTable(results),
      drift: driftTable(results),
      kld: kldTable(kld),
      frontier: frontierTable(frontier),
      models: modelsTable(results),
      manifest: manifestTable(results),
      extra: extraTables(results),
    },
    charts: allCharts(results, { records, kld, frontier, drift }),
    examples: opts.examples ?? [],
    /** Whether any model has a quality figure for the frontier table (KLD or accuracy Δ). */
    has_quality: frontier.some((p) => !p.is_baseline && (p.kld_mean !== null || p.acc_delta !== null)),
    manifest: results.manifest,
    libraries: chartLibraries().map(({ name, version }) => ({ name, version })),
  };
}

const sha256 = (s: string) => `'sha256-${createHash("sha256").update(s, "utf8").digest("base64")}'`;

/** Builds the report as one HTML string (about 850 kB, most of it the charting library). */
export function buildHtmlReport(results: RunResults, opts: HtmlReportOptions = {}): string {
  const libs = chartLibraries();
  const page = escapeScriptText(REPORT_PAGE_SCRIPT);
  const scripts = [...libs.map((l) => l.code), page];
  const csp = ["default-src 'none'", `script-src ${scripts.map(sha256).join(" ")}`, "style-src 'unsafe-inline'", "img-src data:", "connect-src 'none'", "base-uri 'none'", "form-action 'none'"].join(
    "; ",
  );
  return [
    "<!doctype html>",
    '<html lang="en">',
    "<head>",
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${csp}">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="generator" content="quanteval">',
    "<title>quanteval report</title>",
    `<style>${REPORT_PAGE_STYLE}</style>`,
    "</head>",
    "<body>",
    '<header><h1 id="run-title">quanteval report</h1><div class="sub" id="run-sub"></div></header>',
    "<noscript><p>This report draws its tables and charts with JavaScript; allow scripts for this file to see it.</p></noscript>",
    '<div class="layout"><nav><ol id="toc"></ol></nav><main id="main"></main></div>',
    '<footer>Made by quanteval · charts: <span id="libs"></span></footer>',
    `<script type="application/json" id="quanteval-data">${jsonForScript(reportPayload(results, opts))}</script>`,
    ...libs.map((l) => `<script data-lib="${l.name}">${l.code}</script>`),
    `<script>${page}</script>`,
    "</body>",
    "</html>",
    "",
  ].join("\n");
}
