// Seeded randomness for few-shot draws, bootstrap resamples, sampling and perturbations.
// Wraps pure-rand's xoroshiro128+ so every caller gets the same deterministic stream.
import { xoroshiro128plus } from "pure-rand/generator/xoroshiro128plus";
import { uniformFloat64 } from "pure-rand/distribution/uniformFloat64";
import { uniformInt } from "pure-rand/distribution/uniformInt";

export interface Rng {
  /** Uniform in [0, 1). */
  float(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
}

/** Combines a seed with further integers (item index, step…) into one 32-bit seed. */
export function mixSeed(...parts: number[]): number {
  let h = 0x811c9dc5;
  for (const p of parts) {
    h ^= p | 0;
    h = Math.imul(h, 0x01000193);
    h ^= h >>> 15;
  }
  return h | 0;
}

export function createRng(seed: number): Rng {
  const g = xoroshiro128plus(seed | 0);
  return {
    float: () => uniformFloat64(g),
    int: (n: number) => uniformInt(g, 0, n - 1),
  };
}
