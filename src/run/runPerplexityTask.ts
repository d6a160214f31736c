// Runs the llama-perplexity-compatible perplexity task (and drift against the baseline).
import { createHash } from "node:crypto";
import { dataDir } from "../data/dataDirs.js";
import { readUtf8 } from "../data/readRows.js";
import { resolveDataset, resolveLocalPath } from "../data/resolveDataset.js";
import { distMath } from "../metrics/distMathKernels.js";
import { runPerplexity, type PerplexityRun } from "../tasks/perplexity.js";
import { QuantevalError } from "../util/errors.js";
import { cacheKey } from "../store/runStore.js";
import type { TaskOutcome, TaskRunContext } from "./taskContext.js";

async function resolveText(ctx: TaskRunContext): Promise<{ path: string; text: string }> {
  const data = ctx.spec.data ?? "wikitext:wikitext-2-raw-v1:test";
  // A plain path: beside the config, in the working directory, then under the data directory.
  let path = resolveLocalPath(data, ctx.baseDir) ?? resolveLocalPath(data, dataDir(ctx.dataDir));
  if (!path) {
    const [id, config, split] = data.split(":");
    if (!config || !split) throw new QuantevalError(`task ${ctx.name}: data '${data}' not found; give a text file path or a dataset id as <id>:<config>:<split>`);
    path = await resolveDataset({ id, config, split }, { dataDir: ctx.dataDir });
  }
  return { path, text: readUtf8(path) };
}

export async function runPerplexityTask(ctx: TaskRunContext): Promise<TaskOutcome> {
  const { path, text } = await resolveText(ctx);
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
  const comparisons: TaskOutcome["comparisons"] = {};
  for (const [name, d] of Object.entries(run.drift)) comparisons[name] = d as unknown as Record<string, unknown>;
  return {
    type: "perplexity",
    results: run.results as unknown as TaskOutcome["results"],
    comparisons,
    samples: {},
    manifest: { data_file: path, text_sha256: run.text_sha256, n_ctx: nCtx, chunks: chunks ?? null, mode: "llama.cpp chunks (second half of each chunk scored, BOS first)", dist_math: distMath().name },
  };
}
