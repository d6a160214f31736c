// Runs one configured task: prepare (no model), evaluate each model into the store, compare
// from the store. The runner prepares every task before loading a model (preflight).
import type { ConfiguredTask, PreparedTask } from "../tasks/kinds/taskKind.js";
import { putEvaluation, storedEvaluations } from "./evaluationStore.js";
import type { TaskOutcome, TaskRunContext } from "./taskContext.js";

/** Renders the task's documents and validates its data, without touching a model. */
export function prepareTask(task: ConfiguredTask, ctx: Pick<TaskRunContext, "dataDir" | "seed" | "limit" | "warn">): Promise<PreparedTask> {
  return task.prepare({ name: task.name, dataDir: ctx.dataDir, seed: ctx.seed, limit: ctx.limit, warn: ctx.warn });
}

/** Evaluates every model of the run on a prepared task (one at a time where the kind allows), then compares them from the store. */
export async function runPreparedTask(name: string, prepared: PreparedTask, ctx: TaskRunContext): Promise<TaskOutcome> {
  const models = [ctx.baseline, ...ctx.variants];
  await prepared.selectForModels?.(models);
  const env = { name, store: ctx.store, progress: ctx.progress, warn: ctx.warn };
  if (prepared.schedule === "per_model") {
    for (const m of models) putEvaluation(ctx.store, name, m.name, await prepared.evaluate(m, env));
  } else {
    for (const [model, e] of await prepared.evaluateJointly(ctx.baseline, ctx.variants, env)) putEvaluation(ctx.store, name, model, e);
  }
  return prepared.compare(storedEvaluations(ctx.store, name), {
    name,
    seed: ctx.seed,
    bootstrap: ctx.bootstrap,
    baseline: ctx.baseline.name,
    variants: ctx.variants.map((v) => v.name),
    noiseFloorName: ctx.noiseFloorName,
    store: ctx.store,
    progress: ctx.progress,
    warn: ctx.warn,
    openModels: models,
  });
}

/** Prepares and runs one task (the library's and the tests' entry to a single task). */
export async function runTask(task: ConfiguredTask, ctx: TaskRunContext): Promise<TaskOutcome> {
  return runPreparedTask(task.name, await prepareTask(task, ctx), ctx);
}
