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
 */
export function collectStored(stored: StoredEvaluations, env: Pick<CompareEnv, "baseline" | "variants">): { results: TaskOutcome["results"]; samples: Record<string, SampleRow[]> } {
  const results: TaskOutcome["results"] = {};
  const samples: Record<string, SampleRow[]> = {};
  for (const m of [env.baseline, ...env.variants]) {
    results[m] = stored.get(m).results;
    Object.defineProperty(samples, m, { get: () => stored.get(m).samples, enumerable: true });
  }
  const pages = (stored as { [SAMPLE_PAGES]?: unknown })[SAMPLE_PAGES];
  if (pages) Object.defineProperty(samples, SAMPLE_PAGES, { value: pages });
  return { results, samples };
}
