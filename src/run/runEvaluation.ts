// The library entry point: config → models → tasks → comparisons → store → results.json.
import { createHash } from "node:crypto";
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Backend, ModelDescription } from "../backends/backend.js";
import { backendKind, openBackend } from "../backends/openBackend.js";
import type { LoadedConfig } from "../config/loadConfig.js";
import type { ModelSpec, TaskSpec } from "../config/schema.js";
import { resolveModel } from "../models/resolveModel.js";
import { RunStore } from "../store/runStore.js";
import { loadTask } from "../tasks/taskRegistry.js";
import { QuantevalError } from "../util/errors.js";
import { buildManifest } from "./manifest.js";
import { measureCost } from "../cost/measureCost.js";
import { type VerdictJson, verdictJson } from "../report/verdict.js";
import { markSignificance, referenceWarnings } from "./significance.js";
import { prepareDocs, runMultipleChoiceTask } from "./runMultipleChoiceTask.js";
import { resolveLocalPath } from "../data/resolveDataset.js";
import { dataDir } from "../data/dataDirs.js";
import { runPerplexityTask } from "./runPerplexityTask.js";
import { prepareLoglikelihoodDocs, runLoglikelihoodTask } from "./runLoglikelihoodTask.js";
import { prepareRollingDocs, runRollingTask } from "./runRollingTask.js";
import { runLlamacppTask } from "./runLlamacppTask.js";
import { prepareLlamacpp } from "../tasks/llamacpp/data.js";
import type { LoadedTask } from "../tasks/taskRegistry.js";
import type { MultipleChoiceTask } from "../tasks/taskDefinition.js";
import { type ProgressSink, silentProgress, type TaskOutcome, type TaskRunContext } from "./taskContext.js";
import { sweepVariants } from "./sweepVariants.js";
import { type QuantHypothesisRow, type VariantQuantMeta, formatQuantHypotheses, quantHypotheses } from "../quantize/quantHypotheses.js";

export interface RunOptions {
  /** Output directory: results.json, samples.jsonl and the SQLite store. */
  out: string;
  /** Overrides every task's limit (perplexity: chunks). */
  limit?: number;
  /** Continue a run already in `out`. */
  resume?: boolean;
  progress?: ProgressSink;
  /** Called with each warning as it happens. */
  onWarning?: (message: string) => void;
  /** Called with one-line status messages (model loaded, task done). */
  onLog?: (message: string) => void;
  /** Stops the run cleanly at the next batch boundary (SIGINT in the CLI). */
  signal?: AbortSignal;
}

export interface RunResults {
  quanteval_results_version: 1;
  created: string;
  baseline: string;
  variants: string[];
  noise_floor: string | null;
  models: Record<string, ModelDescription & Record<string, unknown>>;
  tasks: Record<string, Omit<TaskOutcome, "samples">>;
  warnings: string[];
  manifest: Record<string, unknown>;
  requests: { cached: number; computed: number };
  /** The verdict from all the evidence (src/report/verdict.ts): status per variant, informativeness per task. */
  verdict?: VerdictJson;
  /** Quantization-choice hypotheses (imatrix vs none, chunks, calibration sets) of a sweep. */
  quantization_hypotheses?: QuantHypothesisRow[];
}

export const NOISE_SUFFIX = "~noise";

/** Writes a file atomically: a reader never sees half of it. */
export function writeAtomic(path: string, data: string): void {
  writeFileSync(`${path}.tmp`, data);
  renameSync(`${path}.tmp`, path);
}

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
  // Settings that cannot change a score (HTTP concurrency) stay out of the run's identity.
  const configHash = createHash("sha256").update(JSON.stringify({ config, limit: opts.limit ?? null }, (k, v) => (k === "concurrency" ? undefined : v))).digest("hex");
  const store = RunStore.open(out, { configHash, resume: opts.resume });
  store.signal = opts.signal;
  const backends: Backend[] = [];
  let status: "done" | "failed" | "interrupted" = "failed";
  try {
    // Models: baseline first, then variants (given, or made by a quantization sweep).
    const specs: ModelSpec[] = [config.baseline];
    let sweptMeta: VariantQuantMeta[] | undefined;
    const basePath = backendKind(config.baseline) === "http" ? undefined : await resolveModel(config.baseline.model ?? "", { baseDir: loaded.baseDir, modelsDir: config.models_dir, field: `${loaded.path}: baseline.model` });
    const paths: Array<string | undefined> = [basePath];
    if (Array.isArray(config.variants)) {
      for (const [i, v] of config.variants.entries()) {
        specs.push(v);
        paths.push(backendKind(v) === "http" ? undefined : await resolveModel(v.model ?? "", { baseDir: loaded.baseDir, modelsDir: config.models_dir, field: `${loaded.path}: variants[${i}].model` }));
      }
    } else {
      const made = await sweepVariants(basePath!, config.baseline, config.variants, join(out, "variants"), { progress, log, warn, baseDir: loaded.baseDir, dataDir: config.data_dir ? resolve(loaded.baseDir, config.data_dir) : undefined });
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
    // Preflight: every task and its data are checked before any model is loaded, so a typo
    // costs a second, not a run.
    await preflightTasks(config, loaded.baseDir, opts.limit);
    const descriptions = new Map<string, ModelDescription>();
    for (const [i, spec] of specs.entries()) {
      const b = await openBackend(spec, paths[i]);
      backends.push(b);
      const d = await b.describe();
      descriptions.set(b.name, d);
      log(`loaded ${b.name}: ${d.quantization ?? b.kind} ${d.params ? `${(d.params / 1e6).toFixed(2)}M params` : ""}`.trim());
    }
    let noiseName: string | null = null;
    if (config.noise_floor) {
      // The same baseline under another batch layout: one sequence per context, smaller batches.
      noiseName = `${config.baseline.name}${NOISE_SUFFIX}`;
      const spec: ModelSpec = { ...config.baseline, name: noiseName, n_batch: 64, n_seq_max: 2, kv_size: Math.max(config.baseline.n_ctx ?? 2048, 1024) };
      const b = await openBackend(spec, basePath);
      backends.push(b);
      descriptions.set(b.name, await b.describe());
    }
    const [baseline, ...variants] = backends;
    const baseDesc = descriptions.get(baseline.name)!;
    for (const v of variants) {
      const d = descriptions.get(v.name)!;
      if (d.vocab_hash && baseDesc.vocab_hash && d.vocab_hash !== baseDesc.vocab_hash) {
        warn(`'${v.name}' has a different tokenizer from the baseline '${baseline.name}': accuracy, paired statistics and flips apply, token-level metrics (KLD, top-1, Δp) are skipped`);
      }
    }

    const tasks: RunResults["tasks"] = {};
    const taskManifest: Record<string, Record<string, unknown>> = {};
    const allSamples: string[] = [];
    const usedNames = new Set<string>();
    for (const spec of config.tasks) {
      let name = spec.name ?? spec.task;
      for (let k = 2; usedNames.has(name); k++) name = `${spec.name ?? spec.task}#${k}`;
      usedNames.add(name);
      const ctx: TaskRunContext = {
        spec,
        name,
        baseDir: loaded.baseDir,
        dataDir: config.data_dir ? resolve(loaded.baseDir, config.data_dir) : undefined,
        seed: config.seed,
        limit: opts.limit,
        bootstrap: config.bootstrap,
        baseline,
        variants,
        noiseFloorName: noiseName ?? undefined,
        store,
        progress,
        warn,
      };
      const outcome = await runTask(ctx, loaded.baseDir);
      markSignificance(outcome, noiseName);
      for (const w of referenceWarnings(name, outcome, config.baseline)) warn(w);
      store.db.transaction(() => {
        for (const [model, rows] of Object.entries(outcome.samples)) store.putSamples(name, model, rows);
      })();
      for (const [model, rows] of Object.entries(outcome.samples)) for (const r of rows) allSamples.push(JSON.stringify({ task: name, model, ...r }));
      const { samples: _samples, ...rest } = outcome;
      tasks[name] = rest;
      taskManifest[name] = outcome.manifest;
      log(`finished ${name}`);
    }
    // Cost: each model measured in a child process of its own (peak RSS per model), after the
    // evaluation's models are released so they do not compete for memory or cores.
    const cost = new Map<string, Record<string, unknown>>();
    if (config.cost) {
      for (const b of backends) await b.dispose();
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
      quanteval_results_version: 1,
      created: new Date().toISOString(),
      baseline: baseline.name,
      variants: variants.map((v) => v.name).filter((n) => n !== noiseName),
      noise_floor: noiseName,
      models: Object.fromEntries(backends.map((b) => [b.name, { ...descriptions.get(b.name)!, load_ms: (b as { loadMs?: number }).loadMs, ...(cost.get(b.name) ?? {}) }])),
      tasks,
      warnings,
      manifest: buildManifest({
        configText: loaded.text,
        seed: config.seed,
        limit: opts.limit,
        models: backends.map((b) => ({ backend: b, description: descriptions.get(b.name)!, settings: (b as { manifestSettings?: () => Record<string, unknown> }).manifestSettings?.() })),
        tasks: taskManifest,
      }),
      requests: { ...store.counters },
      ...(sweptMeta ? { quantization_hypotheses: quantHypotheses(tasks, sweptMeta) } : {}),
    };
    const verdict = verdictJson(results);
    if (verdict) results.verdict = verdict;
    for (const line of formatQuantHypotheses(results.quantization_hypotheses ?? [])) log(line);
    mkdirSync(out, { recursive: true });
    writeAtomic(join(out, "samples.jsonl"), allSamples.join("\n") + (allSamples.length ? "\n" : ""));
    writeAtomic(join(out, "results.json"), JSON.stringify(results, null, 2) + "\n");
    store.setMeta("results", "results.json");
    status = "done";
    return results;
  } catch (e) {
    if (opts.signal?.aborted) status = "interrupted";
    throw e;
  } finally {
    for (const b of backends) await b.dispose().catch(() => undefined);
    store.close(status);
  }
}

async function preflightTasks(config: LoadedConfig["config"], baseDir: string, limit?: number): Promise<void> {
  for (const spec of config.tasks) {
    const type = taskType(spec);
    if (type === "perplexity") {
      const dd = dataDir(config.data_dir ? resolve(baseDir, config.data_dir) : undefined);
      if (spec.data && !resolveLocalPath(spec.data, baseDir) && !resolveLocalPath(spec.data, dd) && !spec.data.includes(":")) {
        throw new QuantevalError(`task ${spec.name ?? spec.task}: data file not found: ${spec.data} (looked beside the config, in the working directory and in ${dd}); fix 'data' or set QUANTEVAL_DATA_DIR`);
      }
    } else if (type === "multiple_choice") {
      const task = loadTask(spec.task, baseDir);
      const c = { spec, baseDir, dataDir: config.data_dir ? resolve(baseDir, config.data_dir) : undefined, seed: config.seed, limit, name: spec.name ?? spec.task };
      const def = task.def;
      if (def.type === "multiple_choice") await prepareDocs(c, { ...task, def });
      else if (def.type === "loglikelihood") await prepareLoglikelihoodDocs(c, { ...task, def });
      else if (def.type === "rolling") await prepareRollingDocs(c, { ...task, def });
      else prepareLlamacpp(c, { ...task, def });
    }
  }
}

function taskType(spec: TaskSpec): string {
  return (spec as { type?: string }).type ?? (spec.task === "perplexity" ? "perplexity" : spec.task === "generate" ? "generate" : "multiple_choice");
}

async function runTask(ctx: TaskRunContext, baseDir: string): Promise<TaskOutcome> {
  const type = taskType(ctx.spec);
  if (type === "perplexity") return runPerplexityTask(ctx);
  if (type === "generate") {
    const modPath = "./runGenerateTask.js";
    const mod = (await import(modPath).catch(() => undefined)) as { runGenerateTask?: (c: TaskRunContext) => Promise<TaskOutcome> } | undefined;
    if (!mod?.runGenerateTask) throw new QuantevalError(`task ${ctx.name}: the generate task type is not available in this build`);
    return mod.runGenerateTask(ctx);
  }
  const task = loadTask(ctx.spec.task, baseDir);
  const def = task.def;
  if (def.type === "loglikelihood") return runLoglikelihoodTask(ctx, { ...task, def });
  if (def.type === "rolling") return runRollingTask(ctx, { ...task, def });
  if (def.type === "llamacpp_hellaswag" || def.type === "llamacpp_winogrande") return runLlamacppTask(ctx, { ...task, def });
  return runMultipleChoiceTask(ctx, task as LoadedTask<MultipleChoiceTask>);
}
