// Quantization-choice hypotheses (Q1 imatrix vs none, Q2 chunks, Q3 calibration sets).
// quantHypotheses is a pure function over a run's task outcomes and the variants' metadata, so
// these cases feed it literal outcomes; test/quantize/sweep.test.ts runs a real sweep.
import { test } from "node:test";
import assert from "node:assert/strict";
import { quantHypotheses, type VariantQuantMeta } from "../../src/quantize/quantHypotheses.js";

const meta = (name: string, type: string, calibration: string | null, chunks: number | null): VariantQuantMeta => ({ name, type, calibration, chunks });

test("Q1–Q3 count cells over tasks × types, with denominators; KLD lower wins, accuracy delta higher wins", () => {
  const variants = [
    meta("q4_0", "q4_0", null, null),
    meta("q4_0@wiki-8", "q4_0", "wiki", 8),
    meta("q4_0@wiki-32", "q4_0", "wiki", 32),
    meta("q4_0@dolly-8", "q4_0", "dolly", 8),
    meta("q8_0", "q8_0", null, null),
    meta("q8_0@wiki-8", "q8_0", "wiki", 8),
  ];
  const kld = (v: Record<string, number>) => ({ type: "perplexity", comparisons: Object.fromEntries(Object.entries(v).map(([k, x]) => [k, { kld_mean: x }])) });
  const acc = (v: Record<string, number>) => ({ type: "multiple_choice", comparisons: Object.fromEntries(Object.entries(v).map(([k, x]) => [k, { acc: { delta: x } }])) });
  const tasks = {
    ppl: kld({ q4_0: 0.2, "q4_0@wiki-8": 0.18, "q4_0@wiki-32": 0.17, "q4_0@dolly-8": 0.19, q8_0: 0.01, "q8_0@wiki-8": 0.01 }),
    copa: acc({ q4_0: -0.02, "q4_0@wiki-8": -0.03, "q4_0@wiki-32": -0.01, "q4_0@dolly-8": -0.02, q8_0: 0, "q8_0@wiki-8": 0 }),
    gen: { type: "generate", comparisons: {} },
  };
  const rows = quantHypotheses(tasks, variants);
  const q1 = rows.find((r) => r.id === "Q1")!;
  // pairs: wiki-8, wiki-32, dolly-8 vs q4_0; wiki-8 vs q8_0 → 4 pairs × 2 tasks
  assert.equal(q1.cells, 8);
  assert.deepEqual([q1.win, q1.loss, q1.tie], [4, 1, 3]);
  assert.equal(q1.win_rate, 0.5);
  const q2 = rows.find((r) => r.id === "Q2")!;
  assert.deepEqual([q2.win, q2.cells], [2, 2], "wiki-32 beats wiki-8 on both tasks");
  const q3 = rows.find((r) => r.id === "Q3")!;
  assert.equal(q3.cells, 2, "dolly-8 vs wiki-8 at q4_0 only");
  assert.deepEqual(
    q3.detail.map((d) => [d.a, d.b, d.outcome]),
    [
      ["q4_0@dolly-8", "q4_0@wiki-8", "loss"],
      ["q4_0@dolly-8", "q4_0@wiki-8", "win"],
    ],
  );
});

test("a hypothesis where every cell ties is marked trivial; no pair, no row", () => {
  const rows = quantHypotheses({ ppl: { type: "perplexity", comparisons: { f16: { kld_mean: 0.001 }, "f16@wiki-8": { kld_mean: 0.001 } } } }, [
    meta("f16", "f16", null, null),
    meta("f16@wiki-8", "f16", "wiki", 8),
  ]);
  assert.equal(rows.length, 1);
  assert.match(rows[0].trivial ?? "", /every cell ties/);
});
