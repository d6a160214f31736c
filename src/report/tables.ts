// Tables built from results.json: one row model, rendered to the terminal or Markdown.
import { accuracyMetricsOf, APPROX_MARK, metricInfo, type PairedTest, TEST_LABEL } from "../metrics/metricInfo.js";
import type { RunResults } from "../run/runEvaluation.js";
import { comparisonRecords } from "./reportData.js";
import { kldIsApproximate } from "./verdictEvidence.js";

export interface Table {
  title: string;
  head: string[];
  rows: string[][];
}

const fmt = (v: unknown, digits = 4): string => (typeof v === "number" ? (Number.isFinite(v) ? v.toFixed(digits) : String(v)) : v === null || v === undefined ? "–" : String(v));
const pct = (v: unknown): string => (typeof v === "number" ? `${(v * 100).toFixed(1)}%` : "–");

/** Models × task metrics. */
export function scoresTable(r: RunResults): Table {
  const cols: Array<[string, string]> = [];
  for (const [task, t] of Object.entries(r.tasks)) {
    // Every registered quality metric the task reports (cost and drift figures have tables of their own).
    const reported = Object.keys(Object.values(t.results)[0] ?? {}).filter((m) => ["accuracy", "distribution", "generation"].includes(metricInfo(m)?.kind ?? "") && !m.includes("_to_"));
    const metrics = t.type === "perplexity" ? ["ppl"] : reported;
    for (const m of metrics) cols.push([task, m]);
  }
  const models = [r.baseline, ...r.variants, ...(r.noise_floor ? [r.noise_floor] : [])];
  return {
    title: "Scores",
    head: ["model", "quant", ...cols.map(([t, m]) => `${t} ${m}`)],
    rows: models.map((m) => [m === r.baseline ? `${m} (baseline)` : m, r.models[m]?.quantization ?? "", ...cols.map(([t, metric]) => fmt(r.tasks[t].results[m]?.[metric]))]),
  };
}

/** Variant × task paired comparison of every accuracy metric: Δ with its 95% CI, recovery, McNemar p, flips and the test that decided. */
export function comparisonTable(r: RunResults): Table {
  const rows: string[][] = [];
  for (const [task, t] of Object.entries(r.tasks)) {
    const metrics = accuracyMetricsOf(t.comparisons);
    for (const [variant, perMetric] of Object.entries(t.comparisons)) {
      for (const metric of metrics) {
        const c = (perMetric as Record<string, Record<string, number | boolean | null | string> | undefined>)[metric];
        if (!c || c.ci_low === undefined) continue;
        const sig = c.significant ? "yes" : `no (${c.not_significant_reason})`;
        rows.push([
          task,
          metric,
          variant,
          `${fmt(c.delta)} [${fmt(c.ci_low)}, ${fmt(c.ci_high)}]`,
          typeof c.recovery_pct === "number" ? `${c.recovery_pct.toFixed(1)}%` : "–",
          fmt(c.mcnemar_p, 3),
          `${c.flips_correct_to_wrong} / ${c.flips_wrong_to_correct}`,
          TEST_LABEL[(c.test as PairedTest | undefined) ?? metricInfo(metric)!.test],
          sig,
        ]);
      }
    }
  }
  return { title: "Against the baseline", head: ["task", "metric", "variant", "Δ [95% CI]", "recovery", "McNemar p", "flips c→w / w→c", "decided by", "significant"], rows };
}

/** Distribution drift per variant (perplexity tasks). */
export function driftTable(r: RunResults): Table {
  const rows: string[][] = [];
  for (const [task, t] of Object.entries(r.tasks)) {
    if (t.type !== "perplexity") continue;
    for (const [variant, d] of Object.entries(t.comparisons) as Array<[string, Record<string, number | string | boolean>]>) {
      if ("skipped" in d) {
        rows.push([task, variant, String(d.skipped), "", "", "", "", ""]);
        continue;
      }
      rows.push([
        task,
        variant,
        fmt(d.ppl_ratio),
        `${kldIsApproximate(r, variant) ? APPROX_MARK : ""}${fmt(d.kld_mean, 6)} ± ${fmt(d.kld_err, 6)}`,
        fmt(d.kld_p99, 6),
        fmt(d.kld_median, 6),
        pct(d.top1_agreement),
        pct(d.delta_p_rms),
      ]);
    }
  }
  return { title: "Distribution drift", head: ["task", "variant", "PPL ratio", "KLD mean", "KLD p99", "KLD median", "same top-1", "RMS Δp"], rows };
}

const signedFmt = (v: number | null) => (v === null ? "–" : `${v > 0 ? "+" : ""}${v.toFixed(3)}`);

/**
 * Generation drift per variant (generate tasks): each measure's value and its Δ against the
 * baseline with the paired 95% CI (bootstrap over prompts), the test that decides and whether the
 * change is significant. `all: false` keeps the variants' judged measures that carry a CI (the
 * default terminal view); `all: true` lists every measure, the shown-only CIs (Δ distinct-2, Δ mean
 * length, Δ embedding L1 to reference) and the noise-floor rows (--details).
 */
export function generationTable(r: RunResults, opts: { all?: boolean } = {}): Table {
  const rows = comparisonRecords(r)
    .filter((c) => c.type === "generate" && (opts.all || (c.ci_low !== null && !c.is_noise_floor && c.test !== TEST_LABEL.none)))
    .map((c) => [
      c.task,
      c.is_noise_floor ? `${c.variant} (noise floor)` : c.variant,
      metricInfo(c.metric)?.label ?? c.metric,
      fmt(c.value, 3),
      c.delta === null ? "–" : `${signedFmt(c.delta)} [${signedFmt(c.ci_low)}, ${signedFmt(c.ci_high)}]`,
      c.n === null ? "–" : String(c.n),
      c.test,
      c.significant === null ? c.note || "–" : c.significant ? "yes" : `no: ${c.note}`,
    ]);
  return { title: "Generation drift against the baseline", head: ["task", "variant", "measure", "value", "Δ [95% CI]", "n", "decided by", "significant"], rows };
}

/**
 * The hypotheses of generate tasks (win counts over dataset × model cells). A trivial row holds by
 * construction, not by measurement: it says so and why, and counts for nothing.
 */
export function hypothesesTable(r: RunResults): Table {
  const rows: string[][] = [];
  for (const [task, t] of Object.entries(r.tasks)) {
    const hyps = (t.extra as { hypotheses?: unknown } | undefined)?.hypotheses;
    if (!Array.isArray(hyps)) continue;
    for (const h of hyps as Array<Record<string, unknown>>) {
      rows.push([
        task,
        `${String(h.metric)} ${String(h.distance)}`,
        String(h.hypothesis),
        `${String(h.win)} / ${String(h.cells)}`,
        h.trivial ? `trivial: ${String(h.trivial_reason ?? "holds by construction")}` : typeof h.win_rate === "number" ? pct(h.win_rate) : "–",
      ]);
    }
  }
  return { title: "Generation hypotheses", head: ["task", "embedder / distance", "hypothesis", "holds in", "win rate"], rows };
}

export function toMarkdown(t: Table): string {
  const esc = (s: string) => s.replace(/\|/g, "\\|").replace(/\n/g, " ");
  return [`### ${t.title}`, "", `| ${t.head.map(esc).join(" | ")} |`, `| ${t.head.map(() => "---").join(" | ")} |`, ...t.rows.map((r) => `| ${r.map(esc).join(" | ")} |`), ""].join("\n");
}
