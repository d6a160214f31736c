// A perplexity run of a few chunks tokenizes only a prefix of its text (src/tasks/leadingTokens.ts).
// The tokens it takes must be exactly the first tokens of the whole text, as llama-perplexity
// gets them by tokenizing the whole file: checked with both tokenizers in ../shared (stories260K's
// 512-piece SentencePiece and llama-2-tiny-random's 32k), on WikiText-2 and on text whose merges
// run long (repeated characters, no newlines), where a cut changes the tokens before it.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, test } from "node:test";
import { GgufBackend } from "../../src/backends/gguf.js";
import { leadingTokens } from "../../src/tasks/leadingTokens.js";
import { models, sharedPath } from "../helpers/shared.js";

const wiki = readFileSync(sharedPath("datasets", "wikitext-2-raw-v1", "wiki.test.raw"), "utf8");
let small: GgufBackend;
let wide: GgufBackend;
before(async () => {
  small = await GgufBackend.open({ name: "stories260K", path: models.stories(), nCtx: 512, threads: 2 });
  wide = await GgufBackend.open({ name: "llama-2-tiny-random", path: models.tinyRandom(), nCtx: 512, threads: 2 });
});
after(async () => {
  await small?.dispose();
  await wide?.dispose();
});

/** Counts the characters each tokenize call was given. */
function counted(b: GgufBackend): { model: Pick<GgufBackend, "tokenize">; chars: () => number } {
  let chars = 0;
  return {
    model: {
      tokenize: (t: string, addBos: boolean) => {
        chars += t.length;
        return b.tokenize(t, addBos);
      },
    },
    chars: () => chars,
  };
}

test("leadingTokens: the first tokens of WikiText-2 equal the whole text's, from a prefix of it", async () => {
  for (const b of [small, wide]) {
    const whole = b.tokenizeSync(wiki, true);
    for (const need of [1024, 2048, 10 * 512, 100 * 512]) {
      const c = counted(b);
      const got = await leadingTokens(c.model, wiki, need);
      assert.deepEqual(got, whole.slice(0, need), `${b.name}, ${need} tokens`);
      assert.ok(c.chars() < wiki.length / 2, `${b.name}, ${need} tokens: tokenized ${c.chars()} of ${wiki.length} characters`);
    }
  }
});

test("leadingTokens: the whole text when the chunks need more than it has, or when every chunk is wanted", async () => {
  const text = wiki.slice(0, 20_000);
  const whole = wide.tokenizeSync(text, true);
  assert.deepEqual(await leadingTokens(wide, text, whole.length + 10), whole);
  assert.deepEqual(await leadingTokens(wide, wiki, Number.POSITIVE_INFINITY), wide.tokenizeSync(wiki, true));
});

test("leadingTokens: equal to the whole text's tokens where merges run long across the cut", async () => {
  // "=" and spaces: 16 characters a token with the 32k vocabulary, and the tokens before a cut change.
  const texts = ["=".repeat(120_000), "ab".repeat(40_000), " ".repeat(100_000), `${"x".repeat(40_000)}\n${"y y ".repeat(10_000)}`, "가나다라".repeat(5_000)];
  for (const b of [small, wide]) {
    for (const text of texts) {
      const whole = b.tokenizeSync(text, true);
      for (const need of [1024, 4096]) {
        if (whole.length < need) continue;
        assert.deepEqual(await leadingTokens(b, text, need), whole.slice(0, need), `${b.name}, '${text.slice(0, 6)}…', ${need} tokens`);
      }
    }
  }
});
