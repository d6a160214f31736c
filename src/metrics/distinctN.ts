// distinct-n (Li et al., 2016) over a model's outputs, counted on numbers rather than strings so a
// large task's outputs cost a few bytes a token (issue 14: memory flat in the dataset size).
// Each distinct token gets a number (its first appearance); an n-gram is then the number
// t₁·Vⁿ⁻¹ + … + tₙ (V = distinct tokens), a bijection between n-grams and numbers as long as
// Vⁿ < 2⁵³ (every number below it is exact in a double), so two n-grams get one number exactly
// when they are equal: the counts are those of the n-gram strings, with no collision at all. Past
// that (V ≥ 94.9 million for bigrams, 208,064 for trigrams) an n-gram is keyed by its token numbers
// joined, still exact.

/** Lower-cased whitespace tokens of one output, as the distinct-n metrics count them. */
export function diversityTokens(text: string): string[] {
  return text
    .toLowerCase()
    .split(/\s+/u)
    .filter((t) => t.length > 0);
}

/** Every output's tokens as numbers, laid end to end: output o is ids[starts[o]] … ids[starts[o + 1] − 1]. */
interface TokenIds {
  ids: Uint32Array;
  starts: Uint32Array;
  /** Distinct tokens (V). */
  vocabulary: number;
}

function tokenIds(outputs: readonly string[]): TokenIds {
  const numbers = new Map<string, number>();
  let ids = new Uint32Array(1024);
  let len = 0;
  const starts = new Uint32Array(outputs.length + 1);
  for (let o = 0; o < outputs.length; o++) {
    for (const t of diversityTokens(outputs[o])) {
      let id = numbers.get(t);
      if (id === undefined) numbers.set(t, (id = numbers.size));
      if (len === ids.length) {
        const grown = new Uint32Array(ids.length * 2);
        grown.set(ids);
        ids = grown;
      }
      ids[len++] = id;
    }
    starts[o + 1] = len;
  }
  return { ids: ids.slice(0, len), starts, vocabulary: numbers.size };
}

/** The key of the n-gram starting at ids[i]: a number when every n-gram has its own, else the token numbers joined. */
function gramKey(t: TokenIds, n: number): (i: number) => number | string {
  const { ids, vocabulary } = t;
  let grams = 1;
  for (let j = 0; j < n; j++) grams *= vocabulary;
  // Exact while Vⁿ is a safe integer (a product of safe integers that is not one rounds to ≥ 2⁵³).
  if (Number.isSafeInteger(grams)) {
    return (i) => {
      let k = 0;
      for (let j = 0; j < n; j++) k = k * vocabulary + ids[i + j];
      return k;
    };
  }
  return (i) => ids.subarray(i, i + n).join(",");
}

/** distinct-n of the token numbers: unique n-grams / n-grams, never spanning two outputs; NaN when there are none. */
function distinctOfIds(t: TokenIds, n: number): number {
  const key = gramKey(t, n);
  const seen = new Set<number | string>();
  let total = 0;
  for (let o = 0; o + 1 < t.starts.length; o++) {
    for (let i = t.starts[o]; i + n <= t.starts[o + 1]; i++) {
      seen.add(key(i));
      total++;
    }
  }
  return total === 0 ? NaN : seen.size / total;
}

const checkN = (n: number): void => {
  if (!Number.isInteger(n) || n < 1) throw new Error(`distinctN: n must be a positive integer, got ${n}`);
};

/**
 * distinct-n (Li et al., 2016): unique n-grams / total n-grams, pooled over all outputs.
 * N-grams never span two outputs. Tokens are {@link diversityTokens}. NaN if no output has n tokens.
 */
export function distinctN(outputs: readonly string[], n: number): number {
  checkN(n);
  return distinctOfIds(tokenIds(outputs), n);
}

/** distinct-1, distinct-2 and distinct-3 of a set of outputs (tokenized once); see {@link distinctN}. */
export function distinct123(outputs: readonly string[]): { distinct_1: number; distinct_2: number; distinct_3: number } {
  const t = tokenIds(outputs);
  return { distinct_1: distinctOfIds(t, 1), distinct_2: distinctOfIds(t, 2), distinct_3: distinctOfIds(t, 3) };
}

/** Each output's distinct n-grams numbered 0, 1, …, laid end to end, and each output's n-gram count. */
interface OutputGrams {
  grams: Uint32Array;
  starts: Uint32Array;
  totals: Uint32Array;
  /** Distinct n-grams over every output. */
  distinct: number;
}

function outputGrams(outputs: readonly string[], n: number): OutputGrams {
  const t = tokenIds(outputs);
  const key = gramKey(t, n);
  const numbers = new Map<number | string, number>();
  // lastIn[g] = o + 1: n-gram g already listed for output o.
  let lastIn = new Uint32Array(1024);
  const grams = new Uint32Array(t.ids.length);
  let len = 0;
  const starts = new Uint32Array(outputs.length + 1);
  const totals = new Uint32Array(outputs.length);
  for (let o = 0; o < outputs.length; o++) {
    for (let i = t.starts[o]; i + n <= t.starts[o + 1]; i++) {
      const k = key(i);
      let g = numbers.get(k);
      if (g === undefined) numbers.set(k, (g = numbers.size));
      if (g >= lastIn.length) {
        const grown = new Uint32Array(lastIn.length * 2);
        grown.set(lastIn);
        lastIn = grown;
      }
      totals[o]++;
      if (lastIn[g] === o + 1) continue;
      lastIn[g] = o + 1;
      grams[len++] = g;
    }
    starts[o + 1] = len;
  }
  return { grams: grams.slice(0, len), starts, totals, distinct: numbers.size };
}

/**
 * distinct-n of any selection of `outputs`, repeats allowed (e.g. a bootstrap resample of
 * prompts): `distinctNOver(outputs, n)(idx)` equals `distinctN(idx.map((i) => outputs[i]), n)`.
 * Each output is tokenized once, its distinct n-grams numbered; a selection then only merges the
 * numbers (a repeated output adds its n-gram count again, no new unique n-gram). What the returned
 * function holds is typed arrays: ~4 bytes an n-gram, no string.
 */
export function distinctNOver(outputs: readonly string[], n: number): (idx: Iterable<number>) => number {
  checkN(n);
  const { grams, starts, totals, distinct } = outputGrams(outputs, n);
  // seenIn[g] === call: n-gram g already counted in this call (no clearing between calls).
  const seenIn = new Float64Array(distinct);
  let call = 0;
  return (idx) => {
    call++;
    let unique = 0;
    let total = 0;
    for (const o of idx) {
      total += totals[o];
      for (let j = starts[o]; j < starts[o + 1]; j++) {
        const g = grams[j];
        if (seenIn[g] === call) continue;
        seenIn[g] = call;
        unique++;
      }
    }
    return total === 0 ? NaN : unique / total;
  };
}
