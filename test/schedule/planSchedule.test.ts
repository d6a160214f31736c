// The schedule planner and the memory_budget parser: pure, no model (unit lane).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parseMemoryBudget } from "../../src/schedule/memoryBudget.js";
import type { MemoryEstimate } from "../../src/schedule/memoryEstimate.js";
import { planSchedule } from "../../src/schedule/planSchedule.js";
import { QuantevalError } from "../../src/util/errors.js";

const GB = 1e9;

/** A model of `gb` GB total (weights only, for the planner's arithmetic). */
function model(name: string, gb: number): MemoryEstimate {
  const b = gb * GB;
  return { name, weights_bytes: b, kv_bytes: 0, compute_bytes: 0, window_bytes: 0, total_bytes: b, kv_cells: 4096, cache_type: "f16", n_vocab: 32000, device: "ram" };
}

// The example: a 7B F16 baseline and four quantizations, ≈ 33 GB of weights.
const run = [model("f16", 13.5), model("q8_0", 7), model("q6_k", 5.5), model("q4_k_m", 4.1), model("q3_k_m", 3.3)];

describe("planSchedule", () => {
  test("auto keeps models together only when they all fit", () => {
    const fits = planSchedule({ models: run, mode: "auto", budget: { bytes: 40 * GB, source: "MemAvailable" } });
    assert.deepEqual(fits.record.groups, [["f16", "q8_0", "q6_k", "q4_k_m", "q3_k_m"]]);
    assert.equal(fits.record.used, "together");
    assert.equal(fits.record.peak_estimate_bytes, 33.4 * GB);

    const tight = planSchedule({ models: run, mode: "auto", budget: { bytes: 24 * GB, source: "memory_budget" } });
    assert.deepEqual(tight.record.groups, [["f16"], ["q8_0"], ["q6_k"], ["q4_k_m"], ["q3_k_m"]]);
    assert.equal(tight.record.used, "sequential");
    assert.equal(tight.record.peak_estimate_bytes, 13.5 * GB);
    assert.match(tight.record.reason, /more than the budget/);
  });

  test("the reserve counts once, whatever the grouping", () => {
    const p = planSchedule({ models: run, mode: "auto", budget: { bytes: 33.5 * GB, source: "MemAvailable" }, reserveBytes: 0.2 * GB });
    assert.equal(p.record.used, "sequential", "33.4 + 0.2 GB does not fit 33.5 GB");
    assert.equal(p.record.peak_estimate_bytes, 13.7 * GB);
  });

  test("auto with an unknown budget runs one model at a time, and says why", () => {
    const p = planSchedule({ models: run, mode: "auto", budget: { bytes: undefined, source: "unknown", note: "no GPU memory reported" } });
    assert.equal(p.record.used, "sequential");
    assert.match(p.record.reason, /unknown \(no GPU memory reported\)/);
    assert.equal(p.record.budget_bytes, null);
  });

  test("sequential and together are honoured; together over budget is noted, not refused", () => {
    assert.equal(planSchedule({ models: run, mode: "sequential", budget: { bytes: 100 * GB, source: "MemAvailable" } }).groups.length, 5);
    const t = planSchedule({ models: run, mode: "together", budget: { bytes: 20 * GB, source: "memory_budget" } });
    assert.equal(t.groups.length, 1);
    assert.match(t.record.reason, /exceeds the budget/);
  });

  test("the noise-floor pass is one more model in the schedule", () => {
    const p = planSchedule({ models: [...run, { ...model("f16#noise", 13.5) }], mode: "sequential", budget: { bytes: 16 * GB, source: "memory_budget" } });
    assert.deepEqual(p.record.groups.at(-1), ["f16#noise"]);
  });

  test("a budget too small for one model names it and what it needs, in one line", () => {
    assert.throws(
      () => planSchedule({ models: run, mode: "sequential", budget: { bytes: 8 * GB, source: "memory_budget" }, where: "config.yaml: memory_budget" }),
      (e: Error) =>
        e instanceof QuantevalError &&
        /^config\.yaml: memory_budget: model 'f16' needs ~12\.6 GiB .* the memory budget is 7\.45 GiB \(memory_budget\); raise memory_budget/.test(e.message) &&
        !e.message.includes("\n"),
    );
  });

  test("an unknown mode is a one-line error listing the modes", () => {
    assert.throws(
      () => planSchedule({ models: run, mode: "parallel" as never, budget: { bytes: undefined, source: "unknown" } }),
      /unknown schedule 'parallel'; use one of auto, sequential, together/,
    );
  });
});

describe("memoryBudget", () => {
  test("memory_budget accepts bytes and SI/binary sizes; anything else is a one-line error", () => {
    assert.equal(parseMemoryBudget(24e9), 24e9);
    assert.equal(parseMemoryBudget("24GB"), 24e9);
    assert.equal(parseMemoryBudget("16 GiB"), 16 * 2 ** 30);
    assert.equal(parseMemoryBudget("1.5t"), 1.5e12);
    for (const bad of ["lots", "-3GB", "0", 0, "12 parsecs", null]) {
      assert.throws(
        () => parseMemoryBudget(bad, "config.yaml: memory_budget"),
        (e: Error) => e instanceof QuantevalError && /^config\.yaml: memory_budget: '.*' is not a memory size; write e\.g\. 24GB/.test(e.message),
      );
    }
  });
});
