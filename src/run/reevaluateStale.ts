// After every schedule group was evaluated: a kind whose selection depends on the models
// (generate: prompts that fit every model's context) may have changed it when a later group
// loaded, leaving models evaluated under the old selection. Each such model is loaded again,
// alone, shown the selection (which it may narrow further) and evaluated again; the requests
// they share with the old selection come from the store. Repeats until nothing is stale.
import type { Backend } from "../backends/backend.js";
import { openBackend } from "../backends/openBackend.js";
import type { ConfiguredTask, PreparedTask } from "../tasks/kinds/taskKind.js";
import type { BaselineReuse } from "./baselineFrom.js";
import { evaluateGroupReusing } from "./baselineFrom.js";
import type { RunModel } from "./planRun.js";
import type { GroupContext } from "./runTask.js";

/** Re-evaluates stale models one at a time until every task's selection is stable. */
export async function reevaluateStale(
  tasks: ConfiguredTask[],
  prepared: PreparedTask[],
  loadable: Map<string, RunModel>,
  ctx: GroupContext,
  reuse: BaselineReuse | undefined,
  log: (m: string) => void,
): Promise<void> {
  for (;;) {
    const stale = new Set(prepared.flatMap((p) => p.staleModels?.() ?? []));
    if (stale.size === 0) return;
    for (const name of stale) {
      const m = loadable.get(name);
      if (!m) throw new Error(`internal: model '${name}' is stale but not a model this run loads`);
      const b: Backend = await openBackend(m.spec, m.path);
      try {
        await b.describe();
        log(`loaded ${name} again: a later model ruled out prompts it was evaluated on`);
        for (const [i, task] of tasks.entries()) {
          if (!prepared[i].staleModels?.().includes(name)) continue;
          await prepared[i].selectForModels?.([b]);
          await evaluateGroupReusing(task.name, prepared[i], [b], ctx, reuse);
        }
      } finally {
        await b.dispose().catch(() => undefined);
      }
    }
  }
}
