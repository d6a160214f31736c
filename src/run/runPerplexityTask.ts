// Runs the llama-perplexity-compatible perplexity task (and drift against the baseline) on
// every model at once: the variants' KLD needs the baseline's distributions chunk by chunk.
import type { Backend } from "../backends/backend.js";
import { runPerplexity, type PerplexityRun } from "../tasks/perplexity.js";
import { storeRecords } from "../tasks/perplexityRecords.js";
import type { RunStore } from "../store/runStore.js";
import type { ProgressSink } from "./taskContext.js";

/** What the perplexity task needs from the run. */
export interface PerplexityContext {
  name: string;
  spec: { n_ctx?: number; chunks?: number };
  /** --limit, overriding `chunks`. */
  limit?: number;
  baseline: Backend;
  variants: Backend[];
  store: RunStore;
  progress: ProgressSink;
}

/**
 * Evaluates the task on every model at once. Each model's figures are stored chunk by chunk
 * (perplexityRecords.ts): a resumed run computes only the batches it had not finished, and a
 * stop request (Ctrl-C, SIGTERM) ends the run between two batches.
 */
export async function runPerplexityTask(ctx: PerplexityContext, text: string): Promise<PerplexityRun> {
  const nCtx = ctx.spec.n_ctx ?? 512;
  const chunks = ctx.limit ?? ctx.spec.chunks;
  const models = [ctx.baseline, ...ctx.variants];
  const id = `${ctx.name}`;
  ctx.progress.start(id, `${ctx.name} · ${models.length} models`, 1);
  const t0 = performance.now();
  // Throughput: tokens evaluated by all models per second of wall time.
  const tokS = (d: number) => `${Math.round((d * nCtx * models.length) / ((performance.now() - t0) / 1000)).toLocaleString("en-US")} tok/s`;
  try {
    return await runPerplexity(text, ctx.baseline, ctx.variants, { nCtx, chunks, records: storeRecords(ctx.store), onProgress: (d, t) => ctx.progress.update(id, d, t, tokS(d)) }, `task ${ctx.name}`);
  } finally {
    ctx.progress.stop(id);
  }
}
