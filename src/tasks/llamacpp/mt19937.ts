// llama.cpp's task selection draws from std::mt19937 seeded with 1. The generator is
// pure-rand's Mersenne Twister (identical to std::mt19937: same seeding, same outputs); the
// distribution is hand-written because it must be libstdc++'s exact algorithm, which no
// JavaScript library reproduces: std::uniform_int_distribution downscales a 32-bit
// generator with Lemire's nearly-divisionless method (libstdc++ ≥ 11, i.e. GCC 11+ and clang
// on Linux). libc++ (macOS) and MSVC builds of llama.cpp use other algorithms and select
// other tasks.
import { mersenne } from "pure-rand/generator/mersenne";

/** A std::mt19937: each call returns the next 32-bit output as an unsigned number. */
export type Mt19937 = () => number;

export function mt19937(seed: number): Mt19937 {
  const g = mersenne(seed >>> 0);
  return () => g.next() >>> 0;
}

const TWO32 = 4294967296n;

/**
 * libstdc++'s std::uniform_int_distribution<size_t>(a, b)(mt19937): a uniform integer in
 * [a, b] (b − a < 2^32).
 */
export function uniformIntLibstdcxx(next: Mt19937, a: number, b: number): number {
  const urange = b - a;
  if (urange === 0xffffffff) return a + next();
  const range = BigInt(urange + 1);
  // Lemire: the high 32 bits of r·range, rejecting the biased low region.
  let product = BigInt(next()) * range;
  let low = product % TWO32;
  if (low < range) {
    const threshold = (TWO32 - range) % range;
    while (low < threshold) {
      product = BigInt(next()) * range;
      low = product % TWO32;
    }
  }
  return a + Number(product / TWO32);
}
