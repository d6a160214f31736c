// Hypotheses as win rates over dataset × model cells, on hand-made cell values.
import assert from "node:assert/strict";
import { test } from "node:test";
import { evaluateHypotheses, type CellValue } from "../../src/tasks/generate/hypotheses.js";
import type { HypothesisEntry } from "../../src/tasks/generate/spec.js";

// Two datasets × models base/q8/q4 (+ the noise-floor re-run), one embedder, to baseline and to reference.
const toBase: Record<string, Record<string, number>> = {
  d1: { base: 0, "base~noise": 0.01, q8: 0.05, q4: 0.2 },
  d2: { base: 0, "base~noise": 0.02, q8: 0.3, q4: 0.1 },
};
const toRef: Record<string, Record<string, number>> = {
  d1: { base: 1.0, "base~noise": 1.0, q8: 1.04, q4: 1.2 },
  d2: { base: 1.0, "base~noise": 1.01, q8: 0.99, q4: 1.1 },
};
const cells: CellValue[] = [];
for (const d of ["d1", "d2"]) {
  for (const model of ["base", "base~noise", "q8", "q4"]) {
    for (const distance of ["l1", "cos"] as const) {
      const scale = distance === "l1" ? 1 : 2;
      cells.push({ dataset: d, model, metric: "m2v", distance, target: "baseline", mean: toBase[d][model] * scale, median: toBase[d][model] * scale });
      cells.push({ dataset: d, model, metric: "m2v", distance, target: "reference", mean: toRef[d][model] * scale, median: toRef[d][model] * scale });
    }
  }
}
const h = (x: Partial<HypothesisEntry> & { expect: HypothesisEntry["expect"] }): HypothesisEntry => ({ stat: "mean", ...x }) as HypothesisEntry;
const models = { baseline: "base", variants: ["q8", "q4"] };

test("baseline self-distance: 0 without a noise floor, the re-run's distance with one", () => {
  const [l1] = evaluateHypotheses([h({ expect: "baseline_self_distance_is_min" })], cells, models, "t");
  // Without a noise floor the self-distance is 0 by construction: the row holds trivially and says why.
  const { trivial_reason, ...row } = l1;
  assert.deepEqual(row, { metric: "m2v", distance: "l1", hypothesis: "baseline self-distance is min", target: "baseline", win: 4, cells: 4, win_rate: 1, trivial: true });
  assert.match(trivial_reason!, /no noise-floor re-run.*0 by construction/);
  const noisy = evaluateHypotheses(
    [h({ expect: "baseline_self_distance_is_min" })],
    cells.map((c) => (c.model === "q8" && c.dataset === "d1" ? { ...c, mean: 0.001 } : c)),
    { ...models, selfModel: "base~noise" },
    "t",
  );
  // d1/q8 (0.001) is now below the noise floor's 0.01: 3 of 4 cells.
  assert.deepEqual(
    noisy.map((r) => [r.distance, r.win, r.cells]),
    [
      ["l1", 3, 4],
      ["cos", 3, 4],
    ],
  );
  // A noise floor with a real spread can fail: the row is evidence.
  assert.deepEqual(
    noisy.map((r) => [r.trivial, r.trivial_reason]),
    [
      [false, undefined],
      [false, undefined],
    ],
  );
});

test("a noise-floor re-run identical to the baseline (greedy) makes the self-distance row trivial", () => {
  const greedy = cells.map((c) => (c.model === "base~noise" && c.target === "baseline" ? { ...c, mean: 0, median: 0 } : c));
  const rows = evaluateHypotheses([h({ expect: "baseline_self_distance_is_min" })], greedy, { ...models, selfModel: "base~noise" }, "t");
  for (const r of rows) {
    assert.deepEqual([r.win, r.cells, r.trivial], [4, 4, true]);
    assert.match(r.trivial_reason!, /'base~noise' reproduced the baseline's outputs exactly/);
  }
  // Against the references the self-distance is not 0: the same expectation is measured, not trivial.
  const [ref] = evaluateHypotheses([h({ expect: "baseline_self_distance_is_min", target: "reference" })], greedy, { ...models, selfModel: "base~noise" }, "t");
  assert.equal(ref.trivial, false);
  // Other expectations are never marked trivial.
  for (const r of evaluateHypotheses([h({ expect: "closer", a: "q8", b: "q4" }), h({ expect: "within", factor: 1.05 })], greedy, models, "t")) assert.equal(r.trivial, false);
});

test("closer: one cell per dataset, strict", () => {
  const rows = evaluateHypotheses([h({ expect: "closer", a: "q8", b: "q4" }), h({ expect: "closer", a: "q8", b: "q4", target: "reference" })], cells, models, "t");
  assert.deepEqual(
    rows.map((r) => [r.hypothesis, r.target, r.distance, r.win, r.cells, r.win_rate]),
    [
      ["q8 closer than q4", "baseline", "l1", 1, 2, 0.5],
      ["q8 closer than q4", "baseline", "cos", 1, 2, 0.5],
      ["q8 closer than q4", "reference", "l1", 2, 2, 1],
      ["q8 closer than q4", "reference", "cos", 2, 2, 1],
    ],
  );
});

test("within factor of the minimum (to the reference by default)", () => {
  const [l1] = evaluateHypotheses([h({ expect: "within", factor: 1.05 })], cells, models, "t");
  // d1: min 1.0 → q8 1.04 yes, q4 1.2 no; d2: min 0.99 → q8 yes, q4 1.1 no.
  assert.deepEqual([l1.target, l1.win, l1.cells], ["reference", 2, 4]);
  const [all] = evaluateHypotheses([h({ expect: "within", factor: 1.25, models: ["q4"] })], cells, models, "t");
  assert.deepEqual([all.win, all.cells], [2, 2]);
});

test("missing or non-finite cells are left out, unknown models fail with one line", () => {
  const [r] = evaluateHypotheses(
    [h({ expect: "closer", a: "q8", b: "q4" })],
    cells.map((c) => (c.dataset === "d2" && c.model === "q4" ? { ...c, mean: NaN } : c)),
    models,
    "t",
  );
  assert.deepEqual([r.win, r.cells], [1, 1]);
  assert.throws(() => evaluateHypotheses([h({ expect: "closer", a: "q8", b: "q2" })], cells, models, "task 'g'"), {
    message: "task 'g': hypotheses[0].b: no model named 'q2' in this run (models: base, q8, q4)",
  });
  const none = evaluateHypotheses([h({ expect: "baseline_self_distance_is_min" })], [], models, "t");
  assert.deepEqual(none, []);
});
