// The options every YAML-defined kind's document preparation takes from its config entry.
import { dirname } from "node:path";
import type { PrepareOptions } from "../multipleChoice.js";
import type { PrepareEnv } from "./taskKind.js";

/** The entry keys document preparation reads. */
export interface DocumentEntry {
  limit?: number;
  num_fewshot?: number;
  data?: string;
  split?: string;
}

/** --limit overrides the entry's limit; the task file's folder anchors its relative data_file. */
export function prepareOptions(entry: DocumentEntry, env: Pick<PrepareEnv, "dataDir" | "seed" | "limit">, taskFile: string): PrepareOptions {
  return {
    taskDir: dirname(taskFile),
    dataDir: env.dataDir,
    seed: env.seed,
    limit: env.limit ?? entry.limit,
    numFewshot: entry.num_fewshot,
    data: entry.data,
    split: entry.split,
  };
}
