// LLM-judge A/B: a judge model picks the better of the baseline's and a variant's answer to
// the same prompt ("A", "B", or "Even"). Every pair is judged in both orders to cancel position
// bias; unparseable verdicts are counted and reported, never dropped.
import type { Backend, GenerateRequest, GenerateResult } from "../../backends/backend.js";
import type { RunStore } from "../../store/runStore.js";
import { render } from "../template.js";

/** The judge prompt used when the config gives none. */
export const DEFAULT_JUDGE_PROMPT = [
  "You are comparing two answers to the same request.",
  "",
  "Request:",
  "{{question}}",
  "",
  "Answer A:",
  "{{answer_a}}",
  "",
  "Answer B:",
  "{{answer_b}}",
  "",
  "Which answer is better? Reply with exactly one word: A, B, or Even (if you cannot decide).",
  "Verdict:",
].join("\n");

export type Verdict = "A" | "B" | "Even";

/**
 * Reads a verdict from the judge's first non-empty line. Accepted (case-insensitive, after
 * stripping markdown emphasis, quotes, brackets and trailing punctuation, and an optional
 * "Verdict:", "Answer:", "Answer" or "The better answer is" prefix): "A", "B", "Even", "Tie",
 * "Equal", "A is better", "B is better". Anything else is unparseable (null): a story that
 * merely starts with the article "A" is not a verdict.
 */
export function parseVerdict(text: string): Verdict | null {
  const line = text
    .split("\n")
    .map((l) => l.trim())
    .find((l) => l.length > 0);
  if (!line) return null;
  let s = line.replace(/[*_`"'“”‘’()[\]]/g, "").trim();
  s = s.replace(/^(?:final\s+)?(?:verdict|answer|the better answer is|better answer|better)\s*[:\-–]?\s*/i, "").trim();
  s = s.replace(/[.!,;:]+$/, "").trim();
  const m = /^(a|b|even|tie|equal)(?:\s+is\s+better)?$/i.exec(s);
  if (!m) return null;
  const w = m[1].toLowerCase();
  if (w === "a") return "A";
  if (w === "b") return "B";
  return /is\s+better/i.test(s) ? null : "Even";
}

/**
 * The variant's score from one judgment: 1 = variant preferred, 0 = baseline preferred,
 * 0.5 = Even, null = unparseable. `order` "ab" shows the baseline as A and the variant as B;
 * "ba" shows the variant as A.
 */
export function variantScore(verdict: Verdict | null, order: "ab" | "ba"): number | null {
  if (verdict === null) return null;
  if (verdict === "Even") return 0.5;
  const variantLetter = order === "ab" ? "B" : "A";
  return verdict === variantLetter ? 1 : 0;
}

/** One (baseline output, variant output) pair judged in both orders. */
export interface PairJudgment {
  doc_id: number;
  /** Baseline shown as A, variant as B. */
  ab: { raw: string; verdict: Verdict | null; too_long?: true };
  /** Variant shown as A, baseline as B. */
  ba: { raw: string; verdict: Verdict | null; too_long?: true };
}

export interface JudgeSummary {
  judge: string;
  n_pairs: number;
  n_judgments: number;
  /** Judgments preferring the variant, the baseline, or neither. */
  wins: number;
  losses: number;
  evens: number;
  /** Judgments whose verdict could not be read (counted, never dropped). */
  unparseable: number;
  /** Judgments not run because the prompt did not fit the judge's context. */
  too_long: number;
  /** (wins + 0.5·evens) / parsed judgments; null when nothing parsed. */
  win_rate: number | null;
  /** |win_rate − 0.5|: 0 = indistinguishable from the baseline. */
  score: number | null;
  /** Among pairs with both verdicts parsed, the share where the two orders gave the variant different scores. */
  order_disagreement_rate: number | null;
  /** Among parsed A/B verdicts, the share that chose position A (position bias). */
  first_position_rate: number | null;
  unparseable_rate: number;
}

/** Win rate, |win rate − 0.5|, order disagreement and counts over judged pairs. */
export function summarizeJudgments(pairs: readonly PairJudgment[], judge: string): JudgeSummary {
  let wins = 0;
  let losses = 0;
  let evens = 0;
  let unparseable = 0;
  let tooLong = 0;
  let both = 0;
  let disagree = 0;
  let aPicks = 0;
  let abPicks = 0;
  for (const p of pairs) {
    const scores: Array<number | null> = [];
    for (const order of ["ab", "ba"] as const) {
      const j = p[order];
      if (j.too_long) {
        tooLong++;
        scores.push(null);
        continue;
      }
      const s = variantScore(j.verdict, order);
      scores.push(s);
      if (s === null) unparseable++;
      else if (s === 1) wins++;
      else if (s === 0) losses++;
      else evens++;
      if (j.verdict === "A" || j.verdict === "B") {
        abPicks++;
        if (j.verdict === "A") aPicks++;
      }
    }
    if (scores[0] !== null && scores[1] !== null) {
      both++;
      if (scores[0] !== scores[1]) disagree++;
    }
  }
  const parsed = wins + losses + evens;
  const winRate = parsed > 0 ? (wins + 0.5 * evens) / parsed : null;
  const judged = 2 * pairs.length - tooLong;
  return {
    judge,
    n_pairs: pairs.length,
    n_judgments: 2 * pairs.length,
    wins,
    losses,
    evens,
    unparseable,
    too_long: tooLong,
    win_rate: winRate,
    score: winRate === null ? null : Math.abs(winRate - 0.5),
    order_disagreement_rate: both > 0 ? disagree / both : null,
    first_position_rate: abPicks > 0 ? aPicks / abPicks : null,
    unparseable_rate: judged > 0 ? unparseable / judged : 0,
  };
}

/**
 * Per pair (prompt): the variant's summed score over its parsed verdicts and how many parsed, so
 * the win rate is Σscore / Σparsed and a bootstrap can resample whole prompts.
 */
export function judgeUnits(pairs: readonly PairJudgment[]): { num: number[]; den: number[] } {
  const num: number[] = [];
  const den: number[] = [];
  for (const p of pairs) {
    const scores = (["ab", "ba"] as const).flatMap((o) => (p[o].too_long ? [] : [variantScore(p[o].verdict, o)])).filter((s): s is number => s !== null);
    num.push(scores.reduce((a, b) => a + b, 0));
    den.push(scores.length);
  }
  return { num, den };
}

export interface JudgeRunOptions {
  judge: Backend;
  store: RunStore;
  /** The prompts, the baseline's outputs and the variant's outputs, paired by index. */
  docIds: readonly number[];
  questions: readonly string[];
  baseline: readonly string[];
  variant: readonly string[];
  template: string;
  maxTokens: number;
  chat: boolean;
  where: string;
  onProgress?: (done: number, total: number) => void;
}

/** The judge prompt for one order. */
export function judgePrompt(template: string, question: string, answerA: string, answerB: string, where: string): string {
  return render(template, { question, answer_a: answerA, answer_b: answerB }, where);
}

/**
 * Judges every pair in both orders with greedy decoding (stop at the first newline),
 * cached by the judge's fingerprint so a resumed run never asks twice.
 */
export async function judgePairs(o: JudgeRunOptions): Promise<PairJudgment[]> {
  const prompts: Array<{ i: number; order: "ab" | "ba"; prompt: string }> = [];
  o.questions.forEach((q, i) => {
    prompts.push({ i, order: "ab", prompt: judgePrompt(o.template, q, o.baseline[i], o.variant[i], o.where) });
    prompts.push({ i, order: "ba", prompt: judgePrompt(o.template, q, o.variant[i], o.baseline[i], o.where) });
  });
  const chatTemplate = (o.judge as { applyChatTemplate?: (t: string) => string }).applyChatTemplate;
  const fits = await Promise.all(
    prompts.map(async (p) => {
      const text = o.chat && chatTemplate ? chatTemplate.call(o.judge, p.prompt) : p.prompt;
      return (await o.judge.tokenize(text, true)).length + 1 < o.judge.contextLength();
    }),
  );
  const runnable = prompts.filter((_, k) => fits[k]);
  const requests: GenerateRequest[] = runnable.map((p) => ({ prompt: p.prompt, maxTokens: o.maxTokens, stop: ["\n\n"], ...(o.chat ? { chat: true } : {}) }));
  const answers = await o.store.cached<GenerateRequest, GenerateResult>(o.judge.fingerprint(), "generate", requests, (missing) => o.judge.generate(missing), {
    batchSize: 64,
    onProgress: o.onProgress,
  });
  const byKey = new Map<string, string>();
  runnable.forEach((p, k) => byKey.set(`${p.i}:${p.order}`, answers[k].text));
  return o.questions.map((_, i) => {
    const side = (order: "ab" | "ba"): PairJudgment["ab"] => {
      const raw = byKey.get(`${i}:${order}`);
      return raw === undefined ? { raw: "", verdict: null, too_long: true } : { raw, verdict: parseVerdict(raw) };
    };
    return { doc_id: o.docIds[i], ab: side("ab"), ba: side("ba") };
  });
}
