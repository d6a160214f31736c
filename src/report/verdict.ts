// The verdict of a quantization sweep, from all the evidence: for every variant a status —
// `no_measurable_loss`, `loss` or `inconclusive` — and the measures that decided it; for every
// accuracy task whether it can detect a loss at all (`informative`) and the smallest change it
// would detect at 80% power (`mde`). Also the rows of the verdict table (every model sorted by
// file size, quality next to cost) and the Pareto frontier of size against KLD.
//
// The rules per measure are in src/report/verdictEvidence.ts; which metric is an accuracy, which
// test decides it and its tolerance are in src/metrics/metricInfo.ts. Written into results.json
// under `verdict` by the runner, and rebuilt from results.json by the reports.
import { accuracyMetricsOf, metricInfo, primaryAccuracyMetric } from "../metrics/metricInfo.js";
import type { RunResults } from "../run/runEvaluation.js";
import { formatBytes } from "../util/formatBytes.js";
import { accuracyEvidence, driftEvidence, type Evidence, generationEvidence, kldIsApproximate, signed, type TaskFacts } from "./verdictEvidence.js";

export { verdictSummary, verdictTable } from "./verdictTables.js";
export { formatBytes };

/** A variant's standing against the baseline. */
export type VariantStatus = "no_measurable_loss" | "loss" | "inconclusive";

/** One multiple-choice comparison of a variant against the baseline. */
export interface VerdictAccuracy {
  task: string;
  metric: string;
  delta: number;
  ci_low: number;
  ci_high: number;
  /** Decided by the metric's registered test and beyond the noise floor (set by significance.ts). */
  significant: boolean;
  /** significant, inconclusive (the tests or the noise floor disagree) or none. */
  change: string;
  /** The test that decided (metricInfo: mcnemar_exact or bootstrap_ci). */
  test: string | null;
  p_value: number | null;
  flips_correct_to_wrong: number;
  flips_wrong_to_correct: number;
}

/** min / median / max of the timed repetitions. */
export interface Spread {
  min: number;
  median: number;
  max: number;
}

export interface VerdictRow {
  model: string;
  role: "baseline" | "variant";
  quantization: string | null;
  file_bytes: number | null;
  bits_per_weight: number | null;
  /** Another model in the run with the same weights (equal sha256), e.g. the same file behind a server. */
  same_weights_as: string | null;
  /** Primary metric of each accuracy task; empty for the baseline. */
  accuracy: VerdictAccuracy[];
  /** Items right on the baseline and wrong on the variant (and the reverse), summed over tasks. */
  flips_correct_to_wrong: number | null;
  flips_wrong_to_correct: number | null;
  /** From the first perplexity task with token-level drift (0 for the baseline). */
  kld_mean: number | null;
  kld_err: number | null;
  /** The KLD came from a server's top-k log-probs: approximate, never ranked against exact ones. */
  kld_approximate: boolean;
  kld_significant: boolean | null;
  ppl_ratio: number | null;
  ppl_ratio_err: number | null;
  prefill_tps: number | null;
  decode_tps: number | null;
  prefill_spread: Spread | null;
  decode_spread: Spread | null;
  peak_rss_bytes: number | null;
  load_ms: number | null;
  /** Significant drops of an accuracy metric, e.g. "kobest_copa acc -0.100 [-0.180, -0.020], McNemar p = 0.01". */
  losses: string[];
  /** The variant's status (null for the baseline). */
  status: VariantStatus | null;
  pareto: boolean;
}

/** The machine-readable verdict of one variant (results.json `verdict.variants.NAME`). */
export interface VariantVerdict {
  status: VariantStatus;
  /** The measures that decided the status, in words with their figures. */
  decided_by: string[];
  /** Measures that could not decide (uninformative tasks, generation drift that cannot clear a loss). */
  notes: string[];
}

/** The machine-readable verdict of one accuracy task (results.json `verdict.tasks.TASK`). */
export interface TaskVerdict {
  metric: string;
  /** Can this task detect a loss? false: the baseline is at chance or predicts one class; null: not checked (older run). */
  informative: boolean | null;
  /** Minimum detectable change of the metric at 80% power (two-sided α = 0.05) for this n. */
  mde: number | null;
  reasons: string[];
}

export interface Verdict {
  /** Baseline and variants (not the noise-floor re-run), largest file first. */
  rows: VerdictRow[];
  variants: Record<string, VariantVerdict>;
  tasks: Record<string, TaskVerdict>;
  /** The smallest variant whose status is no_measurable_loss, or null. */
  smallest_not_significant: string | null;
  /** Models on the size–KLD Pareto frontier (exact KLDs only), largest first. */
  pareto: string[];
  /** The perplexity task whose KLD and PPL ratio are shown, or null. */
  kld_task: string | null;
  /** The accuracy tasks (metricInfo: any task comparing an accuracy-kind metric). */
  accuracy_tasks: string[];
  /** Groups of models with the same weights (equal sha256), e.g. one GGUF in-process and behind a llama-server. */
  same_weights: SameWeights[];
}

/** Models that are one set of weights: sized by the file, never ranked smaller than each other. */
export interface SameWeights {
  sha256: string;
  models: string[];
  /** Each model's backend, in the order of `models` (e.g. ["gguf", "http"]). */
  backends: string[];
}

type Cmp = Record<string, unknown>;
const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);

/** The timed repetitions of a cost measure (measureCost keeps them under `cost_detail`). */
export function costRuns(m: Record<string, unknown>, key: "prefill_tps_runs" | "decode_tps_runs"): unknown {
  return m[key] ?? (m.cost_detail as Record<string, unknown> | undefined)?.[key];
}

function spread(runs: unknown): Spread | null {
  if (!Array.isArray(runs) || runs.length === 0 || !runs.every((x) => typeof x === "number")) return null;
  const s = [...(runs as number[])].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return { min: s[0], median: s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2, max: s[s.length - 1] };
}

function taskFacts(results: RunResults, task: string): TaskFacts & TaskVerdict {
  const t = results.tasks[task];
  const metrics = accuracyMetricsOf(t.comparisons);
  const check = t.extra?.baseline_check as { informative?: boolean; mde?: number; reasons?: string[] } | undefined;
  return { metrics, metric: primaryAccuracyMetric(t.comparisons)!, informative: check?.informative ?? null, mde: num(check?.mde), reasons: check?.reasons ?? [] };
}

/** The status from the evidence: any loss → loss; else anything open → inconclusive; else any bound → no_measurable_loss. */
function judge(evidence: Evidence[], notes: string[]): VariantVerdict {
  const by = (s: Evidence["says"]) => evidence.filter((e) => e.says === s).map((e) => e.text);
  if (by("loss").length) return { status: "loss", decided_by: by("loss"), notes };
  if (by("open").length) return { status: "inconclusive", decided_by: by("open"), notes };
  if (by("ok").length) return { status: "no_measurable_loss", decided_by: by("ok"), notes };
  return { status: "inconclusive", decided_by: [], notes: [...notes, "no informative task and no distribution drift measured: nothing can rule a loss out"] };
}

/** Builds the verdict of a run from its results (results.json). */
export function buildVerdict(results: RunResults): Verdict {
  const names = [results.baseline, ...results.variants.filter((v) => v !== results.noise_floor)];
  const accuracyTasks = Object.entries(results.tasks)
    .filter(([, t]) => accuracyMetricsOf(t.comparisons).length > 0)
    .map(([n]) => n);
  const facts = Object.fromEntries(accuracyTasks.map((t) => [t, taskFacts(results, t)]));
  const kldTask = Object.entries(results.tasks).find(([, t]) => t.type === "perplexity" && Object.values(t.comparisons).some((c) => num((c as Cmp).kld_mean) !== null))?.[0] ?? null;
  const variants: Record<string, VariantVerdict> = {};
  const notes = accuracyTasks.filter((t) => facts[t].informative === false).map((t) => `${t} cannot detect a loss: ${facts[t].reasons.join("; ")}`);
  // Generation drift: a significant drop of a paired reference metric is a loss; it never clears one.
  const generateTasks = Object.entries(results.tasks).filter(([, t]) => t.type === "generate");
  for (const [name, t] of generateTasks) {
    // The paired measures judged by the bootstrap (reference metrics, typo degradation, distance to the reference, judge win rate, fact retention), labelled by metricInfo.
    const judged = [
      ...new Set(Object.values(t.comparisons).flatMap((c) => Object.entries(((c as Cmp).paired as Record<string, Cmp> | undefined) ?? {}).flatMap(([k, p]) => (p.test === "bootstrap_ci" ? [k] : [])))),
    ];
    const labels = judged.map((k) => metricInfo(`${k}_delta`)?.label ?? metricInfo(k)?.label ?? k);
    notes.push(
      judged.length
        ? `${name}: generation drift can show a loss (bootstrap CI of ${labels.join(" / ")}), not rule one out; the distance to the baseline is judged against the noise floor only, diversity and length are shown`
        : `${name}: generation drift is shown but not judged (no references, so no paired Δ)`,
    );
  }

  const rows: VerdictRow[] = names.map((model) => {
    const m = (results.models[model] ?? {}) as Record<string, unknown>;
    const isBase = model === results.baseline;
    const accuracy: VerdictAccuracy[] = [];
    const evidence: Evidence[] = [];
    let c2w: number | null = null;
    let w2c: number | null = null;
    for (const task of accuracyTasks) {
      const perMetric = results.tasks[task].comparisons[model] as Record<string, Cmp> | undefined;
      if (!perMetric || isBase) continue;
      evidence.push(...accuracyEvidence(task, facts[task], perMetric));
      const metric = facts[task].metric;
      const c = perMetric[metric];
      if (!c || num(c.delta) === null) continue;
      const a: VerdictAccuracy = {
        task,
        metric,
        delta: num(c.delta)!,
        ci_low: num(c.ci_low) ?? NaN,
        ci_high: num(c.ci_high) ?? NaN,
        significant: c.significant === true,
        change: typeof c.change === "string" ? c.change : c.significant === true ? "significant" : "none",
        test: typeof c.test === "string" ? c.test : null,
        p_value: num(c.mcnemar_p),
        flips_correct_to_wrong: num(c.flips_correct_to_wrong) ?? 0,
        flips_wrong_to_correct: num(c.flips_wrong_to_correct) ?? 0,
      };
      accuracy.push(a);
      c2w = (c2w ?? 0) + a.flips_correct_to_wrong;
      w2c = (w2c ?? 0) + a.flips_wrong_to_correct;
    }
    const drift = kldTask ? (results.tasks[kldTask].comparisons[model] as Cmp | undefined) : undefined;
    const approximate = kldTask !== null && kldIsApproximate(results, model);
    if (drift && !isBase) evidence.push(...driftEvidence(kldTask!, drift, approximate));
    if (!isBase) for (const [name, t] of generateTasks) evidence.push(...generationEvidence(name, (t.comparisons[model] ?? {}) as Cmp));
    const hasKld = kldTask !== null && (isBase || num(drift?.kld_mean) !== null);
    if (!isBase) variants[model] = judge(evidence, notes);
    return {
      model,
      role: isBase ? "baseline" : "variant",
      quantization: typeof m.quantization === "string" ? m.quantization : null,
      file_bytes: num(m.file_bytes),
      bits_per_weight: num(m.bits_per_weight),
      same_weights_as: null,
      accuracy,
      flips_correct_to_wrong: c2w,
      flips_wrong_to_correct: w2c,
      kld_mean: hasKld ? (isBase ? 0 : num(drift!.kld_mean)) : null,
      kld_err: hasKld ? (isBase ? 0 : num(drift!.kld_err)) : null,
      kld_approximate: approximate,
      kld_significant: hasKld && !isBase ? drift!.significant === true : null,
      ppl_ratio: kldTask ? (isBase ? 1 : num(drift?.ppl_ratio)) : null,
      ppl_ratio_err: kldTask ? (isBase ? 0 : num(drift?.ppl_ratio_err)) : null,
      prefill_tps: num(m.prefill_tps),
      decode_tps: num(m.decode_tps),
      prefill_spread: spread(costRuns(m, "prefill_tps_runs")),
      decode_spread: spread(costRuns(m, "decode_tps_runs")),
      peak_rss_bytes: num(m.peak_rss_bytes),
      load_ms: num(m.load_ms),
      losses: evidence.filter((e) => e.says === "loss" && accuracyTasks.some((t) => e.text.startsWith(`${t} `))).map((e) => e.text),
      status: isBase ? null : variants[model].status,
      pareto: false,
    };
  });
  const sameWeights = recogniseSameWeights(results, rows);
  // Largest first; models without a known size (HTTP backends) last, in config order.
  rows.sort((a, b) => (b.file_bytes ?? -Infinity) - (a.file_bytes ?? -Infinity));

  // Pareto frontier over (file size, KLD), exact KLDs only: an approximate KLD is not comparable.
  // Kept unless another model is no larger and no farther, and strictly better in one of the two.
  const points = rows.filter((r) => r.file_bytes !== null && r.kld_mean !== null && !r.kld_approximate);
  for (const r of points) {
    r.pareto = !points.some((o) => o !== r && o.file_bytes! <= r.file_bytes! && o.kld_mean! <= r.kld_mean! && (o.file_bytes! < r.file_bytes! || o.kld_mean! < r.kld_mean!));
  }

  const candidates = rows.filter((r) => r.status === "no_measurable_loss" && r.file_bytes !== null);
  const smallest = candidates.length > 0 ? candidates.reduce((a, b) => (b.file_bytes! < a.file_bytes! ? b : a)).model : null;
  const tasks = Object.fromEntries(accuracyTasks.map((t) => [t, { metric: facts[t].metric, informative: facts[t].informative, mde: facts[t].mde, reasons: facts[t].reasons }]));
  return {
    rows,
    variants,
    tasks,
    smallest_not_significant: smallest,
    pareto: rows.filter((r) => r.pareto).map((r) => r.model),
    kld_task: kldTask,
    accuracy_tasks: accuracyTasks,
    same_weights: sameWeights,
  };
}

/** The machine-readable part of the verdict (results.json `verdict`), or null for a run without variants. */
export type VerdictJson = Pick<Verdict, "variants" | "tasks" | "smallest_not_significant" | "pareto">;

export function verdictJson(results: RunResults): VerdictJson | null {
  if (results.variants.length === 0) return null;
  const { variants, tasks, smallest_not_significant, pareto } = buildVerdict(results);
  return { variants, tasks, smallest_not_significant, pareto };
}

/**
 * Models with equal sha256 are one set of weights (e.g. a GGUF file loaded in-process and served
 * over HTTP). Each is marked, and the size is taken from the file: a server reports its tensor
 * bytes, which would make the same weights look smaller and win "smallest".
 */
function recogniseSameWeights(results: RunResults, rows: VerdictRow[]): SameWeights[] {
  const groups = new Map<string, VerdictRow[]>();
  for (const r of rows) {
    const sha = results.models[r.model]?.sha256;
    if (typeof sha === "string" && sha) groups.set(sha, [...(groups.get(sha) ?? []), r]);
  }
  const out: SameWeights[] = [];
  for (const [sha256, group] of groups) {
    if (group.length < 2) continue;
    const backend = (r: VerdictRow) => String(results.models[r.model]?.backend ?? "?");
    // The file's size where a backend read the file (gguf), so no member looks smaller.
    const fileSide = group.find((x) => backend(x) === "gguf") ?? group[0];
    for (const r of group) {
      r.same_weights_as = (r === group[0] ? group[1] : group[0]).model;
      r.file_bytes = fileSide.file_bytes;
    }
    out.push({ sha256, models: group.map((r) => r.model), backends: group.map(backend) });
  }
  return out;
}

export { signed };
