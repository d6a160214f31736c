// Locates, reads and selects the data of llama.cpp's scoring modes (HellaSwag text file,
// Winogrande CSV): the config's `data`, else the task's data_file beside the task YAML or
// under the data directory.
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { dataDir } from "../../data/dataDirs.js";
import { resolveLocalPath } from "../../data/resolveDataset.js";
import { QuantevalError } from "../../util/errors.js";
import type { LlamacppTask } from "../taskDefinition.js";
import { type HellaswagItem, hellaswagTask, indexHellaswag, selectHellaswagTasks } from "./hellaswag.js";
import { readTaskFile, TaskFile, type TaskSource } from "./taskFile.js";
import { indexWinogrande, parseWinograndeLine, selectWinograndeTasks, type WinograndeItem } from "./winogrande.js";

/** What locates the data: the config entry's fields and the run's data directory. */
export interface LlamacppDataContext {
  /** Where a task's data_file is looked up when it is not beside the task YAML. */
  dataDir?: string;
  /** --limit, overriding the entry's limit. */
  limit?: number;
  spec: { data?: string; limit?: number };
  name: string;
}

/** The data file: the config's `data`, else the task's data_file beside the task or under the data directory. */
export function resolveLlamacppData(ctx: LlamacppDataContext, task: { def: LlamacppTask; file: string }): string {
  const def = task.def;
  if (ctx.spec.data) {
    // The config loader resolved `data` beside the config, in the working directory or in the data dir.
    const p = resolveLocalPath(ctx.spec.data);
    if (!p) throw new QuantevalError(`task ${ctx.name}: data file not found: ${ctx.spec.data} (relative paths resolve beside the config); fix 'data'`);
    return p;
  }
  if (def.data_file) {
    const beside = resolveLocalPath(def.data_file, dirname(task.file));
    if (beside) return beside;
    const under = join(dataDir(ctx.dataDir), def.data_file);
    if (existsSync(under)) return under;
    throw new QuantevalError(
      `task ${ctx.name}: llama.cpp data file not found at ${under}; download it${def.data_url ? ` from ${def.data_url}` : ""} there, or give its path as 'data' in the config entry`,
    );
  }
  throw new QuantevalError(`task ${ctx.name}: no data file; give the llama.cpp-format file as 'data' in the config entry`);
}

export interface LlamacppPrepared {
  path: string;
  sha256: string;
  /** The selected tasks, in llama.cpp's order, read back from the file one at a time (taskFile.ts). */
  hellaswag?: TaskSource<HellaswagItem>;
  winogrande?: TaskSource<WinograndeItem>;
  /** Lines llama.cpp would skip too (Winogrande). */
  skipped: Array<{ line: number; reason: string }>;
}

/** 0 … n − 1. */
const numbers = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

/** Reads, parses and selects the tasks (validates the data without touching a model). */
export function prepareLlamacpp(ctx: LlamacppDataContext, task: { def: LlamacppTask; file: string }): LlamacppPrepared {
  const path = resolveLlamacppData(ctx, task);
  const n = ctx.limit ?? ctx.spec.limit ?? task.def.tasks ?? (task.def.type === "llamacpp_hellaswag" ? 400 : 0);
  return selectLlamacppTasks(path, task.def.type, n);
}

/**
 * llama.cpp's selection of `n` tasks (its `--hellaswag-tasks` / `--winogrande-tasks`) from the
 * data file at `path`, every task checked; keeps where the selected tasks are, not their text.
 */
export function selectLlamacppTasks(path: string, type: LlamacppTask["type"], n: number): LlamacppPrepared {
  const file = readTaskFile(path);
  // Only where the text is: the file's bytes are let go when this returns.
  const at = { path, offset: file.offset, stamp: file.stamp };
  if (type === "llamacpp_hellaswag") {
    const ranges = indexHellaswag(file.bytes, path);
    const selected = Int32Array.from(selectHellaswagTasks(numbers(ranges.length / 2), n));
    return { path, sha256: file.sha256, hellaswag: new TaskFile(at, ranges, selected, (text, i) => hellaswagTask(text, i, path)), skipped: [] };
  }
  const { lines, ranges, skipped } = indexWinogrande(file.bytes);
  if (lines.length === 0)
    throw new QuantevalError(`${path}: no Winogrande task could be read; the format is CSV lines index,sentence,option1,option2,answer with a '_' in the sentence and answer 1 or 2`);
  const selected = Int32Array.from(selectWinograndeTasks(numbers(lines.length), n));
  return { path, sha256: file.sha256, winogrande: new TaskFile(at, ranges, selected, (text, k) => parseWinograndeLine(text, lines[k]).item!), skipped };
}
