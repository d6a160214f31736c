// Child-process entry of measureCost: measures one model and sends the figures to the parent
// over the IPC channel, with this process's peak RSS (so each model's memory is its own).
// Not a public entry point; measureCost.ts forks it with the parent's own Node.js flags.
import { readFileSync } from "node:fs";
import { QuantevalError } from "../util/errors.js";
import { runSpeedBench, type SpeedBenchOptions } from "./speedBench.js";

/** Message from the worker to measureCost. */
export type CostWorkerMessage = { ok: true; result: Awaited<ReturnType<typeof runSpeedBench>>; max_rss_bytes: number } | { ok: false; user: boolean; message: string; stack?: string };

/**
 * This process's peak resident set size. On Linux, VmHWM of /proc/self/status: getrusage's
 * ru_maxrss is not used there because it survives fork + exec, so a child started by a large
 * parent would report the parent's RSS at fork time as its own peak.
 */
function peakRssBytes(): number {
  try {
    const m = /^VmHWM:\s*(\d+)\s*kB/m.exec(readFileSync("/proc/self/status", "utf8"));
    if (m) return Number(m[1]) * 1024;
  } catch {
    // Not Linux: fall through.
  }
  // Node reports ru_maxrss in kilobytes on every platform.
  return process.resourceUsage().maxRSS * 1024;
}

async function main(): Promise<void> {
  const [modelPath, optsJson] = process.argv.slice(2);
  const send = (m: CostWorkerMessage) => new Promise<void>((resolve) => (process.send ? process.send(m, () => resolve()) : resolve()));
  try {
    if (!modelPath) throw new Error("costWorker: usage costWorker <model.gguf> [options-json]");
    const opts = JSON.parse(optsJson ?? "{}") as SpeedBenchOptions;
    const result = await runSpeedBench(modelPath, opts);
    await send({ ok: true, result, max_rss_bytes: peakRssBytes() });
  } catch (e) {
    const err = e as Error;
    await send({ ok: false, user: e instanceof QuantevalError, message: err.message, stack: err.stack });
  }
  process.disconnect?.();
}

await main();
