// Runs llama.cpp's HellaSwag and Winogrande scoring modes (llama-perplexity --hellaswag /
// --winogrande) on every model, with per-task cached scores, for cross-checks with llama.cpp.
import { comparePaired } from "../compare/pairedComparison.js";
import { prepareLlamacpp } from "../tasks/llamacpp/data.js";
import { type HellaswagItem, scoreHellaswag, wilson95 } from "../tasks/llamacpp/hellaswag.js";
import { scoreWinogrande, type WinograndeItem } from "../tasks/llamacpp/winogrande.js";
import type { LlamacppTask } from "../tasks/taskDefinition.js";
import type { SampleRow, TaskOutcome, TaskRunContext } from "./taskContext.js";
import { taskManifest } from "./taskManifest.js";

interface PerModel {
  correct: boolean[];
  rows: SampleRow[];
  approximated: number;
}

export async function runLlamacppTask(ctx: TaskRunContext, task: { def: LlamacppTask; file: string; text: string }): Promise<TaskOutcome> {
  const def = task.def;
  const prep = prepareLlamacpp(ctx, task);
  const metric = def.type === "llamacpp_hellaswag" ? "acc_norm" : "acc";
  const realSkips = prep.skipped.filter((s) => s.line !== 1);
  if (realSkips.length > 0) ctx.warn(`${ctx.name}: ${realSkips.length} lines of ${prep.path} skipped as llama.cpp skips them (first: line ${realSkips[0].line}, ${realSkips[0].reason})`);
  const results: TaskOutcome["results"] = {};
  const samples: TaskOutcome["samples"] = {};
  const per = new Map<string, PerModel>();
  for (const m of [ctx.baseline, ...ctx.variants]) {
    const id = `${ctx.name}:${m.name}`;
    let pm: PerModel;
    if (prep.hellaswag) {
      const items = prep.hellaswag;
      ctx.progress.start(id, `${ctx.name} · ${m.name}`, items.length);
      const res = await ctx.store.cached<HellaswagItem, { scores: number[]; n_tokens: number[] }>(
        m.fingerprint(),
        "llamacpp_hellaswag",
        items.map((it) => ({ ...it, index: 0, gold: 0 })),
        async (missing) => (await scoreHellaswag(m, missing, prep.path)).map((s) => ({ scores: s.scores, n_tokens: s.n_tokens })),
        { batchSize: 32, onProgress: (done) => ctx.progress.update(id, done) },
      );
      ctx.progress.stop(id);
      pm = { correct: [], rows: [], approximated: 0 };
      res.forEach((r, i) => {
        let pred = 0;
        for (let s = 1; s < r.scores.length; s++) if (r.scores[s] > r.scores[pred]) pred = s;
        const it = items[i];
        pm.correct.push(pred === it.gold);
        pm.rows.push({ doc_id: it.index, context: it.context, choices: it.endings, scores: r.scores, n_tokens: r.n_tokens, pred, gold: it.gold, correct: pred === it.gold });
      });
    } else {
      const items = prep.winogrande!;
      ctx.progress.start(id, `${ctx.name} · ${m.name}`, items.length);
      const res = await ctx.store.cached<WinograndeItem, { score1: number; score2: number; approximated: boolean }>(
        m.fingerprint(),
        "llamacpp_winogrande",
        items.map((it) => ({ ...it, line: 0, answer: 0 })),
        async (missing) => (await scoreWinogrande(m, missing)).map((s) => ({ score1: s.score1, score2: s.score2, approximated: s.approximated })),
        { batchSize: 64, onProgress: (done) => ctx.progress.update(id, done) },
      );
      ctx.progress.stop(id);
      pm = { correct: [], rows: [], approximated: res.filter((r) => r.approximated).length };
      res.forEach((r, i) => {
        const it = items[i];
        const pred = r.score1 > r.score2 ? 1 : 2;
        pm.correct.push(pred === it.answer);
        pm.rows.push({ doc_id: it.line, sentence: `${it.first}_${it.second}`, choices: it.choices, scores: [r.score1, r.score2], pred, gold: it.answer, correct: pred === it.answer });
      });
      if (pm.approximated > 0) ctx.warn(`${ctx.name}: for ${pm.approximated} tasks '${m.name}' would read another task's logits in llama.cpp (undefined behaviour there); the task's own logits were used`);
    }
    per.set(m.name, pm);
    const n = pm.correct.length;
    const k = pm.correct.filter(Boolean).length;
    const p = k / n;
    results[m.name] = { [metric]: p, [`${metric}_stderr`]: n > 1 ? Math.sqrt((p * (1 - p)) / (n - 1)) : 0, [`${metric}_ci95`]: wilson95(k, n), n };
    samples[m.name] = pm.rows;
  }
  const base = per.get(ctx.baseline.name)!;
  const comparisons: TaskOutcome["comparisons"] = {};
  for (const v of ctx.variants) {
    comparisons[v.name] = { [metric]: comparePaired({ metric, baselineCorrect: base.correct, variantCorrect: per.get(v.name)!.correct }, { seed: ctx.seed, resamples: ctx.bootstrap }) };
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
      n: base.correct.length,
      selection: "llama.cpp: std::mt19937(1), libstdc++ uniform_int_distribution (HellaSwag) / float scaling (Winogrande)",
    },
  };
}
