// lm-eval's multiple_choice output type: acc, acc_norm, f1 with paired comparisons, and the
// normalization panel (acc_norm by chars/bytes/tokens, acc_mutual_info) on request.
import { createHash } from "node:crypto";
import { z } from "zod";
import type { LoglikelihoodRequest, LoglikelihoodResult } from "../../backends/backend.js";
import { comparePaired } from "../../compare/pairedComparison.js";
import type { SampleRow, TaskOutcome } from "../../run/taskContext.js";
import { taskManifest } from "../../run/taskManifest.js";
import { aggregateMultipleChoice, correctFor, type PreparedDoc, prepareMultipleChoice, scoreDoc, type ScoredDoc } from "../multipleChoice.js";
import { type NormalizationName, rankingChanges } from "../normalization.js";
import type { MultipleChoiceTask } from "../taskDefinition.js";
import type { LoadedTask } from "../taskRegistry.js";
import { yamlEntryKeys } from "./entryKeys.js";
import { prepareOptions } from "./prepareOptions.js";
import type { PreparedTask, TaskKind } from "./taskKind.js";
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

/** Renders every document (and so validates the data) without touching a model. */
export function prepareDocs(entry: Entry, env: Parameters<typeof prepareOptions>[1], task: LoadedTask<MultipleChoiceTask>): Promise<PreparedDoc[]> {
  return prepareMultipleChoice(task.def, { ...prepareOptions(entry, env, task.file), normalizations: entry.normalizations === true });
}

function prepared(entry: Entry, task: LoadedTask<MultipleChoiceTask>, docs: PreparedDoc[]): PreparedTask<ScoredDoc[]> {
  const def = task.def;
  return {
    schedule: "per_model",
    async evaluate(m, env) {
      const flat: LoglikelihoodRequest[] = docs.flatMap((d) => d.requests);
      const id = `${env.name}:${m.name}`;
      env.progress.start(id, `${env.name} · ${m.name}`, flat.length);
      const res = await env.store.cached<LoglikelihoodRequest, LoglikelihoodResult>(m.fingerprint(), "loglikelihood", flat, (missing) => m.loglikelihood(missing), {
        batchSize: 512,
        onProgress: (done) => env.progress.update(id, done),
      });
      env.progress.stop(id);
      let k = 0;
      const s = docs.map((d) => {
        const rs = d.requests.map(() => res[k++]);
        return scoreDoc(
          d,
          rs.map((r) => r.logprob),
          rs.map((r) => r.isGreedy),
          rs.some((r) => r.truncated),
          rs.map((r) => r.nTokens),
        );
      });
      const truncated = s.filter((x) => x.truncated).length;
      if (truncated > 0) env.warn(`${env.name}: ${truncated} of ${s.length} requests for '${m.name}' exceeded the context window and were cut from the left, as lm-eval does`);
      const samples = docs.map(
        (d, i): SampleRow => ({
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
        }),
      );
      return { results: { ...aggregateMultipleChoice(def, docs, s) }, samples, state: s };
    },
    async compare(stored, env) {
      const { results, samples } = collectStored(stored, env);
      const base = stored.get(env.baseline).state;
      const comparisons: TaskOutcome["comparisons"] = {};
      for (const v of env.variants) {
        const vs = stored.get(v).state;
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
            { seed: env.seed, resamples: env.bootstrap },
          );
        }
        comparisons[v] = perMetric;
      }
      // Normalization panel: does the ranking of models depend on the normalization?
      const panel =
        docs.length > 0 && docs[0].unconditional
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
          n: docs.length,
          prompts_hash: createHash("sha256")
            .update(docs.map((d) => d.prompt_hash).join(","))
            .digest("hex")
            .slice(0, 16),
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
        return prepared(resolved, task, await prepareDocs(resolved, env, task));
      },
    };
  },
};
