import { test } from "node:test";
import assert from "node:assert/strict";
import { distinct123, distinctN } from "../../src/metrics/distinctN.js";
import { meanLengthRatio, splitSentences, uniqueSentenceRatio } from "../../src/metrics/diversity.js";

test("distinct-n pools n-grams over outputs without crossing them", () => {
  const outs = ["the cat sat", "the cat ran"];
  // unigrams: the cat sat the cat ran → 4 unique / 6
  assert.equal(distinctN(outs, 1), 4 / 6);
  // bigrams: (the cat)(cat sat)(the cat)(cat ran) → 3 / 4; "sat the" is not a bigram
  assert.equal(distinctN(outs, 2), 3 / 4);
  assert.equal(distinctN(outs, 3), 1);
  assert.deepEqual(distinct123(["a a a a"]), { distinct_1: 1 / 4, distinct_2: 1 / 3, distinct_3: 1 / 2 });
  assert.ok(Number.isNaN(distinctN(["one two"], 3)));
  assert.throws(() => distinctN(outs, 0), /positive integer/);
});

test("sentence split and unique-sentence ratio", () => {
  assert.deepEqual(splitSentences("Hi there. How are you?\nFine!  Good"), ["Hi there.", "How are you?", "Fine!", "Good"]);
  assert.deepEqual(splitSentences("pi is 3.14 exactly"), ["pi is 3.14 exactly"]);
  assert.equal(uniqueSentenceRatio(["I like it. I like it. I like it.", "I like it. Done."]), 2 / 5);
  assert.equal(uniqueSentenceRatio(["A. B.", "C!"]), 1);
  assert.ok(Number.isNaN(uniqueSentenceRatio(["", "  "])));
});

test("meanLengthRatio averages per-item char ratios", () => {
  assert.equal(meanLengthRatio(["aa", "abcd"], ["aaaa", "ab"]), (0.5 + 2) / 2);
  assert.equal(meanLengthRatio(["한국", "x"], ["한국어", ""]), 2 / 3); // empty baseline left out
  assert.equal(meanLengthRatio(["😀"], ["ab"]), 0.5); // code points, not UTF-16 units
  assert.throws(() => meanLengthRatio(["a"], []), /1 variant outputs but 0 baseline/);
});
