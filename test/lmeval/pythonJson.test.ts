// Python's repr(float) and json.dumps, which lm-eval's files and doc_hash are made of. Expected
// strings are CPython 3.11.7's output (`repr(x)`, `json.dumps(v, ensure_ascii=False)`, and
// `json.dumps(v, indent=2, ensure_ascii=False)`).
import assert from "node:assert/strict";
import { test } from "node:test";
import { hashString, pyFloat, pyFloatRepr, pyJsonDumps } from "../../src/lmeval/pythonJson.js";
import { lmEvalDateId, sanitizeModelName } from "../../src/lmeval/lmEvalNames.js";

test("pyFloatRepr equals CPython's repr(float)", () => {
  // biome-ignore lint/correctness/noPrecisionLoss: the literal is meant to lose precision, as CPython's repr shows
  const xs = [1e16, 1e-5, 0.0001, 123456789012345678.0, -0.0, 1.5e300, 0.1 + 0.2, -680.6831802212399, 2.5e-7, 1e15 + 0.5, 5e-324, Infinity];
  const cpython = ["1e+16", "1e-05", "0.0001", "1.2345678901234568e+17", "-0.0", "1.5e+300", "0.30000000000000004", "-680.6831802212399", "2.5e-07", "1000000000000000.5", "5e-324", "inf"];
  assert.deepEqual(xs.map(pyFloatRepr), cpython);
});

test("pyJsonDumps equals CPython's json.dumps, compact and indented", () => {
  assert.equal(pyJsonDumps({ x: [pyFloat(1), NaN, -Infinity], s: '"\\\x7f\u2028\t' }), '{"x": [1.0, NaN, -Infinity], "s": "\\"\\\\\x7f\u2028\\t"}');
  assert.equal(pyJsonDumps({ a: [1, 2.5e-7, [1, 0]], c: null, t: true }), '{"a": [1, 2.5e-07, [1, 0]], "c": null, "t": true}');
  assert.equal(
    pyJsonDumps({ a: [1, pyFloat(2), { b: [] }], c: "é\n\x01\u2028", d: {} }, 2),
    '{\n  "a": [\n    1,\n    2.0,\n    {\n      "b": []\n    }\n  ],\n  "c": "é\\n\\u0001\u2028",\n  "d": {}\n}',
  );
  // lm-eval's hash_string("1"), the target_hash of every document whose target is 1.
  assert.equal(hashString("1"), "6b86b273ff34fce19d6b804eff5a3f5747ada4eaa22f1d49c01e52ddb7875b4b");
});

test("lm-eval's folder and file names", () => {
  // lm_eval.utils.sanitize_model_name("/home/u/lm-eval/examples/dog_steer.csv"), as in lm-eval's tests/models/results_deleteme
  assert.equal(sanitizeModelName("/home/u/lm-eval/examples/dog_steer.csv"), "__home__u__lm-eval__examples__dog_steer.csv");
  assert.equal(sanitizeModelName("org/model:q4_0"), "org__model__q4_0");
  const id = lmEvalDateId(new Date(2025, 0, 21, 0, 40, 3, 356));
  assert.equal(id, "2025-01-21T00-40-03.356000");
});
