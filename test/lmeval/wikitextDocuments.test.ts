// The WikiText article split, detokenizer and counts on the real raw WikiText-2 test file.
// Expected values are CPython 3.11.7's output of lm-eval's own code run on the same file:
// wikitext_document_level.py's _generate_examples (62 pages — the row count of the
// EleutherAI/wikitext_document_level wikitext-2-raw-v1 test split) and
// preprocess_wikitext.py's wikitext_detokenizer and process_results counts.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { splitWikitextArticles, wikitextCounts, wikitextDetokenize } from "../../src/lmeval/wikitextDocuments.js";
import { sharedPath } from "../helpers/shared.js";

const sha = (s: string) => createHash("sha256").update(s, "utf8").digest("hex");

test("the raw WikiText-2 test file splits into lm-eval's 62 articles, detokenized and counted as lm-eval does", () => {
  const raw = readFileSync(sharedPath("datasets", "wikitext-2-raw-v1", "wiki.test.raw"), "utf8");
  const docs = splitWikitextArticles(raw);
  assert.equal(docs.length, 62);
  assert.equal(docs[0].title, "Robert Boulter");
  assert.ok(docs[0].page.startsWith(" = Robert Boulter = \n \n Robert Boulter is an English film , television and theat"));
  assert.equal(docs[61].title, "The Hustler ( film )");
  // Byte-exact pages and targets: sha256 of the pages (and detokenized pages) joined by NUL.
  assert.equal(sha(docs.map((d) => d.page).join("\0")), "d0b16b3ea2df933c8a7c98e8b39093f025b25aa357d03b598e6532b2ec27f78c");
  assert.equal(sha(docs.map((d) => wikitextDetokenize(d.page)).join("\0")), "b0ae50e166add20959a5406d9b3c99fe1f23819ec0a10149047149434fb85d81");
  assert.ok(wikitextDetokenize(docs[0].page).startsWith(" = Robert Boulter =\n\nRobert Boulter is an English film, television and theatre actor."));
  const totals = docs.map((d) => wikitextCounts(d.page)).reduce((a, c) => ({ words: a.words + c.words, bytes: a.bytes + c.bytes }));
  assert.deepEqual(totals, { words: 241335, bytes: 1290527 });
});

test("Python's whitespace rules decide headings and word counts", () => {
  // A heading line padded with \x1c (whitespace to Python's strip, not to JavaScript's trim).
  const docs = splitWikitextArticles("\x1c = A = \x1c\nx\n = B = \ny\r\nz");
  assert.deepEqual(
    docs.map((d) => d.title),
    ["A", "B"],
  );
  assert.equal(docs[1].page, " = B = \ny\nz");
  // re.split(r"\s+", "a\x85b\ufeffc") in CPython: ['a', 'b\ufeffc']
  assert.equal(wikitextCounts("a\x85b\ufeffc").words, 2);
});
