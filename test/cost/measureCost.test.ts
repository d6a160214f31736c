// Cost metrics measured for real on stories260K and its Q4_0 variant, each in its own child
// process. Speeds are only checked to be positive and finite: speed is measured in bench/,
// never asserted in tests.
import assert from "node:assert/strict";
import { statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { measureCost } from "../../src/cost/measureCost.js";
import { median } from "../../src/cost/costMetrics.js";
import { QuantevalError } from "../../src/util/errors.js";
import { models } from "../helpers/shared.js";
import { tempDir } from "../helpers/runConfig.js";

const KEYS = ["file_bytes", "params", "bits_per_weight", "load_ms", "prefill_tps", "decode_tps", "peak_rss_bytes"] as const;

test("measureCost: every key present and positive, per model, from a child process", async () => {
  const f32 = await measureCost(models.stories(), { threads: 2, repetitions: 2 });
  const q4 = await measureCost(models.storiesVariant("q4_0"), { threads: 2, repetitions: 2 });
  for (const [name, c] of [
    ["f32", f32],
    ["q4_0", q4],
  ] as const) {
    for (const k of KEYS) assert.ok(Number.isFinite(c[k]) && c[k] > 0, `${name}.${k} = ${c[k]}`);
    assert.equal(c.cost_detail.prefill_tps_runs.length, 2);
    assert.equal(c.cost_detail.decode_tps_runs.length, 2);
    assert.equal(c.prefill_tps, median(c.cost_detail.prefill_tps_runs));
    assert.equal(c.decode_tps, median(c.cost_detail.decode_tps_runs));
    assert.deepEqual([c.cost_detail.n_prompt, c.cost_detail.n_gen, c.cost_detail.n_batch, c.cost_detail.n_ubatch, c.cost_detail.threads], [512, 128, 2048, 512, 2]);
    // Peak RSS is the measuring process's own, so at least what it held before loading the model.
    assert.ok(c.peak_rss_bytes >= c.cost_detail.rss_before_load_bytes);
    assert.equal(c.params, 292_800);
  }
  assert.equal(f32.file_bytes, statSync(models.stories()).size);
  assert.equal(q4.file_bytes, statSync(models.storiesVariant("q4_0")).size);
  assert.equal(f32.bits_per_weight, 32);
  assert.ok(q4.bits_per_weight < 8 && q4.bits_per_weight > 4, `q4_0 bits/weight ${q4.bits_per_weight}`);
});

test("measureCost: peak RSS is the measuring process's own, not its parent's", async () => {
  // A parent holding 300 MiB more than the child ever will: getrusage's maxrss would carry it
  // across fork + exec into the child.
  const ballast = Buffer.alloc(300 << 20, 1);
  const c = await measureCost(models.stories(), { threads: 2, repetitions: 1 });
  assert.ok(process.memoryUsage().rss > c.peak_rss_bytes + (200 << 20), `parent ${process.memoryUsage().rss} vs child peak ${c.peak_rss_bytes}`);
  assert.ok(c.peak_rss_bytes >= c.cost_detail.rss_before_load_bytes);
  assert.equal(ballast[ballast.length - 1], 1);
});

test("measureCost: a missing or non-GGUF file is a user error naming the file", async () => {
  await assert.rejects(measureCost("/nonexistent/model.gguf", { repetitions: 1 }), (e: Error) => e instanceof QuantevalError && e.message.includes("/nonexistent/model.gguf"));
  const bad = join(tempDir(), "not-a-model.gguf");
  writeFileSync(bad, "this is not a GGUF file");
  await assert.rejects(measureCost(bad, { repetitions: 1 }), (e: Error) => e instanceof QuantevalError && e.message.includes(bad));
});

test("median: odd and even counts", () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.ok(Number.isNaN(median([])));
});
