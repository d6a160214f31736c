// A multiple-choice task scored by lm-eval results standing in for a model: the prompt-identity
// guard first (every document's requests must be lm-eval's, the first differing one named);
// without samples, lm-eval's scores alone, compared unpaired and labelled so.
import type { LmEvalBackend } from "../../lmeval/lmEvalBackend.js";
import { assertSameLmEvalPrompts, type PromptOf } from "../../lmeval/lmEvalPairing.js";
import type { RequestShape } from "../../lmeval/exportSamples.js";
import { QuantevalError } from "../../util/errors.js";
import type { ScoredDoc } from "../multipleChoice.js";
import type { ModelEvaluation } from "./taskKind.js";

/**
 * Checks the documents against the lm-eval task of the same name. With samples it returns
 * undefined (the backend then answers every request from them, paired by doc_id and prompt);
 * without, lm-eval's scores as this model's results, with no per-document state.
 */
export function lmEvalScores(lm: LmEvalBackend, task: string, docs: PromptOf[], shape: RequestShape): ModelEvaluation<ScoredDoc[]> | undefined {
  const theirs = lm.task(task);
  if (!theirs)
    throw new QuantevalError(`model '${lm.name}': ${lm.results.resultsFile} has no task '${task}' (it has ${Object.keys(lm.results.tasks).join(", ") || "none"}); name the task as lm-eval did`);
  if (!theirs.samples) {
    return { results: { ...theirs.metrics, unpaired: "lm-eval results without samples (run lm_eval with --log_samples to pair by document)" }, samples: [], state: [] };
  }
  const ids = new Set(theirs.samples.map((s) => s.doc_id));
  const missing = docs.find((d) => !ids.has(d.doc_id));
  if (missing) throw new QuantevalError(`model '${lm.name}': task ${task} doc ${missing.doc_id} is not in ${theirs.samplesFile}; evaluate the same documents (check --limit)`);
  assertSameLmEvalPrompts(task, docs, theirs.samples, shape, theirs.samplesFile ?? "lm-eval");
  return undefined;
}

/** Score differences without pairing, for models of which only the scores are known. */
export function unpairedComparison(metrics: readonly string[], base: Record<string, unknown>, variant: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    metrics.map((metric) => {
      const b = base[metric] as number;
      const v = variant[metric] as number;
      return [metric, { metric, baseline: b, variant: v, delta: v - b, paired: false, note: "unpaired: lm-eval results without samples" }];
    }),
  );
}
