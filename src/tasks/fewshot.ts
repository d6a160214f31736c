// Seeded few-shot example draws. Each evaluated document gets its own generator
// (seed mixed with its id), so a document's examples do not depend on --limit or order.
import { createRng, mixSeed } from "../util/rng.js";

/**
 * Draws `n` distinct indices from [0, poolSize), never `exclude` (the evaluated document
 * itself when the few-shot pool is its own split).
 */
export function drawFewshot(poolSize: number, n: number, seed: number, docId: number, exclude?: number): number[] {
  const available = exclude !== undefined && exclude < poolSize ? poolSize - 1 : poolSize;
  if (n > available) throw new Error(`num_fewshot ${n} exceeds the ${available} examples available`);
  const rng = createRng(mixSeed(seed, docId));
  const chosen = new Set<number>();
  const out: number[] = [];
  while (out.length < n) {
    const i = rng.int(poolSize);
    if (i === exclude || chosen.has(i)) continue;
    chosen.add(i);
    out.push(i);
  }
  return out;
}
