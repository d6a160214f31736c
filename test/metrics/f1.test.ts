import assert from "node:assert/strict";
import { test } from "node:test";

import { macroF1 } from "../../src/metrics/f1.js";

const close = (actual: number, expected: number, tol = 1e-15) => assert.ok(Math.abs(actual - expected) <= tol, `expected ${expected}, got ${actual}`);

test("perfect and fully wrong predictions", () => {
  assert.equal(macroF1([0, 1, 1, 0], [0, 1, 1, 0]), 1);
  // labels {0,1}: both have tp = 0 → 0
  assert.equal(macroF1([0, 1, 1, 0], [1, 0, 0, 1]), 0);
});

test("binary case by hand", () => {
  // gold [1,1,1,0,0], pred [1,1,0,0,1]
  // label 0: tp=1, gold=2, pred=2 → F1 = 2/4 = 1/2
  // label 1: tp=2, gold=3, pred=3 → F1 = 4/6 = 2/3
  // macro = (1/2 + 2/3)/2 = 7/12
  close(macroF1([1, 1, 1, 0, 0], [1, 1, 0, 0, 1]), 7 / 12);
});

test("sklearn docs example: f1_score([0,1,2,0,1,2], [0,2,1,0,0,1], average='macro') = 0.2666…", () => {
  // label 0: tp=2, gold=2, pred=3 → P=2/3, R=1 → F1 = 4/5
  // label 1: tp=0 → 0;  label 2: tp=0 → 0
  // macro = 0.8/3 = 0.26666…  (sklearn prints 0.26666666666666666)
  close(macroF1([0, 1, 2, 0, 1, 2], [0, 2, 1, 0, 0, 1]), 0.8 / 3);
});

test("a label only ever predicted still counts (sklearn unique_labels of y_true ∪ y_pred)", () => {
  // sklearn: f1_score([0,0,0], [0,0,1], average='macro') = 0.4
  // label 0: tp=2, gold=3, pred=2 → 4/5; label 1: tp=0, gold=0, pred=1 → 0 (zero division → 0)
  close(macroF1([0, 0, 0], [0, 0, 1]), 0.4);
});

test("a label only in gold counts with F1 0", () => {
  // label -1: tp=0 → 0; label 5: tp=2, gold=2, pred=3 → 4/5; macro 0.4
  close(macroF1([5, -1, 5], [5, 5, 5]), 0.4);
});

test("four-class KoBEST-like case by hand", () => {
  // gold: 0 0 1 1 2 2 3 3 ; pred: 0 1 1 1 2 0 0 3
  // label 0: tp=1, gold=2, pred=3 → 2/5
  // label 1: tp=2, gold=2, pred=3 → 4/5
  // label 2: tp=1, gold=2, pred=1 → 2/3
  // label 3: tp=1, gold=2, pred=1 → 2/3
  // macro = (2/5 + 4/5 + 2/3 + 2/3)/4 = (6/5 + 4/3)/4 = (38/15)/4 = 19/30
  close(macroF1([0, 0, 1, 1, 2, 2, 3, 3], [0, 1, 1, 1, 2, 0, 0, 3]), 19 / 30);
});

test("invariant to item order", () => {
  const g = [0, 0, 1, 1, 2, 2, 3, 3];
  const p = [0, 1, 1, 1, 2, 0, 0, 3];
  const order = [7, 2, 5, 0, 3, 6, 1, 4];
  assert.equal(
    macroF1(
      order.map((i) => g[i]),
      order.map((i) => p[i]),
    ),
    macroF1(g, p),
  );
});

test("invalid input throws", () => {
  assert.throws(() => macroF1([0, 1], [0]), RangeError);
  assert.throws(() => macroF1([], []), RangeError);
});
