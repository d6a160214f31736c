// lm-eval's loglikelihood output type (lambada_openai): one continuation per document;
// acc = the continuation is the greedy decode, ppl over documents.
import { z } from "zod";
import type { Backend, LoglikelihoodResult } from "../../backends/backend.js";
import { comparePaired } from "../../compare/pairedComparison.js";
import type { TaskOutcome } from "../../run/taskContext.js";
import { taskManifest } from "../../run/taskManifest.js";
import { aggregateLoglikelihoodColumns, openLoglikelihood } from "../loglikelihood.js";
import { decodeLoglikelihoodColumns, type EncodedLoglikelihoodColumns, encodeLoglikelihoodColumns } from "../loglikelihoodColumns.js";
import type { LoglikelihoodTask } from "../taskDefinition.js";
import type { LoadedTask } from "../taskRegistry.js";
import { yamlEntryKeys } from "./entryKeys.js";
import { prepareOptions } from "./prepareOptions.js";
import { evaluateLoglikelihoodChunks, type IndexedLoglikelihood, indexLoglikelihood } from "./loglikelihoodChunks.js";
import { type ChunkedEvaluation, type ChunkSink, type EvaluateEnv, evaluateWhole, type PreparedTask, type TaskKind } from "./taskKind.js";
import { collectStored, definitionOf } from "./yamlKind.js";

/** Every key a loglikelihood entry accepts (num_fewshot is refused with lm-eval's reason). */
export const loglikelihoodEntry = z.object(yamlEntryKeys).strict();

type Entry = z.infer<typeof loglikelihoodEntry>;

function prepared(task: LoadedTask<LoglikelihoodTask>, docs: IndexedLoglikelihood): PreparedTask<EncodedLoglikelihoodColumns | LoglikelihoodResult[]> {
  const def = task.def;
  const evaluateInChunks = async (m: Backend, env: EvaluateEnv, chunks: ChunkSink): Promise<ChunkedEvaluation<EncodedLoglikelihoodColumns>> => {
    const columns = await evaluateLoglikelihoodChunks(docs, m, env, chunks);
    const agg = aggregateLoglikelihoodColumns(def, columns);
    if (agg.truncated > 0) env.warn(`${env.name}: ${agg.truncated} of ${docs.n} documents for '${m.name}' exceeded the context window and were cut from the left, as lm-eval does`);
    return { results: { ...agg }, state: encodeLoglikelihoodColumns(columns) };
  };
  return {
    schedule: "per_model",
    evaluateInChunks,
    evaluate: (m, env) => evaluateWhole((chunks) => evaluateInChunks(m, env, chunks)),
    async compare(stored, env) {
      // Compact per-document results only (14 bytes a document); the samples stream from the store.
      const { results, samples, states } = collectStored(stored, env, (state) => Array.from(decodeLoglikelihoodColumns(state).is_greedy, (g) => g === 1));
      const base = states[env.baseline];
      const baseAgg = results[env.baseline] as { ppl?: number };
      const comparisons: TaskOutcome["comparisons"] = {};
      for (const v of env.variants) {
        const perMetric: Record<string, unknown> = {};
        if (def.metrics.includes("acc")) {
          perMetric.acc = comparePaired({ metric: "acc", baselineCorrect: base, variantCorrect: states[v] }, { seed: env.seed, resamples: env.bootstrap });
        }
        if (def.metrics.includes("ppl")) {
          const vp = (results[v] as { ppl?: number }).ppl!;
          perMetric.ppl = { metric: "ppl", baseline: baseAgg.ppl, variant: vp, delta: vp - baseAgg.ppl!, ratio: vp / baseAgg.ppl! };
        }
        comparisons[v] = perMetric;
      }
      return {
        type: "loglikelihood",
        results,
        comparisons,
        samples,
        manifest: {
          ...taskManifest(task),
          num_fewshot: 0,
          n: docs.n,
          prompts_hash: docs.promptsHash,
        },
      };
    },
  };
}

/** The loglikelihood kind. */
export const loglikelihoodKind: TaskKind = {
  name: "loglikelihood",
  claims: { yamlType: "loglikelihood" },
  description: "lm-eval's loglikelihood: one continuation per document; acc (greedy) and ppl",
  metrics: (d) => (d?.def.type === "loglikelihood" ? d.def.metrics : ["acc", "ppl"]),
  dataHint: "the task's dataset id or data_file",
  configure(raw, ctx) {
    const task = definitionOf(ctx, "loglikelihood");
    const parsed: Entry = ctx.parse(loglikelihoodEntry, raw);
    const entry = { ...parsed, ...(parsed.data ? { data: ctx.paths.data(parsed.data) } : {}) };
    return {
      kind: "loglikelihood",
      entry,
      definition: task,
      async prepare(env) {
        return prepared(task, indexLoglikelihood(await openLoglikelihood(task.def, prepareOptions(entry, env, task.file))));
      },
    };
  },
};
