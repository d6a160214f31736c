// Which models of a run are resident together (issue 14, `schedule: auto | sequential | together`).
// Pure: the estimates and the budget come in (memoryEstimate.ts), groups and a manifest record go out.
// The runner loads each group, runs every task's requests for its models into the store, releases
// them, and computes comparisons from the store; a group holding the baseline and a variant can
// compare them in memory (co-evaluation, the fast path). The noise-floor pass is one more model.
import { formatBytes } from "../util/formatBytes.js";
import { QuantevalError } from "../util/errors.js";
import type { FreeMemory, MemoryEstimate } from "./memoryEstimate.js";

/** The config key's values. */
export const SCHEDULE_MODES = ["auto", "sequential", "together"] as const;
export type ScheduleMode = (typeof SCHEDULE_MODES)[number];

/** The memory the plan may use. */
export interface ScheduleBudget {
  /** Bytes, or undefined when unknown (no `memory_budget` and free memory unmeasurable). */
  bytes: number | undefined;
  /** "memory_budget" when the config set it, else where the free-memory figure came from. */
  source: "memory_budget" | FreeMemory["source"];
  note?: string;
}

/** Inputs of {@link planSchedule}. */
export interface ScheduleInput {
  /** Every model to evaluate, in evaluation order (baseline first; the noise-floor pass is one more entry). */
  models: MemoryEstimate[];
  mode: ScheduleMode;
  budget: ScheduleBudget;
  /** Bytes held once per process whatever the schedule (runtime, buffers of returned rows). Defaults to 0. */
  reserveBytes?: number;
  /** Where the mode came from, for error messages. Defaults to `"schedule"`. */
  where?: string;
}

/** What the manifest records about the schedule. */
export interface ScheduleRecord {
  requested: ScheduleMode;
  /** "together" (one group), "sequential" (one model per group). */
  used: "together" | "sequential";
  /** Model names per group, in load order. */
  groups: string[][];
  budget_bytes: number | null;
  budget_source: ScheduleBudget["source"];
  /** Estimated peak resident bytes of the largest group plus the reserve. */
  peak_estimate_bytes: number;
  /** Why this schedule was chosen, in one line. */
  reason: string;
  estimates: MemoryEstimate[];
}

/** Groups of models resident together, and the manifest record. */
export interface SchedulePlan {
  groups: MemoryEstimate[][];
  record: ScheduleRecord;
}

/**
 * Plans the schedule.
 * - `sequential`: one model per group.
 * - `together`: one group (the user's choice; a budget it exceeds is noted, not refused).
 * - `auto`: together only when the sum of the estimates plus the reserve fits the budget,
 *   else sequential; sequential also when the budget is unknown.
 * @throws QuantevalError when the budget is known and one model alone does not fit it
 */
export function planSchedule(input: ScheduleInput): SchedulePlan {
  const { models, mode, budget } = input;
  const reserve = input.reserveBytes ?? 0;
  const where = input.where ?? "schedule";
  if (models.length === 0) throw new RangeError("planSchedule: no models");
  if (!SCHEDULE_MODES.includes(mode)) throw new QuantevalError(`${where}: unknown schedule '${String(mode)}'; use one of ${SCHEDULE_MODES.join(", ")}`);
  const names = new Set<string>();
  for (const m of models) {
    if (names.has(m.name)) throw new RangeError(`planSchedule: model '${m.name}' listed twice`);
    names.add(m.name);
  }
  if (budget.bytes !== undefined) {
    const largest = models.reduce((a, b) => (b.total_bytes > a.total_bytes ? b : a));
    if (largest.total_bytes + reserve > budget.bytes) {
      throw new QuantevalError(
        `${where}: model '${largest.name}' needs ~${formatBytes(largest.total_bytes + reserve)} (weights ${formatBytes(largest.weights_bytes)}, KV cache ${formatBytes(largest.kv_bytes)}, compute ${formatBytes(largest.compute_bytes)}${largest.window_bytes ? `, perplexity window context ${formatBytes(largest.window_bytes)}` : ""}${reserve ? `, runtime ${formatBytes(reserve)}` : ""}) but the memory budget is ${formatBytes(budget.bytes)} (${budget.source}); raise memory_budget, lower n_ctx/kv_size, or use a smaller quantization`,
      );
    }
  }
  const sum = models.reduce((s, m) => s + m.total_bytes, 0) + reserve;
  let used: ScheduleRecord["used"];
  let reason: string;
  if (mode === "sequential") {
    used = "sequential";
    reason = "schedule: sequential";
  } else if (mode === "together") {
    used = "together";
    reason = budget.bytes !== undefined && sum > budget.bytes ? `schedule: together, although the estimate ${formatBytes(sum)} exceeds the budget ${formatBytes(budget.bytes)}` : "schedule: together";
  } else if (budget.bytes === undefined) {
    used = "sequential";
    reason = `auto: memory budget unknown${budget.note ? ` (${budget.note})` : ""}, so one model at a time`;
  } else if (sum <= budget.bytes) {
    used = "together";
    reason = `auto: all ${models.length} models (${formatBytes(sum)}) fit the budget ${formatBytes(budget.bytes)} (${budget.source})`;
  } else {
    used = "sequential";
    reason = `auto: all ${models.length} models need ${formatBytes(sum)}, more than the budget ${formatBytes(budget.bytes)} (${budget.source}), so one model at a time`;
  }
  const groups = used === "together" ? [models] : models.map((m) => [m]);
  const peak = Math.max(...groups.map((g) => g.reduce((s, m) => s + m.total_bytes, 0))) + reserve;
  return {
    groups,
    record: {
      requested: mode,
      used,
      groups: groups.map((g) => g.map((m) => m.name)),
      budget_bytes: budget.bytes ?? null,
      budget_source: budget.source,
      peak_estimate_bytes: peak,
      reason,
      estimates: models,
    },
  };
}
