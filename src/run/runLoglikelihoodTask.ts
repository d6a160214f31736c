// Runs an lm-eval `loglikelihood` task (lambada_openai) on every model, with cached requests.
import { createHash } from "node:crypto";
import type { LoglikelihoodRequest, LoglikelihoodResult } from "../backends/backend.js";
import { comparePaired } from "../compare/pairedComparison.js";
import { aggregateLoglikelihood, type LoglikelihoodDoc, prepareLoglikelihood } from "../tasks/loglikelihood.js";
import type { LoglikelihoodTask } from "../tasks/taskDefinition.js";
import { type PrepareContext, prepareOptions } from "./prepareOptions.js";
import type { SampleRow, TaskOutcome, TaskRunContext } from "./taskContext.js";
import { taskManifest } from "./taskManifest.js";

/** Renders every document (and so validates the data) without touching a model. */
export function prepareLoglikelihoodDocs(ctx: PrepareContext, task: { def: LoglikelihoodTask; file: string }): Promise<LoglikelihoodDoc[]> {
  return prepareLoglikelihood(task.def, prepareOptions(ctx, task.file));
}

export async function runLoglikelihoodTask(ctx: TaskRunContext, task: { def: LoglikelihoodTask; file: string; text: string }): Promise<TaskOutcome> {
  const def = task.def;
  const docs = await prepareLoglikelihoodDocs(ctx, task);
  const requests = docs.map((d) => d.request);
  const results: TaskOutcome["results"] = {};
  const samples: TaskOutcome["samples"] = {};
  const perModel = new Map<string, LoglikelihoodResult[]>();
  for (const m of [ctx.baseline, ...ctx.variants]) {
    const id = `${ctx.name}:${m.name}`;
    ctx.progress.start(id, `${ctx.name} · ${m.name}`, requests.length);
    const res = await ctx.store.cached<LoglikelihoodRequest, LoglikelihoodResult>(m.fingerprint(), "loglikelihood", requests, (missing) => m.loglikelihood(missing), {
      batchSize: 512,
      onProgress: (done) => ctx.progress.update(id, done),
    });
    ctx.progress.stop(id);
    perModel.set(m.name, res);
    const agg = aggregateLoglikelihood(def, res);
    results[m.name] = { ...agg };
    if (agg.truncated > 0) ctx.warn(`${ctx.name}: ${agg.truncated} of ${res.length} requests for '${m.name}' exceeded the context window and were cut from the left, as lm-eval does`);
    samples[m.name] = docs.map((d, i): SampleRow => ({
      doc_id: d.doc_id,
      context: d.request.context,
      continuation: d.request.continuation,
      logprob: res[i].logprob,
      is_greedy: res[i].isGreedy,
      n_tokens: res[i].nTokens,
      truncated: res[i].truncated,
      prompt_hash: d.prompt_hash,
    }));
  }
  const base = perModel.get(ctx.baseline.name)!;
  const baseAgg = results[ctx.baseline.name] as { ppl?: number };
  const comparisons: TaskOutcome["comparisons"] = {};
  for (const v of ctx.variants) {
    const vr = perModel.get(v.name)!;
    const perMetric: Record<string, unknown> = {};
    if (def.metrics.includes("acc")) {
      perMetric.acc = comparePaired({ metric: "acc", baselineCorrect: base.map((r) => r.isGreedy), variantCorrect: vr.map((r) => r.isGreedy) }, { seed: ctx.seed, resamples: ctx.bootstrap });
    }
    if (def.metrics.includes("ppl")) {
      const vp = (results[v.name] as { ppl?: number }).ppl!;
      perMetric.ppl = { metric: "ppl", baseline: baseAgg.ppl, variant: vp, delta: vp - baseAgg.ppl!, ratio: vp / baseAgg.ppl! };
    }
    comparisons[v.name] = perMetric;
  }
  return {
    type: "loglikelihood",
    results,
    comparisons,
    samples,
    manifest: {
      ...taskManifest(task),
      num_fewshot: 0,
      n: docs.length,
      prompts_hash: createHash("sha256").update(docs.map((d) => d.prompt_hash).join(",")).digest("hex").slice(0, 16),
    },
  };
}
