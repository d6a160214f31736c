// lm-eval's loglikelihood_rolling output type (wikitext): word and byte perplexity and bits per
// byte from each document's rolling log-likelihood (cached per text).
import { createHash } from "node:crypto";
import { z } from "zod";
import type { RollingResult } from "../../backends/backend.js";
import type { SampleRow, TaskOutcome } from "../../run/taskContext.js";
import { taskManifest } from "../../run/taskManifest.js";
import { aggregateRolling, prepareRolling, type RollingDoc } from "../rolling.js";
import type { RollingTask } from "../taskDefinition.js";
import type { LoadedTask } from "../taskRegistry.js";
import { yamlEntryKeys } from "./entryKeys.js";
import { prepareOptions } from "./prepareOptions.js";
import type { PreparedTask, TaskKind } from "./taskKind.js";
import { collectStored, definitionOf } from "./yamlKind.js";

/** Every key a rolling entry accepts (num_fewshot is refused with its own reason). */
export const rollingEntry = z.object(yamlEntryKeys).strict();

function prepared(task: LoadedTask<RollingTask>, docs: RollingDoc[]): PreparedTask<null> {
  const def = task.def;
  const texts = docs.map((d) => d.text);
  return {
    schedule: "per_model",
    async evaluate(m, env) {
      const id = `${env.name}:${m.name}`;
      env.progress.start(id, `${env.name} · ${m.name}`, texts.length);
      // Documents per backend call: one for an in-process model (documents are long; progress
      // and Ctrl-C stay per document); an HTTP model's in-flight limit, so its slots stay busy,
      // each document committed to the store as its last window is scored.
      const perCall = Math.max(1, (m as { concurrency?: number }).concurrency ?? 1);
      const res = await env.store.cached<string, RollingResult>(m.fingerprint(), "loglikelihood_rolling", texts, (missing) => m.loglikelihoodRolling(missing), {
        batchSize: perCall,
        onProgress: (done) => env.progress.update(id, done),
      });
      env.progress.stop(id);
      const samples = docs.map((d, i): SampleRow => ({ doc_id: d.doc_id, logprob: res[i].logprob, n_tokens: res[i].nTokens, words: d.words, bytes: d.bytes, prompt_hash: d.prompt_hash }));
      return { results: { ...aggregateRolling(def, docs, res) }, samples, state: null };
    },
    async compare(stored, env) {
      const { results, samples } = collectStored(stored, env);
      const base = results[env.baseline] as Record<string, number>;
      const comparisons: TaskOutcome["comparisons"] = {};
      for (const v of env.variants) {
        const vr = results[v] as Record<string, number>;
        comparisons[v] = Object.fromEntries(
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
          prompts_hash: createHash("sha256")
            .update(docs.map((d) => d.prompt_hash).join(","))
            .digest("hex")
            .slice(0, 16),
        },
      };
    },
  };
}

/** The rolling kind. */
export const rollingKind: TaskKind = {
  name: "rolling",
  claims: { yamlType: "rolling" },
  description: "lm-eval's loglikelihood_rolling: word and byte perplexity and bits per byte over whole documents",
  metrics: (d) => (d?.def.type === "rolling" ? d.def.metrics : ["word_perplexity", "byte_perplexity", "bits_per_byte"]),
  dataHint: "the task's dataset id or data_file",
  configure(raw, ctx) {
    const task = definitionOf(ctx, "rolling");
    const parsed = ctx.parse(rollingEntry, raw);
    const entry = { ...parsed, ...(parsed.data ? { data: ctx.paths.data(parsed.data) } : {}) };
    return {
      kind: "rolling",
      entry,
      definition: task,
      async prepare(env) {
        return prepared(task, await prepareRolling(task.def, prepareOptions(entry, env, task.file)));
      },
    };
  },
};
