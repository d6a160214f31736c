// KLD of quantized files against their original on calibration-style text, through the same
// llama-perplexity-compatible procedure as the perplexity task (src/tasks/perplexity.ts).
import { GgufBackend } from "../backends/gguf.js";
import { runPerplexity } from "../tasks/perplexity.js";
import type { DistributionDrift } from "../metrics/distributionDrift.js";

export interface KldOptions {
  /** Tokens per chunk; defaults to min(512, the baseline's context). */
  nCtx?: number;
  chunks: number;
  threads?: number;
  where: string;
}

/** Mean KLD (and its standard error) of each variant file against `basePath`, one variant at a time. */
export async function measureKld(basePath: string, variants: string[], text: string, opts: KldOptions): Promise<Array<{ kld_mean: number; kld_err: number; ppl: number }>> {
  const open = (name: string, path: string) => GgufBackend.open({ name, path, threads: opts.threads, gpu: "cpu", gpuLayers: 0, nCtx: opts.nCtx });
  const base = await open("base", basePath);
  const out: Array<{ kld_mean: number; kld_err: number; ppl: number }> = [];
  try {
    const nCtx = opts.nCtx ?? Math.min(512, base.contextLength());
    for (const [i, path] of variants.entries()) {
      const v = await open(`v${i}`, path);
      try {
        const run = await runPerplexity(text, base, [v], { nCtx, chunks: opts.chunks }, opts.where);
        const d = run.drift[`v${i}`] as DistributionDrift;
        out.push({ kld_mean: d.kld_mean, kld_err: d.kld_err, ppl: run.results[`v${i}`].ppl });
      } finally {
        await v.dispose();
      }
    }
  } finally {
    await base.dispose();
  }
  return out;
}
