import { formatBytes } from "../util/formatBytes.js";
// The verdict of a quantization sweep: every model sorted by file size with its quality
// deltas next to its cost, the smallest variant without a significant loss, and the Pareto
// frontier of size against KLD.
//
// What counts as a loss: a multiple-choice metric (acc, acc_norm, f1 …) that dropped and is
// marked `significant` by src/run/significance.ts (its paired-bootstrap 95% CI excludes 0 and
// the drop exceeds the noise floor). A KLD that is significant against the noise floor does
// NOT count as a loss: any change of the weights moves the distributions, and with thousands
// of scored tokens the KLD's standard error is so small that every quantized variant — Q8_0,
// whose task scores cannot be told from F32's, included — is "significant". Counting it would
// make the verdict name no variant, ever. KLD measures how far a variant moved from the
// baseline; it ranks the variants (the Pareto frontier below) rather than vetoing them, and the
// PPL ratio is shown beside it for the same reason.
import type { RunResults } from "../run/runEvaluation.js";
import type { Table } from "./tables.js";

/** One multiple-choice comparison of a variant against the baseline. */
export interface VerdictAccuracy {
  task: string;
  metric: string;
  delta: number;
  ci_low: number;
  ci_high: number;
  /** Outside the 95% CI of zero and beyond the noise floor (set by significance.ts). */
  significant: boolean;
  flips_correct_to_wrong: number;
  flips_wrong_to_correct: number;
}

export interface VerdictRow {
  model: string;
  role: "baseline" | "variant";
  quantization: string | null;
  file_bytes: number | null;
  bits_per_weight: number | null;
  /** Primary metric of each multiple-choice task (acc when reported); empty for the baseline. */
  accuracy: VerdictAccuracy[];
  /** Items right on the baseline and wrong on the variant (and the reverse), summed over tasks. */
  flips_correct_to_wrong: number | null;
  flips_wrong_to_correct: number | null;
  /** From the first perplexity task with token-level drift (0 for the baseline). */
  kld_mean: number | null;
  kld_err: number | null;
  kld_significant: boolean | null;
  ppl_ratio: number | null;
  prefill_tps: number | null;
  decode_tps: number | null;
  peak_rss_bytes: number | null;
  load_ms: number | null;
  /** Significant drops of any compared metric, e.g. "kobest_copa acc -0.100 [-0.180, -0.020]". */
  losses: string[];
  pareto: boolean;
}

export interface Verdict {
  /** Baseline and variants (not the noise-floor re-run), largest file first. */
  rows: VerdictRow[];
  /** The smallest variant with no significant loss, or null (none qualifies, or no accuracy task to judge by). */
  smallest_not_significant: string | null;
  /** Models on the size–KLD Pareto frontier (no other model is both smaller and closer), largest first. */
  pareto: string[];
  /** The perplexity task whose KLD and PPL ratio are shown, or null. */
  kld_task: string | null;
  /** The multiple-choice tasks the losses were judged on. */
  accuracy_tasks: string[];
}

type Cmp = Record<string, unknown>;
const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);

/** The metric shown for a task: acc when compared, else the first compared metric. */
function primaryMetric(perMetric: Record<string, Cmp>): string | undefined {
  const names = Object.keys(perMetric);
  return names.includes("acc") ? "acc" : names[0];
}

const signed = (v: number, d = 3) => `${v >= 0 ? "+" : ""}${v.toFixed(d)}`;

/** Builds the verdict of a run from its results (results.json). */
export function buildVerdict(results: RunResults): Verdict {
  const names = [results.baseline, ...results.variants.filter((v) => v !== results.noise_floor)];
  const accuracyTasks = Object.entries(results.tasks).filter(([, t]) => t.type === "multiple_choice").map(([n]) => n);
  const kldTask =
    Object.entries(results.tasks).find(([, t]) => t.type === "perplexity" && Object.values(t.comparisons).some((c) => num((c as Cmp).kld_mean) !== null))?.[0] ?? null;

  const rows: VerdictRow[] = names.map((model) => {
    const m = (results.models[model] ?? {}) as Record<string, unknown>;
    const isBase = model === results.baseline;
    const accuracy: VerdictAccuracy[] = [];
    const losses: string[] = [];
    let c2w: number | null = null;
    let w2c: number | null = null;
    for (const task of accuracyTasks) {
      const perMetric = results.tasks[task].comparisons[model] as Record<string, Cmp> | undefined;
      if (!perMetric || isBase) continue;
      for (const [metric, c] of Object.entries(perMetric)) {
        const delta = num(c.delta);
        if (delta !== null && delta < 0 && c.significant === true) {
          losses.push(`${task} ${metric} ${signed(delta)} [${signed(num(c.ci_low) ?? NaN)}, ${signed(num(c.ci_high) ?? NaN)}]`);
        }
      }
      const metric = primaryMetric(perMetric);
      const c = metric ? perMetric[metric] : undefined;
      if (!metric || !c || num(c.delta) === null) continue;
      const a: VerdictAccuracy = {
        task,
        metric,
        delta: num(c.delta)!,
        ci_low: num(c.ci_low) ?? NaN,
        ci_high: num(c.ci_high) ?? NaN,
        significant: c.significant === true,
        flips_correct_to_wrong: num(c.flips_correct_to_wrong) ?? 0,
        flips_wrong_to_correct: num(c.flips_wrong_to_correct) ?? 0,
      };
      accuracy.push(a);
      c2w = (c2w ?? 0) + a.flips_correct_to_wrong;
      w2c = (w2c ?? 0) + a.flips_wrong_to_correct;
    }
    const drift = kldTask ? (results.tasks[kldTask].comparisons[model] as Cmp | undefined) : undefined;
    const hasKld = kldTask !== null && (isBase || num(drift?.kld_mean) !== null);
    return {
      model,
      role: isBase ? "baseline" : "variant",
      quantization: typeof m.quantization === "string" ? m.quantization : null,
      file_bytes: num(m.file_bytes),
      bits_per_weight: num(m.bits_per_weight),
      accuracy,
      flips_correct_to_wrong: c2w,
      flips_wrong_to_correct: w2c,
      kld_mean: hasKld ? (isBase ? 0 : num(drift!.kld_mean)) : null,
      kld_err: hasKld ? (isBase ? 0 : num(drift!.kld_err)) : null,
      kld_significant: hasKld && !isBase ? drift!.significant === true : null,
      ppl_ratio: kldTask ? (isBase ? 1 : num(drift?.ppl_ratio)) : null,
      prefill_tps: num(m.prefill_tps),
      decode_tps: num(m.decode_tps),
      peak_rss_bytes: num(m.peak_rss_bytes),
      load_ms: num(m.load_ms),
      losses,
      pareto: false,
    };
  });
  // Largest first; models without a known size (HTTP backends) last, in config order.
  rows.sort((a, b) => (b.file_bytes ?? -Infinity) - (a.file_bytes ?? -Infinity));

  // Pareto frontier over (file size, KLD): kept unless another model is no larger and no
  // farther, and strictly better in one of the two.
  const points = rows.filter((r) => r.file_bytes !== null && r.kld_mean !== null);
  for (const r of points) {
    r.pareto = !points.some(
      (o) => o !== r && o.file_bytes! <= r.file_bytes! && o.kld_mean! <= r.kld_mean! && (o.file_bytes! < r.file_bytes! || o.kld_mean! < r.kld_mean!),
    );
  }

  // Judged only when there is an accuracy task: without one, "no significant loss" would hold vacuously.
  const candidates = rows.filter((r) => r.role === "variant" && r.file_bytes !== null && r.accuracy.length > 0 && r.losses.length === 0);
  const smallest = candidates.length > 0 ? candidates.reduce((a, b) => (b.file_bytes! < a.file_bytes! ? b : a)).model : null;

  return { rows, smallest_not_significant: smallest, pareto: rows.filter((r) => r.pareto).map((r) => r.model), kld_task: kldTask, accuracy_tasks: accuracyTasks };
}

export { formatBytes };

const fixed = (v: number | null, d: number) => (v === null ? "–" : v.toFixed(d));
const rate = (v: number | null) => (v === null ? "–" : v >= 100 ? Math.round(v).toLocaleString("en-US") : v.toFixed(1));

/** The verdict as a table: one row per model, largest first, quality next to cost. */
export function verdictTable(results: RunResults, verdict: Verdict = buildVerdict(results)): Table {
  const { rows } = verdict;
  const hasCost = rows.some((r) => r.prefill_tps !== null || r.decode_tps !== null || r.peak_rss_bytes !== null);
  const head = ["model", "quant", "size", "bits/w"];
  for (const t of verdict.accuracy_tasks) {
    const metric = rows.flatMap((r) => r.accuracy).find((a) => a.task === t)?.metric ?? "acc";
    head.push(`${t} Δ${metric} [95% CI]`);
  }
  if (verdict.accuracy_tasks.length > 0) head.push("flips c→w / w→c");
  if (verdict.kld_task) head.push("KLD", "PPL ratio");
  if (hasCost) head.push("pp tok/s", "tg tok/s", "peak RSS");
  head.push("verdict");
  const body = rows.map((r) => {
    const cells = [r.role === "baseline" ? `${r.model} (baseline)` : r.model, r.quantization ?? "–", formatBytes(r.file_bytes), fixed(r.bits_per_weight, 2)];
    for (const t of verdict.accuracy_tasks) {
      const a = r.accuracy.find((x) => x.task === t);
      if (r.role === "baseline") cells.push("reference");
      else if (!a) cells.push("–");
      else cells.push(`${signed(a.delta)} [${signed(a.ci_low)}, ${signed(a.ci_high)}]${a.significant ? (a.delta < 0 ? " loss" : " gain") : ""}`);
    }
    if (verdict.accuracy_tasks.length > 0) cells.push(r.role === "baseline" || r.flips_correct_to_wrong === null ? "–" : `${r.flips_correct_to_wrong} / ${r.flips_wrong_to_correct}`);
    if (verdict.kld_task) {
      cells.push(r.role === "baseline" ? "0" : r.kld_mean === null ? "–" : `${r.kld_mean.toPrecision(3)} ± ${(r.kld_err ?? 0).toPrecision(2)}`);
      cells.push(fixed(r.ppl_ratio, 4));
    }
    if (hasCost) cells.push(rate(r.prefill_tps), rate(r.decode_tps), formatBytes(r.peak_rss_bytes));
    const marks: string[] = [];
    if (r.model === verdict.smallest_not_significant) marks.push("smallest w/o loss");
    if (r.losses.length > 0) marks.push(`${r.losses.length} significant loss${r.losses.length > 1 ? "es" : ""}`);
    if (r.pareto) marks.push("Pareto");
    cells.push(marks.join(", ") || "–");
    return cells;
  });
  const kld = verdict.kld_task ? `, KLD on ${verdict.kld_task}` : "";
  return { title: `Verdict (largest first${kld}; "loss"/"gain" = significant against the CI and the noise floor)`, head, rows: body };
}

/** Two sentences for under the table: the variant to ship and the size–KLD frontier. */
export function verdictSummary(verdict: Verdict): string[] {
  const lines: string[] = [];
  if (verdict.accuracy_tasks.length === 0) lines.push("No accuracy task in this run: no variant can be cleared of a significant loss (add a multiple-choice task).");
  else if (verdict.smallest_not_significant) {
    const r = verdict.rows.find((x) => x.model === verdict.smallest_not_significant)!;
    // How large a loss could hide inside the CIs: the widest half-width among its tasks.
    const halfWidth = Math.max(...r.accuracy.map((a) => (a.ci_high - a.ci_low) / 2).filter(Number.isFinite));
    const hidden = Number.isFinite(halfWidth) && halfWidth > 0 ? ` Its 95% CIs are up to ±${halfWidth.toFixed(3)} wide: a smaller loss would go undetected; raise the task limits to narrow them.` : "";
    lines.push(`Smallest variant without a significant loss on ${verdict.accuracy_tasks.join(", ")}: ${r.model} (${formatBytes(r.file_bytes)}${r.bits_per_weight !== null ? `, ${r.bits_per_weight.toFixed(2)} bits/weight` : ""}).${hidden}`);
  } else lines.push(`Every variant has a significant loss on ${verdict.accuracy_tasks.join(", ")}.`);
  if (verdict.kld_task) lines.push(`Pareto frontier of size against KLD (${verdict.kld_task}): ${verdict.pareto.join(" → ") || "–"}.`);
  return lines;
}
