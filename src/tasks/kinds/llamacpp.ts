// llama.cpp's HellaSwag and Winogrande scoring modes (llama-perplexity --hellaswag /
// --winogrande), with per-task cached scores, for cross-checks with llama.cpp. Evaluated in
// chunks of tasks (llamacppChunks.ts), compared from per-task correctness columns.
import { z } from "zod";
import type { Backend } from "../../backends/backend.js";
import { comparePaired } from "../../compare/pairedComparison.js";
import type { TaskOutcome } from "../../run/taskContext.js";
import { taskManifest } from "../../run/taskManifest.js";
import { type LlamacppPrepared, prepareLlamacpp } from "../llamacpp/data.js";
import { decodeCorrect, type EncodedCorrect, encodeCorrect } from "../llamacpp/correctColumn.js";
import { wilson95 } from "../llamacpp/hellaswag.js";
import type { LlamacppTask } from "../taskDefinition.js";
import type { LoadedTask } from "../taskRegistry.js";
import { data, limit, name, task } from "./entryKeys.js";
import { llamacppEvaluator } from "./llamacppChunks.js";
import { type ChunkedEvaluation, type ChunkSink, type EvaluateEnv, evaluateWhole, type PreparedTask, type TaskKind } from "./taskKind.js";
import { collectStored, definitionOf } from "./yamlKind.js";

/** Every key a llama.cpp-mode entry accepts. */
export const llamacppEntry = z.object({ task, name, limit, data }).strict();

/** A model's stored state: per-task correctness (a column; a boolean array in stores written before it). */
type State = EncodedCorrect | boolean[];

function prepared(task: LoadedTask<LlamacppTask>, prep: LlamacppPrepared): PreparedTask<State> {
  const def = task.def;
  const metric = def.type === "llamacpp_hellaswag" ? "acc_norm" : "acc";
  const evaluateTasks = llamacppEvaluator(prep, def.type);
  const evaluateInChunks = async (m: Backend, env: EvaluateEnv, chunks: ChunkSink): Promise<ChunkedEvaluation<State>> => {
    const { correct, approximated } = await evaluateTasks(m, env, chunks);
    if (approximated > 0) env.warn(`${env.name}: for ${approximated} tasks '${m.name}' would read another task's logits in llama.cpp (undefined behaviour there); the task's own logits were used`);
    const n = correct.length;
    const k = correct.reduce((s, c) => s + c, 0);
    const p = k / n;
    return { results: { [metric]: p, [`${metric}_stderr`]: n > 1 ? Math.sqrt((p * (1 - p)) / (n - 1)) : 0, [`${metric}_ci95`]: wilson95(k, n), n }, state: encodeCorrect(correct) };
  };
  return {
    schedule: "per_model",
    evaluateInChunks,
    evaluate: (m, env) => evaluateWhole((chunks) => evaluateInChunks(m, env, chunks)),
    async compare(stored, env) {
      const { results, samples } = collectStored(stored, env);
      const base = decodeCorrect(stored.get(env.baseline).state);
      const comparisons: TaskOutcome["comparisons"] = {};
      for (const v of env.variants) {
        comparisons[v] = { [metric]: comparePaired({ metric, baselineCorrect: base, variantCorrect: decodeCorrect(stored.get(v).state) }, { seed: env.seed, resamples: env.bootstrap }) };
      }
      return {
        type: def.type,
        results,
        comparisons,
        samples,
        manifest: {
          ...taskManifest(task),
          data_file: prep.path,
          data_sha256: prep.sha256,
          n: base.length,
          selection: "llama.cpp: std::mt19937(1), libstdc++ uniform_int_distribution (HellaSwag) / float scaling (Winogrande)",
        },
      };
    },
  };
}

function llamacppKind(type: LlamacppTask["type"], description: string, metric: string): TaskKind {
  return {
    name: type,
    claims: { yamlType: type },
    description,
    metrics: () => [metric],
    dataHint: "llama.cpp's own data file (data_file under the data dir, or 'data')",
    configure(raw, ctx) {
      const t = definitionOf(ctx, type) as LoadedTask<LlamacppTask>;
      const parsed = ctx.parse(llamacppEntry, raw);
      const entry = { ...parsed, ...(parsed.data ? { data: ctx.paths.data(parsed.data) } : {}) };
      return {
        kind: type,
        entry,
        definition: t,
        async prepare(env) {
          const prep = prepareLlamacpp({ dataDir: env.dataDir, limit: env.limit, spec: entry, name: env.name }, t);
          const realSkips = prep.skipped.filter((s) => s.line !== 1);
          if (realSkips.length > 0) env.warn(`${env.name}: ${realSkips.length} lines of ${prep.path} skipped as llama.cpp skips them (first: line ${realSkips[0].line}, ${realSkips[0].reason})`);
          return prepared(t, prep);
        },
      };
    },
  };
}

/** llama-perplexity --hellaswag: acc_norm over llama.cpp's 6-lines-per-task file. */
export const llamacppHellaswagKind = llamacppKind("llamacpp_hellaswag", "llama-perplexity --hellaswag over its 6-lines-per-task text file; acc_norm as llama.cpp reports it", "acc_norm");
/** llama-perplexity --winogrande: acc over llama.cpp's CSV file. */
export const llamacppWinograndeKind = llamacppKind("llamacpp_winogrande", "llama-perplexity --winogrande over its CSV file; acc as llama.cpp reports it", "acc");
