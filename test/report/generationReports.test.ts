// Generation drift reaches the exports: on a real generate run (stories260K F32 vs Q8_0/Q4_0,
// four Dolly prompts, a model2vec embedder) `report --csv` holds a row per measure and variant
// with the run's own numbers (it used to write only a header), and the verdict says how
// generation drift is judged (paired CIs can show a loss, not rule one out).
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { dirname } from "node:path";
import { after, before, test } from "node:test";
import { parse } from "csv-parse/sync";
import { buildCsvReport } from "../../src/report/csv.js";
import { buildMarkdownReport } from "../../src/report/markdown.js";
import { buildVerdict } from "../../src/report/verdict.js";
import type { RunResults } from "../../src/run/runEvaluation.js";
import { makeGenerateRun } from "../helpers/browser.js";

let run: { dir: string; results: RunResults };
before(async () => {
  run = await makeGenerateRun();
});
after(() => {
  if (run) rmSync(dirname(run.dir), { recursive: true, force: true });
});

test("generation drift reaches the CSV and Markdown; the verdict states how it is judged", () => {
  const rows = parse(buildCsvReport(run.results), { columns: true }) as Array<Record<string, string>>;
  const c = run.results.tasks["dolly-drift"].comparisons.q4_0 as Record<string, unknown>;
  assert.equal(typeof c.embed_l1_to_baseline, "number");
  const row = rows.find((r) => r.task === "dolly-drift" && r.variant === "q4_0" && r.metric === "embed_l1_to_baseline");
  assert.ok(row, "a CSV row for the variant's embedding distance to the baseline");
  assert.equal(Number(row.value), c.embed_l1_to_baseline);
  assert.equal(row.significant, "");
  assert.ok(buildMarkdownReport(run.results).includes("embed_l1_to_baseline"));
  const v = buildVerdict(run.results);
  // The judged measures are listed by metricInfo's labels (the distance to the reference joined them).
  const note = v.variants.q4_0.notes.find((n) => n.startsWith("dolly-drift: generation drift can show a loss (bootstrap CI of Δ token F1 / Δ ROUGE-L"));
  assert.ok(note, v.variants.q4_0.notes.join("\n"));
  assert.ok(note.includes("not rule one out; the distance to the baseline is judged against the noise floor only"), note);
  // With no accuracy task and no perplexity, nothing can clear a variant.
  assert.equal(v.variants.q4_0.status, "inconclusive");
});
