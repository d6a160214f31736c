// Can this task detect a loss at all? A task whose baseline is not above chance, or that
// predicts one class for nearly every item, shows "no significant loss" for any variant — not
// because the variant is good but because the task cannot see. The verdict must not take such
// a task as evidence of "no loss".
import { accuracyMde, binomialUpperTailP } from "./binomialTest.js";

/** The share of items predicted as one class above which a task is not informative. */
export const ONE_CLASS_SHARE = 0.95;

/** Facts about the baseline on one accuracy task, stored in results.json under `tasks.T.extra.baseline_check`. */
export interface BaselineCheck {
  n: number;
  /** Mean number of choices per item (null when the task has no choices, e.g. loglikelihood). */
  n_choices: number | null;
  /** Items the baseline got right (the `correct` flag of its samples). */
  correct: number;
  /** 1 / n_choices, averaged over items. */
  chance: number | null;
  /** Exact one-sided binomial p of "the baseline is above chance". */
  p_above_chance: number | null;
  /** The class the baseline predicts most, and on what share of the items. */
  majority_pred: number | null;
  majority_share: number | null;
  /** Minimum detectable change of the accuracy at 80% power (two-sided α = 0.05). */
  mde: number;
  informative: boolean;
  /** Why not informative, in plain words (empty when informative). */
  reasons: string[];
}

/**
 * Checks the baseline's samples of an accuracy task (rows with `correct` or `is_greedy`, and
 * `pred`/`choices` for choice tasks; without choices there is no chance level to test against). With items of differing choice counts the chance level is the mean of
 * 1/n_choices — the expected share right when guessing uniformly.
 */
export function checkBaseline(samples: ReadonlyArray<Record<string, unknown>>): BaselineCheck {
  const n = samples.length;
  // Choice tasks record `correct`; loglikelihood tasks (lambada) record `is_greedy` as theirs.
  const correct = samples.filter((s) => (s.correct ?? s.is_greedy) === true).length;
  const choiceCounts = samples.map((s) => (Array.isArray(s.choices) ? s.choices.length : 0));
  const hasChoices = n > 0 && choiceCounts.every((c) => c >= 2);
  const chance = hasChoices ? choiceCounts.reduce((a, c) => a + 1 / c, 0) / n : null;
  const pAbove = chance !== null ? binomialUpperTailP(correct, n, chance) : null;
  const counts = new Map<number, number>();
  for (const s of samples) if (typeof s.pred === "number") counts.set(s.pred, (counts.get(s.pred) ?? 0) + 1);
  const top = [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0];
  const majorityShare = top && hasChoices ? top[1] / n : null;
  const reasons: string[] = [];
  if (n === 0) reasons.push("no items");
  if (pAbove !== null && pAbove >= 0.05) {
    reasons.push(`baseline not above chance (${correct}/${n} = ${(correct / n).toFixed(3)} vs chance ${chance!.toFixed(3)}, exact binomial p = ${pAbove.toPrecision(2)})`);
  }
  if (majorityShare !== null && majorityShare >= ONE_CLASS_SHARE) {
    reasons.push(`baseline predicts choice ${top![0]} for ${(100 * majorityShare).toFixed(0)}% of items`);
  }
  return {
    n,
    n_choices: hasChoices ? choiceCounts.reduce((a, c) => a + c, 0) / n : null,
    correct,
    chance,
    p_above_chance: pAbove,
    majority_pred: top && hasChoices ? top[0] : null,
    majority_share: majorityShare,
    mde: accuracyMde(n > 0 ? correct / n : 0, n),
    informative: reasons.length === 0,
    reasons,
  };
}
