// A baseline taken from another finished run (`baseline: {name, from: runs/base}`, issue 14).
// The baseline of a 7B–70B job is the most expensive model to evaluate; once a run has scored
// it, later runs (new variants, another quantization sweep) take its stored evaluations from
// that run's store instead of loading it again. KLD against it comes from the distributions
// that run kept (keep_distributions).
//
// What is reused, per task: the baseline's (and its noise floor's) stored evaluation, when that
// run evaluated the task under the same signature (entry, seed, --limit, task YAML and data
// bytes) and the baseline under the same settings. A task the other run lacks is evaluated here
// with `baseline.model` when the config gives it (its sha256 must equal the recorded one), else
// refused with one line: silently loading a model the user chose not to name would defeat the
// point of `from` on a machine where it does not fit beside the variants.
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import Database from "better-sqlite3";
import type { Backend } from "../backends/backend.js";
import type { LoadedConfig } from "../config/loadConfig.js";
import type { BaselineSpec, ModelSpec } from "../config/schema.js";
import { readResults } from "../results/resultsFile.js";
import type { ModelResults } from "../results/types.js";
import { type RunStore, STORE_FILE } from "../store/runStore.js";
import type { ConfiguredTask, ModelEvaluation, PreparedTask } from "../tasks/kinds/taskKind.js";
import { QuantevalError } from "../util/errors.js";
import { sha256File } from "../util/sha256File.js";
import { putEvaluation, storedEvaluation } from "./evaluationStore.js";
import { type GroupContext, evaluateGroup } from "./runTask.js";
import type { TaskIdentity } from "./taskIdentity.js";

const specKey = (model: string) => `model_spec:${model}`;
const signatureKey = (task: string) => `task_signature:${task}`;
const selectionKey = (task: string) => `selection:${task}`;
/** A meta value of another run's store, opened read-only here (RunStore.getMeta reads this run's own). */
const metaOf = (db: Database.Database, key: string) => (db.prepare("SELECT value FROM meta WHERE key = ?").get(key) as { value: string } | undefined)?.value;

/** The settings of a model spec that change its scores: all but its name, where its file is, and what it is checked against. */
function scoredSettings(spec: ModelSpec): Record<string, unknown> {
  const { name: _n, model: _m, from: _f, reference_scores: _r, concurrency: _c, ...rest } = spec as BaselineSpec;
  return rest;
}

/**
 * What a task's stored evaluations depend on besides the model: the entry, seed, --limit, and
 * its {@link TaskIdentity} (task YAML and data bytes, hashed once per run by the caller).
 */
export function taskSignature(task: ConfiguredTask, seed: number, limit: number | undefined, identity: TaskIdentity): string {
  return createHash("sha256")
    .update(JSON.stringify({ entry: task.entry, seed, limit: limit ?? null, identity }))
    .digest("hex");
}

/** Records in the store what a later run's `baseline.from` checks: each task's signature (in the order of `tasks`) and the baseline's settings. */
export function recordBaselineFacts(store: RunStore, tasks: ConfiguredTask[], signatures: string[], baseline: ModelSpec): void {
  for (const [i, t] of tasks.entries()) store.setMeta(signatureKey(t.name), signatures[i]);
  store.setMeta(specKey(baseline.name), JSON.stringify(scoredSettings(baseline)));
}

/** A finished run folder holding the baseline, opened and checked. */
export interface BaselineSource {
  /** The run folder (absolute). */
  folder: string;
  /** The baseline as this run uses it: the other run's settings, this config's name and model. */
  spec: BaselineSpec;
  /** results.json's `models` and `manifest.models` entries of that run, by model name. */
  models: Record<string, ModelResults>;
  manifestModels: Record<string, Record<string, unknown>>;
  /** The other run's store, read-only; closed by {@link reuseEvaluations}. */
  db: Database.Database;
}

/**
 * Opens `baseline.from` and checks it holds a finished baseline of this name, recorded with the
 * same weights as `modelPath` (when the config names the model) and settings compatible with this config's.
 * @throws QuantevalError, one line naming the folder, for each way it cannot serve
 */
export async function openBaselineFrom(loaded: LoadedConfig, modelPath: string | undefined, out: string): Promise<BaselineSource> {
  const spec = loaded.config.baseline;
  const folder = spec.from!;
  const where = `${loaded.path}: baseline.from ${folder}`;
  if (resolve(folder) === resolve(out)) throw new QuantevalError(`${where}: is this run's own --out; to add variants to that run use --resume, or write this run to another --out`);
  const storeFile = join(folder, STORE_FILE);
  if (!existsSync(storeFile)) throw new QuantevalError(`${where}: holds no quanteval run (no ${STORE_FILE}); name the --out folder of a finished run that evaluated the baseline`);
  if (!Array.isArray(loaded.config.variants) && !modelPath) throw new QuantevalError(`${where}: a quantize sweep makes its variants from the baseline's file; add baseline.model (the same weights)`);
  const db = new Database(storeFile, { readonly: true, fileMustExist: true, timeout: 5000 });
  try {
    const meta = (key: string) => metaOf(db, key);
    const status = meta("status");
    if (status !== "done") throw new QuantevalError(`${where}: the run there is not finished (status ${status ?? "unknown"}); finish it with 'quanteval run … --out ${folder} --resume' first`);
    const results = readResults(join(folder, "results.json"));
    if (results.baseline !== spec.name)
      throw new QuantevalError(`${where}: holds no baseline named '${spec.name}' (its baseline is '${results.baseline}'); set baseline.name to '${results.baseline}'`);
    const manifestModels = (results.manifest.models ?? {}) as Record<string, Record<string, unknown>>;
    const recordedSha = manifestModels[spec.name]?.sha256 as string | undefined;
    if (modelPath && recordedSha) {
      const now = await sha256File(modelPath);
      if (now !== recordedSha)
        throw new QuantevalError(
          `${where}: the baseline's weights changed since that run was written (sha256 ${recordedSha.slice(0, 12)}… there, ${now.slice(0, 12)}… now in ${modelPath}); re-run ${folder} or point baseline.model at the weights it used`,
        );
    }
    const recordedSpec = meta(specKey(spec.name));
    const theirs = recordedSpec === undefined ? undefined : (JSON.parse(recordedSpec) as Record<string, unknown>);
    const ours = scoredSettings(spec);
    if (theirs) {
      const differing = Object.keys(ours).filter((k) => JSON.stringify(ours[k]) !== JSON.stringify(theirs[k]));
      if (differing.length)
        throw new QuantevalError(
          `${where}: baseline ${differing.map((k) => `${k} ${JSON.stringify(ours[k])}`).join(", ")} differs from that run's (${differing.map((k) => `${k} ${JSON.stringify(theirs[k]) ?? "unset"}`).join(", ")}); remove it, or use a run made with these settings`,
        );
    }
    return { folder, spec: { ...(theirs as Partial<BaselineSpec>), ...spec }, models: results.models, manifestModels, db };
  } catch (e) {
    db.close();
    throw e;
  }
}

/** Which models' evaluations of which tasks came from the baseline's run. */
export interface BaselineReuse {
  source: Pick<BaselineSource, "folder" | "models" | "manifestModels">;
  /** Task name → the models (baseline, its noise floor) whose stored evaluation was taken. */
  reused: Map<string, Set<string>>;
  /** Models this run need not load at all: every task's evaluation of them was taken. */
  notLoaded: Set<string>;
  /** Joint task → the folder holding the baseline's kept distributions (`<from>/distributions`, or where a chained run's were), for its variants. */
  distributionsDirs: Map<string, string>;
  /** Evaluations of a kind whose selection depends on the models, taken once this run's selection equals theirs. */
  deferred: Array<{ task: string; model: string; evaluation: ModelEvaluation; selection: string }>;
}

/**
 * A joint task's baseline evaluated alone left its distributions on disk: the folder holding
 * them, complete — under `<from>/distributions` (the run folder may have moved), else where they
 * were written (a run that itself took its baseline from another) — or undefined.
 */
function keptDistributions(state: unknown, folder: string): string | undefined {
  const dir = (state as { stored_distributions?: { dir?: string } } | null)?.stored_distributions?.dir;
  if (!dir) return undefined;
  const complete = (d: string) => {
    try {
      return (JSON.parse(readFileSync(join(d, "meta.json"), "utf8")) as { complete?: boolean }).complete === true;
    } catch {
      return false;
    }
  };
  return [join(folder, "distributions", basename(dir)), dir].find(complete);
}

/**
 * Copies into `store` every evaluation of `models` (the baseline, its noise floor) that the
 * source run holds under the same task signature. A task the source lacks needs the model:
 * with `canLoad` it is evaluated here, else refused.
 * A kind that selects its items against the run's models (generate) is taken only without
 * `canLoad`, and only once this run's selection turns out equal to the one the baseline answered
 * there ({@link settleSelections}); with `canLoad` it is evaluated here.
 */
export function reuseEvaluations(
  source: BaselineSource,
  args: { store: RunStore; tasks: ConfiguredTask[]; prepared: PreparedTask[]; signatures: string[]; models: string[]; canLoad: boolean; where: string },
): BaselineReuse {
  const distributionsDirs = new Map<string, string>();
  const reused = new Map<string, Set<string>>();
  const missing: string[] = [];
  const deferred: BaselineReuse["deferred"] = [];
  const fromStore = { db: source.db };
  try {
    const theirs = (key: string) => metaOf(source.db, key);
    for (const [i, task] of args.tasks.entries()) {
      const prepared = args.prepared[i];
      const selection = prepared.selectionKey ? theirs(selectionKey(task.name)) : undefined;
      const selectable = !prepared.selectForModels || (selection !== undefined && !args.canLoad);
      const same = selectable && theirs(signatureKey(task.name)) === args.signatures[i];
      const taken = new Set<string>();
      for (const model of args.models) {
        // One read of the row: undefined when the source holds no evaluation of this model.
        const evaluation = same ? storedEvaluation(fromStore, task.name, model) : undefined;
        if (!evaluation) continue;
        if (prepared.schedule === "joint" && model === args.models[0]) {
          const kept = keptDistributions(evaluation.state, source.folder);
          if (!kept) continue;
          distributionsDirs.set(task.name, dirname(kept));
        }
        // Deferred past the source's close: its samples (read from the source on access) are read now.
        if (selection !== undefined) deferred.push({ task: task.name, model, evaluation: { ...evaluation }, selection });
        else putEvaluation(args.store, task.name, model, evaluation);
        taken.add(model);
      }
      // A joint task whose baseline is evaluated here scores its noise floor against it too.
      if (prepared.schedule === "joint" && !taken.has(args.models[0])) taken.clear();
      const lacking = args.models.filter((m) => !taken.has(m));
      if (lacking.length) missing.push(lacking.includes(args.models[0]) ? task.name : `${task.name} (its noise floor ${lacking.join(", ")})`);
      if (taken.size) reused.set(task.name, taken);
    }
  } finally {
    source.db.close();
  }
  if (missing.length && !args.canLoad)
    throw new QuantevalError(
      `${args.where}: holds no evaluation of baseline '${args.models[0]}' for task(s) ${missing.join(", ")} under these settings (not run, run with another entry, seed, --limit or data, or KLD distributions not kept); add baseline.model (the same weights) to evaluate them here, or remove them`,
    );
  const notLoaded = new Set(args.models.filter((m) => args.tasks.every((t) => reused.get(t.name)?.has(m))));
  return { source, reused, notLoaded, distributionsDirs, deferred };
}

/**
 * Once every model was evaluated: records each model-dependent selection (for a later run's
 * `baseline.from`), and takes the deferred evaluations whose selection equals this run's.
 * @throws QuantevalError when this run's selection differs: the baseline must answer other items
 */
export function settleSelections(store: RunStore, tasks: ConfiguredTask[], prepared: PreparedTask[], reuse: BaselineReuse | undefined, where: string): void {
  for (const [i, task] of tasks.entries()) {
    const key = prepared[i].selectionKey?.();
    if (key !== undefined) store.setMeta(selectionKey(task.name), key);
  }
  for (const d of reuse?.deferred ?? []) {
    const i = tasks.findIndex((t) => t.name === d.task);
    if (prepared[i].selectionKey?.() !== d.selection)
      throw new QuantevalError(
        `${where}: task ${d.task}: this run's items differ from those '${d.model}' answered there (a variant's context or tokenizer rules out other prompts); add baseline.model (the same weights) and run again with --resume (the variants' work is kept)`,
      );
    putEvaluation(store, d.task, d.model, d.evaluation);
  }
}

/** Evaluates one resident group on a task, leaving out the models whose evaluation was taken from the baseline's run. */
export async function evaluateGroupReusing(name: string, prepared: PreparedTask, group: Backend[], ctx: GroupContext, reuse: BaselineReuse | undefined): Promise<void> {
  const taken = reuse?.reused.get(name);
  if (!reuse || !taken?.size) return evaluateGroup(name, prepared, group, ctx);
  const rest = group.filter((m) => !taken.has(m.name));
  if (rest.length === 0) return;
  // A joint task whose baseline was taken: each model alone, against the baseline's distributions kept in that run.
  const alone = prepared.schedule === "joint" && taken.has(ctx.baselineName) ? { alone: true, scratchDir: reuse.distributionsDirs.get(name)! } : {};
  return evaluateGroup(name, prepared, rest, { ...ctx, ...alone });
}

/** What results.json says of the models this run did not load: their description and manifest entry from the baseline's run. */
export function notLoadedModels(reuse: BaselineReuse | undefined): { models: Record<string, ModelResults>; manifest: Record<string, Record<string, unknown>> } {
  const models: Record<string, ModelResults> = {};
  const manifest: Record<string, Record<string, unknown>> = {};
  for (const m of reuse?.notLoaded ?? []) {
    if (reuse!.source.models[m]) models[m] = reuse!.source.models[m];
    manifest[m] = { ...reuse!.source.manifestModels[m], from: reuse!.source.folder };
  }
  return { models, manifest };
}

/** The manifest with what came from the baseline's run: the models not loaded (their entry there, and `from`) and `baseline_from`. */
export function withBaselineFrom(manifest: Record<string, unknown>, reuse: BaselineReuse | undefined): Record<string, unknown> {
  if (!reuse) return manifest;
  return {
    ...manifest,
    models: { ...notLoadedModels(reuse).manifest, ...(manifest.models as Record<string, unknown>) },
    baseline_from: {
      folder: reuse.source.folder,
      tasks: Object.fromEntries([...reuse.reused].map(([task, models]) => [task, [...models]])),
      not_loaded: [...reuse.notLoaded],
    },
  };
}
