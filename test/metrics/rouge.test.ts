import { test } from "node:test";
import assert from "node:assert/strict";
import { lcsLength, rouge1, rouge1F, rougeL, rougeLF, rougeTokens } from "../../src/metrics/rouge.js";

const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-12, `${a} vs ${b}`);

test("Lin (2004) ROUGE-L example: police killed the gunman", () => {
  const ref = "police killed the gunman";
  // S2 "police kill the gunman": LCS "police the gunman" = 3 of 4 → 0.75
  close(rougeLF("police kill the gunman", ref), 0.75);
  // S3 "the gunman kill police": LCS "the gunman" = 2 of 4 → 0.5
  close(rougeLF("the gunman kill police", ref), 0.5);
  // ROUGE-1 cannot tell them apart: both share 3 unigrams
  close(rouge1F("police kill the gunman", ref), 0.75);
  close(rouge1F("the gunman kill police", ref), 0.75);
});

test("rouge_score README example: quick brown fox", () => {
  const ref = "The quick brown fox jumps over the lazy dog";
  const cand = "The quick brown dog jumps on the log.";
  // unigrams: the×2, quick, brown, dog, jumps = 6; cand 8 tokens, ref 9
  const r1 = rouge1(cand, ref);
  close(r1.precision, 6 / 8);
  close(r1.recall, 6 / 9);
  close(r1.f, (2 * (6 / 8) * (6 / 9)) / (6 / 8 + 6 / 9));
  // LCS: the quick brown jumps the = 5
  const rl = rougeL(cand, ref);
  close(rl.precision, 5 / 8);
  close(rl.recall, 5 / 9);
});

test("tokens, LCS and edge cases", () => {
  assert.deepEqual(rougeTokens("Hello, World! It's 2024."), ["hello", "world", "it", "s", "2024"]);
  assert.deepEqual(rougeTokens("서울은 한국의 수도"), ["서울은", "한국의", "수도"]);
  assert.equal(lcsLength(["a", "b", "c", "b", "d", "a", "b"], ["b", "d", "c", "a", "b", "a"]), 4); // CLRS
  assert.deepEqual(rougeL("", "x"), { precision: 0, recall: 0, f: 0 });
  close(rougeLF("Same text.", "same TEXT"), 1);
});
