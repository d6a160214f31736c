// Runs the llama-perplexity-compatible perplexity task (and drift against the baseline) on
// every model at once: the variants' KLD needs the baseline's distributions chunk by chunk.
import { createHash } from "node:crypto";
import type { Backend } from "../backends/backend.js";
import { runPerplexity, type PerplexityRun } from "../tasks/perplexity.js";
import { cacheKey, type RunStore } from "../store/runStore.js";
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

export async function runPerplexityTask(ctx: PerplexityContext, text: string): Promise<PerplexityRun> {
  const nCtx = ctx.spec.n_ctx ?? 512;
  const chunks = ctx.limit ?? ctx.spec.chunks;
  const models = [ctx.baseline, ...ctx.variants];
  // The task is cached whole: its answer depends on every model in it.
  const key = cacheKey(models.map((m) => m.fingerprint()).join("|"), "perplexity", { sha: createHash("sha256").update(text).digest("hex"), nCtx, chunks });
  let run = ctx.store.getCached<PerplexityRun>(key);
  if (!run) {
    const id = `${ctx.name}`;
    ctx.progress.start(id, `${ctx.name} · ${models.length} models`, 1);
    const t0 = performance.now();
    // Throughput: tokens evaluated by all models per second of wall time.
    const tokS = (d: number) => `${Math.round((d * nCtx * models.length) / ((performance.now() - t0) / 1000)).toLocaleString("en-US")} tok/s`;
    run = await runPerplexity(text, ctx.baseline, ctx.variants, { nCtx, chunks, onProgress: (d, t) => ctx.progress.update(id, d, t, tokS(d)) }, `task ${ctx.name}`);
    ctx.progress.stop(id);
    ctx.store.putCached([[key, run]]);
  }
  return run;
}
