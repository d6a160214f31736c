// Per-model evaluations go through the run's SQLite store and come back unchanged: the
// comparison reads only what was stored.
import assert from "node:assert/strict";
import { test } from "node:test";
import { putEvaluation, storedEvaluations } from "../../src/run/evaluationStore.js";
import { RunStore } from "../../src/store/runStore.js";
import { tempDir } from "../helpers/runConfig.js";

test("a stored evaluation round-trips: non-finite log-likelihoods, sample order and repeated doc_ids kept", () => {
  const store = RunStore.open(tempDir(), { configHash: "evaluation-store-test" });
  try {
    // llama.cpp's HellaSwag selection can draw a task twice; samples keep their order, not doc_id order.
    const evaluation = {
      results: { acc: 0.5, n: 3 },
      samples: [
        { doc_id: 7, ll: -Infinity },
        { doc_id: 2, ll: -1.5 },
        { doc_id: 7, ll: Number.NaN },
      ],
      state: [
        [-Infinity, 0.25],
        [Infinity, -2],
      ],
    };
    putEvaluation(store, "task", "f32", evaluation);
    assert.deepEqual(storedEvaluations(store, "task").get("f32"), evaluation);
    assert.throws(() => storedEvaluations(store, "task").get("q8_0"), { name: "QuantevalError", message: /task task: no stored evaluation of model 'q8_0'/ });
  } finally {
    store.close("done");
  }
});
