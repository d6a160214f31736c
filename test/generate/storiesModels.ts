// The models of the generate tests: stories260K F32 as the baseline, its Q8_0 and Q4_0 variants,
// and a noise-floor re-run of the baseline.
import { models } from "../helpers/shared.js";

// threads: 1 — the 2-core machine is shared; llama.cpp's spinning threads slow down ~10× when oversubscribed.
const model = (name: string, path: string) => ({ name, model: path, n_ctx: 256, threads: 1 });

/** Config keys for the F32 baseline, Q8_0 and Q4_0, with a noise floor. */
export function storiesWithNoiseFloor(): Record<string, unknown> {
  return {
    baseline: model("f32", models.stories()),
    variants: [model("q8_0", models.storiesVariant("q8_0")), model("q4_0", models.storiesVariant("q4_0"))],
    noise_floor: true,
  };
}
