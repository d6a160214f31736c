// Readers of results.json's loosely typed fields, shared by the record builders of the report.
import type { RunResults } from "../run/runEvaluation.js";

/** `v` when it is a finite number, else null. */
export const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);
/** `v` is a plain object (not null, not an array). */
export const isObj = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** Variants in display order: the real ones, then the noise-floor row. */
export function comparedModels(r: RunResults): string[] {
  return [...r.variants, ...(r.noise_floor ? [r.noise_floor] : [])];
}
