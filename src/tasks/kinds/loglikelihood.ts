// lm-eval's loglikelihood output type (lambada_openai): one continuation per document;
// acc = the continuation is the greedy decode, ppl over documents.
import { createHash } from "node:crypto";
import { z } from "zod";
import type { LoglikelihoodRequest, LoglikelihoodResult } from "../../backends/backend.js";
import { comparePaired } from "../../compare/pairedComparison.js";
import type { SampleRow, TaskOutcome } from "../../run/taskContext.js";
import { taskManifest } from "../../run/taskManifest.js";
import { aggregateLoglikelihood, type LoglikelihoodDoc, prepareLoglikelihood } from "../loglikelihood.js";
import type { LoglikelihoodTask } from "../taskDefinition.js";
import type { LoadedTask } from "../taskRegistry.js";
import { yamlEntryKeys } from "./entryKeys.js";
import { prepareOptions } from "./prepareOptions.js";
import type { PreparedTask, TaskKind } from "./taskKind.js";
import { collectStored, definitionOf } from "./yamlKind.js";

/** Every key a loglikelihood entry accepts (num_fewshot is refused with lm-eval's reason). */
export const loglikelihoodEntry = z.object(yamlEntryKeys).strict();

type Entry = z.infer<typeof loglikelihoodEntry>;

function prepared(task: LoadedTask<LoglikelihoodTask>, docs: LoglikelihoodDoc[]): PreparedTask<LoglikelihoodResult[]> {
  const def = task.def;
  const requests = docs.map((d) => d.request);
  return {
    schedule: "per_model",
    async evaluate(m, env) {
      const id = `${env.name}:${m.name}`;
      env.progress.start(id, `${env.name} · ${m.name}`, requests.length);
      const res = await env.store.cached<LoglikelihoodRequest, LoglikelihoodResult>(m.fingerprint(), "loglikelihood", requests, (missing) => m.loglikelihood(missing), {
        batchSize: 512,
        onProgress: (done) => env.progress.update(id, done),
      });
      env.progress.stop(id);
      const agg = aggregateLoglikelihood(def, res);
      if (agg.truncated > 0) env.warn(`${env.name}: ${agg.truncated} of ${res.length} requests for '${m.name}' exceeded the context window and were cut from the left, as lm-eval does`);
      const samples = docs.map(
        (d, i): SampleRow => ({
          doc_id: d.doc_id,
          context: d.request.context,
          continuation: d.request.continuation,
          logprob: res[i].logprob,
          is_greedy: res[i].isGreedy,
          n_tokens: res[i].nTokens,
          truncated: res[i].truncated,
          prompt_hash: d.prompt_hash,
        }),
      );
      return { results: { ...agg }, samples, state: res };
    },
    async compare(stored, env) {
      const { results, samples } = collectStored(stored, env);
      const base = stored.get(env.baseline).state;
      const baseAgg = results[env.baseline] as { ppl?: number };
      const comparisons: TaskOutcome["comparisons"] = {};
      for (const v of env.variants) {
        const vr = stored.get(v).state;
        const perMetric: Record<string, unknown> = {};
        if (def.metrics.includes("acc")) {
          perMetric.acc = comparePaired({ metric: "acc", baselineCorrect: base.map((r) => r.isGreedy), variantCorrect: vr.map((r) => r.isGreedy) }, { seed: env.seed, resamples: env.bootstrap });
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
        return prepared(task, await prepareLoglikelihood(task.def, prepareOptions(entry, env, task.file)));
      },
    };
  },
};
