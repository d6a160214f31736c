// The per-sample rows of a generate task, and the dataset × model cells its hypotheses test.
import { SAMPLE_PAGES } from "../../run/evaluationStore.js";
import type { SampleRow } from "../../run/taskContext.js";
import type { GenerateItem } from "./dataset.js";
import type { Distances } from "./distances.js";
import { DISTANCE_KEYS, summarizeDistances } from "./embeddingDrift.js";
import type { CellValue } from "./hypotheses.js";
import type { PairJudgment } from "./judge.js";
import type { ModelOutputs } from "./requests.js";
import { referenceScores } from "./textMetrics.js";

/** Rows a page of samples, built when it is written. */
const PAGE_ROWS = 2000;

/**
 * One row per prompt of prompts from … to − 1: output, reference scores, distances, the perturbed
 * run and the judge's verdicts.
 */
export function sampleRows(
  model: string,
  items: GenerateItem[],
  o: ModelOutputs,
  dist: Distances,
  perturbed: string[] | undefined,
  judgments: PairJudgment[] | undefined,
  from = 0,
  to = items.length,
): SampleRow[] {
  const firstId = [...dist.keys()][0];
  return items.slice(from, to).map((it, k): SampleRow => {
    const i = from + k;
    const g = o.clean[i];
    const row: SampleRow = {
      doc_id: it.doc_id,
      dataset: it.dataset,
      row: it.row,
      prompt: it.prompt,
      reference: it.reference ?? null,
      output: g.text,
      finish_reason: g.finishReason,
      n_tokens: g.nTokens,
    };
    if (it.reference !== undefined) Object.assign(row, referenceScores(g.text, it.reference));
    if (firstId) for (const k of DISTANCE_KEYS) row[`embed_${k}`] = dist.get(firstId)!.get(model)!.clean.get(i, k);
    if (dist.size > 1) row.embeddings = Object.fromEntries([...dist].map(([id, per]) => [id, per.get(model)!.clean.row(i)]));
    if (perturbed) {
      const p = o.perturbed[i];
      Object.assign(row, { perturbed_prompt: perturbed[i], perturbed_output: p.text, perturbed_finish_reason: p.finishReason, perturbed_n_tokens: p.nTokens });
      if (firstId) for (const k of DISTANCE_KEYS) row[`perturbed_embed_${k}`] = dist.get(firstId)!.get(model)!.perturbed.get(i, k);
    }
    const j = judgments?.[i];
    if (j) row.judge = { baseline_as_a: j.ab, variant_as_a: j.ba };
    return row;
  });
}

/**
 * Every model's sample rows, built page by page as they are written (samplePages) rather than all
 * at once: a row holds the prompt, reference and output texts and a dozen scores, so a large task's
 * rows for every model would not fit beside each other. Reading `samples[model]` builds them all.
 */
export function pagedSamples(models: string[], n: number, rows: (model: string, from: number, to: number) => SampleRow[]): Record<string, SampleRow[]> {
  const samples: Record<string, SampleRow[]> = {};
  for (const m of models) Object.defineProperty(samples, m, { get: () => rows(m, 0, n), enumerable: true });
  function* pages(model: string): Generator<SampleRow[]> {
    for (let from = 0; from < n; from += PAGE_ROWS) yield rows(model, from, Math.min(n, from + PAGE_ROWS));
  }
  Object.defineProperty(samples, SAMPLE_PAGES, { value: pages });
  return samples;
}

/** Mean and median distance per (dataset, model, embedder, distance, target) cell. */
export function hypothesisCells(dist: Distances, models: string[], items: GenerateItem[], labels: string[]): CellValue[] {
  const cells: CellValue[] = [];
  for (const [metric, per] of dist) {
    for (const m of models) {
      const rows = per.get(m)!.clean;
      for (const label of labels) {
        const s = summarizeDistances(
          rows,
          items.flatMap((it, i) => (it.dataset === label ? [i] : [])),
        );
        for (const k of DISTANCE_KEYS) {
          if (!(`embed_${k}` in s)) continue;
          const [distance, , target] = k.split("_") as ["l1" | "cos", string, "baseline" | "reference"];
          cells.push({ dataset: label, model: m, metric, distance, target, mean: s[`embed_${k}`], median: s[`embed_${k}_median`] });
        }
      }
    }
  }
  return cells;
}
