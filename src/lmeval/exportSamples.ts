// One lm-eval samples_<task>_<date>.jsonl line per document, in the shape lm-eval's evaluator
// logs and EvaluationTracker.save_results_samples writes: arguments as
// {gen_args_i: {arg_0: context, arg_1: continuation}}, resps/filtered_resps stringified by
// sanitize_list (str(float), str(bool)), target as str(target), doc_hash = sha256 of
// json.dumps(doc, indent=2, ensure_ascii=False), prompt_hash = sha256 of the first request's
// context, target_hash = sha256 of str(target), then the per-document metric values.
import type { Row } from "../data/readRows.js";
import type { MultipleChoiceTask } from "../tasks/taskDefinition.js";
import { hashString, pyFloat, pyFloatRepr, type PyJson, pyJsonDumps } from "./pythonJson.js";
import type { McSample } from "./runSource.js";
import { lmEvalTarget, rowToPy } from "./taskDocs.js";

/** A multiple-choice task's request shape: the delimiter and whether choices are contexts (winogrande). */
export interface RequestShape {
  targetDelimiter: string;
  multipleInput: boolean;
}

/** The request shape of a task definition (lm-eval's defaults when it is unknown). */
export function requestShape(def?: MultipleChoiceTask): RequestShape {
  return { targetDelimiter: def?.target_delimiter ?? " ", multipleInput: def?.doc_to_continuation !== undefined };
}

/** The (context, continuation) pairs lm-eval's Instance.args hold, one per choice, as the run built them. */
export function sampleArguments(s: Pick<McSample, "prompt" | "context" | "choices">, shape: RequestShape): Array<[string, string]> {
  return shape.multipleInput ? s.choices.map((c) => [s.context + c, shape.targetDelimiter + s.prompt]) : s.choices.map((c) => [s.context, shape.targetDelimiter + c]);
}

/** One samples line and the three hashes lm-eval's task_hashes concatenate. */
export interface SampleRecord {
  line: string;
  doc_hash: string;
  prompt_hash: string;
  target_hash: string;
}

/**
 * Builds the samples record of one document. `row` is the dataset row (lm-eval's `doc`); when
 * it is unavailable the record carries the run's rendered document instead, so its doc_hash
 * will not equal lm-eval's.
 */
export function sampleRecord(s: McSample, metrics: readonly string[], shape: RequestShape, def?: MultipleChoiceTask, row?: Row): SampleRecord {
  const doc: PyJson = row ? rowToPy(row) : { prompt: s.prompt, choices: s.choices, gold: s.gold };
  const target = row && def ? lmEvalTarget(def, row) : String(s.gold);
  const args = sampleArguments(s, shape);
  const arguments_: Record<string, PyJson> = {};
  args.forEach(([ctx, cont], i) => (arguments_[`gen_args_${i}`] = { arg_0: ctx, arg_1: cont }));
  const pair = (i: number): PyJson => [pyFloatRepr(s.loglikelihoods[i]), s.is_greedy[i] ? "True" : "False"];
  const doc_hash = hashString(pyJsonDumps(doc, 2));
  const prompt_hash = hashString(args[0][0]);
  const target_hash = hashString(target);
  // lm-eval's process_results for multiple_choice, in its key order.
  const perDoc: Record<string, PyJson> = {};
  if (metrics.includes("acc")) perDoc.acc = pyFloat(s.pred === s.gold ? 1 : 0);
  if (metrics.includes("f1")) perDoc.f1 = [s.gold, s.pred];
  if (metrics.includes("acc_norm")) perDoc.acc_norm = pyFloat(s.pred_norm === s.gold ? 1 : 0);
  const record: Record<string, PyJson> = {
    doc_id: s.doc_id,
    doc,
    target,
    arguments: arguments_,
    resps: args.map((_, i) => [pair(i)]),
    filtered_resps: args.map((_, i) => pair(i)),
    filter: "none",
    metrics: Object.keys(perDoc),
    doc_hash,
    prompt_hash,
    target_hash,
    ...perDoc,
  };
  return { line: pyJsonDumps(record), doc_hash, prompt_hash, target_hash };
}

/** lm-eval's task hash: sha256 of the concatenated doc_hash + prompt_hash + target_hash of every sample. */
export function taskHash(records: SampleRecord[]): string {
  return hashString(records.map((r) => r.doc_hash + r.prompt_hash + r.target_hash).join(""));
}
