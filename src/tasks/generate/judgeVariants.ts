// The LLM judge's A/B verdicts of each variant against the baseline, both orders.
import { createHash } from "node:crypto";
import type { TaskOutcome } from "../../run/taskContext.js";
import type { CompareEnv } from "../kinds/taskKind.js";
import type { GenerateItem } from "./dataset.js";
import { pairedRatioDeltas } from "../../compare/ratioBootstrap.js";
import { DEFAULT_JUDGE_PROMPT, judgePairs, judgeUnits, summarizeJudgments, type PairJudgment } from "./judge.js";
import type { JudgeHandle } from "./judgeModel.js";
import type { ModelOutputs } from "./requests.js";
import type { GenerateTaskSpec } from "./spec.js";

/**
 * Judges every variant; adds the judge's summary to `comparisons`, and to `comparisons[v].paired`
 * the win rate's paired CI (bootstrap over prompts, against 0.5 = even); returns the judgments per variant and the report's table. */
export async function judgeVariants(
  handle: JudgeHandle,
  spec: GenerateTaskSpec,
  items: GenerateItem[],
  outputs: Map<string, ModelOutputs>,
  env: CompareEnv,
  comparisons: TaskOutcome["comparisons"],
  where: string,
): Promise<{ judgments: Map<string, PairJudgment[]>; extra: Record<string, unknown> & { prompt_sha256: string } }> {
  const judge = handle.judge;
  const template = spec.judge!.prompt ?? DEFAULT_JUDGE_PROMPT;
  const base = outputs.get(env.baseline)!;
  const judgments = new Map<string, PairJudgment[]>();
  const rows: Array<Record<string, unknown>> = [];
  for (const v of env.variants) {
    const id = `${env.name}:judge:${v}`;
    env.progress.start(id, `${env.name} · judge ${v}`, 2 * items.length);
    const pairs = await judgePairs({
      judge,
      store: env.store,
      docIds: items.map((it) => it.doc_id),
      questions: items.map((it) => it.prompt),
      baseline: base.clean.map((g) => g.text),
      variant: outputs.get(v)!.clean.map((g) => g.text),
      template,
      maxTokens: spec.judge!.max_tokens,
      chat: spec.judge!.chat,
      where: `${where}: judge.prompt`,
      onProgress: (d) => env.progress.update(id, d),
    });
    env.progress.stop(id);
    judgments.set(v, pairs);
    const s = summarizeJudgments(pairs, judge.name);
    Object.assign(comparisons[v], { judge: s, judge_win_rate: s.win_rate, judge_score: s.score });
    rows.push({ variant: v, ...s });
  }
  const paired = pairedRatioDeltas(new Map([...judgments].map(([v, p]) => [v, judgeUnits(p)])), 0.5, { seed: env.seed, resamples: env.bootstrap, noiseFloor: env.noiseFloorName });
  for (const [v, p] of Object.entries(paired)) comparisons[v].paired = { ...(comparisons[v].paired as object | undefined), judge_win_rate: p };
  return { judgments, extra: { judge: judge.name, prompt_sha256: createHash("sha256").update(template).digest("hex"), rows } };
}
