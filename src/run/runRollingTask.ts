// Runs an lm-eval `loglikelihood_rolling` task (wikitext) on every model: word and byte
// perplexity and bits per byte from each document's rolling log-likelihood (cached per text).
import { createHash } from "node:crypto";
import type { RollingResult } from "../backends/backend.js";
import { aggregateRolling, prepareRolling, type RollingDoc } from "../tasks/rolling.js";
import type { RollingTask } from "../tasks/taskDefinition.js";
import { type PrepareContext, prepareOptions } from "./prepareOptions.js";
import type { SampleRow, TaskOutcome, TaskRunContext } from "./taskContext.js";
import { taskManifest } from "./taskManifest.js";

/** Renders every document (and so validates the data) without touching a model. */
export function prepareRollingDocs(ctx: PrepareContext, task: { def: RollingTask; file: string }): Promise<RollingDoc[]> {
  return prepareRolling(task.def, prepareOptions(ctx, task.file));
}

export async function runRollingTask(ctx: TaskRunContext, task: { def: RollingTask; file: string; text: string }): Promise<TaskOutcome> {
  const def = task.def;
  const docs = await prepareRollingDocs(ctx, task);
  const texts = docs.map((d) => d.text);
  const results: TaskOutcome["results"] = {};
  const samples: TaskOutcome["samples"] = {};
  for (const m of [ctx.baseline, ...ctx.variants]) {
    const id = `${ctx.name}:${m.name}`;
    ctx.progress.start(id, `${ctx.name} · ${m.name}`, texts.length);
    // One document per backend call: documents are long, and progress stays per document.
    const res = await ctx.store.cached<string, RollingResult>(m.fingerprint(), "loglikelihood_rolling", texts, (missing) => m.loglikelihoodRolling(missing), {
      batchSize: 1,
      onProgress: (done) => ctx.progress.update(id, done),
    });
    ctx.progress.stop(id);
    results[m.name] = { ...aggregateRolling(def, docs, res) };
    samples[m.name] = docs.map((d, i): SampleRow => ({ doc_id: d.doc_id, logprob: res[i].logprob, n_tokens: res[i].nTokens, words: d.words, bytes: d.bytes, prompt_hash: d.prompt_hash }));
  }
  const base = results[ctx.baseline.name] as Record<string, number>;
  const comparisons: TaskOutcome["comparisons"] = {};
  for (const v of ctx.variants) {
    const vr = results[v.name] as Record<string, number>;
    comparisons[v.name] = Object.fromEntries(
      def.metrics.map((metric) => [metric, { metric, baseline: base[metric], variant: vr[metric], delta: vr[metric] - base[metric], ratio: vr[metric] / base[metric] }]),
    );
  }
  return {
    type: "rolling",
    results,
    comparisons,
    samples,
    manifest: {
      ...taskManifest(task),
      n: docs.length,
      mode: "lm-eval loglikelihood_rolling (disjoint windows of the model's n_ctx, every token scored once)",
      prompts_hash: createHash("sha256").update(docs.map((d) => d.prompt_hash).join(",")).digest("hex").slice(0, 16),
    },
  };
}
