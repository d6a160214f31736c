// lm-eval's multiple_choice output type: acc, acc_norm, f1 with paired comparisons, and the
// normalization panel (acc_norm by chars/bytes/tokens, acc_mutual_info) on request.
import { z } from "zod";
import type { Backend } from "../../backends/backend.js";
import { comparePaired } from "../../compare/pairedComparison.js";
import type { TaskOutcome } from "../../run/taskContext.js";
import { taskManifest } from "../../run/taskManifest.js";
import { type DocSource, openMultipleChoice, type PreparedDoc, type ScoredDoc } from "../multipleChoice.js";
import { aggregateColumns, correctColumn, decodeColumns, type EncodedColumns, encodeColumns } from "../multipleChoiceColumns.js";
import { type NormalizationName, rankingChanges } from "../normalization.js";
import type { MultipleChoiceTask } from "../taskDefinition.js";
import type { LoadedTask } from "../taskRegistry.js";
import { requestShape } from "../../lmeval/exportSamples.js";
import { lmEvalSourceOf } from "../../lmeval/lmEvalBackend.js";
import { yamlEntryKeys } from "./entryKeys.js";
import { lmEvalScores, unpairedComparison } from "./lmEvalModel.js";
import { prepareOptions } from "./prepareOptions.js";
import { evaluateChunks, type IndexedDocs, indexDocs } from "./multipleChoiceChunks.js";
import { type ChunkedEvaluation, type ChunkSink, type EvaluateEnv, evaluateWhole, type PreparedTask, type TaskKind } from "./taskKind.js";
import { collectStored, definitionOf } from "./yamlKind.js";

/** Every key a multiple_choice entry accepts. */
export const multipleChoiceEntry = z
  .object({
    ...yamlEntryKeys,
    /** Also report the normalization panel (one unconditional request per choice). */
    normalizations: z.boolean().optional(),
  })
  .strict();

type Entry = z.infer<typeof multipleChoiceEntry>;

/** Loads the task's rows; its documents are rendered on demand. */
export function openDocs(entry: Entry, env: Parameters<typeof prepareOptions>[1], task: LoadedTask<MultipleChoiceTask>): Promise<DocSource> {
  return openMultipleChoice(task.def, { ...prepareOptions(entry, env, task.file), normalizations: entry.normalizations === true });
}

/** Every document rendered (the lm-eval pairing check needs them all; a model evaluated otherwise never does). */
const renderAll = (docs: IndexedDocs): PreparedDoc[] => Array.from({ length: docs.n }, (_, i) => docs.source.render(i));

function prepared(entry: Entry, task: LoadedTask<MultipleChoiceTask>, docs: IndexedDocs): PreparedTask<EncodedColumns | ScoredDoc[]> {
  const def = task.def;
  const evaluateInChunks = async (m: Backend, env: EvaluateEnv, chunks: ChunkSink): Promise<ChunkedEvaluation<EncodedColumns | ScoredDoc[]>> => {
    const lm = lmEvalSourceOf(m);
    if (lm) {
      const scores = lmEvalScores(lm, env.name, renderAll(docs), requestShape(def));
      if (scores) return { results: scores.results, state: scores.state };
    }
    const columns = await evaluateChunks(docs, m, env, chunks);
    const metrics = aggregateColumns(def, docs.gold, columns);
    if (metrics.truncated > 0) env.warn(`${env.name}: ${metrics.truncated} of ${docs.n} documents for '${m.name}' exceeded the context window and were cut from the left, as lm-eval does`);
    return { results: { ...metrics }, state: encodeColumns(columns) };
  };
  return {
    schedule: "per_model",
    evaluateInChunks,
    evaluate: (m, env) => evaluateWhole((chunks) => evaluateInChunks(m, env, chunks)),
    async compare(stored, env) {
      // Compact per-document predictions only (a few bytes a document); the samples stream from the store.
      const { results, samples, states } = collectStored(stored, env, decodeColumns);
      const base = states[env.baseline];
      const gold = Array.from(docs.gold);
      const comparisons: TaskOutcome["comparisons"] = {};
      for (const v of env.variants) {
        const vs = states[v];
        const perMetric: Record<string, unknown> = {};
        // lm-eval results without samples: scores only, compared unpaired.
        if (base.pred.length !== docs.n || vs.pred.length !== docs.n) {
          comparisons[v] = unpairedComparison(def.metrics, results[env.baseline], results[v]);
          continue;
        }
        for (const metric of def.metrics) {
          perMetric[metric] = comparePaired(
            {
              metric,
              baselineCorrect: correctColumn(base, docs.gold, metric),
              variantCorrect: correctColumn(vs, docs.gold, metric),
              gold,
              baselinePred: Array.from(base.pred),
              variantPred: Array.from(vs.pred),
            },
            { seed: env.seed, resamples: env.bootstrap },
          );
        }
        comparisons[v] = perMetric;
      }
      // Normalization panel: does the ranking of models depend on the normalization?
      const panel =
        docs.n > 0 && docs.unconditional
          ? rankingChanges(
              Object.fromEntries(
                Object.entries(results)
                  .filter(([n]) => n !== env.noiseFloorName)
                  .map(([n, r]) => [n, r as Partial<Record<NormalizationName, number>>]),
              ),
            )
          : undefined;
      if (panel?.changed) env.warn(`${env.name}: the ranking of models changes with the normalization (${panel.reversals.map((r) => `${r.normalization}: ${r.below} above ${r.above}`).join("; ")})`);
      return {
        type: "multiple_choice",
        results,
        comparisons,
        samples,
        ...(panel ? { extra: { normalization_ranking: panel } } : {}),
        manifest: {
          ...taskManifest(task),
          num_fewshot: entry.num_fewshot ?? def.num_fewshot,
          n: docs.n,
          prompts_hash: docs.promptsHash,
        },
      };
    },
  };
}

/** The multiple_choice kind. */
export const multipleChoiceKind: TaskKind = {
  name: "multiple_choice",
  claims: { yamlType: "multiple_choice" },
  description: "lm-eval's multiple_choice: one log-likelihood per choice; acc, acc_norm, f1 with paired McNemar/bootstrap comparisons",
  metrics: (d) => (d?.def.type === "multiple_choice" ? d.def.metrics : ["acc", "acc_norm", "f1"]),
  dataHint: "the task's dataset id or data_file",
  configure(raw, ctx) {
    const task = definitionOf(ctx, "multiple_choice");
    const entry = ctx.parse(multipleChoiceEntry, raw);
    const resolved = { ...entry, ...(entry.data ? { data: ctx.paths.data(entry.data) } : {}) };
    return {
      kind: "multiple_choice",
      entry: resolved,
      definition: task,
      async prepare(env) {
        return prepared(resolved, task, indexDocs(await openDocs(resolved, env, task)));
      },
    };
  },
};
