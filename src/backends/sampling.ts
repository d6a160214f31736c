// Next-token choice for generation: greedy by default, or seeded temperature/top-p sampling.
import { createRng, mixSeed } from "../util/rng.js";
import type { GenerateRequest } from "./backend.js";

/** Picks the next token from raw logits. Deterministic for a given seed and step. */
export function sampleToken(logits: Float32Array, req: GenerateRequest, step: number): number {
  const temperature = req.temperature ?? 0;
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
  if (temperature <= 0) return best;
  const max = logits[best];
  const idx: number[] = [];
  const p: number[] = [];
  let sum = 0;
  for (let i = 0; i < logits.length; i++) {
    const w = Math.exp((logits[i] - max) / temperature);
    if (w > 1e-12) {
      idx.push(i);
      p.push(w);
      sum += w;
    }
  }
  const order = idx.map((_, k) => k).sort((a, b) => p[b] - p[a]);
  const topP = req.topP ?? 1;
  let cum = 0;
  const keep: number[] = [];
  for (const k of order) {
    keep.push(k);
    cum += p[k] / sum;
    if (cum >= topP) break;
  }
  const keptSum = keep.reduce((s, k) => s + p[k], 0);
  // One generator per (seed, step): the choice at a step never depends on batch layout.
  const u = createRng(mixSeed(req.seed ?? 0, step)).float();
  let acc = 0;
  for (const k of keep) {
    acc += p[k] / keptSum;
    if (u < acc) return idx[k];
  }
  return idx[keep[keep.length - 1]];
}
