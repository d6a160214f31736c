// The options every task type's document preparation takes from a run's task entry.
import { dirname } from "node:path";
import type { PrepareOptions } from "../tasks/multipleChoice.js";
import type { TaskRunContext } from "./taskContext.js";

export type PrepareContext = Pick<TaskRunContext, "baseDir" | "dataDir" | "seed" | "limit" | "spec">;

/** --limit overrides the entry's limit; the task file's folder anchors its relative data_file. */
export function prepareOptions(ctx: PrepareContext, taskFile: string): PrepareOptions {
  return {
    taskDir: dirname(taskFile),
    baseDir: ctx.baseDir,
    dataDir: ctx.dataDir,
    seed: ctx.seed,
    limit: ctx.limit ?? ctx.spec.limit,
    numFewshot: ctx.spec.num_fewshot,
    data: ctx.spec.data,
    split: ctx.spec.split,
  };
}
