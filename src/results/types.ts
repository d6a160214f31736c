// The typed, versioned schema of results.json: what `quanteval run` writes and what the report,
// the viewer, `quanteval compare` and library users read. One task entry per kind, discriminated
// by `type`, so `results.tasks.copa.results.f32.acc` is a number wherever the kind defines acc.
import type { ModelDescription } from "../backends/backend.js";
import type { PairedComparison } from "../compare/pairedComparison.js";
import type { DistributionDrift } from "../metrics/distributionDrift.js";
import type { VerdictJson } from "../report/verdict.js";
import type { QuantHypothesisRow } from "../quantize/quantHypotheses.js";
import type { PairedGeneration } from "../tasks/generate/pairedDrift.js";
import type { PerplexityResult } from "../tasks/perplexity.js";
import type { McMetrics } from "../tasks/multipleChoice.js";
import type { RollingMetrics as TaskRollingMetrics } from "../tasks/rolling.js";

/** The results.json schema version this build writes and reads. */
export const RESULTS_VERSION = 1;

/** Metrics of one model on a multiple_choice task; `acc` is always present. */
export interface MultipleChoiceMetrics extends McMetrics {
  [metric: string]: unknown;
  n: number;
  /** Requests cut from the left because they exceeded the context window. */
  truncated: number;
}

/** Metrics of one model on a loglikelihood task: `acc` and `ppl` when the task lists them. */
export interface LoglikelihoodMetrics {
  [metric: string]: unknown;
  acc?: number;
  acc_stderr?: number;
  ppl?: number;
  n: number;
  truncated: number;
}

/** Metrics of one model on a rolling (loglikelihood_rolling) task. */
export interface RollingMetrics extends TaskRollingMetrics {
  [metric: string]: unknown;
}

/** Metrics of one model on llama.cpp's HellaSwag mode. */
export interface LlamacppHellaswagMetrics {
  [metric: string]: unknown;
  acc_norm: number;
  acc_norm_stderr: number;
  /** Wilson 95% interval, as llama.cpp prints it. */
  acc_norm_ci95: [number, number];
  n: number;
}

/** Metrics of one model on llama.cpp's Winogrande mode. */
export interface LlamacppWinograndeMetrics {
  [metric: string]: unknown;
  acc: number;
  acc_stderr: number;
  acc_ci95: [number, number];
  n: number;
}

/** Metrics of one model on the perplexity task (llama-perplexity's procedure). */
export type PerplexityMetrics = PerplexityResult & { [metric: string]: unknown };

/** Metrics of one model on a generate task (reference metrics, embedding distances, probes …). */
export interface GenerateMetrics {
  [metric: string]: unknown;
  mean_length?: number;
  token_f1?: number;
  rouge1?: number;
  rougeL?: number;
  exact_match_quasi?: number;
  distinct_2?: number;
  fact_retention?: number;
  /** With several datasets (`data: [a, b]`): the same metrics on each dataset's prompts alone, by its label. */
  by_dataset?: Record<string, GenerateMetrics>;
}

/**
 * A variant's generation drift against the baseline (embedding distances, metric deltas …).
 * Per-dataset figures sit inside it rather than in one task per dataset, so the task-level keys
 * (pooled over every prompt) keep their meaning and the hypotheses still see the whole grid.
 */
export interface GenerateComparison {
  [key: string]: unknown;
  /** Paired-bootstrap CIs over documents: Δ token F1 / Δ ROUGE-L against the references, embedding distances to the baseline. */
  paired?: PairedGeneration;
  /** With several datasets: the same comparison on each dataset's prompts alone, by its label. */
  by_dataset?: Record<string, GenerateComparison>;
}

/** Whether a variant's delta is real: outside the CI of zero and beyond the noise floor. */
export interface Significance {
  significant?: boolean;
  not_significant_reason?: string | null;
  noise_floor_delta?: number | null;
}

/** A paired comparison of one metric, marked for significance. */
export type PairedMetricComparison = PairedComparison & Significance & { [key: string]: unknown };

/** A comparison of an aggregate metric (no per-item pairing): ppl, word_perplexity … */
export interface ScalarComparison {
  [key: string]: unknown;
  metric: string;
  baseline: number;
  variant: number;
  delta: number;
  ratio: number;
}

/** A variant's distribution drift against the baseline, or why it was skipped (another tokenizer). */
export type PerplexityComparison = ((DistributionDrift & { significant?: boolean; noise_floor_kld?: number | null }) | { skipped: string }) & { [key: string]: unknown };

/** What every task entry holds; `results` per model name, `comparisons` per variant name. */
interface TaskResultsOf<K extends string, R, C> {
  type: K;
  results: Record<string, R>;
  comparisons: Record<string, C>;
  /** Task facts for the reproducibility manifest (definition hash, data file, settings). */
  manifest: Record<string, unknown>;
  /** Anything else a report may show (normalization ranking, generation-drift tables …). */
  extra?: Record<string, unknown>;
}

/** A multiple_choice task's results. */
export type MultipleChoiceTaskResults = TaskResultsOf<"multiple_choice", MultipleChoiceMetrics, Record<string, PairedMetricComparison>>;
/** A loglikelihood task's results (acc paired, ppl scalar). */
export type LoglikelihoodTaskResults = TaskResultsOf<"loglikelihood", LoglikelihoodMetrics, { [metric: string]: unknown; acc?: PairedMetricComparison; ppl?: ScalarComparison }>;
/** A rolling task's results. */
export type RollingTaskResults = TaskResultsOf<"rolling", RollingMetrics, Record<string, ScalarComparison>>;
/** llama.cpp HellaSwag mode's results. */
export type LlamacppHellaswagTaskResults = TaskResultsOf<"llamacpp_hellaswag", LlamacppHellaswagMetrics, { [metric: string]: unknown; acc_norm: PairedMetricComparison }>;
/** llama.cpp Winogrande mode's results. */
export type LlamacppWinograndeTaskResults = TaskResultsOf<"llamacpp_winogrande", LlamacppWinograndeMetrics, { [metric: string]: unknown; acc: PairedMetricComparison }>;
/** The perplexity task's results. */
export type PerplexityTaskResults = TaskResultsOf<"perplexity", PerplexityMetrics, PerplexityComparison>;
/** A generate task's results. */
export type GenerateTaskResults = TaskResultsOf<"generate", GenerateMetrics, GenerateComparison>;

/** One task's results, discriminated by its kind (`type`). */
export type TaskResults =
  | MultipleChoiceTaskResults
  | LoglikelihoodTaskResults
  | RollingTaskResults
  | LlamacppHellaswagTaskResults
  | LlamacppWinograndeTaskResults
  | PerplexityTaskResults
  | GenerateTaskResults;

/** The kinds results.json knows. */
export type TaskKindName = TaskResults["type"];

/** A model as results.json describes it: its description, load time and (with `cost: true`) its cost. */
export type ModelResults = ModelDescription & { load_ms?: number } & Record<string, unknown>;

/** results.json. */
export interface RunResults {
  /** The schema version; readers refuse versions they do not know. */
  quanteval_results_version: typeof RESULTS_VERSION;
  /** ISO time the run finished. */
  created: string;
  /** The baseline model's name. */
  baseline: string;
  /** The variants' names (without the noise-floor row). */
  variants: string[];
  /** The noise-floor re-run's name, when the config asked for one. */
  noise_floor: string | null;
  /** Every model of the run by name. */
  models: Record<string, ModelResults>;
  /** Every task by its unique name. */
  tasks: Record<string, TaskResults>;
  /** Warnings raised during the run. */
  warnings: string[];
  /** Everything that changes a score: versions, hardware, model fingerprints, task hashes. */
  manifest: Record<string, unknown>;
  /** Backend requests answered from the cache and computed in this run. */
  requests: { cached: number; computed: number };
  /** The verdict from all the evidence (src/report/verdict.ts): status per variant, informativeness per task. */
  verdict?: VerdictJson;
  /** Quantization-choice hypotheses (imatrix vs none, chunks, calibration sets) of a sweep. */
  quantization_hypotheses?: QuantHypothesisRow[];
}
