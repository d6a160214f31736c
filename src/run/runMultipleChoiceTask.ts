// Runs a multiple-choice task on every model, with cached requests, and compares variants.
import { createHash } from "node:crypto";
import type { Backend, LoglikelihoodRequest, LoglikelihoodResult } from "../backends/backend.js";
import { comparePaired } from "../compare/pairedComparison.js";
import { aggregateMultipleChoice, correctFor, type PreparedDoc, prepareMultipleChoice, scoreDoc, type ScoredDoc } from "../tasks/multipleChoice.js";
import { type NormalizationName, rankingChanges } from "../tasks/normalization.js";
import type { MultipleChoiceTask } from "../tasks/taskDefinition.js";
import type { LoadedTask } from "../tasks/taskRegistry.js";
import { type PrepareContext, prepareOptions } from "./prepareOptions.js";
import type { SampleRow, TaskOutcome, TaskRunContext } from "./taskContext.js";
import { taskManifest } from "./taskManifest.js";

async function scoreModel(ctx: TaskRunContext, backend: Backend, docs: PreparedDoc[]): Promise<ScoredDoc[]> {
  const flat: LoglikelihoodRequest[] = docs.flatMap((d) => d.requests);
  const id = `${ctx.name}:${backend.name}`;
  ctx.progress.start(id, `${ctx.name} · ${backend.name}`, flat.length);
  const res = await ctx.store.cached<LoglikelihoodRequest, LoglikelihoodResult>(backend.fingerprint(), "loglikelihood", flat, (missing) => backend.loglikelihood(missing), {
    batchSize: 512,
    onProgress: (done) => ctx.progress.update(id, done),
  });
  ctx.progress.stop(id);
  let k = 0;
  return docs.map((d) => {
    const rs = d.requests.map(() => res[k++]);
    return scoreDoc(
      d,
      rs.map((r) => r.logprob),
      rs.map((r) => r.isGreedy),
      rs.some((r) => r.truncated),
      rs.map((r) => r.nTokens),
    );
  });
}

/** Renders every document (and so validates the data) without touching a model. */
export function prepareDocs(ctx: PrepareContext, task: LoadedTask<MultipleChoiceTask>): Promise<PreparedDoc[]> {
  return prepareMultipleChoice(task.def, { ...prepareOptions(ctx, task.file), normalizations: (ctx.spec as { normalizations?: boolean }).normalizations === true });
}

export async function runMultipleChoiceTask(ctx: TaskRunContext, task: LoadedTask<MultipleChoiceTask>): Promise<TaskOutcome> {
  const def = task.def;
  const docs = await prepareDocs(ctx, task);
  const models = [ctx.baseline, ...ctx.variants];
  const scored = new Map<string, ScoredDoc[]>();
  const results: TaskOutcome["results"] = {};
  const samples: TaskOutcome["samples"] = {};
  for (const m of models) {
    const s = await scoreModel(ctx, m, docs);
    scored.set(m.name, s);
    results[m.name] = { ...aggregateMultipleChoice(def, docs, s) };
    const truncated = s.filter((x) => x.truncated).length;
    if (truncated > 0) ctx.warn(`${ctx.name}: ${truncated} of ${s.length} requests for '${m.name}' exceeded the context window and were cut from the left, as lm-eval does`);
    samples[m.name] = docs.map((d, i): SampleRow => ({
      doc_id: d.doc_id,
      prompt: d.prompt,
      context: d.context,
      choices: d.choices,
      loglikelihoods: s[i].loglikelihoods,
      is_greedy: s[i].is_greedy,
      pred: s[i].pred,
      pred_norm: s[i].pred_norm,
      gold: d.gold,
      correct: s[i].correct,
      fewshot_ids: d.fewshot_ids,
      prompt_hash: d.prompt_hash,
      truncated: s[i].truncated,
    }));
  }
  const base = scored.get(ctx.baseline.name)!;
  const comparisons: TaskOutcome["comparisons"] = {};
  for (const v of ctx.variants) {
    const vs = scored.get(v.name)!;
    const perMetric: Record<string, unknown> = {};
    for (const metric of def.metrics) {
      perMetric[metric] = comparePaired(
        {
          metric,
          baselineCorrect: base.map((s, i) => correctFor(s, docs[i].gold, metric)),
          variantCorrect: vs.map((s, i) => correctFor(s, docs[i].gold, metric)),
          gold: docs.map((d) => d.gold),
          baselinePred: base.map((s) => s.pred),
          variantPred: vs.map((s) => s.pred),
        },
        { seed: ctx.seed, resamples: ctx.bootstrap },
      );
    }
    comparisons[v.name] = perMetric;
  }
  // Normalization panel: does the ranking of models depend on the normalization?
  const panel = docs.length > 0 && docs[0].unconditional ? rankingChanges(Object.fromEntries(Object.entries(results).filter(([n]) => n !== ctx.noiseFloorName).map(([n, r]) => [n, r as Partial<Record<NormalizationName, number>>]))) : undefined;
  if (panel?.changed) ctx.warn(`${ctx.name}: the ranking of models changes with the normalization (${panel.reversals.map((r) => `${r.normalization}: ${r.below} above ${r.above}`).join("; ")})`);
  return {
    type: "multiple_choice",
    results,
    comparisons,
    samples,
    ...(panel ? { extra: { normalization_ranking: panel } } : {}),
    manifest: {
      ...taskManifest(task),
      num_fewshot: ctx.spec.num_fewshot ?? def.num_fewshot,
      n: docs.length,
      prompts_hash: createHash("sha256").update(docs.map((d) => d.prompt_hash).join(",")).digest("hex").slice(0, 16),
    },
  };
}
