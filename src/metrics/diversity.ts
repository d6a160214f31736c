// Diversity and length statistics over a set of generated outputs (one model's outputs for a
// prompt set). Quantized models often collapse into repetition or get terser; these catch that.
// Every function returns NaN when there is nothing to measure (NaN serializes to JSON null).

/** Lower-cased whitespace tokens of one output, as the distinct-n metrics count them. */
export function diversityTokens(text: string): string[] {
  return text
    .toLowerCase()
    .split(/\s+/u)
    .filter((t) => t.length > 0);
}

/**
 * distinct-n (Li et al., 2016): unique n-grams / total n-grams, pooled over all outputs.
 * N-grams never span two outputs. Tokens are {@link diversityTokens}. NaN if no output has n tokens.
 */
export function distinctN(outputs: readonly string[], n: number): number {
  return distinctNOver(outputs, n)(outputs.keys());
}

/**
 * distinct-n of any selection of `outputs`, repeats allowed (e.g. a bootstrap resample of
 * prompts): `distinctNOver(outputs, n)(idx)` equals `distinctN(idx.map((i) => outputs[i]), n)`.
 * Each output is tokenized once, its n-grams numbered; a selection then only merges the numbers
 * (a repeated output adds its n-gram count again, no new unique n-gram).
 */
export function distinctNOver(outputs: readonly string[], n: number): (idx: Iterable<number>) => number {
  if (!Number.isInteger(n) || n < 1) throw new Error(`distinctN: n must be a positive integer, got ${n}`);
  const ids = new Map<string, number>();
  const perOutput = outputs.map((out) => {
    const toks = diversityTokens(out);
    const grams = new Set<number>();
    let total = 0;
    for (let i = 0; i + n <= toks.length; i++) {
      // Tokens contain no whitespace, so a space joins them unambiguously.
      const gram = toks.slice(i, i + n).join(" ");
      let id = ids.get(gram);
      if (id === undefined) ids.set(gram, (id = ids.size));
      grams.add(id);
      total++;
    }
    return { grams: Uint32Array.from(grams), total };
  });
  // seenIn[id] === call: n-gram id already counted in this call (no clearing between calls).
  const seenIn = new Float64Array(ids.size);
  let call = 0;
  return (idx) => {
    call++;
    let unique = 0;
    let total = 0;
    for (const i of idx) {
      const o = perOutput[i];
      total += o.total;
      for (const g of o.grams) {
        if (seenIn[g] === call) continue;
        seenIn[g] = call;
        unique++;
      }
    }
    return total === 0 ? NaN : unique / total;
  };
}

/** distinct-1, distinct-2 and distinct-3 of a set of outputs; see {@link distinctN}. */
export function distinct123(outputs: readonly string[]): { distinct_1: number; distinct_2: number; distinct_3: number } {
  return { distinct_1: distinctN(outputs, 1), distinct_2: distinctN(outputs, 2), distinct_3: distinctN(outputs, 3) };
}

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

function codePoints(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}
