// What a task's stored evaluations were computed from, beyond the config: the task YAML's text
// and the data file's bytes. A resumed run whose task definition or data changed (an edited
// YAML, appended rows) recomputes that task — requests are cached by their exact text, so
// only the changed ones run again — and says what changed instead of accepting it silently.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { resolveLocalPath } from "../data/resolveDataset.js";
import type { RunStore } from "../store/runStore.js";
import type { ConfiguredTask } from "../tasks/kinds/taskKind.js";

const sha = (b: string | Buffer) => createHash("sha256").update(b).digest("hex").slice(0, 16);

/** The files a task's evaluations depend on, by role, with their content hashes. */
export type TaskIdentity = Record<string, { file: string; sha256: string }>;

/** A task's {@link TaskIdentity}: reads and hashes its data file, so a run computes it once per task and passes it on. */
export function taskIdentity(task: ConfiguredTask): TaskIdentity {
  const out: TaskIdentity = {};
  const def = task.definition;
  if (def) out["task definition"] = { file: def.file, sha256: sha(def.text) };
  const dataFile = typeof task.entry.data === "string" ? resolveLocalPath(task.entry.data) : undefined;
  const own = def && "data_file" in def.def && typeof def.def.data_file === "string" ? resolveLocalPath(def.def.data_file, def.file.replace(/[^/\\]*$/, "")) : undefined;
  const data = dataFile ?? own;
  if (data) out["data file"] = { file: data, sha256: sha(readFileSync(data)) };
  return out;
}

/**
 * Records each task's identity (`identities`, in the order of `tasks`) in the store; for a task
 * whose recorded identity differs (a resumed run), returns one line naming what changed.
 */
export function checkTaskIdentities(store: RunStore, tasks: ConfiguredTask[], identities: TaskIdentity[]): string[] {
  const changes: string[] = [];
  for (const [i, task] of tasks.entries()) {
    const now = identities[i];
    const key = `task_identity:${task.name}`;
    const before = store.getMeta(key);
    if (before !== undefined) {
      const was = JSON.parse(before) as TaskIdentity;
      const changed = Object.keys({ ...was, ...now }).filter((role) => was[role]?.sha256 !== now[role]?.sha256);
      if (changed.length > 0) {
        changes.push(
          `task ${task.name}: ${changed.map((r) => `the ${r} (${now[r]?.file ?? was[r]?.file})`).join(" and ")} changed since this run began; its evaluations are recomputed (requests whose text is unchanged come from the cache)`,
        );
      }
    }
    store.setMeta(key, JSON.stringify(now));
  }
  return changes;
}
