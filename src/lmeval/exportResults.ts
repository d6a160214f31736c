// One model's lm-eval results_<date>.json: the dict lm-eval's simple_evaluate returns
// (results, group_subtasks, configs, versions, n-shot, higher_is_better, n-samples, config and
// the environment keys) plus what EvaluationTracker.save_results_aggregated adds (task_hashes
// and the general config tracker's fields), in lm-eval's key order.
import type { MultipleChoiceTask } from "../tasks/taskDefinition.js";
import { pyFloat, type PyJson } from "./pythonJson.js";
import { sanitizeModelName } from "./lmEvalNames.js";
import type { RunModel, RunTask, RunView } from "./runSource.js";

/** What the results file of one model says about one exported task. */
export interface ExportedTask {
  task: RunTask;
  def?: MultipleChoiceTask;
  metrics: string[];
  /** Rows in the task's test split (lm-eval's n-samples.original), when known. */
  original?: number;
  /** lm-eval's task hash over the exported samples. */
  hash: string;
}

const num = (v: unknown): PyJson => (typeof v === "number" ? pyFloat(v) : "N/A");

/** `results[task]`: alias first, then "metric,none" and "metric_stderr,none" per metric. */
function taskResults(t: ExportedTask, model: string): Record<string, PyJson> {
  const r = t.task.results[model] ?? {};
  const out: Record<string, PyJson> = { alias: t.task.name };
  for (const m of t.metrics) {
    out[`${m},none`] = num(r[m]);
    // quanteval has no stderr for macro-F1 (lm-eval bootstraps it); lm-eval writes "N/A" when it has none.
    out[`${m}_stderr,none`] = num(r[`${m}_stderr`]);
  }
  return out;
}

/** `configs[task]`: lm-eval's TaskConfig fields, from the quanteval task definition. */
function taskConfig(t: ExportedTask): Record<string, PyJson | undefined> {
  const d = t.def;
  return {
    task: t.task.name,
    dataset_path: d?.dataset?.id,
    dataset_name: d?.dataset?.config,
    test_split: d?.test_split,
    fewshot_split: d?.fewshot_split,
    doc_to_text: d?.doc_to_text ?? d?.doc_to_continuation,
    doc_to_target: d?.doc_to_target,
    unsafe_code: false,
    doc_to_choice: d?.doc_to_choice,
    description: d?.description ?? "",
    target_delimiter: d?.target_delimiter ?? " ",
    fewshot_delimiter: d?.fewshot_delimiter ?? "\n\n",
    num_fewshot: t.task.numFewshot,
    metric_list: t.metrics.map((m) => ({ metric: m, aggregation: m === "f1" ? "f1" : "mean", higher_is_better: true })),
    output_type: "multiple_choice",
    repeats: 1,
    should_decontaminate: false,
    metadata: { version: pyFloat(1), source: d?.source ?? null },
  };
}

/** Builds the results dict of one model for the exported tasks. */
export function resultsFor(run: RunView, model: RunModel, tasks: ExportedTask[], times: { start: number; end: number }): Record<string, PyJson> {
  const byTask = (f: (t: ExportedTask) => PyJson): Record<string, PyJson> => Object.fromEntries(tasks.map((t) => [t.task.name, f(t)]));
  const modelArgs = [`model=${model.name}`, model.path ? `path=${model.path}` : undefined].filter(Boolean).join(",");
  return {
    results: byTask((t) => taskResults(t, model.name)),
    group_subtasks: byTask(() => []),
    configs: byTask((t) => taskConfig(t)),
    versions: byTask(() => pyFloat(1)),
    "n-shot": byTask((t) => t.task.numFewshot),
    higher_is_better: byTask((t) => Object.fromEntries(t.metrics.map((m) => [m, true]))),
    "n-samples": byTask((t) => ({ original: t.original ?? t.task.n, effective: t.task.n })),
    config: {
      model: model.backend,
      model_args: modelArgs,
      model_num_parameters: model.params ?? 0,
      model_dtype: model.quantization ?? null,
      model_revision: "main",
      model_sha: model.sha256 ?? "",
      batch_size: 1,
      batch_sizes: [],
      device: "cpu",
      use_cache: null,
      limit: run.limit,
      bootstrap_iters: 100000,
      gen_kwargs: null,
      random_seed: 0,
      numpy_seed: 1234,
      torch_seed: 1234,
      fewshot_seed: run.seed,
    },
    git_hash: null,
    date: pyFloat(times.start / 1000),
    pretty_env_info: `exported by quanteval from ${run.dir}`,
    transformers_version: null,
    upper_git_hash: null,
    tokenizer_pad_token: null,
    tokenizer_eos_token: null,
    tokenizer_bos_token: null,
    eot_token_id: null,
    max_length: model.n_ctx_train ?? null,
    task_hashes: byTask((t) => t.hash),
    model_source: model.backend,
    model_name: model.name,
    model_name_sanitized: sanitizeModelName(model.name),
    system_instruction: null,
    system_instruction_sha: null,
    fewshot_as_multiturn: false,
    chat_template: null,
    chat_template_sha: null,
    start_time: pyFloat(times.start / 1000),
    end_time: pyFloat(times.end / 1000),
    total_evaluation_time_seconds: String((times.end - times.start) / 1000),
  };
}
