import assert from "node:assert/strict";
import { test } from "node:test";

import { accuracy } from "../../src/metrics/accuracy.js";

test("accuracy of booleans", () => {
  assert.equal(accuracy([true, false, true, true]), 0.75);
  assert.equal(accuracy([false, false]), 0);
  assert.equal(accuracy([true]), 1);
});

test("accuracy of 0/1 numbers and typed arrays", () => {
  assert.equal(accuracy([1, 0, 0, 1, 1]), 0.6);
  assert.equal(accuracy(new Uint8Array([1, 1, 0, 0])), 0.5);
});

test("accuracy of nothing throws", () => {
  assert.throws(() => accuracy([]), RangeError);
});
