// The built-in wikitext task reads the raw WikiText-2 test file itself: its rows are lm-eval's
// 62 articles (wikitext_document_level.py), detokenized and counted as lm-eval's
// preprocess_wikitext.py does. No model is needed: preparation alone decides the documents.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { parse } from "yaml";
import { splitWikitextArticles, wikitextDetokenize } from "../../src/lmeval/wikitextDocuments.js";
import { prepareRolling } from "../../src/tasks/rolling.js";
import { type RollingTask, taskDefinition } from "../../src/tasks/taskDefinition.js";
import { builtinTaskDir } from "../../src/tasks/taskRegistry.js";
import { sharedPath } from "../helpers/shared.js";

const raw = sharedPath("datasets", "wikitext-2-raw-v1", "wiki.test.raw");
const def = taskDefinition.parse(parse(readFileSync(join(builtinTaskDir, "wikitext.yaml"), "utf8"))) as RollingTask;

test("wikitext with data: wiki.test.raw scores lm-eval's 62 articles with lm-eval's word and byte counts", async () => {
  const docs = await prepareRolling(def, { data: raw, seed: 1234, dataDir: sharedPath("datasets") });
  assert.equal(docs.length, 62);
  // Totals of lm-eval's process_results denominators on the original pages (CPython, see test/lmeval/wikitextDocuments.test.ts).
  assert.deepEqual(
    docs.reduce((a, d) => ({ words: a.words + d.words, bytes: a.bytes + d.bytes }), { words: 0, bytes: 0 }),
    { words: 241335, bytes: 1290527 },
  );
  // The task YAML's derive ops give lm-eval's wikitext_detokenizer output on every article.
  const pages = splitWikitextArticles(readFileSync(raw, "utf8"));
  const differing = docs.findIndex((d, i) => d.text !== wikitextDetokenize(pages[i].page));
  assert.equal(differing, -1, `article ${differing} is detokenized differently from lm-eval`);
});

test("wikitext on the raw file honours --limit in articles", async () => {
  const docs = await prepareRolling(def, { data: raw, seed: 1234, limit: 3 });
  assert.deepEqual(
    docs.map((d) => d.doc_id),
    [0, 1, 2],
  );
});
