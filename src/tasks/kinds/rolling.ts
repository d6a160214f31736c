// lm-eval's loglikelihood_rolling output type (wikitext): word and byte perplexity and bits per
// byte from each document's rolling log-likelihood (cached per text).
import { z } from "zod";
import type { Backend } from "../../backends/backend.js";
import type { TaskOutcome } from "../../run/taskContext.js";
import { taskManifest } from "../../run/taskManifest.js";
import { aggregateRollingColumns, openRolling } from "../rolling.js";
import type { RollingTask } from "../taskDefinition.js";
import type { LoadedTask } from "../taskRegistry.js";
import { yamlEntryKeys } from "./entryKeys.js";
import { prepareOptions } from "./prepareOptions.js";
import { evaluateRollingChunks, type IndexedRolling, indexRolling } from "./rollingChunks.js";
import { type ChunkedEvaluation, type ChunkSink, type EvaluateEnv, evaluateWhole, type PreparedTask, type TaskKind } from "./taskKind.js";
import { collectStored, definitionOf } from "./yamlKind.js";

/** Every key a rolling entry accepts (num_fewshot is refused with its own reason). */
export const rollingEntry = z.object(yamlEntryKeys).strict();

function prepared(task: LoadedTask<RollingTask>, docs: IndexedRolling): PreparedTask<null> {
  const def = task.def;
  // The state stays null: compare needs only the results (the samples stream from the store).
  const evaluateInChunks = async (m: Backend, env: EvaluateEnv, chunks: ChunkSink): Promise<ChunkedEvaluation<null>> => ({
    results: { ...aggregateRollingColumns(def, await evaluateRollingChunks(docs, m, env, chunks)) },
    state: null,
  });
  return {
    schedule: "per_model",
    evaluateInChunks,
    evaluate: (m, env) => evaluateWhole((chunks) => evaluateInChunks(m, env, chunks)),
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
          n: docs.n,
          mode: "lm-eval loglikelihood_rolling (disjoint windows of the model's n_ctx, every token scored once)",
          prompts_hash: docs.promptsHash,
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
        return prepared(task, indexRolling(task.def, await openRolling(task.def, prepareOptions(entry, env, task.file))));
      },
    };
  },
};
