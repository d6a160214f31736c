// Model entries of test configs: stories260K F32 from ../shared as the baseline, its Q8_0 and
// Q4_0 variants, and for generate tests a noise-floor re-run of the baseline.
import { models } from "./shared.js";

/** Config keys `baseline` and `variants`: stories260K F32, Q8_0 and Q4_0 under the names f32, q8_0 and q4_0; `extra` is added to every entry. */
export function storiesModels(extra: Record<string, unknown> = {}): { baseline: Record<string, unknown>; variants: Array<Record<string, unknown>> } {
  return {
    baseline: { name: "f32", model: models.stories(), ...extra },
    variants: [
      { name: "q8_0", model: models.storiesVariant("q8_0"), ...extra },
      { name: "q4_0", model: models.storiesVariant("q4_0"), ...extra },
    ],
  };
}

/**
 * A model entry for generate tests: `path` under `name`, context `n_ctx` (default 256), one thread
 * (the 2-core machine is shared; llama.cpp's spinning threads slow down ~10× when oversubscribed).
 */
export const generateModel = (name: string, path: string, n_ctx = 256) => ({ name, model: path, n_ctx, threads: 1 });

/** Config keys for the F32 baseline, Q8_0 and Q4_0 as {@link generateModel} entries, with a noise floor. */
export function storiesWithNoiseFloor(): Record<string, unknown> {
  return {
    baseline: generateModel("f32", models.stories()),
    variants: [generateModel("q8_0", models.storiesVariant("q8_0")), generateModel("q4_0", models.storiesVariant("q4_0"))],
    noise_floor: true,
  };
}
