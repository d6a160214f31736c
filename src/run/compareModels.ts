// The run's models that comparisons need resident: a generate task's judge that is one of the
// run's models. Under a schedule that released every model (sequential, or auto when they do not
// fit together), they are opened again after every model's evaluations are stored — each once,
// shared by every task — and released when the comparisons are done, so a judge never sits
// beside another model of the run.
import type { Backend } from "../backends/backend.js";
import { openBackend } from "../backends/openBackend.js";
import type { PreparedTask } from "../tasks/kinds/taskKind.js";
import { QuantevalError } from "../util/errors.js";
import type { RunModel } from "./planRun.js";

/** The models `prepared` tasks compare with, in first-use order, that the run can open (`loadable`) — a name the run does not know is left to the task to refuse. */
function wanted(prepared: PreparedTask[], names: string[]): string[] {
  const out: string[] = [];
  for (const p of prepared) for (const n of p.compareModels?.() ?? []) if (names.includes(n) && !out.includes(n)) out.push(n);
  return out;
}

/**
 * Refuses, before any model loads, a comparison that needs a model of the run this run does not
 * load (a baseline taken with `baseline.from` and no `model`). `notLoaded` explains why.
 */
export function checkCompareModels(prepared: PreparedTask[], loadable: Map<string, RunModel>, runNames: string[], notLoaded: string): void {
  for (const n of wanted(prepared, runNames)) {
    if (!loadable.has(n)) throw new QuantevalError(`a task compares with model '${n}' (its judge), which this run does not load (${notLoaded}); give judge.model as a model spec {name, model}`);
  }
}

/** Opens the models the comparisons need, runs `compare` with them, and releases them. */
export async function withCompareModels<T>(prepared: PreparedTask[], loadable: Map<string, RunModel>, compare: (open: Backend[]) => Promise<T>, log: (m: string) => void): Promise<T> {
  const open: Backend[] = [];
  try {
    for (const n of wanted(prepared, [...loadable.keys()])) {
      const m = loadable.get(n)!;
      const b = await openBackend(m.spec, m.path);
      open.push(b);
      await b.describe();
      log(`loaded ${n} again for the comparisons (judge)`);
    }
    return await compare(open);
  } finally {
    for (const b of open) await b.dispose().catch(() => undefined);
  }
}
