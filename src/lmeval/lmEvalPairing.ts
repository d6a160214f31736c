// Pairs an lm-eval result with a quanteval run's documents: by doc_id, after the prompt-identity
// guard has checked that both scored the same requests. Without lm-eval samples there is
// nothing to pair and the comparison is labelled unpaired.
import { QuantevalError } from "../util/errors.js";
import { type RequestShape, sampleArguments } from "./exportSamples.js";
import type { LmEvalSample, LmEvalTask } from "./readLmEvalResults.js";
import { hashString } from "./pythonJson.js";
import type { McSample } from "./runSource.js";

/** Documents present in both, in quanteval's doc order. */
export interface LmEvalPairs {
  paired: true;
  ours: McSample[];
  theirs: LmEvalSample[];
}

/** Scores only: the lm-eval result had no samples. */
export interface LmEvalUnpaired {
  paired: false;
  /** Why it is unpaired, for the report label. */
  reason: string;
  metrics: Record<string, number>;
}

const show = (s: string) => JSON.stringify(s.length > 80 ? `…${s.slice(-80)}` : s);

/**
 * Throws a QuantevalError naming the first document (in doc_id order) whose requests differ
 * between quanteval's samples and lm-eval's: its prompt hash (sha256 of the first context, as
 * lm-eval computes it), then every (context, continuation) pair when lm-eval logged them.
 * Returns the number of documents checked.
 */
export function assertSameLmEvalPrompts(task: string, ours: McSample[], theirs: LmEvalSample[], shape: RequestShape, source = "lm-eval"): number {
  const byId = new Map(theirs.map((s) => [s.doc_id, s]));
  let checked = 0;
  for (const o of ours) {
    const t = byId.get(o.doc_id);
    if (!t) continue;
    checked++;
    const args = sampleArguments(o, shape);
    const where = `task ${task} doc ${o.doc_id}`;
    if (t.prompt_hash && hashString(args[0][0]) !== t.prompt_hash) {
      throw new QuantevalError(
        `${where}: the prompt differs from ${source} (prompt hash ${t.prompt_hash.slice(0, 16)} there, ${hashString(args[0][0]).slice(0, 16)} here; our context ends ${show(args[0][0])}); use the same task definition, num_fewshot and few-shot examples`,
      );
    }
    if (t.arguments.length > 0) {
      if (t.arguments.length !== args.length) throw new QuantevalError(`${where}: ${source} scored ${t.arguments.length} requests, quanteval ${args.length}; the choices differ`);
      args.forEach(([ctx, cont], i) => {
        const [tc, tn] = t.arguments[i];
        if (tc !== ctx) throw new QuantevalError(`${where}: request ${i} context differs from ${source} (there ${show(tc)}, here ${show(ctx)})`);
        if (tn !== cont) throw new QuantevalError(`${where}: request ${i} continuation differs from ${source} (there ${show(tn)}, here ${show(cont)})`);
      });
    }
  }
  if (checked === 0) throw new QuantevalError(`task ${task}: ${source} and quanteval share no doc_id; compare results of the same documents (check --limit)`);
  return checked;
}

/**
 * Pairs quanteval's documents of one task with an lm-eval task's samples (after the guard), or
 * returns its scores labelled unpaired when lm-eval wrote no samples.
 */
export function pairWithLmEval(task: string, ours: McSample[], theirs: LmEvalTask, shape: RequestShape, source = "lm-eval"): LmEvalPairs | LmEvalUnpaired {
  if (!theirs.samples) return { paired: false, reason: `${source} results without samples (run lm_eval with --log_samples to pair by document)`, metrics: theirs.metrics };
  assertSameLmEvalPrompts(task, ours, theirs.samples, shape, source);
  const byId = new Map(theirs.samples.map((s) => [s.doc_id, s]));
  const both = ours.filter((o) => byId.has(o.doc_id));
  return { paired: true, ours: both, theirs: both.map((o) => byId.get(o.doc_id)!) };
}

/** Per-document correctness of lm-eval samples under `metric` (acc or acc_norm from the logged 0/1, f1 from its [gold, pred]). */
export function lmEvalCorrect(s: LmEvalSample, metric: "acc" | "acc_norm" | "f1"): boolean {
  const v = s.metrics[metric === "f1" ? "acc" : metric];
  if (typeof v === "number") return v === 1;
  if (Array.isArray(s.metrics.f1)) return Number(s.metrics.f1[0]) === Number(s.metrics.f1[1]);
  return s.pred !== undefined && s.pred === s.gold;
}
