// `quanteval export RUN --format lm-eval`: a finished run written as lm-evaluation-harness's
// --output_path layout, one folder per model (baseline and variants), so lm-eval tooling and
// quanteval's own lm-eval reader can read it.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { QuantevalError } from "../util/errors.js";
import { type ExportedTask, resultsFor } from "./exportResults.js";
import { requestShape, type SampleRecord, sampleRecord, taskHash } from "./exportSamples.js";
import { lmEvalDateId, resultsFileName, samplesFileName, sanitizeModelName } from "./lmEvalNames.js";
import { pyJsonDumps } from "./pythonJson.js";
import { readRun } from "./runSource.js";
import { loadTaskDocs } from "./taskDocs.js";

export interface ExportOptions {
  /** Where the dataset ids of the run's tasks resolve (default QUANTEVAL_DATA_DIR). */
  dataDir?: string;
  /** The timestamp in the file names (default now). */
  now?: Date;
  onWarning?: (message: string) => void;
}

/** What was written: per model, its folder and files. */
export interface ExportSummary {
  models: Array<{ model: string; dir: string; results: string; samples: string[] }>;
  tasks: string[];
  skipped: string[];
}

/** Writes the run in `runDir` as lm-eval output under `outDir`. */
export async function exportLmEval(runDir: string, outDir: string, opts: ExportOptions = {}): Promise<ExportSummary> {
  const run = readRun(runDir);
  const warn = opts.onWarning ?? (() => {});
  const now = opts.now ?? new Date();
  const dateId = lmEvalDateId(now);
  const skipped: string[] = [];
  const exported: Array<{ et: Omit<ExportedTask, "hash">; records: Map<string, SampleRecord[]> }> = [];
  for (const task of run.tasks) {
    if (task.type !== "multiple_choice" || !task.taskFile) {
      skipped.push(task.name);
      warn(`${task.name}: ${task.type} tasks are not exported to lm-eval format yet; skipped`);
      continue;
    }
    const baseSamples = run.samples(task.name, run.baseline);
    const loaded = await loadTaskDocs(task.taskFile, baseSamples, opts.dataDir);
    if (loaded.problem) warn(`${task.name}: ${loaded.problem}; 'doc' holds the rendered prompt instead of the dataset row, so doc_hash differs from lm-eval's`);
    const def = loaded.def;
    const metrics = def?.metrics ?? ["acc"];
    const shape = requestShape(def);
    const records = new Map<string, SampleRecord[]>();
    for (const model of run.modelNames) {
      records.set(
        model,
        run.samples(task.name, model).map((s) => sampleRecord(s, metrics, shape, def, loaded.docs?.rows[s.doc_id])),
      );
    }
    exported.push({ et: { task, def, metrics, original: loaded.docs?.rows.length }, records });
  }
  if (exported.length === 0) throw new QuantevalError(`${runDir}: no task of this run can be exported to lm-eval format (only multiple-choice tasks are, so far)`);
  const summary: ExportSummary = { models: [], tasks: exported.map((e) => e.et.task.name), skipped };
  const created = Date.parse(run.created);
  for (const model of run.modelNames) {
    const desc = run.models[model] ?? { name: model, backend: "gguf" };
    const dir = join(outDir, sanitizeModelName(model));
    mkdirSync(dir, { recursive: true });
    const samples: string[] = [];
    for (const { et, records } of exported) {
      const file = join(dir, samplesFileName(et.task.name, dateId));
      const lines = records.get(model) ?? [];
      writeFileSync(file, lines.map((r) => r.line + "\n").join(""));
      samples.push(file);
    }
    const tasks: ExportedTask[] = exported.map(({ et, records }) => ({ ...et, hash: taskHash(records.get(model) ?? []) }));
    const results = resultsFor(run, desc, tasks, { start: Number.isNaN(created) ? now.getTime() : created, end: now.getTime() });
    const resultsFile = join(dir, resultsFileName(dateId));
    writeFileSync(resultsFile, pyJsonDumps(results, 2));
    summary.models.push({ model, dir, results: resultsFile, samples });
  }
  return summary;
}
