// Python-exact text operations. Every expected value below is CPython 3.11.7's own output,
// printed with `python3 -c "print(repr(s.capitalize()))"` (and .strip()/.rstrip()), the same
// str methods lm-eval's templates call: hellaswag's utils.process_docs builds
// `ctx_a + " " + ctx_b.capitalize()`, Jinja's `capitalize`/`trim` filters are str.capitalize()
// and str.strip(), and lm_eval/api/model.py's _encode_pair moves
// `len(context) - len(context.rstrip())` trailing characters into the continuation.
// Checked once beyond these cases: pyCapitalize(c + "AbΣ"), pyStrip(" \t" + c + "x" + c) and
// isPythonSpace(c) equal CPython's for all 1,112,064 code points except 55 that Unicode 14
// (CPython 3.11) does not case but Node's Unicode 17 does (e.g. U+019B ƛ, upper-cased in 16).
import assert from "node:assert/strict";
import { test } from "node:test";
import { isPythonSpace, movePairWhitespace, pyCapitalize, pyRstrip, pySplitWhitespace, pyStrip } from "../../src/lmeval/pythonText.js";

test("pyCapitalize title-cases the first character and lowers the rest, as CPython", () => {
  const cpython: Array<[string, string]> = [
    ["ßtraße", "Sstraße"],
    ["ǆungla", "ǅungla"],
    ["ǈUBLJANA", "ǈubljana"],
    ["ﬁnal", "Final"],
    ["ΑΣ ΟΔΟΣ", "Ας οδος"],
    ["İSTANBUL", "İstanbul"],
    ["ᾳδω", "ᾼδω"],
    ["ა ბ", "ა ბ"],
    ["hELLO wORLD", "Hello world"],
    ["  lead", "  lead"],
    ["", ""],
  ];
  for (const [s, want] of cpython) assert.equal(pyCapitalize(s), want, JSON.stringify(s));
  // JavaScript's naive first.toUpperCase() + rest.toLowerCase() gets these wrong:
  assert.notEqual("ß".toUpperCase() + "traße", pyCapitalize("ßtraße"));
  assert.notEqual("ǆ".toUpperCase(), pyCapitalize("ǆ"));
});

test("pyStrip/pyRstrip use Python's whitespace set, not JavaScript's", () => {
  const cpython: Array<[string, string, string]> = [
    // [input, s.strip(), s.rstrip()]
    ["\ufeffhi\ufeff", "\ufeffhi\ufeff", "\ufeffhi\ufeff"],
    ["\x1chi\x1f", "hi", "\x1chi"],
    ["\x85 hi \x85", "hi", "\x85 hi"],
    ["\u3000hi\u200b", "hi\u200b", "\u3000hi\u200b"],
    ["\xa0x\u2028", "x", "\xa0x"],
  ];
  for (const [s, strip, rstrip] of cpython) {
    assert.equal(pyStrip(s), strip, JSON.stringify(s));
    assert.equal(pyRstrip(s), rstrip, JSON.stringify(s));
  }
  assert.equal("\ufeffhi".trim(), "hi", "JavaScript strips U+FEFF where Python keeps it");
  assert.equal(isPythonSpace("\x85"), true);
  assert.equal(isPythonSpace("\ufeff"), false);
  // "a\x1cb  c".split() in CPython
  assert.deepEqual(pySplitWhitespace("a\x1cb  c\n"), ["a", "b", "c"]);
});

test("movePairWhitespace is _encode_pair's text step with Python's rstrip", () => {
  assert.deepEqual(movePairWhitespace("답변: ", "예"), { context: "답변:", continuation: " 예" });
  assert.deepEqual(movePairWhitespace("Q:\x85\x1f", " A"), { context: "Q:", continuation: "\x85\x1f A" });
  assert.deepEqual(movePairWhitespace("Q:\ufeff", " A"), { context: "Q:\ufeff", continuation: " A" });
  assert.deepEqual(movePairWhitespace("", " A"), { context: "", continuation: " A" });
});
