import { test } from "node:test";
import assert from "node:assert/strict";
import { EXACT_MATCH_METRICS, exactMatch, exactMatchPrefix, exactMatchQuasi, exactMatchScores, exactMatchSuffix, normalizeQuasi } from "../../src/metrics/exactMatch.js";

test("normalizeQuasi follows SQuAD normalize_answer", () => {
  assert.equal(normalizeQuasi("The  Eiffel Tower!"), "eiffel tower");
  assert.equal(normalizeQuasi("  an apple, a pear\nand THE plum. "), "apple pear and plum");
  // articles only as whole words; punctuation is removed before article removal, as in SQuAD
  assert.equal(normalizeQuasi("theater anthem area"), "theater anthem area");
  assert.equal(normalizeQuasi("the-end"), "theend");
  // non-ASCII letters count as word characters (Python's \b is Unicode-aware)
  assert.equal(normalizeQuasi("aé the café"), "aé café");
  assert.equal(normalizeQuasi("서울은 the 수도"), "서울은 수도");
});

test("exact_match is byte equality", () => {
  assert.equal(exactMatch("Paris", "Paris"), true);
  assert.equal(exactMatch("Paris ", "Paris"), false);
  assert.equal(exactMatch("paris", "Paris"), false);
});

test("prefix and suffix trim whitespace, nothing else", () => {
  assert.equal(exactMatchPrefix("  Paris is the capital.", "Paris "), true);
  assert.equal(exactMatchPrefix("The answer is Paris", "Paris"), false);
  assert.equal(exactMatchSuffix("The answer is Paris\n", " Paris"), true);
  assert.equal(exactMatchSuffix("The answer is Paris.", "Paris"), false);
  assert.equal(exactMatchPrefix("anything", "   "), false);
  assert.equal(exactMatchSuffix("", ""), true);
});

test("exact_match_quasi and the all-variants record", () => {
  assert.equal(exactMatchQuasi("The Paris.", "paris"), true);
  assert.deepEqual(exactMatchScores("Paris.", "Paris"), {
    exact_match: 0,
    exact_match_prefix: 1,
    exact_match_suffix: 0,
    exact_match_quasi: 1,
  });
  assert.deepEqual(Object.keys(exactMatchScores("a", "b")), [...EXACT_MATCH_METRICS]);
});
