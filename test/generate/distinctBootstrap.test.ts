// The Δ distinct-2 paired bootstrap counts each prompt's bigrams once and merges them per
// resample; its point figure and CI equal distinct-n recomputed from the resampled texts (same
// seed, same resamples), to the last bit. Hand-made outputs with repeated and shared bigrams, and
// one too short to have a bigram; no model is needed for a statistic over given texts.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { GenerateResult } from "../../src/backends/backend.js";
import { pairedBootstrapCI } from "../../src/compare/pairedBootstrap.js";
import { distinctN, distinctNOver } from "../../src/metrics/distinctN.js";
import type { DriftInput } from "../../src/tasks/generate/driftResults.js";
import { pairedGeneration } from "../../src/tasks/generate/pairedDrift.js";

const BASE = [
  "the cat sat on the mat",
  "The cat sat on the mat",
  "a dog ran far away from home",
  "it rained all day long",
  "once upon a time there was a cat",
  "hello",
  "the end of the story is near",
  "she sang a song a song a song",
];
const VARIANT = ["the cat sat on the cat sat", "the the the the", "a dog ran away", "it rained all day all day", "once upon a time a time", "hello there", "the end the end the end", "she sang"];

const result = (text: string): GenerateResult => ({ text, nTokens: text.split(" ").length, finishReason: "stop" });
const outputs = (texts: string[]) => ({ clean: texts.map(result), perturbed: [], probes: [] });

test("distinctNOver(outputs)(idx) equals distinctN of the selected outputs, repeats included", () => {
  const over = distinctNOver(BASE, 2);
  for (const idx of [[0, 1, 2, 3, 4, 5, 6, 7], [0, 0, 1], [5], [5, 5], [7, 7, 7, 2], []]) {
    const want = distinctN(
      idx.map((i) => BASE[i]),
      2,
    );
    assert.ok(Object.is(over(idx), want), `${JSON.stringify(idx)}: ${over(idx)} vs ${want}`);
  }
});

test("Δ distinct-2: point figure and paired bootstrap CI equal distinct-n recomputed on each resample's texts", () => {
  const x: DriftInput = {
    models: ["base", "q4"],
    baseline: "base",
    variants: ["q4"],
    outputs: new Map([
      ["base", outputs(BASE)],
      ["q4", outputs(VARIANT)],
    ]),
    references: BASE.map(() => undefined),
    dist: new Map(),
    hasItems: true,
    perturb: false,
  };
  const opts = { seed: 1234, resamples: 2000 };
  const got = pairedGeneration(x, opts).q4.distinct_2_delta as { delta: number; ci_low: number; ci_high: number; n: number };
  const d2 = (texts: string[], idx: ArrayLike<number>) =>
    distinctN(
      Array.from(idx, (i) => texts[i]),
      2,
    );
  const stat = (idx: Uint32Array) => d2(VARIANT, idx) - d2(BASE, idx);
  const { low, high } = pairedBootstrapCI(BASE.length, stat, opts);
  assert.deepEqual({ delta: got.delta, ci_low: got.ci_low, ci_high: got.ci_high, n: got.n }, { delta: stat(Uint32Array.from(BASE.keys())), ci_low: low, ci_high: high, n: BASE.length });
  assert.ok(low < high, `a CI of some width: [${low}, ${high}]`);
});
