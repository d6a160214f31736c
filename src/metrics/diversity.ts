// Diversity and length statistics over a set of generated outputs (one model's outputs for a
// prompt set). Quantized models often collapse into repetition or get terser; these catch that.
// distinct-n is in distinctN.ts. Every function returns NaN when there is nothing to measure (NaN serializes to JSON null).

/**
 * Sentences of one output: split after '.', '!' or '?' followed by whitespace, and at newlines;
 * each sentence is trimmed with inner whitespace collapsed, and empty pieces are dropped.
 */
export function splitSentences(text: string): string[] {
  return text
    .split(/(?<=[.!?])\s+|\n+/u)
    .map((s) => s.replace(/\s+/gu, " ").trim())
    .filter((s) => s.length > 0);
}

/**
 * Unique sentences / all sentences, pooled over all outputs (sentences from
 * {@link splitSentences}, compared exactly). 1 means no sentence repeats anywhere. NaN if there are no sentences.
 */
export function uniqueSentenceRatio(outputs: readonly string[]): number {
  const seen = new Set<string>();
  let total = 0;
  for (const out of outputs) {
    for (const s of splitSentences(out)) {
      seen.add(s);
      total++;
    }
  }
  return total === 0 ? NaN : seen.size / total;
}

/**
 * Mean over items of (variant length / baseline length), lengths in Unicode code points.
 * The two arrays are paired by index and must be equally long. Items whose baseline output is
 * empty are left out (the ratio is undefined); NaN if no item remains.
 */
export function meanLengthRatio(variantOutputs: readonly string[], baselineOutputs: readonly string[]): number {
  if (variantOutputs.length !== baselineOutputs.length) {
    throw new Error(`meanLengthRatio: ${variantOutputs.length} variant outputs but ${baselineOutputs.length} baseline outputs`);
  }
  let sum = 0;
  let n = 0;
  for (let i = 0; i < variantOutputs.length; i++) {
    const base = codePoints(baselineOutputs[i]);
    if (base === 0) continue;
    sum += codePoints(variantOutputs[i]) / base;
    n++;
  }
  return n === 0 ? NaN : sum / n;
}

/** Length of `s` in Unicode code points. */
export function codePoints(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}
