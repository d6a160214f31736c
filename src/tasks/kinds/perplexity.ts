// llama-perplexity-compatible chunked perplexity over raw text; with variants also KLD, top-1
// agreement and Δp against the baseline.
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import { z } from "zod";
import { readUtf8 } from "../../data/readRows.js";
import { distMath } from "../../metrics/distMathKernels.js";
import { resolveDataset } from "../../data/resolveDataset.js";
import { runPerplexityTask } from "../../run/runPerplexityTask.js";
import { baselinePerplexityAlone, variantPerplexityAlone } from "../perplexityAlone.js";
import { storeRecords } from "../perplexityRecords.js";
import type { TaskOutcome } from "../../run/taskContext.js";
import { QuantevalError } from "../../util/errors.js";
import { name } from "./entryKeys.js";
import type { ModelEvaluation, PreparedTask, TaskKind } from "./taskKind.js";

/** Every key a perplexity entry accepts. */
export const perplexityEntry = z
  .object({
    task: z.literal("perplexity"),
    name,
    /** A text file, or a dataset id <id>:<config>:<split> (default: wikitext-2-raw-v1/wiki.test.raw under the data dir, else wikitext:wikitext-2-raw-v1:test). */
    data: z.string().optional(),
    /** Tokens per chunk (default 512). */
    n_ctx: z.number().int().min(16).optional(),
    /** Maximum number of chunks (--limit overrides it). */
    chunks: z.number().int().min(1).optional(),
  })
  .strict();

type Entry = z.infer<typeof perplexityEntry>;
/** A variant's drift against the baseline (null for the baseline). */
type Drift = Record<string, unknown> | null;

/** WikiText-2 test as the raw file llama-perplexity reads, under the data dir (the default data offline). */
const WIKITEXT_RAW = [join("wikitext-2-raw-v1", "wiki.test.raw"), join("wikitext", "wikitext-2-raw-v1", "wiki.test.raw")];

async function resolveText(entry: Entry, dataDir: string, taskName: string): Promise<{ path: string; text: string }> {
  const raw = entry.data === undefined ? WIKITEXT_RAW.map((p) => join(dataDir, p)).find((p) => existsSync(p)) : undefined;
  if (raw) return { path: raw, text: readUtf8(raw) };
  const data = entry.data ?? "wikitext:wikitext-2-raw-v1:test";
  // The config loader already looked for a plain path beside the config, in the working directory and under the data dir.
  let path = isAbsolute(data) && existsSync(data) ? data : undefined;
  if (!path) {
    const [id, config, split] = data.split(":");
    if (!config || !split)
      throw new QuantevalError(`task ${taskName}: data file not found: ${data} (looked beside the config, in the working directory and in ${dataDir}); fix 'data' or set QUANTEVAL_DATA_DIR`);
    path = await resolveDataset({ id, config, split }, { dataDir });
  }
  return { path, text: readUtf8(path) };
}

function prepared(entry: Entry, path: string, text: string, limit: number | undefined): PreparedTask<Drift> {
  const chunks = limit ?? entry.chunks;
  return {
    schedule: "joint",
    windowTokens: entry.n_ctx ?? 512,
    async evaluateJointly(baseline, variants, env) {
      const run = await runPerplexityTask({ name: env.name, spec: entry, limit, baseline, variants, store: env.store, progress: env.progress }, text);
      const out = new Map<string, ModelEvaluation<Drift>>();
      for (const m of [baseline, ...variants]) out.set(m.name, { results: { ...run.results[m.name] }, samples: [], state: (run.drift[m.name] as unknown as Drift) ?? null });
      return out;
    },
    async evaluateAlone(model, role, env) {
      const nCtx = entry.n_ctx ?? 512;
      const dir = join(env.scratchDir, `${env.name.replace(/[^A-Za-z0-9_.-]/g, "_")}.distributions`);
      const opts = { nCtx, chunks, where: `task ${env.name}`, records: storeRecords(env.store), onProgress: (d: number, t: number) => env.progress.update(`${env.name}:${model.name}`, d, t) };
      env.progress.start(`${env.name}:${model.name}`, `${env.name} · ${model.name}`, 1);
      try {
        if (role === "baseline") {
          // Resumes chunk by chunk from the store's records and the checkpointed rows on disk
          // (kept with keep_distributions, for later runs): the variants need those rows.
          const { result, stored } = await baselinePerplexityAlone(text, model, dir, opts);
          return { results: { ...result }, samples: [], state: { stored_distributions: stored } };
        }
        const r = await variantPerplexityAlone(text, model, dir, opts);
        return { results: { ...r.result }, samples: [], state: r.drift as unknown as Drift };
      } finally {
        env.progress.stop(`${env.name}:${model.name}`);
      }
    },
    async compare(stored, env) {
      const base = stored.get(env.baseline);
      const results: TaskOutcome["results"] = { [env.baseline]: base.results };
      // Set when the baseline was evaluated alone (sequential schedule): where its rows went and their disk use.
      const storedDistributions = (base.state as { stored_distributions?: unknown } | null)?.stored_distributions;
      const comparisons: TaskOutcome["comparisons"] = {};
      for (const v of env.variants) {
        const e = stored.get(v);
        results[v] = e.results;
        if (e.state) comparisons[v] = e.state;
      }
      return {
        type: "perplexity",
        results,
        comparisons,
        samples: {},
        manifest: {
          data_file: path,
          text_sha256: createHash("sha256").update(text).digest("hex"),
          n_ctx: entry.n_ctx ?? 512,
          chunks: chunks ?? null,
          mode: "llama.cpp chunks (second half of each chunk scored, BOS first)",
          dist_math: distMath().name,
          kld_path: storedDistributions ? "stored baseline distributions (one model resident at a time)" : "co-evaluated (baseline and variants resident together)",
          ...(storedDistributions ? { stored_distributions: storedDistributions } : {}),
        },
      };
    },
  };
}

/** The perplexity kind (`task: perplexity`). */
export const perplexityKind: TaskKind = {
  name: "perplexity",
  claims: { task: "perplexity" },
  description: "llama-perplexity-compatible chunked perplexity over raw text; with variants also KLD, top-1 agreement and Δp against the baseline",
  metrics: () => ["ppl", "word_perplexity", "byte_perplexity", "bits_per_byte", "kld_mean", "top1_agreement"],
  dataHint: "a text file or <id>:<config>:<split>",
  configure(raw, ctx) {
    const parsed = ctx.parse(perplexityEntry, raw);
    const entry = { ...parsed, ...(parsed.data ? { data: ctx.paths.data(parsed.data) } : {}) };
    return {
      kind: "perplexity",
      entry,
      async prepare(env) {
        const { path, text } = await resolveText(entry, env.dataDir, env.name);
        return prepared(entry, path, text, env.limit);
      },
    };
  },
};
