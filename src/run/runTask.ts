// Runs one configured task: prepare (no model), evaluate each model into the store, compare
// from the store. The runner prepares every task before loading a model (preflight), then
// evaluates every task on each resident group of models (evaluateGroup), then compares.
import type { Backend } from "../backends/backend.js";
import type { ConfiguredTask, PreparedTask } from "../tasks/kinds/taskKind.js";
import { putChunkedEvaluation, putEvaluation, storeChunks, storedEvaluations } from "./evaluationStore.js";
import type { TaskOutcome, TaskRunContext } from "./taskContext.js";

/** Renders the task's documents and validates its data, without touching a model. */
export function prepareTask(task: ConfiguredTask, ctx: Pick<TaskRunContext, "dataDir" | "seed" | "limit" | "warn">): Promise<PreparedTask> {
  return task.prepare({ name: task.name, dataDir: ctx.dataDir, seed: ctx.seed, limit: ctx.limit, warn: ctx.warn });
}

/** How one resident group is evaluated. */
export interface GroupContext extends Pick<TaskRunContext, "store" | "progress" | "warn"> {
  /** The baseline's name; in a group it is always first, and its group comes first. */
  baselineName: string;
  /**
   * True when the run has more than one group: a joint task (perplexity) then evaluates each model
   * alone, the baseline leaving on disk (in `scratchDir`) what the variants need.
   */
  alone: boolean;
  scratchDir: string;
}

/** Evaluates the resident models of one group on a prepared task, writing each evaluation to the store. */
export async function evaluateGroup(name: string, prepared: PreparedTask, group: Backend[], ctx: GroupContext): Promise<void> {
  const env = { name, store: ctx.store, progress: ctx.progress, warn: ctx.warn };
  if (prepared.schedule === "per_model") {
    for (const m of group) {
      if (prepared.evaluateInChunks) {
        // Chunk by chunk into the store: memory flat in the number of documents, finished chunks kept.
        const chunks = storeChunks(ctx.store, name, m.name);
        putChunkedEvaluation(ctx.store, name, m.name, await prepared.evaluateInChunks(m, env, chunks), chunks);
      } else putEvaluation(ctx.store, name, m.name, await prepared.evaluate(m, env));
    }
  } else if (ctx.alone) {
    for (const m of group) putEvaluation(ctx.store, name, m.name, await prepared.evaluateAlone(m, m.name === ctx.baselineName ? "baseline" : "variant", { ...env, scratchDir: ctx.scratchDir }));
  } else {
    const [baseline, ...variants] = group;
    if (baseline?.name !== ctx.baselineName) throw new Error(`internal: joint task ${name} evaluated on a group without the baseline first`);
    for (const [model, e] of await prepared.evaluateJointly(baseline, variants, env)) putEvaluation(ctx.store, name, model, e);
  }
}

/** Compares the models of a task from their stored evaluations. */
export function compareTask(
  name: string,
  prepared: PreparedTask,
  ctx: Omit<TaskRunContext, "baseline" | "variants" | "dataDir" | "limit"> & { baseline: string; variants: string[]; openModels: Backend[] },
): Promise<TaskOutcome> {
  return prepared.compare(storedEvaluations(ctx.store, name), {
    name,
    seed: ctx.seed,
    bootstrap: ctx.bootstrap,
    baseline: ctx.baseline,
    variants: ctx.variants,
    noiseFloorName: ctx.noiseFloorName,
    store: ctx.store,
    progress: ctx.progress,
    warn: ctx.warn,
    openModels: ctx.openModels,
  });
}

/** Evaluates every model of the run on a prepared task, all resident together, then compares them from the store. */
export async function runPreparedTask(name: string, prepared: PreparedTask, ctx: TaskRunContext): Promise<TaskOutcome> {
  const models = [ctx.baseline, ...ctx.variants];
  await prepared.selectForModels?.(models);
  await evaluateGroup(name, prepared, models, { baselineName: ctx.baseline.name, alone: false, scratchDir: "", store: ctx.store, progress: ctx.progress, warn: ctx.warn });
  return compareTask(name, prepared, { ...ctx, baseline: ctx.baseline.name, variants: ctx.variants.map((v) => v.name), openModels: models });
}

/** Prepares and runs one task (the library's and the tests' entry to a single task). */
export async function runTask(task: ConfiguredTask, ctx: TaskRunContext): Promise<TaskOutcome> {
  return runPreparedTask(task.name, await prepareTask(task, ctx), ctx);
}
