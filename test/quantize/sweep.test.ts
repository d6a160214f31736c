// A quantization sweep with calibrations in a config, run for real on stories260K: variants
// named type@set-chunks, the imatrix collected once per calibration, hypotheses in results.json.
import { test } from "node:test";
import assert from "node:assert/strict";
import { runConfig } from "../helpers/runConfig.js";
import { models, sharedPath } from "../helpers/shared.js";

test("a sweep of types × calibrations on stories260K: variants named type@set-chunks, hypotheses in results.json", async () => {
  const { results } = await runConfig({
    baseline: { name: "f32", model: models.stories(), threads: 2 },
    variants: { quantize: ["q4_0", "q8_0"], imatrix: [{ data: sharedPath("datasets", "wikitext-2-raw-v1", "wiki.test.raw"), chunks: 2, n_ctx: 128, name: "wiki" }, "none"] },
    tasks: [{ task: "perplexity", data: sharedPath("datasets", "wikitext-2-raw-v1", "wiki.test.raw"), n_ctx: 128, chunks: 4 }],
  });
  assert.deepEqual(results.variants, ["q4_0@wiki-2", "q4_0", "q8_0@wiki-2", "q8_0"]);
  const q1 = results.quantization_hypotheses?.find((r) => r.id === "Q1");
  assert.ok(q1, JSON.stringify(results.quantization_hypotheses));
  assert.equal(q1.cells, 2, "2 types × 1 perplexity task");
  console.log(`# ${q1.hypothesis}: ${q1.win}/${q1.cells} (${q1.detail.map((d) => `${d.a} ${d.a_value.toFixed(4)} vs ${d.b} ${d.b_value.toFixed(4)}`).join("; ")})`);
});
