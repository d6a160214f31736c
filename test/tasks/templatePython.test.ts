// Task templates run Python's string operations as lm-eval's task helpers do (issue 19, item 5).
// Expected values are CPython 3.11 output: e.g. python3 -c 'print(repr("ǆemal".capitalize()))'.
import assert from "node:assert/strict";
import { test } from "node:test";
import { applyOps } from "../../src/tasks/template.js";

test("capitalize is Python's str.capitalize(): the first character title-cased, the rest lowered", () => {
  assert.equal(applyOps("ǆemal DŽAMIJA", ["capitalize"], "t"), "ǅemal džamija"); // title case ǅ, not upper Ǆ
  assert.equal(applyOps("ßtraße", ["capitalize"], "t"), "Sstraße"); // 'ß'.title() == 'Ss'
  assert.equal(applyOps("a man is SITTING", ["capitalize"], "t"), "A man is sitting");
});

test("strip uses Python's whitespace set: U+001C–U+001F and U+0085 go, U+FEFF stays", () => {
  assert.equal(applyOps("\x1c\x1f\x85 text \x85\x1d", ["strip"], "t"), "text");
  assert.equal(applyOps("\ufefftext\ufeff", ["strip"], "t"), "\ufefftext\ufeff");
});
