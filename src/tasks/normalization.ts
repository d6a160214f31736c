// The normalization panel: one multiple-choice task scored several ways from the same
// per-choice log-likelihoods, and a check of whether the ranking of models changes with the
// normalization (a quantized variant can look better under acc_norm and worse under acc).
//
//   acc              argmax ll
//   acc_norm_chars   argmax ll / characters of the choice (lm-eval's acc_norm: Python len, code points)
//   acc_norm_bytes   argmax ll / UTF-8 bytes of the choice
//   acc_norm_tokens  argmax ll / tokens of the scored continuation
//   acc_mutual_info  argmax ll(choice | context) − ll(choice | empty context) (lm-eval's PMI;
//                    the unconditional requests are ("", target_delimiter + choice))

/** The normalizations of the panel, in report order. */
export const NORMALIZATIONS = ["acc", "acc_norm_chars", "acc_norm_bytes", "acc_norm_tokens", "acc_mutual_info"] as const;
export type NormalizationName = (typeof NORMALIZATIONS)[number];

/** What one document's choices scored. */
export interface ChoiceEvidence {
  /** Log-likelihood of each choice given the context. */
  ll: number[];
  /** The choice texts whose length normalises (lm-eval: the choice without the delimiter). */
  choices: string[];
  /** Tokens scored per choice (the continuation's tokens); enables acc_norm_tokens. */
  tokens?: number[];
  /** Log-likelihood of each choice after an empty context; enables acc_mutual_info. */
  unconditional?: number[];
}

/** Characters as Python's len() counts them (code points, not UTF-16 units). */
export function charLength(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

export function byteLength(s: string): number {
  return Buffer.byteLength(s, "utf8");
}

/** First index of the maximum (numpy.argmax semantics). */
export function argmax(xs: number[]): number {
  let best = 0;
  for (let i = 1; i < xs.length; i++) if (xs[i] > xs[best]) best = i;
  return best;
}

/** The per-choice scores under one normalization, or undefined when the evidence lacks what it needs. */
export function normalizedScores(e: ChoiceEvidence, name: NormalizationName): number[] | undefined {
  switch (name) {
    case "acc":
      return e.ll;
    case "acc_norm_chars":
      return e.ll.map((ll, i) => ll / Math.max(1, charLength(e.choices[i])));
    case "acc_norm_bytes":
      return e.ll.map((ll, i) => ll / Math.max(1, byteLength(e.choices[i])));
    case "acc_norm_tokens":
      return e.tokens ? e.ll.map((ll, i) => ll / Math.max(1, e.tokens![i])) : undefined;
    case "acc_mutual_info":
      return e.unconditional ? e.ll.map((ll, i) => ll - e.unconditional![i]) : undefined;
  }
}

/** The predicted choice under every normalization the evidence supports. */
export function predictAll(e: ChoiceEvidence): Partial<Record<NormalizationName, number>> {
  const out: Partial<Record<NormalizationName, number>> = {};
  for (const name of NORMALIZATIONS) {
    const s = normalizedScores(e, name);
    if (s) out[name] = argmax(s);
  }
  return out;
}

/** Accuracy per normalization over documents (only normalizations every document supports). */
export function normalizationPanel(items: Array<{ gold: number; pred: Partial<Record<NormalizationName, number>> }>): Partial<Record<NormalizationName, number>> {
  const out: Partial<Record<NormalizationName, number>> = {};
  if (items.length === 0) return out;
  for (const name of NORMALIZATIONS) {
    if (!items.every((it) => it.pred[name] !== undefined)) continue;
    out[name] = items.filter((it) => it.pred[name] === it.gold).length / items.length;
  }
  return out;
}

export interface RankingReversal {
  normalization: NormalizationName;
  /** Better than `below` under `reference`… */
  above: string;
  /** …but worse under `normalization`. */
  below: string;
}

export interface RankingCheck {
  /** Models best first, per normalization (ties keep input order). */
  rankings: Partial<Record<NormalizationName, string[]>>;
  /** Pairs strictly ordered one way under the reference and strictly the other way under another normalization. */
  reversals: RankingReversal[];
  /** True when any normalization reverses a pair: the verdict depends on the normalization. */
  changed: boolean;
}

/**
 * Compares the ranking of models across normalizations. `scores[model][normalization]` are
 * accuracies; ties are not orderings, so only strict reversals against `reference` count.
 */
export function rankingChanges(scores: Record<string, Partial<Record<NormalizationName, number>>>, reference: NormalizationName = "acc"): RankingCheck {
  const modelsIn = Object.keys(scores);
  const rankings: RankingCheck["rankings"] = {};
  const reversals: RankingReversal[] = [];
  for (const name of NORMALIZATIONS) {
    const have = modelsIn.filter((m) => scores[m][name] !== undefined);
    if (have.length !== modelsIn.length) continue;
    rankings[name] = [...have].sort((a, b) => scores[b][name]! - scores[a][name]!);
  }
  if (!rankings[reference]) return { rankings, reversals, changed: false };
  for (const name of NORMALIZATIONS) {
    if (name === reference || !rankings[name]) continue;
    for (let i = 0; i < modelsIn.length; i++) {
      for (let j = 0; j < modelsIn.length; j++) {
        const a = modelsIn[i];
        const b = modelsIn[j];
        if (scores[a][reference]! > scores[b][reference]! && scores[a][name]! < scores[b][name]!) reversals.push({ normalization: name, above: a, below: b });
      }
    }
  }
  return { rankings, reversals, changed: reversals.length > 0 };
}
