import { test } from "node:test";
import assert from "node:assert/strict";
import { tokenF1, tokenF1Detailed } from "../../src/metrics/tokenF1.js";

test("SQuAD token F1 on worked examples", () => {
  // pred {eiffel, tower, in, paris} vs gold {eiffel, tower}: P = 2/4, R = 2/2, F1 = 2/3
  const r = tokenF1Detailed("The Eiffel Tower in Paris", "the Eiffel tower");
  assert.equal(r.precision, 0.5);
  assert.equal(r.recall, 1);
  assert.ok(Math.abs(r.f1 - 2 / 3) < 1e-12);
  assert.equal(tokenF1("Paris!", "paris"), 1);
  assert.equal(tokenF1("London", "Paris"), 0);
});

test("repeated tokens are matched as a multiset", () => {
  // pred [new, new, york] vs gold [new, york]: common = 2, P = 2/3, R = 1, F1 = 0.8
  assert.ok(Math.abs(tokenF1("new new york", "New York") - 0.8) < 1e-12);
});

test("empty answers follow the SQuAD v2 rule", () => {
  assert.equal(tokenF1("", "the"), 1); // both normalize to no tokens
  assert.equal(tokenF1("", "Paris"), 0);
  assert.equal(tokenF1("Paris", ""), 0);
});
