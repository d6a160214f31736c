// llama.cpp's HellaSwag and Winogrande scoring modes (llama-perplexity --hellaswag /
// --winogrande), with per-task cached scores, for cross-checks with llama.cpp.
import { z } from "zod";
import type { Backend } from "../../backends/backend.js";
import { comparePaired } from "../../compare/pairedComparison.js";
import type { SampleRow, TaskOutcome } from "../../run/taskContext.js";
import { taskManifest } from "../../run/taskManifest.js";
import { type LlamacppPrepared, prepareLlamacpp } from "../llamacpp/data.js";
import { type HellaswagItem, scoreHellaswag, wilson95 } from "../llamacpp/hellaswag.js";
import { scoreWinogrande, type WinograndeItem } from "../llamacpp/winogrande.js";
import type { LlamacppTask } from "../taskDefinition.js";
import type { LoadedTask } from "../taskRegistry.js";
import { data, limit, name, task } from "./entryKeys.js";
import type { EvaluateEnv, ModelEvaluation, PreparedTask, TaskKind } from "./taskKind.js";
import { collectStored, definitionOf } from "./yamlKind.js";

/** Every key a llama.cpp-mode entry accepts. */
export const llamacppEntry = z.object({ task, name, limit, data }).strict();

type Scored = ModelEvaluation<boolean[]>;

async function evaluateHellaswag(m: Backend, prep: LlamacppPrepared, env: EvaluateEnv): Promise<Scored> {
  const items = prep.hellaswag!;
  const id = `${env.name}:${m.name}`;
  env.progress.start(id, `${env.name} · ${m.name}`, items.length);
  const res = await env.store.cached<HellaswagItem, { scores: number[]; n_tokens: number[] }>(
    m.fingerprint(),
    "llamacpp_hellaswag",
    items.map((it) => ({ ...it, index: 0, gold: 0 })),
    async (missing) => (await scoreHellaswag(m, missing, prep.path)).map((s) => ({ scores: s.scores, n_tokens: s.n_tokens })),
    { batchSize: 32, onProgress: (done) => env.progress.update(id, done) },
  );
  env.progress.stop(id);
  const correct: boolean[] = [];
  const samples: SampleRow[] = [];
  res.forEach((r, i) => {
    let pred = 0;
    for (let s = 1; s < r.scores.length; s++) if (r.scores[s] > r.scores[pred]) pred = s;
    const it = items[i];
    correct.push(pred === it.gold);
    samples.push({ doc_id: it.index, context: it.context, choices: it.endings, scores: r.scores, n_tokens: r.n_tokens, pred, gold: it.gold, correct: pred === it.gold });
  });
  return { results: {}, samples, state: correct };
}

async function evaluateWinogrande(m: Backend, prep: LlamacppPrepared, env: EvaluateEnv): Promise<Scored> {
  const items = prep.winogrande!;
  const id = `${env.name}:${m.name}`;
  env.progress.start(id, `${env.name} · ${m.name}`, items.length);
  const res = await env.store.cached<WinograndeItem, { score1: number; score2: number; approximated: boolean }>(
    m.fingerprint(),
    "llamacpp_winogrande",
    items.map((it) => ({ ...it, line: 0, answer: 0 })),
    async (missing) => (await scoreWinogrande(m, missing)).map((s) => ({ score1: s.score1, score2: s.score2, approximated: s.approximated })),
    { batchSize: 64, onProgress: (done) => env.progress.update(id, done) },
  );
  env.progress.stop(id);
  const approximated = res.filter((r) => r.approximated).length;
  const correct: boolean[] = [];
  const samples: SampleRow[] = [];
  res.forEach((r, i) => {
    const it = items[i];
    const pred = r.score1 > r.score2 ? 1 : 2;
    correct.push(pred === it.answer);
    samples.push({ doc_id: it.line, sentence: `${it.first}_${it.second}`, choices: it.choices, scores: [r.score1, r.score2], pred, gold: it.answer, correct: pred === it.answer });
  });
  if (approximated > 0) env.warn(`${env.name}: for ${approximated} tasks '${m.name}' would read another task's logits in llama.cpp (undefined behaviour there); the task's own logits were used`);
  return { results: {}, samples, state: correct };
}

function prepared(task: LoadedTask<LlamacppTask>, prep: LlamacppPrepared): PreparedTask<boolean[]> {
  const def = task.def;
  const metric = def.type === "llamacpp_hellaswag" ? "acc_norm" : "acc";
  return {
    schedule: "per_model",
    async evaluate(m, env) {
      const scored = prep.hellaswag ? await evaluateHellaswag(m, prep, env) : await evaluateWinogrande(m, prep, env);
      const n = scored.state.length;
      const k = scored.state.filter(Boolean).length;
      const p = k / n;
      return { ...scored, results: { [metric]: p, [`${metric}_stderr`]: n > 1 ? Math.sqrt((p * (1 - p)) / (n - 1)) : 0, [`${metric}_ci95`]: wilson95(k, n), n } };
    },
    async compare(stored, env) {
      const { results, samples } = collectStored(stored, env);
      const base = stored.get(env.baseline).state;
      const comparisons: TaskOutcome["comparisons"] = {};
      for (const v of env.variants) {
        comparisons[v] = { [metric]: comparePaired({ metric, baselineCorrect: base, variantCorrect: stored.get(v).state }, { seed: env.seed, resamples: env.bootstrap }) };
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
