// CSV export of the comparisons: one row per (task, metric, variant) with full-precision
// numbers and the variant's cost facts, for spreadsheets and scripts.
import type { RunResults } from "../run/runEvaluation.js";
import { comparisonRecords } from "./reportData.js";

const COLUMNS = [
  "task",
  "type",
  "metric",
  "variant",
  "is_noise_floor",
  "baseline",
  "value",
  "delta",
  "ci_low",
  "ci_high",
  "recovery_pct",
  "p_value",
  "flips_correct_to_wrong",
  "flips_wrong_to_correct",
  "n",
  "noise_floor",
  "significant",
  "test",
  "approximate",
  "note",
] as const;
const COST = ["quantization", "bits_per_weight", "file_bytes", "params", "prefill_tps", "decode_tps", "peak_rss_bytes"] as const;

/**
 * One CSV field (RFC 4180): quoted when it holds a comma, quote or line break. Text that a
 * spreadsheet would run as a formula (=, +, -, @, tab, CR first) gets a leading apostrophe;
 * numbers are written as they are. Hand-written: the rule is three lines and csv-stringify
 * is not a dependency.
 */
export function csvField(v: unknown): string {
  if (v === null || v === undefined) return "";
  if (typeof v === "number") return Number.isFinite(v) ? String(v) : "";
  let s = String(v);
  if (typeof v === "string" && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The comparisons as CSV text with a header row (CRLF line ends, as RFC 4180 asks). */
export function buildCsvReport(results: RunResults): string {
  const head = [...COLUMNS, ...COST.map((c) => `variant_${c}`)];
  const lines = [head.join(",")];
  for (const r of comparisonRecords(results)) {
    const model = (results.models[r.variant] ?? {}) as Record<string, unknown>;
    lines.push([...COLUMNS.map((c) => csvField(r[c])), ...COST.map((c) => csvField(model[c]))].join(","));
  }
  return lines.join("\r\n") + "\r\n";
}
