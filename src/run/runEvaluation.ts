// The library entry point: config → models → tasks → comparisons → store → results.json.
import { createHash } from "node:crypto";
import { rm } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { Backend, ModelDescription } from "../backends/backend.js";
import { backendKind, openBackend } from "../backends/openBackend.js";
import { backendFor } from "../backends/registry.js";
import type { LoadedConfig } from "../config/loadConfig.js";
import type { ModelSpec } from "../config/schema.js";
import { measureCost } from "../cost/measureCost.js";
import { resolveModel } from "../models/resolveModel.js";
import { writeResults } from "../results/resultsFile.js";
import { RESULTS_VERSION, type RunResults, type TaskResults } from "../results/types.js";
import { RunStore } from "../store/runStore.js";
import type { PreparedTask } from "../tasks/kinds/taskKind.js";
import { QuantevalError } from "../util/errors.js";
import { buildManifest } from "./manifest.js";
import { type RunModel, planRun } from "./planRun.js";
import { compareTask, prepareTask } from "./runTask.js";
import { checkCompareModels, withCompareModels } from "./compareModels.js";
import { reevaluateStale } from "./reevaluateStale.js";
import { evaluateGroupReusing, notLoadedModels, openBaselineFrom, recordBaselineFacts, reuseEvaluations, settleSelections, taskSignature, withBaselineFrom } from "./baselineFrom.js";
import { checkTaskIdentities, taskIdentity } from "./taskIdentity.js";
import { verdictJson } from "../report/verdict.js";
import { markSignificance, referenceWarnings } from "./significance.js";
import { SamplesWriter } from "./samplesWriter.js";
import { sweepVariants } from "./sweepVariants.js";
import { type ProgressSink, silentProgress } from "./taskContext.js";
import { type VariantQuantMeta, formatQuantHypotheses, quantHypotheses } from "../quantize/quantHypotheses.js";

export type { RunResults } from "../results/types.js";
export { writeAtomic } from "../results/resultsFile.js";

/** How to run: where to write, limits, resume, progress and messages. */
export interface RunOptions {
  /** Output directory: results.json, samples.jsonl and the SQLite store. */
  out: string;
  /** Overrides every task's limit (perplexity: chunks). */
  limit?: number;
  /** Continue a run already in `out`. */
  resume?: boolean;
  /** Progress bars; silent by default. */
  progress?: ProgressSink;
  /** Called with each warning as it happens. */
  onWarning?: (message: string) => void;
  /** Called with one-line status messages (model loaded, task done). */
  onLog?: (message: string) => void;
  /** `--only`: evaluate only these variants (the baseline always). */
  only?: string[];
  /** Stops the run cleanly at the next batch boundary (SIGINT in the CLI). */
  signal?: AbortSignal;
}

/** The name of the noise-floor re-run of the baseline: `<baseline>~noise`. */
export const NOISE_SUFFIX = "~noise";

/** Runs the whole evaluation described by `loaded` and writes results.json and samples.jsonl. */
export async function runEvaluation(loaded: LoadedConfig, opts: RunOptions): Promise<RunResults> {
  const { config } = loaded;
  const progress = opts.progress ?? silentProgress;
  const warnings: string[] = [];
  const warn = (m: string) => {
    warnings.push(m);
    opts.onWarning?.(m);
  };
  const log = opts.onLog ?? (() => {});
  if (opts.limit !== undefined && (!Number.isInteger(opts.limit) || opts.limit < 1)) throw new QuantevalError(`--limit must be a whole number ≥ 1 (got ${opts.limit})`);
  const out = resolve(opts.out);
  // Settings that cannot change a score (HTTP concurrency; which models are resident together,
  // whose results agree to 1e-6) stay out of the run's identity. So do the variants: every cached
  // answer is keyed by its model's fingerprint (weights + settings), so a variant added (or
  // changed) and resumed computes only its own requests, the others' come from the store.
  const { schedule: _s, memory_budget: _m, keep_distributions: _k, variants: _v, ...scored } = config;
  const configHash = createHash("sha256")
    .update(JSON.stringify({ config: scored, limit: opts.limit ?? null }, (k, v) => (k === "concurrency" ? undefined : v)))
    .digest("hex");
  const store = RunStore.open(out, { configHash, resume: opts.resume });
  store.signal = opts.signal;
  const backends: Backend[] = [];
  let samplesOut: SamplesWriter | undefined;
  let status: "done" | "failed" | "interrupted" = "failed";
  try {
    // Models: baseline first, then variants (given, or made by a quantization sweep). Their
    // paths were resolved when the config loaded; hf: models are fetched here.
    const modelPath = (spec: ModelSpec, field: string) =>
      !backendFor(spec).localModel ? undefined : resolveModel(spec.model ?? "", { modelsDir: loaded.modelsDir, field: `${loaded.path}: ${field}` });
    // `baseline.from`: a finished run's baseline serves the tasks it evaluated (baselineFrom.ts).
    const basePath = config.baseline.from && !config.baseline.model ? undefined : await modelPath(config.baseline, "baseline.model");
    const from = config.baseline.from ? await openBaselineFrom(loaded, basePath, out) : undefined;
    const specs: ModelSpec[] = [from?.spec ?? config.baseline];
    let sweptMeta: VariantQuantMeta[] | undefined;
    const paths: Array<string | undefined> = [basePath];
    if (Array.isArray(config.variants)) {
      for (const [i, v] of config.variants.entries()) {
        specs.push(v);
        paths.push(await modelPath(v, `variants[${i}].model`));
      }
    } else {
      const made = await sweepVariants(basePath!, config.baseline, config.variants, join(out, "variants"), { progress, log, warn, dataDir: loaded.dataDir });
      sweptMeta = made.map((m) => m.meta);
      for (const m of made) {
        specs.push(m.spec);
        paths.push(m.path);
      }
    }
    const names = new Set<string>();
    for (const s of specs) {
      if (names.has(s.name)) throw new QuantevalError(`${loaded.path}: model name '${s.name}' is used twice; give every model a unique name`);
      names.add(s.name);
    }
    if (opts.only) {
      // --only: a subset of the variants; the baseline is always evaluated (or read from the store).
      const known = specs.slice(1).map((s) => s.name);
      const unknown = opts.only.filter((n) => !known.includes(n));
      if (unknown.length) throw new QuantevalError(`--only: no variant named ${unknown.map((n) => `'${n}'`).join(", ")} in ${loaded.path}; the variants are ${known.join(", ") || "(none)"}`);
      for (let i = specs.length - 1; i >= 1; i--) {
        if (!opts.only.includes(specs[i].name)) {
          specs.splice(i, 1);
          paths.splice(i, 1);
        }
      }
    }
    // Preflight: every task and its data are checked before any model is loaded, so a typo
    // costs a second, not a run.
    const prepared: PreparedTask[] = [];
    for (const task of loaded.tasks) prepared.push(await prepareTask(task, { dataDir: loaded.dataDir, seed: config.seed, limit: opts.limit, warn }));
    // Each task's data file is read and hashed once, here; its signature is computed from that digest.
    const identities = loaded.tasks.map(taskIdentity);
    for (const change of checkTaskIdentities(store, loaded.tasks, identities)) warn(change);
    const signatures = loaded.tasks.map((t, i) => taskSignature(t, config.seed, opts.limit, identities[i]));
    recordBaselineFacts(store, loaded.tasks, signatures, specs[0]);
    // The noise floor is one more model of the schedule: the same baseline under another batch
    // layout (one sequence per context, smaller batches), never a second copy resident beside it
    // unless the whole run fits together.
    let runModels: RunModel[] = specs.map((spec, i) => ({ spec, path: paths[i] }));
    let noiseName: string | null = null;
    if (config.noise_floor) {
      noiseName = `${config.baseline.name}${NOISE_SUFFIX}`;
      runModels.push({ spec: { ...specs[0], name: noiseName, n_batch: 64, n_seq_max: 2, kv_size: Math.max(specs[0].n_ctx ?? 2048, 1024) }, path: basePath });
    }
    const reuse = from
      ? reuseEvaluations(from, {
          store,
          tasks: loaded.tasks,
          prepared,
          signatures,
          models: noiseName ? [config.baseline.name, noiseName] : [config.baseline.name],
          canLoad: basePath !== undefined,
          where: `${loaded.path}: baseline.from ${from.folder}`,
        })
      : undefined;
    if (reuse) {
      runModels = runModels.filter((m) => !reuse.notLoaded.has(m.spec.name));
      log(
        `baseline ${config.baseline.name}: taken from ${reuse.source.folder} for ${[...reuse.reused.keys()].join(", ") || "no task"}${reuse.notLoaded.has(config.baseline.name) ? " (not loaded)" : ""}`,
      );
    }
    const plan = await planRun(runModels, config, loaded.path, Math.max(0, ...prepared.map((p) => p.windowTokens ?? 0)));
    log(`schedule: ${plan.record.used}${plan.record.requested === "auto" ? ` (${plan.record.reason})` : ""}`);
    const byName = new Map(runModels.map((m) => [m.spec.name, m]));
    checkCompareModels(prepared, byName, [config.baseline.name, ...specs.slice(1).map((s) => s.name)], `taken from ${config.baseline.from}`);
    const descriptions = new Map<string, ModelDescription>();
    const scratchDir = join(out, "distributions");
    // keep_distributions asks for the baseline's distributions on disk (for a later run's
    // baseline.from): joint tasks then take the stored path even with every model resident.
    const groupCtx = { baselineName: config.baseline.name, alone: plan.groups.length > 1 || config.keep_distributions, scratchDir, store, progress, warn };
    const tasks: RunResults["tasks"] = {};
    const taskManifest: Record<string, Record<string, unknown>> = {};
    let baseDesc: ModelDescription | undefined = reuse?.source.models[config.baseline.name];
    // Comparisons, from the store alone.
    const compareAll = async (openModels: Backend[]) => {
      settleSelections(store, loaded.tasks, prepared, reuse, `${loaded.path}: baseline.from ${config.baseline.from}`);
      const writer = (samplesOut = new SamplesWriter(out, store));
      for (const [i, task] of loaded.tasks.entries()) {
        const name = task.name;
        const outcome = await compareTask(name, prepared[i], {
          seed: config.seed,
          bootstrap: config.bootstrap,
          baseline: config.baseline.name,
          variants: [...specs.slice(1).map((m) => m.name), ...(noiseName ? [noiseName] : [])],
          noiseFloorName: noiseName ?? undefined,
          store,
          progress,
          warn,
          openModels,
        });
        markSignificance(outcome, noiseName);
        for (const w of referenceWarnings(name, outcome, config.baseline)) warn(w);
        // Streamed as each task is compared: nothing per document is kept for the end of the run.
        writer.writeTask(name, outcome.samples);
        const { samples: _samples, ...rest } = outcome;
        // The kinds build these shapes; src/results/types.ts names each of them.
        tasks[name] = rest as unknown as TaskResults;
        taskManifest[name] = outcome.manifest;
        log(`finished ${name}`);
      }
    };
    for (const group of plan.groups) {
      // Open the group, run every task's evaluation for its models into the store, release it.
      const open: Backend[] = [];
      try {
        for (const est of group) {
          const m = byName.get(est.name)!;
          const b = await openBackend(m.spec, m.path);
          open.push(b);
          backends.push(b);
          const d = await b.describe();
          descriptions.set(b.name, d);
          if (b.name === config.baseline.name) baseDesc = d;
          else if (d.vocab_hash && baseDesc?.vocab_hash && d.vocab_hash !== baseDesc.vocab_hash && b.name !== noiseName) {
            warn(`'${b.name}' has a different tokenizer from the baseline '${config.baseline.name}': accuracy, paired statistics and flips apply, token-level metrics (KLD, top-1, Δp) are skipped`);
          }
          log(`loaded ${b.name}: ${d.quantization ?? b.kind} ${d.params ? `${(d.params / 1e6).toFixed(2)}M params` : ""}`.trim());
        }
        // A kind that selects its items against the models (generate: prompts that fit every
        // context) sees every group; a model a later group made stale is evaluated again below.
        for (const p of prepared) await p.selectForModels?.(open);
        for (const [i, task] of loaded.tasks.entries()) await evaluateGroupReusing(task.name, prepared[i], open, groupCtx, reuse);
        // One group holding every model: compare while they are open (a judge may be one of them).
        if (plan.groups.length === 1) await compareAll(open);
      } finally {
        for (const b of open) await b.dispose().catch(() => undefined);
      }
    }
    await reevaluateStale(loaded.tasks, prepared, byName, groupCtx, reuse, log);
    if (plan.groups.length > 1) await withCompareModels(prepared, byName, compareAll, log);
    if (!config.keep_distributions) await rm(scratchDir, { recursive: true, force: true });
    const taken = notLoadedModels(reuse);
    // Cost: each model measured in a child process of its own (peak RSS per model), after the
    // evaluation's models are released so they do not compete for memory or cores.
    const cost = new Map<string, Record<string, unknown>>();
    if (config.cost) {
      for (const [i, spec] of specs.entries()) {
        const path = paths[i];
        if (!path || backendKind(spec) !== "gguf") continue;
        const id = `cost:${spec.name}`;
        progress.start(id, `cost · ${spec.name}`, 1);
        cost.set(spec.name, { ...(await measureCost(path, { threads: spec.threads })) });
        progress.update(id, 1);
        progress.stop(id);
      }
    }
    const results: RunResults = {
      quanteval_results_version: RESULTS_VERSION,
      created: new Date().toISOString(),
      baseline: config.baseline.name,
      variants: specs.slice(1).map((s) => s.name),
      noise_floor: noiseName,
      models: { ...taken.models, ...Object.fromEntries(backends.map((b) => [b.name, { ...descriptions.get(b.name)!, load_ms: (b as { loadMs?: number }).loadMs, ...(cost.get(b.name) ?? {}) }])) },
      tasks,
      warnings,
      manifest: {
        ...withBaselineFrom(
          buildManifest({
            configText: loaded.text,
            seed: config.seed,
            limit: opts.limit,
            models: backends.map((b) => ({ backend: b, description: descriptions.get(b.name)!, settings: (b as { manifestSettings?: () => Record<string, unknown> }).manifestSettings?.() })),
            tasks: taskManifest,
          }),
          reuse,
        ),
        schedule: plan.record,
      },
      requests: { ...store.counters },
      ...(sweptMeta ? { quantization_hypotheses: quantHypotheses(tasks, sweptMeta) } : {}),
    };
    const verdict = verdictJson(results);
    if (verdict) results.verdict = verdict;
    for (const line of formatQuantHypotheses(results.quantization_hypotheses ?? [])) log(line);
    samplesOut?.finish();
    writeResults(join(out, "results.json"), results);
    store.setMeta("results", "results.json");
    status = "done";
    return results;
  } catch (e) {
    samplesOut?.discard();
    if (opts.signal?.aborted) status = "interrupted";
    throw e;
  } finally {
    store.close(status);
  }
}
