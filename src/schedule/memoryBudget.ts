// The memory budget a schedule is planned against: the config's `memory_budget` when set, else
// free VRAM when any model offloads layers (unknown on CPU-only builds), else free RAM.
import { QuantevalError } from "../util/errors.js";
import { type FreeMemory, freeRam, freeVram } from "./memoryEstimate.js";
import type { ScheduleBudget } from "./planSchedule.js";

const UNITS: Record<string, number> = { "": 1, b: 1, k: 1e3, kb: 1e3, kib: 2 ** 10, m: 1e6, mb: 1e6, mib: 2 ** 20, g: 1e9, gb: 1e9, gib: 2 ** 30, t: 1e12, tb: 1e12, tib: 2 ** 40 };

/**
 * `memory_budget` as bytes: a number of bytes, or "24GB" / "24 GiB" / "1.5T" (SI and binary units).
 * Written here rather than with a size library because the accepted forms are a config contract:
 * GB must mean 10⁹ and GiB 2³⁰, which libraries such as `bytes` (GB = 2³⁰) do not agree on.
 * @throws QuantevalError naming `where` for anything else
 */
export function parseMemoryBudget(value: unknown, where = "memory_budget"): number {
  if (typeof value === "number" && Number.isFinite(value) && value > 0) return value;
  if (typeof value === "string") {
    const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(value);
    const unit = m ? UNITS[m[2].toLowerCase()] : undefined;
    if (m && unit !== undefined && Number(m[1]) > 0) return Number(m[1]) * unit;
  }
  throw new QuantevalError(`${where}: '${String(value)}' is not a memory size; write e.g. 24GB, 16GiB or a number of bytes`);
}

/** Where the budget comes from for a run. */
export interface BudgetInput {
  /** The config's `memory_budget`, if set (number of bytes or a size string). */
  memoryBudget?: unknown;
  /** True when any model offloads layers to a GPU. */
  offloaded?: boolean;
  /** For error messages. Defaults to `"memory_budget"`. */
  where?: string;
}

/** Resolves the budget: config override, else free VRAM (offloaded) or free RAM (MemAvailable). */
export async function resolveBudget(input: BudgetInput, probes: { ram?: () => Promise<FreeMemory>; vram?: () => Promise<FreeMemory> } = {}): Promise<ScheduleBudget> {
  if (input.memoryBudget !== undefined) return { bytes: parseMemoryBudget(input.memoryBudget, input.where), source: "memory_budget" };
  const free = input.offloaded ? await (probes.vram ?? freeVram)() : await (probes.ram ?? freeRam)();
  return { bytes: free.bytes, source: free.source, note: free.note };
}
