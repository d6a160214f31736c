// The per-sample rows of a generate task, and the dataset × model cells its hypotheses test.
import type { SampleRow } from "../../run/taskContext.js";
import type { GenerateItem } from "./dataset.js";
import type { Distances } from "./distances.js";
import { DISTANCE_KEYS, summarizeDistances } from "./embeddingDrift.js";
import type { CellValue } from "./hypotheses.js";
import type { PairJudgment } from "./judge.js";
import type { ModelOutputs } from "./requests.js";
import { referenceScores } from "./textMetrics.js";

/** One row per prompt: output, reference scores, distances, the perturbed run and the judge's verdicts. */
export function sampleRows(model: string, items: GenerateItem[], o: ModelOutputs, dist: Distances, perturbed: string[] | undefined, judgments: PairJudgment[] | undefined): SampleRow[] {
  const firstId = [...dist.keys()][0];
  return items.map((it, i): SampleRow => {
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
    if (firstId) for (const k of DISTANCE_KEYS) row[`embed_${k}`] = dist.get(firstId)!.get(model)!.clean[i][k];
    if (dist.size > 1) row.embeddings = Object.fromEntries([...dist].map(([id, per]) => [id, per.get(model)!.clean[i]]));
    if (perturbed) {
      const p = o.perturbed[i];
      Object.assign(row, { perturbed_prompt: perturbed[i], perturbed_output: p.text, perturbed_finish_reason: p.finishReason, perturbed_n_tokens: p.nTokens });
      if (firstId) for (const k of DISTANCE_KEYS) row[`perturbed_embed_${k}`] = dist.get(firstId)!.get(model)!.perturbed[i][k];
    }
    const j = judgments?.[i];
    if (j) row.judge = { baseline_as_a: j.ab, variant_as_a: j.ba };
    return row;
  });
}

/** Mean and median distance per (dataset, model, embedder, distance, target) cell. */
export function hypothesisCells(dist: Distances, models: string[], items: GenerateItem[], labels: string[]): CellValue[] {
  const cells: CellValue[] = [];
  for (const [metric, per] of dist) {
    for (const m of models) {
      const rows = per.get(m)!.clean;
      for (const label of labels) {
        const sub = rows.filter((_, i) => items[i].dataset === label);
        const s = summarizeDistances(sub);
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
