import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { applyTypos, applyTyposDetailed, typoSeed } from "../../src/perturb/typos.js";
import { sharedPath } from "../helpers/shared.js";

// A long real English text: the first 200 Dolly prompts.
const corpus = readFileSync(sharedPath("datasets", "dolly-hhrlhf-small", "train.jsonl"), "utf8")
  .split("\n")
  .filter(Boolean)
  .slice(0, 200)
  .map((l) => (JSON.parse(l) as { prompt: string }).prompt)
  .join("\n");

const nonLetters = (s: string) => s.replace(/\p{L}/gu, "");

test("deterministic under the seed; different seeds differ", () => {
  const text = "The quick brown fox jumps over the lazy dog, 3 times!";
  assert.equal(applyTypos(text, 0.2, 42), applyTypos(text, 0.2, 42));
  assert.notEqual(applyTypos(corpus, 0.05, 1), applyTypos(corpus, 0.05, 2));
  assert.equal(applyTypos(text, 0, 7), text);
  assert.throws(() => applyTypos(text, 1.5, 1), /rate must be in \[0, 1\]/);
});

test("per-item seeds are reproducible and independent", () => {
  assert.equal(typoSeed(123, 4), typoSeed(123, 4));
  const seeds = new Set(Array.from({ length: 1000 }, (_, i) => typoSeed(123, i)));
  assert.equal(seeds.size, 1000);
  const line = "Summarize the following paragraph about photosynthesis.";
  const outs = new Set(Array.from({ length: 20 }, (_, i) => applyTypos(line, 0.1, typoSeed(9, i))));
  assert.ok(outs.size >= 15, `only ${outs.size} distinct outputs for 20 item seeds`);
});

test("only letters are perturbed: digits, punctuation and whitespace stay in order", () => {
  for (const seed of [1, 2, 3]) {
    const noisy = applyTypos(corpus, 0.3, seed);
    assert.equal(nonLetters(noisy), nonLetters(corpus));
  }
  assert.equal(applyTypos("123 ... !!! \n\t", 1, 5), "123 ... !!! \n\t");
  // non-Latin letters are perturbed too (without QWERTY substitution) and keep the skeleton
  const ko = "서울은 대한민국의 수도이다. 인구는 약 940만 명이다.";
  const noisyKo = applyTypos(ko, 0.5, 11);
  assert.notEqual(noisyKo, ko);
  assert.equal(nonLetters(noisyKo), nonLetters(ko));
});

test("rate is the expected fraction of letters touched, and all four kinds occur", () => {
  for (const rate of [0.02, 0.1, 0.3]) {
    const r = applyTyposDetailed(corpus, rate, 2024);
    const frac = r.touched / r.letters;
    assert.ok(r.letters > 50_000, `corpus too small: ${r.letters} letters`);
    assert.ok(Math.abs(frac - rate) < rate * 0.1, `rate ${rate}: touched ${frac.toFixed(4)} of letters`);
    for (const k of ["swap", "drop", "duplicate", "substitute"] as const) assert.ok(r.edits[k] > 0, `no ${k} at rate ${rate}`);
  }
  assert.equal(applyTyposDetailed("abc", 1, 3).touched, 3);
});

test("substitutions use QWERTY neighbours and keep case", () => {
  // At rate 1 on single letters between spaces only drop, duplicate or substitute can happen.
  for (let seed = 0; seed < 50; seed++) {
    const out = applyTypos("Q", 1, seed);
    assert.ok(["", "QQ", "W", "A"].includes(out), `unexpected ${JSON.stringify(out)}`);
  }
});
