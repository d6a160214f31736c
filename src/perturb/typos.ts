// Seeded character-level typo noise for robustness prompts ("does the quantized model break
// sooner on noisy input?"). Deterministic for a given (text, rate, seed) on every platform:
// randomness comes from pure-rand's xoroshiro128+ generator, never Math.random.
import { uniformFloat64 } from "pure-rand/distribution/uniformFloat64";
import { uniformInt } from "pure-rand/distribution/uniformInt";
import { xoroshiro128plus } from "pure-rand/generator/xoroshiro128plus";
import type { RandomGenerator } from "pure-rand/types/RandomGenerator";

/** The kinds of typo {@link applyTypos} makes. */
export type TypoKind = "swap" | "drop" | "duplicate" | "substitute";

/** A perturbed text with counts of what was done to it. */
export interface TypoResult {
  /** The perturbed text. */
  text: string;
  /** Letters (Unicode \p{L} code points) in the input. */
  letters: number;
  /** Input letters that some typo changed (a swap changes two). */
  touched: number;
  /** Typos made, by kind. */
  edits: Record<TypoKind, number>;
}

// QWERTY neighbours of each lower-case letter (same row and the rows above/below).
const QWERTY_NEIGHBOURS: Record<string, string> = {
  q: "wa",
  w: "qeas",
  e: "wrsd",
  r: "etdf",
  t: "ryfg",
  y: "tugh",
  u: "yihj",
  i: "uojk",
  o: "ipkl",
  p: "ol",
  a: "qwsz",
  s: "awedxz",
  d: "serfcx",
  f: "drtgvc",
  g: "ftyhbv",
  h: "gyujnb",
  j: "huikmn",
  k: "jiolm",
  l: "kop",
  z: "asx",
  x: "zsdc",
  c: "xdfv",
  v: "cfgb",
  b: "vghn",
  n: "bhjm",
  m: "njk",
};

const LETTER = /^\p{L}$/u;

/** murmur3's 32-bit finalizer: spreads nearby integers to unrelated 32-bit values. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * A per-item seed derived from a run seed and an item index, so each item gets its own
 * independent but reproducible noise: `applyTypos(text, rate, typoSeed(runSeed, i))`.
 */
export function typoSeed(seed: number, itemIndex: number): number {
  return fmix32((toUint32(seed) ^ fmix32(toUint32(itemIndex) + 0x9e3779b9)) >>> 0);
}

function toUint32(x: number): number {
  if (!Number.isFinite(x)) throw new Error(`typos: seed and item index must be finite numbers, got ${x}`);
  return Math.trunc(x) >>> 0;
}

function makeRng(seed: number): RandomGenerator {
  // xoroshiro128plus(seed) returns ~seed as its first output, so nearby seeds would start
  // alike: hash the seed first and discard a few outputs.
  const rng = xoroshiro128plus(fmix32(toUint32(seed)) | 0);
  for (let i = 0; i < 8; i++) rng.next();
  return rng;
}

/**
 * {@link applyTypos} plus counts of what it did (useful to check the realised noise rate).
 */
export function applyTyposDetailed(text: string, rate: number, seed: number): TypoResult {
  if (!(rate >= 0 && rate <= 1)) throw new Error(`applyTypos: rate must be in [0, 1], got ${rate}`);
  const chars = Array.from(text);
  const isLetter = chars.map((c) => LETTER.test(c));
  const letters = isLetter.filter(Boolean).length;
  const edits: Record<TypoKind, number> = { swap: 0, drop: 0, duplicate: 0, substitute: 0 };
  if (rate === 0 || letters === 0) return { text, letters, touched: 0, edits };

  const rng = makeRng(seed);
  const out: string[] = [];
  let touched = 0;
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i];
    if (!isLetter[i]) {
      out.push(c);
      continue;
    }
    const canSwap = i + 1 < chars.length && isLetter[i + 1] && chars[i + 1] !== c;
    const neighbours = QWERTY_NEIGHBOURS[c.toLowerCase()];
    const kinds: TypoKind[] = ["drop", "duplicate"];
    if (canSwap) kinds.push("swap");
    if (neighbours !== undefined) kinds.push("substitute");
    // A swap touches two letters and the second cannot start its own typo, so start a typo with
    // probability q where rate = q(1+s)/(1+q·s) (s = chance the typo is a swap): this keeps the
    // expected fraction of letters touched equal to `rate`.
    const s = canSwap ? 1 / kinds.length : 0;
    const q = rate / (1 + s - rate * s);
    if (uniformFloat64(rng) >= q) {
      out.push(c);
      continue;
    }
    const kind = kinds[uniformInt(rng, 0, kinds.length - 1)];
    edits[kind]++;
    switch (kind) {
      case "drop":
        touched++;
        break;
      case "duplicate":
        out.push(c, c);
        touched++;
        break;
      case "swap":
        out.push(chars[i + 1], c);
        touched += 2;
        i++; // the partner letter is consumed
        break;
      case "substitute": {
        const n = neighbours!;
        const pick = n[uniformInt(rng, 0, n.length - 1)];
        out.push(c === c.toLowerCase() ? pick : pick.toUpperCase());
        touched++;
        break;
      }
    }
  }
  return { text: out.join(""), letters, touched, edits };
}

/**
 * Seeded character noise: each letter (Unicode \p{L}; digits, punctuation and whitespace are
 * never changed) may get one typo — swap with the next letter, drop, duplicate, or substitute a
 * QWERTY-adjacent letter (ASCII letters only; case is kept) — chosen uniformly among the kinds
 * possible at that position. `rate` (0..1) is the expected fraction of letters touched.
 * The same (text, rate, seed) always gives the same output; use {@link typoSeed} for per-item seeds.
 */
export function applyTypos(text: string, rate: number, seed: number): string {
  return applyTyposDetailed(text, rate, seed).text;
}
