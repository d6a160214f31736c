// Helpers shared by the kinds defined by a task YAML.
import { SAMPLE_PAGES } from "../../run/evaluationStore.js";
import type { SampleRow, TaskOutcome } from "../../run/taskContext.js";
import type { TaskDefinition } from "../taskDefinition.js";
import type { LoadedTask } from "../taskRegistry.js";
import type { CompareEnv, ConfigureContext, StoredEvaluations } from "./taskKind.js";

/** The entry's task YAML, narrowed to the kind that claimed it by its `type`. */
export function definitionOf<T extends TaskDefinition["type"]>(ctx: ConfigureContext, type: T): LoadedTask<Extract<TaskDefinition, { type: T }>> {
  const d = ctx.definition;
  // The registry hands a YAML kind only definitions of its own type; anything else is a bug here.
  if (!d || d.def.type !== type) throw new Error(`internal: the ${type} kind was given a ${d?.def.type ?? "missing"} definition`);
  return d as LoadedTask<Extract<TaskDefinition, { type: T }>>;
}

/**
 * Every model's stored results and samples, baseline first. Each model's samples are read from the
 * store when that model's entry is read, or page by page (samplePages: the runner writes them to
 * samples.jsonl that way), so a large task's samples are never all in memory at once.
 * With `readState`, each model's state is read from the same decoded evaluation (`states`), so a
 * kind that compares states does not read and decode the stored evaluations a second time.
 */
export function collectStored<S = unknown, T = never>(
  stored: StoredEvaluations<S>,
  env: Pick<CompareEnv, "baseline" | "variants">,
  readState?: (state: S) => T,
): { results: TaskOutcome["results"]; samples: Record<string, SampleRow[]>; states: Record<string, T> } {
  const results: TaskOutcome["results"] = {};
  const samples: Record<string, SampleRow[]> = {};
  const states: Record<string, T> = {};
  for (const m of [env.baseline, ...env.variants]) {
    const evaluation = stored.get(m);
    results[m] = evaluation.results;
    if (readState) states[m] = readState(evaluation.state);
    Object.defineProperty(samples, m, { get: () => stored.get(m).samples, enumerable: true });
  }
  const pages = (stored as { [SAMPLE_PAGES]?: unknown })[SAMPLE_PAGES];
  if (pages) Object.defineProperty(samples, SAMPLE_PAGES, { value: pages });
  return { results, samples, states };
}
