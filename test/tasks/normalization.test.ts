// The normalization panel: pure functions on hand-made evidence, the request layout lm-eval
// uses for acc_mutual_info, and one real run on stories260K where the panel's chars/acc
// entries must equal the task's own acc and acc_norm.
import assert from "node:assert/strict";
import { test } from "node:test";
import { GgufBackend } from "../../src/backends/gguf.js";
import { aggregateMultipleChoice, buildRequests, prepareMultipleChoice, renderDoc, scoreDoc } from "../../src/tasks/multipleChoice.js";
import { byteLength, charLength, normalizationPanel, predictAll, rankingChanges } from "../../src/tasks/normalization.js";
import { loadTask } from "../../src/tasks/taskRegistry.js";
import type { MultipleChoiceTask } from "../../src/tasks/taskDefinition.js";
import { models, sharedPath } from "../helpers/shared.js";

test("each normalization can pick a different choice from the same log-likelihoods", () => {
  // choice 0: short ASCII; choice 1: long; choice 2: Korean (3 UTF-8 bytes per character).
  const e = { ll: [-2, -6, -3.5], choices: ["cat", "a very long answer", "고양이다"], tokens: [1, 12, 2], unconditional: [-3, -5, -2] };
  assert.equal(charLength("고양이다"), 4);
  assert.equal(byteLength("고양이다"), 12);
  assert.equal(charLength("😀"), 1, "Python len counts code points");
  assert.deepEqual(predictAll(e), {
    acc: 0, // −2 is the largest
    acc_norm_chars: 1, // −6/18 beats −2/3 and −3.5/4
    acc_norm_bytes: 2, // −3.5/12 beats −6/18 and −2/3
    acc_norm_tokens: 1, // −6/12 beats −2/1 and −3.5/2
    acc_mutual_info: 0, // −2 − (−3) = 1 beats −1 and −1.5
  });
  assert.deepEqual(predictAll({ ll: [-1, -2], choices: ["a", "b"] }), { acc: 0, acc_norm_chars: 0, acc_norm_bytes: 0 });
});

test("the panel scores every normalization, and flags a ranking that flips", () => {
  const panel = normalizationPanel([
    { gold: 0, pred: { acc: 0, acc_norm_chars: 1 } },
    { gold: 1, pred: { acc: 0, acc_norm_chars: 1 } },
  ]);
  assert.deepEqual(panel, { acc: 0.5, acc_norm_chars: 0.5 });
  const same = rankingChanges({ f32: { acc: 0.6, acc_norm_chars: 0.7 }, q4_0: { acc: 0.5, acc_norm_chars: 0.6 }, q8_0: { acc: 0.5, acc_norm_chars: 0.65 } });
  assert.equal(same.changed, false, "a tie under acc is not an ordering");
  assert.deepEqual(same.rankings.acc_norm_chars, ["f32", "q8_0", "q4_0"]);
  const flipped = rankingChanges({ f32: { acc: 0.6, acc_norm_chars: 0.7, acc_mutual_info: 0.5 }, q4_0: { acc: 0.55, acc_norm_chars: 0.72, acc_mutual_info: 0.4 } });
  assert.equal(flipped.changed, true);
  assert.deepEqual(flipped.reversals, [{ normalization: "acc_norm_chars", above: "f32", below: "q4_0" }]);
});

test('normalizations add lm-eval\'s unconditional requests ("", delimiter + choice) after the conditional ones', () => {
  const def = { ...(loadTask("kobest_sentineg", process.cwd()).def as MultipleChoiceTask), normalizations: true };
  const r = renderDoc(def, { sentence: "좋다", label: 1 }, "row");
  assert.deepEqual(buildRequests(def, r), [
    { context: "문장: 좋다 긍부정:", continuation: " 부정" },
    { context: "문장: 좋다 긍부정:", continuation: " 긍정" },
    { context: "", continuation: " 부정" },
    { context: "", continuation: " 긍정" },
  ]);
});

test("on stories260K the panel's acc and chars entries equal the task's acc and acc_norm", async () => {
  const def = loadTask("kobest_hellaswag", process.cwd()).def as MultipleChoiceTask;
  const docs = await prepareMultipleChoice(def, { dataDir: sharedPath("datasets"), seed: 1234, limit: 6, normalizations: true });
  assert.ok(docs.every((d) => d.unconditional && d.requests.length === 8));
  const b = await GgufBackend.open({ name: "f32", path: models.stories(), nCtx: 512 });
  try {
    const res = await b.loglikelihood(docs.flatMap((d) => d.requests));
    let k = 0;
    const scored = docs.map((d) => {
      const rs = d.requests.map(() => res[k++]);
      return scoreDoc(
        d,
        rs.map((r) => r.logprob),
        rs.map((r) => r.isGreedy),
        false,
        rs.map((r) => r.nTokens),
      );
    });
    const m = aggregateMultipleChoice(def, docs, scored);
    assert.equal(m.acc_norm_chars, m.acc_norm);
    for (const s of scored) assert.equal(s.panel!.acc, s.pred);
    for (const key of ["acc_norm_bytes", "acc_norm_tokens", "acc_mutual_info"] as const) assert.ok(typeof m[key] === "number" && m[key]! >= 0 && m[key]! <= 1, key);
    // PMI really used the unconditional scores: recompute one document by hand.
    const s0 = scored[0];
    const pmi = s0.loglikelihoods.map((ll, i) => ll - s0.unconditional![i]);
    assert.equal(s0.pred_mutual_info, pmi.indexOf(Math.max(...pmi)));
    console.log(`# kobest_hellaswag ×6 on stories260K: acc ${m.acc} chars ${m.acc_norm_chars} bytes ${m.acc_norm_bytes} tokens ${m.acc_norm_tokens} pmi ${m.acc_mutual_info}`);
  } finally {
    await b.dispose();
  }
});
