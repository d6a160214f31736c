// distinct-n counted on numbers (src/metrics/distinctN.ts) equals distinct-n counted on the
// n-gram strings themselves, to the last bit: on the 1,000 responses and prompts of the shared
// dolly set (real text: case, punctuation, repeats), on random selections with repeats (the
// bootstrap's use), and past the vocabulary where an n-gram no longer fits a safe integer.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { distinct123, distinctN, distinctNOver, diversityTokens } from "../../src/metrics/distinctN.js";
import { createRng } from "../../src/util/rng.js";
import { sharedPath } from "../helpers/shared.js";

/** The definition, on strings: unique space-joined n-grams / n-grams, never across outputs. */
function stringDistinct(outputs: readonly string[], n: number): number {
  const seen = new Set<string>();
  let total = 0;
  for (const out of outputs) {
    const toks = diversityTokens(out);
    for (let i = 0; i + n <= toks.length; i++) {
      seen.add(toks.slice(i, i + n).join(" "));
      total++;
    }
  }
  return total === 0 ? NaN : seen.size / total;
}

const rows = readFileSync(sharedPath("datasets", "dolly-hhrlhf-small", "train.jsonl"), "utf8")
  .trim()
  .split("\n")
  .map((l) => JSON.parse(l) as { prompt: string; response: string });
// Responses cut to a few words too, so that n-grams repeat across outputs as short generations' do.
const corpora = {
  responses: rows.map((r) => r.response),
  prompts: rows.map((r) => r.prompt),
  short: rows.map((r) => r.response.split(" ").slice(0, 4).join(" ")),
};

test("distinct-1/2/3 on numbers equal the n-gram strings' on real text", () => {
  for (const [name, texts] of Object.entries(corpora)) {
    const want = { distinct_1: stringDistinct(texts, 1), distinct_2: stringDistinct(texts, 2), distinct_3: stringDistinct(texts, 3) };
    assert.deepEqual(distinct123(texts), want, name);
    for (const n of [1, 2, 3, 4, 7]) assert.ok(Object.is(distinctN(texts, n), stringDistinct(texts, n)), `${name} n=${n}`);
  }
});

test("distinctNOver on random selections with repeats equals the strings' distinct-n of the selected texts", () => {
  const rand = createRng(7);
  for (const [name, texts] of Object.entries(corpora)) {
    for (const n of [1, 2, 3]) {
      const over = distinctNOver(texts, n);
      for (let r = 0; r < 20; r++) {
        const idx = Array.from({ length: 1 + rand.int(texts.length) }, () => rand.int(texts.length));
        const want = stringDistinct(
          idx.map((i) => texts[i]),
          n,
        );
        assert.ok(Object.is(over(idx), want), `${name} n=${n} resample ${r}`);
      }
    }
  }
});

test("past 208,063 distinct tokens trigrams are keyed by their token numbers, still exact", () => {
  // 210,000 distinct words, then repeated trigrams and trigrams made of reordered words.
  const words = Array.from({ length: 210_000 }, (_, i) => `w${i}`);
  const texts: string[] = [];
  for (let i = 0; i < words.length; i += 6) texts.push(words.slice(i, i + 6).join(" "));
  for (let i = 0; i < 3000; i++) texts.push(`${words[i]} ${words[i + 1]} ${words[i + 2]}`, `${words[i + 2]} ${words[i]} ${words[i + 1]}`);
  for (const n of [2, 3]) assert.ok(Object.is(distinctN(texts, n), stringDistinct(texts, n)), `n=${n}`);
  const over = distinctNOver(texts, 3);
  const idx = [0, 0, 5, 35_000, 35_001, 35_001, 40_999];
  assert.ok(
    Object.is(
      over(idx),
      stringDistinct(
        idx.map((i) => texts[i]),
        3,
      ),
    ),
  );
});
