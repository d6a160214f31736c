// Exact-match variants for generated answers. Each variant is a separately named metric so a
// report always says which normalization produced a number ("exact_match_quasi", not "EM").

/** The exact-match metric names, in the order reports should list them. */
export const EXACT_MATCH_METRICS = ["exact_match", "exact_match_prefix", "exact_match_suffix", "exact_match_quasi"] as const;

/** One of the exact-match metric names. */
export type ExactMatchMetric = (typeof EXACT_MATCH_METRICS)[number];

/** Scores of every exact-match variant for one (prediction, reference) pair: 1 = match, 0 = no match. */
export type ExactMatchScores = Record<ExactMatchMetric, 0 | 1>;

// Python's string.punctuation, which SQuAD's normalize_answer strips (ASCII only, on purpose:
// numbers stay comparable with SQuAD/HELM "quasi exact match").
const ASCII_PUNCTUATION = /[!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]/g;
// SQuAD uses \b(a|an|the)\b with Python's Unicode-aware \b; JavaScript's \b is ASCII-only even
// with the u flag, so spell the word boundary out with Unicode classes.
const ARTICLES = /(?<![\p{L}\p{M}\p{N}_])(?:a|an|the)(?![\p{L}\p{M}\p{N}_])/gu;

/**
 * SQuAD-style answer normalization (`normalize_answer` of the SQuAD v1.1/v2.0 scripts):
 * lower-case, strip ASCII punctuation, replace the articles "a", "an", "the" with a space,
 * then collapse runs of whitespace to one space and trim.
 */
export function normalizeQuasi(s: string): string {
  const lowered = s.toLowerCase();
  const noPunct = lowered.replace(ASCII_PUNCTUATION, "");
  const noArticles = noPunct.replace(ARTICLES, " ");
  return noArticles
    .split(/\s+/u)
    .filter((t) => t.length > 0)
    .join(" ");
}

/** `exact_match`: the prediction and reference are the same string, with no normalization at all. */
export function exactMatch(prediction: string, reference: string): boolean {
  return prediction === reference;
}

/**
 * `exact_match_prefix`: after trimming surrounding whitespace from both, the prediction starts
 * with the reference. An empty (or all-whitespace) reference only matches an empty prediction.
 */
export function exactMatchPrefix(prediction: string, reference: string): boolean {
  const p = prediction.trim();
  const r = reference.trim();
  return r.length === 0 ? p.length === 0 : p.startsWith(r);
}

/**
 * `exact_match_suffix`: after trimming surrounding whitespace from both, the prediction ends
 * with the reference. An empty (or all-whitespace) reference only matches an empty prediction.
 */
export function exactMatchSuffix(prediction: string, reference: string): boolean {
  const p = prediction.trim();
  const r = reference.trim();
  return r.length === 0 ? p.length === 0 : p.endsWith(r);
}

/** `exact_match_quasi`: the prediction and reference are equal after {@link normalizeQuasi}. */
export function exactMatchQuasi(prediction: string, reference: string): boolean {
  return normalizeQuasi(prediction) === normalizeQuasi(reference);
}

/** All four exact-match variants for one (prediction, reference) pair, as 0/1 so they average into rates. */
export function exactMatchScores(prediction: string, reference: string): ExactMatchScores {
  const b = (x: boolean): 0 | 1 => (x ? 1 : 0);
  return {
    exact_match: b(exactMatch(prediction, reference)),
    exact_match_prefix: b(exactMatchPrefix(prediction, reference)),
    exact_match_suffix: b(exactMatchSuffix(prediction, reference)),
    exact_match_quasi: b(exactMatchQuasi(prediction, reference)),
  };
}
