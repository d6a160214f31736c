// One place for what a metric means: its kind, its direction, the paired test that decides
// whether a change is real, its label, and whether its figure is exact. Significance
// (src/run/significance.ts), the terminal tables, the verdict and the HTML report all read this
// registry instead of deciding on their own which task types or metric names "count as accuracy".
// Modelled on lm-evaluation-harness's `register_metric(higher_is_better=…, aggregation=…)`.

/** What a metric measures. */
export type MetricKind = "accuracy" | "distribution" | "generation" | "cost";

/**
 * The paired test that decides whether a variant's change is real:
 * - `mcnemar_exact`: exact McNemar on the discordant items (per-item correctness), p < 0.05;
 * - `bootstrap_ci`: the seeded paired-bootstrap 95% CI of Δ excludes 0 (F1 and other aggregates
 *   that are not a mean of per-item 0/1 outcomes);
 * - `ci_vs_tolerance`: the 95% CI lies entirely beyond a stated tolerance (PPL ratio) or beyond the
 *   noise floor and the tolerance (KLD);
 * - `none`: no paired test exists for this figure; it is shown, never judged.
 */
export type PairedTest = "mcnemar_exact" | "bootstrap_ci" | "ci_vs_tolerance" | "none";

/** Metadata of one metric. */
export interface MetricInfo {
  name: string;
  kind: MetricKind;
  higher_is_better: boolean;
  test: PairedTest;
  /** Short label for tables and charts. */
  label: string;
  /** Unit shown beside values, if any. */
  unit?: string;
  /**
   * For `ci_vs_tolerance`: the smallest change that counts as a loss, in the metric's unit (a PPL
   * ratio of 1.01 = +1% perplexity; a KLD of 0.01 nats). Smaller drifts are below what anyone
   * would act on, however significant against a tiny standard error.
   */
  tolerance?: number;
}

/** Marks a figure that is approximate (KLD from a server's top-k log-probs) wherever it is shown. */
export const APPROX_MARK = "≈";

/** The test names as printed in tables. */
export const TEST_LABEL: Record<PairedTest, string> = {
  mcnemar_exact: "McNemar exact",
  bootstrap_ci: "bootstrap CI",
  ci_vs_tolerance: "CI vs tolerance",
  none: "–",
};

const acc = (name: string, label: string): MetricInfo => ({ name, kind: "accuracy", higher_is_better: true, test: "mcnemar_exact", label });
const lower = (name: string, kind: MetricKind, label: string, unit?: string): MetricInfo => ({ name, kind, higher_is_better: false, test: "none", label, unit });
const higher = (name: string, kind: MetricKind, label: string, unit?: string): MetricInfo => ({ name, kind, higher_is_better: true, test: "none", label, unit });

const ENTRIES: MetricInfo[] = [
  // Task scores that are a mean of per-item 0/1 outcomes: exact McNemar decides.
  acc("acc", "accuracy"),
  acc("acc_norm", "accuracy (length-normalized)"),
  acc("acc_norm_chars", "accuracy (per char)"),
  acc("acc_norm_bytes", "accuracy (per byte)"),
  acc("acc_norm_tokens", "accuracy (per token)"),
  acc("acc_mutual_info", "accuracy (mutual information)"),
  // Aggregates that are not a mean of per-item outcomes: the paired bootstrap decides.
  { name: "f1", kind: "accuracy", higher_is_better: true, test: "bootstrap_ci", label: "macro-F1" },
  { name: "exact_match", kind: "generation", higher_is_better: true, test: "bootstrap_ci", label: "exact match" },
  { name: "rougeL", kind: "generation", higher_is_better: true, test: "bootstrap_ci", label: "ROUGE-L" },
  { name: "token_f1", kind: "generation", higher_is_better: true, test: "bootstrap_ci", label: "token F1" },
  // Distribution drift against the baseline.
  { name: "ppl_ratio", kind: "distribution", higher_is_better: false, test: "ci_vs_tolerance", label: "PPL ratio", tolerance: 1.01 },
  { name: "kld_mean", kind: "distribution", higher_is_better: false, test: "ci_vs_tolerance", label: "KLD", unit: "nats", tolerance: 0.01 },
  higher("top1_agreement", "distribution", "same top-1"),
  lower("delta_p_rms", "distribution", "RMS Δp"),
  // Text perplexities of rolling and loglikelihood tasks: aggregates without a per-item CI.
  lower("ppl", "distribution", "perplexity"),
  lower("word_perplexity", "distribution", "word perplexity"),
  lower("byte_perplexity", "distribution", "byte perplexity"),
  lower("bits_per_byte", "distribution", "bits per byte"),
  // Generation drift (deltas and distances, per variant against the baseline).
  // Distance to the baseline's output: the baseline's own is 0 by construction, so its null is the
  // noise floor's distance (the CI must lie above it); without a noise floor it is shown only. It
  // says the output changed, not that it got worse, so it never counts toward the verdict.
  { name: "embed_l1_to_baseline", kind: "generation", higher_is_better: false, test: "ci_vs_tolerance", label: "embedding L1 to baseline" },
  { name: "embed_cos_to_baseline", kind: "generation", higher_is_better: false, test: "ci_vs_tolerance", label: "embedding cosine distance to baseline" },
  lower("embed_l1_to_reference", "generation", "embedding L1 to reference"),
  lower("embed_cos_to_reference", "generation", "embedding cosine distance to reference"),
  higher("identical_to_baseline", "generation", "identical to baseline"),
  // Paired per prompt: the seeded bootstrap over prompts decides (the win rate against 0.5, even).
  { name: "token_f1_delta", kind: "generation", higher_is_better: true, test: "bootstrap_ci", label: "Δ token F1" },
  { name: "rougeL_delta", kind: "generation", higher_is_better: true, test: "bootstrap_ci", label: "Δ ROUGE-L" },
  higher("exact_match_quasi_delta", "generation", "Δ exact match (quasi)"),
  { name: "judge_win_rate", kind: "generation", higher_is_better: true, test: "bootstrap_ci", label: "judge win rate" },
  { name: "fact_retention_delta", kind: "generation", higher_is_better: true, test: "bootstrap_ci", label: "Δ fact retention" },
  // Paired per prompt (src/tasks/generate/pairedDrift.ts). Judged, a significant loss counts toward
  // the verdict: a variant that loses more token F1 / ROUGE-L under typos than the baseline does
  // (robustness), and one whose output moved away from the reference (embedding cosine distance).
  { name: "token_f1_degradation_delta", kind: "generation", higher_is_better: true, test: "bootstrap_ci", label: "Δ typo drop, token F1" },
  { name: "rougeL_degradation_delta", kind: "generation", higher_is_better: true, test: "bootstrap_ci", label: "Δ typo drop, ROUGE-L" },
  { name: "embed_cos_to_reference_delta", kind: "generation", higher_is_better: false, test: "bootstrap_ci", label: "Δ embed cos to reference" },
  // Shown with their CI, never judged: L1 repeats the cosine distance's evidence; diversity and
  // length have no better direction (terser or more varied output is not a loss by itself).
  lower("embed_l1_to_reference_delta", "generation", "Δ embed L1 to reference"),
  higher("distinct_2_delta", "generation", "Δ distinct-2"),
  higher("mean_length_delta", "generation", "Δ mean length", "chars"),
  // Cost.
  lower("file_bytes", "cost", "size", "bytes"),
  lower("bits_per_weight", "cost", "bits/weight"),
  higher("prefill_tps", "cost", "prefill", "tok/s"),
  higher("decode_tps", "cost", "decode", "tok/s"),
  lower("peak_rss_bytes", "cost", "peak RSS", "bytes"),
  lower("load_ms", "cost", "load time", "ms"),
];

const REGISTRY = new Map(ENTRIES.map((e) => [e.name, e]));

/** The metadata of a metric, or undefined for a name the registry does not know. */
export function metricInfo(name: string): MetricInfo | undefined {
  return REGISTRY.get(name);
}

/** Every registered metric, in registration order. */
export function allMetrics(): readonly MetricInfo[] {
  return ENTRIES;
}

/** True for task scores judged per item (accuracy kind: acc, acc_norm…, f1). */
export function isAccuracyMetric(name: string): boolean {
  return REGISTRY.get(name)?.kind === "accuracy";
}

/**
 * The accuracy metrics a task's comparisons hold, in the task's order: the one place that decides
 * which tasks count as accuracy tasks (any task type — multiple choice, llama.cpp HellaSwag or
 * Winogrande, loglikelihood — whose paired comparison reports an accuracy-kind metric with a CI).
 */
export function accuracyMetricsOf(comparisons: Record<string, unknown>): string[] {
  const names: string[] = [];
  for (const perMetric of Object.values(comparisons)) {
    if (typeof perMetric !== "object" || perMetric === null) continue;
    for (const [m, c] of Object.entries(perMetric)) {
      if (isAccuracyMetric(m) && typeof c === "object" && c !== null && "ci_low" in c && !names.includes(m)) names.push(m);
    }
  }
  return names;
}

/** The metric that stands for a task in summaries: acc when compared, else the first accuracy metric. */
export function primaryAccuracyMetric(comparisons: Record<string, unknown>): string | undefined {
  const names = accuracyMetricsOf(comparisons);
  return names.includes("acc") ? "acc" : names[0];
}
