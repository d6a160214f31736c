// The dataset rows behind a run's documents, for lm-eval's `doc`, `target` and doc_hash: the
// task YAML the run recorded is loaded again and its test split read, and every row is checked
// against the run's own samples (same choices) before it is used.
import { dirname } from "node:path";
import type { Row } from "../data/readRows.js";
import { loadSplit, renderDoc } from "../tasks/multipleChoice.js";
import type { MultipleChoiceTask } from "../tasks/taskDefinition.js";
import { loadTask } from "../tasks/taskRegistry.js";
import { derive, render } from "../tasks/template.js";
import type { McSample } from "./runSource.js";
import { pyFloat, type PyJson } from "./pythonJson.js";

/** A task's definition and the rows of its test split, when they could be read again. */
export interface TaskDocs {
  def: MultipleChoiceTask;
  /** Rows of the test split, in doc_id order. */
  rows: Row[];
  path: string;
}

/**
 * Loads the multiple-choice task and its test split. Returns the definition with `rows`
 * undefined (and a reason) when the data is not found or does not match the run's samples.
 */
export async function loadTaskDocs(taskFile: string, samples: McSample[], dataDir?: string): Promise<{ def?: MultipleChoiceTask; docs?: TaskDocs; problem?: string }> {
  let def: MultipleChoiceTask;
  try {
    const t = loadTask(taskFile, dirname(taskFile));
    if (t.def.type !== "multiple_choice") return { problem: `task type ${t.def.type} is not exported yet` };
    def = t.def;
  } catch (e) {
    return { problem: (e as Error).message };
  }
  try {
    const dir = dirname(taskFile);
    const { rows, path } = await loadSplit(def, def.test_split, { taskDir: dir, dataDir });
    for (const s of samples) {
      const row = rows[s.doc_id];
      const rendered = row ? renderDoc(def, row, `${path}:${s.doc_id + 1}`) : undefined;
      if (!rendered || JSON.stringify(rendered.choices) !== JSON.stringify(s.choices)) {
        return { def, problem: `${path} does not hold the run's document ${s.doc_id} (the run used other data)` };
      }
    }
    return { def, docs: { def, rows, path } };
  } catch (e) {
    return { def, problem: (e as Error).message };
  }
}

/** A dataset row as Python's datasets library hands it to lm-eval (ints stay ints, other numbers floats). */
export function rowToPy(v: unknown): PyJson {
  if (v === null || v === undefined) return null;
  if (typeof v === "bigint") return Number(v);
  if (typeof v === "number") return Number.isInteger(v) ? v : pyFloat(v);
  if (typeof v === "string" || typeof v === "boolean") return v;
  if (v instanceof Date) return v.toISOString();
  if (Array.isArray(v)) return v.map(rowToPy);
  if (typeof v === "object") return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, rowToPy(x)]));
  return String(v);
}

/**
 * lm-eval's doc_to_target for a multiple-choice task: the rendered template, turned into an int
 * when it is all digits (lm-eval's `ast.literal_eval` on `isdigit()` targets); the sample file
 * then stores `str(target)`.
 */
export function lmEvalTarget(def: MultipleChoiceTask, row: Row): string {
  const t = render(def.doc_to_target, derive(row, def.derive, "target"), "target");
  return /^[0-9]+$/.test(t) ? String(Number(t)) : t;
}
