import { test } from "node:test";
import assert from "node:assert/strict";
import { cosineDistance, l1Distance, summarize } from "../../src/metrics/embeddingDistance.js";

test("l1Distance is the mean absolute difference", () => {
  assert.equal(l1Distance([1, 2, 3], [1, 0, 6]), (0 + 2 + 3) / 3);
  assert.throws(() => l1Distance([1], [1, 2]), /different dimensions/);
});

test("cosineDistance", () => {
  assert.equal(cosineDistance([1, 0], [0, 1]), 1);
  assert.equal(cosineDistance([1, 0], [-2, 0]), 2);
  assert.ok(Math.abs(cosineDistance([1, 1], [1, 0]) - (1 - Math.SQRT1_2)) < 1e-12);
  // identical vectors give exactly 0 even where rounding would not
  const v = Float32Array.from({ length: 64 }, (_, i) => Math.sin(i * 1.7) / 3);
  assert.equal(cosineDistance(v, Float32Array.from(v)), 0);
  assert.equal(cosineDistance([0, 0], [0, 0]), 0);
  assert.equal(cosineDistance([0, 0], [1, 0]), 1);
  // parallel but not identical: clamped, never negative
  assert.ok(cosineDistance([0.1, 0.2, 0.3], [0.2, 0.4, 0.6]) >= 0);
});

test("summarize", () => {
  assert.deepEqual(summarize([3, 1, 2]), { mean: 2, median: 2 });
  assert.deepEqual(summarize([4, 1, 2, 10]), { mean: 17 / 4, median: 3 });
  const empty = summarize([]);
  assert.ok(Number.isNaN(empty.mean) && Number.isNaN(empty.median));
});
