// Per-sample distances kept as columns (DistanceColumns) give back the rows they were given:
// numbers to the bit, null reference distances as null and a NaN distance as NaN, in the key order
// samples.jsonl writes; a pick and a summary over some rows equal those of the picked row objects.
import assert from "node:assert/strict";
import { test } from "node:test";
import { summarize } from "../../src/metrics/embeddingDistance.js";
import { DISTANCE_KEYS, DistanceColumns, type SampleDistances, summarizeDistances } from "../../src/tasks/generate/embeddingDrift.js";

const rows: SampleDistances[] = [
  { l1_to_baseline: 0, cos_to_baseline: 0, l1_to_reference: 1.25, cos_to_reference: 0.1 + 0.2 },
  { l1_to_baseline: 3.5, cos_to_baseline: 1e-17, l1_to_reference: null, cos_to_reference: null },
  { l1_to_baseline: 2, cos_to_baseline: Number.NaN, l1_to_reference: 0.5, cos_to_reference: Number.NaN },
  { l1_to_baseline: 7, cos_to_baseline: 0.75, l1_to_reference: 4, cos_to_reference: 0.5 },
];

test("distance columns round-trip rows, nulls and NaN included, and pick and summarize like the row objects", () => {
  const cols = new DistanceColumns(6);
  cols.set(0, rows.slice(0, 1));
  cols.set(1, rows.slice(1));
  assert.equal(cols.length, 6);
  for (const [i, r] of rows.entries()) {
    assert.deepEqual(cols.row(i), r);
    assert.equal(JSON.stringify(cols.row(i)), JSON.stringify(r), "same key order");
  }
  const idx = [3, 1, 1, 0];
  const picked = cols.pick(idx);
  assert.deepEqual(
    idx.map((_, j) => picked.row(j)),
    idx.map((i) => rows[i]),
  );
  // The summary as it was computed on row objects: each distance's non-null values, in row order.
  const summary = (rs: SampleDistances[]) => {
    const out: Record<string, number> = {};
    for (const k of DISTANCE_KEYS) {
      const vals = rs.map((r) => r[k]).filter((x): x is number => x !== null);
      if (vals.length === 0 && k.endsWith("reference")) continue;
      const s = summarize(vals);
      Object.assign(out, { [`embed_${k}`]: s.mean, [`embed_${k}_median`]: s.median });
    }
    return out;
  };
  for (const at of [[0, 3, 1], [2, 0], [1], [0, 1, 2, 3]]) {
    assert.deepEqual(summarizeDistances(cols, at), summary(at.map((i) => rows[i])), JSON.stringify(at));
  }
  assert.deepEqual(Object.keys(summarizeDistances(cols, [1])), ["embed_l1_to_baseline", "embed_l1_to_baseline_median", "embed_cos_to_baseline", "embed_cos_to_baseline_median"]);
});
