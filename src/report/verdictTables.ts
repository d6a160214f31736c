// The verdict on the terminal and in Markdown: a compact summary (one row per variant), the
// per-task changes worth reading (significant or inconclusive), the full verdict table for
// --details, and the sentences under them.
import { APPROX_MARK, type PairedTest, TEST_LABEL } from "../metrics/metricInfo.js";
import type { RunResults } from "../run/runEvaluation.js";
import { formatBytes } from "../util/formatBytes.js";
import type { Table } from "./tables.js";
import { buildVerdict, type Spread, type Verdict, type VerdictRow } from "./verdict.js";
import { signed } from "./verdictEvidence.js";

const fixed = (v: number | null, d: number) => (v === null ? "–" : v.toFixed(d));
const rate = (v: number | null) => (v === null ? "–" : v >= 100 ? Math.round(v).toLocaleString("en-US") : v.toFixed(1));
const spreadCell = (s: Spread | null, median: number | null) => (s ? `${rate(s.min)} / ${rate(s.median)} / ${rate(s.max)}` : rate(median));

function kldCell(r: VerdictRow): string {
  if (r.role === "baseline") return "0";
  if (r.kld_mean === null) return "–";
  const err = r.kld_err ?? 0;
  // A tiny standard error in exponent form: "± 4.5e-5" stays narrow where "± 0.000045" would wrap.
  return `${r.kld_approximate ? APPROX_MARK : ""}${r.kld_mean.toPrecision(3)} ± ${err !== 0 && err < 1e-3 ? err.toExponential(1) : err.toPrecision(2)}`;
}

/** The verdict cell: the status, "smallest" (w/o loss), "Pareto" (full table only) and a same-weights note. */
function statusCell(r: VerdictRow, v: Verdict, full = true): string {
  const marks: string[] = [];
  if (r.status) marks.push(r.status.replace(/_/g, " "));
  if (r.model === v.smallest_not_significant) marks.push(full ? "smallest w/o loss" : "smallest");
  if (r.pareto && full) marks.push("Pareto");
  if (r.same_weights_as) marks.push(`same weights as ${r.same_weights_as}`);
  return marks.join(", ") || (r.role === "baseline" ? "baseline" : "–");
}

const modelCell = (r: VerdictRow) => (r.role === "baseline" ? `${r.model} (baseline)` : r.model);

/** The worst significant accuracy drop of a row, e.g. "-0.100 kobest_copa acc". */
function worstCell(r: VerdictRow): string {
  const sig = r.accuracy.filter((a) => a.significant && a.delta < 0).sort((a, b) => a.delta - b.delta)[0];
  return sig ? `${signed(sig.delta)} ${sig.task}` : r.role === "baseline" ? "–" : "none";
}

/** One row per model: size, bits/weight, PPL ratio, KLD, worst significant Δ, flips, status. */
export function summaryTable(results: RunResults, verdict: Verdict = buildVerdict(results)): Table {
  const head = ["model", "size", "bits/w", "PPL ratio", "KLD", "worst sig. Δ", "flips c→w/w→c", "verdict"];
  const rows = verdict.rows.map((r) => [
    modelCell(r),
    formatBytes(r.file_bytes),
    fixed(r.bits_per_weight, 2),
    fixed(r.ppl_ratio, 4),
    kldCell(r),
    worstCell(r),
    r.role === "baseline" || r.flips_correct_to_wrong === null ? "–" : `${r.flips_correct_to_wrong} / ${r.flips_wrong_to_correct}`,
    // The frontier is in the sentence under the table; the cell keeps to the status.
    statusCell(r, verdict, false),
  ]);
  const kld = verdict.kld_task ? ` (PPL ratio and KLD on ${verdict.kld_task}${verdict.rows.some((r) => r.kld_approximate) ? `; ${APPROX_MARK} approximate` : ""})` : "";
  return { title: `Verdict${kld}`, head, rows };
}

/** Per-task changes that are significant or inconclusive, with the test that decided. */
export function changesTable(results: RunResults, verdict: Verdict = buildVerdict(results)): Table {
  const rows: string[][] = [];
  for (const r of verdict.rows) {
    for (const a of r.accuracy) {
      if (a.change !== "significant" && a.change !== "inconclusive") continue;
      const test = a.test ? TEST_LABEL[a.test as PairedTest] : "–";
      rows.push([
        r.model,
        `${a.task} ${a.metric}`,
        `${signed(a.delta)} [${signed(a.ci_low)}, ${signed(a.ci_high)}]`,
        test,
        a.p_value === null ? "–" : a.p_value.toPrecision(2),
        `${a.flips_correct_to_wrong} / ${a.flips_wrong_to_correct}`,
        a.change,
      ]);
    }
  }
  return { title: "Changes worth reading (significant or inconclusive; --details for all)", head: ["variant", "task metric", "Δ [95% CI]", "test", "p", "flips c→w/w→c", "change"], rows };
}

/** The full verdict table (--details): per-task Δ columns, drift, speed as min / median / max. */
export function verdictTable(results: RunResults, verdict: Verdict = buildVerdict(results)): Table {
  const { rows } = verdict;
  const hasCost = rows.some((r) => r.prefill_tps !== null || r.decode_tps !== null || r.peak_rss_bytes !== null);
  const head = ["model", "quant", "size", "bits/w"];
  for (const t of verdict.accuracy_tasks) head.push(`${t} Δ${verdict.tasks[t].metric} [95% CI]`);
  if (verdict.accuracy_tasks.length > 0) head.push("flips c→w / w→c");
  if (verdict.kld_task) head.push("KLD", "PPL ratio");
  if (hasCost) head.push("pp tok/s min/med/max", "tg tok/s min/med/max", "peak RSS");
  head.push("verdict");
  const body = rows.map((r) => {
    const cells = [modelCell(r), r.quantization ?? "–", formatBytes(r.file_bytes), fixed(r.bits_per_weight, 2)];
    for (const t of verdict.accuracy_tasks) {
      const a = r.accuracy.find((x) => x.task === t);
      if (r.role === "baseline") cells.push("reference");
      else if (!a) cells.push("–");
      else cells.push(`${signed(a.delta)} [${signed(a.ci_low)}, ${signed(a.ci_high)}]${a.significant ? (a.delta < 0 ? " loss" : " gain") : ""}`);
    }
    if (verdict.accuracy_tasks.length > 0) cells.push(r.role === "baseline" || r.flips_correct_to_wrong === null ? "–" : `${r.flips_correct_to_wrong} / ${r.flips_wrong_to_correct}`);
    if (verdict.kld_task) cells.push(kldCell(r), fixed(r.ppl_ratio, 4));
    if (hasCost) cells.push(spreadCell(r.prefill_spread, r.prefill_tps), spreadCell(r.decode_spread, r.decode_tps), formatBytes(r.peak_rss_bytes));
    const marks = [statusCell(r, verdict)];
    if (r.losses.length > 0) marks.push(`${r.losses.length} significant loss${r.losses.length > 1 ? "es" : ""}`);
    cells.push(marks.join(", "));
    return cells;
  });
  const kld = verdict.kld_task ? `, KLD on ${verdict.kld_task}` : "";
  return { title: `Verdict (largest first${kld}; "loss"/"gain" = significant by the metric's test and beyond the noise floor)`, head, rows: body };
}

/** The sentences under the tables: tasks that cannot detect a loss, each variant's status and why, the frontier. */
export function verdictSummary(verdict: Verdict): string[] {
  const lines: string[] = [];
  for (const [task, t] of Object.entries(verdict.tasks)) {
    if (t.informative === false) lines.push(`${task} cannot detect a loss: ${t.reasons.join("; ")}.`);
  }
  if (verdict.accuracy_tasks.length === 0) lines.push("No accuracy task in this run: only distribution drift can judge the variants.");
  else if (Object.values(verdict.tasks).every((t) => t.informative === false)) {
    lines.push(`None of the accuracy tasks can detect a loss for this model: the verdict rests on ${verdict.kld_task ? "distribution drift" : "nothing that can clear a variant"}.`);
  }
  for (const g of verdict.same_weights) {
    lines.push(
      `${g.models.join(" and ")} are the same weights (${[...new Set(g.backends)].join(" and ")}: same sha256 ${g.sha256.slice(0, 12)}…), sized by the file and never ranked smaller than each other.`,
    );
  }
  for (const r of verdict.rows) {
    const v = verdict.variants[r.model];
    if (!v) continue;
    lines.push(`${r.model}: ${v.status.replace(/_/g, " ")}${v.decided_by.length ? ` — ${v.decided_by.join("; ")}` : ""}.`);
  }
  if (verdict.smallest_not_significant) {
    const r = verdict.rows.find((x) => x.model === verdict.smallest_not_significant)!;
    lines.push(`Smallest variant without a measurable loss: ${r.model} (${formatBytes(r.file_bytes)}${r.bits_per_weight !== null ? `, ${r.bits_per_weight.toFixed(2)} bits/weight` : ""}).`);
  } else if (verdict.rows.some((r) => r.role === "variant")) {
    lines.push(Object.values(verdict.variants).every((v) => v.status === "loss") ? "Every variant has a measurable loss." : "No variant is cleared of a loss.");
  }
  const mdes = Object.entries(verdict.tasks).filter(([, t]) => t.informative !== false && t.mde !== null);
  if (mdes.length) lines.push(`Smallest change each task detects at 80% power: ${mdes.map(([n, t]) => `${n} ${t.metric} ±${t.mde!.toFixed(3)}`).join(", ")}.`);
  if (verdict.kld_task) lines.push(`Pareto frontier of size against KLD (${verdict.kld_task}): ${verdict.pareto.join(" → ") || "–"}.`);
  return lines;
}
