// quanteval's public library API. The CLI is a thin layer over these.
export { runEvaluation, type RunOptions } from "./run/runEvaluation.js";
export { loadConfig, parseConfig, configureEntry, type LoadedConfig } from "./config/loadConfig.js";
export { configDirs, type ConfigDirs } from "./config/resolvePaths.js";
export { readResults, writeResults, parseResults } from "./results/resultsFile.js";
export {
  RESULTS_VERSION,
  type RunResults,
  type TaskResults,
  type TaskKindName,
  type ModelResults,
  type MultipleChoiceTaskResults,
  type MultipleChoiceMetrics,
  type LoglikelihoodTaskResults,
  type LoglikelihoodMetrics,
  type RollingTaskResults,
  type RollingMetrics,
  type LlamacppHellaswagTaskResults,
  type LlamacppHellaswagMetrics,
  type LlamacppWinograndeTaskResults,
  type LlamacppWinograndeMetrics,
  type PerplexityTaskResults,
  type PerplexityMetrics,
  type PerplexityComparison,
  type GenerateTaskResults,
  type GenerateMetrics,
  type PairedMetricComparison,
  type ScalarComparison,
  type Significance,
} from "./results/types.js";
export { TASK_KINDS, kindOf, listTaskNames } from "./tasks/kinds/registry.js";
export type { TaskKind, KindTask, ConfiguredTask, PreparedTask, ModelEvaluation, StoredEvaluations, PathResolver } from "./tasks/kinds/taskKind.js";
export { runTask, prepareTask, runPreparedTask } from "./run/runTask.js";
export { silentProgress, type ProgressSink, type TaskRunContext, type TaskOutcome } from "./run/taskContext.js";
export type { RunConfig, ModelSpec, TaskSpec } from "./config/schema.js";
export type {
  Backend,
  BackendCapabilities,
  LoglikelihoodRequest,
  LoglikelihoodResult,
  RollingResult,
  TokenWindow,
  WindowDistributions,
  GenerateRequest,
  GenerateResult,
  ModelDescription,
} from "./backends/backend.js";
export { GgufBackend, type GgufOptions } from "./backends/gguf.js";
export { openBackend } from "./backends/openBackend.js";
export { prepareMultipleChoice, scoreDoc, aggregateMultipleChoice } from "./tasks/multipleChoice.js";
export { runPerplexity } from "./tasks/perplexity.js";
export { loadTask } from "./tasks/taskRegistry.js";
export { comparePaired, type PairedComparison } from "./compare/pairedComparison.js";
export { mcnemarExactP } from "./compare/mcnemar.js";
export { pairedBootstrapCI } from "./compare/pairedBootstrap.js";
export { macroF1 } from "./metrics/f1.js";
export { DistributionDriftAccumulator, klDivergence } from "./metrics/distributionDrift.js";
export { quantizeModel } from "./quantize/quantizeModel.js";
export { RunStore } from "./store/runStore.js";
export { QuantevalError } from "./util/errors.js";
export { limitHeapGrowth } from "./util/heapGrowth.js";
export { scoresTable, comparisonTable, driftTable, toMarkdown } from "./report/tables.js";
export { GgufEmbedder } from "./embedders/ggufEmbedder.js";
export { createEmbedder } from "./embedders/createEmbedder.js";
export { parseVerdict, summarizeJudgments } from "./tasks/generate/judge.js";
export { evaluateHypotheses } from "./tasks/generate/hypotheses.js";
export { loadProbes } from "./tasks/generate/probes.js";
export { HttpBackend, type HttpBackendOptions } from "./backends/http.js";
export { OnnxBackend } from "./backends/onnx.js";
export { measureCost } from "./cost/measureCost.js";
export type { CostMetrics, CostOptions } from "./cost/costMetrics.js";
export { buildVerdict, verdictJson, verdictTable, verdictSummary, type Verdict, type VerdictJson, type VerdictRow, type VariantStatus } from "./report/verdict.js";
export { allMetrics, metricInfo, type MetricInfo, type MetricKind, type PairedTest } from "./metrics/metricInfo.js";
