// Every task kind, in one list. A new kind is its file under src/tasks/kinds and one line here.
import { loadTask, type LoadedTask, yamlTaskNames } from "../taskRegistry.js";
import { generateKind } from "./generate.js";
import { llamacppHellaswagKind, llamacppWinograndeKind } from "./llamacpp.js";
import { loglikelihoodKind } from "./loglikelihood.js";
import { multipleChoiceKind } from "./multipleChoice.js";
import { perplexityKind } from "./perplexity.js";
import { rollingKind } from "./rolling.js";
import type { ConfigureContext, ConfiguredTask, TaskKind } from "./taskKind.js";

/** The task kinds this build runs. */
export const TASK_KINDS: readonly TaskKind[] = [multipleChoiceKind, loglikelihoodKind, rollingKind, llamacppHellaswagKind, llamacppWinograndeKind, perplexityKind, generateKind];

const byTask = new Map(TASK_KINDS.flatMap((k) => ("task" in k.claims ? [[k.claims.task, k] as const] : [])));
const byYamlType = new Map(TASK_KINDS.flatMap((k) => ("yamlType" in k.claims ? [[k.claims.yamlType, k] as const] : [])));

/** A code task's kind by its name (`perplexity`, `generate`), if it is one. */
export function codeTaskKind(task: string): TaskKind | undefined {
  return byTask.get(task);
}

/** The kind of an entry's task and, for a YAML task, its definition (`task` is a built-in name or a task YAML path). */
export function kindOf(task: string): { kind: TaskKind; definition?: LoadedTask } {
  const code = byTask.get(task);
  if (code) return { kind: code };
  const definition = loadTask(task);
  const kind = byYamlType.get(definition.def.type);
  // taskDefinition's union and this registry list the same types; a mismatch is a bug here.
  if (!kind) throw new Error(`internal: no task kind for type '${definition.def.type}' (${definition.file})`);
  return { kind, definition };
}

/** Validates one config entry with its kind's strict schema and resolves its paths. */
export function configureTask(raw: { task: string } & Record<string, unknown>, ctx: Omit<ConfigureContext, "definition">): ConfiguredTask {
  const { kind, definition } = kindOf(raw.task);
  return { ...kind.configure(raw, { ...ctx, definition }), name: ctx.name };
}

/** Every task name `quanteval tasks` lists: the code tasks, then the built-in YAML tasks. */
export function listTaskNames(): string[] {
  return [...byTask.keys(), ...yamlTaskNames()].sort();
}
