// The contract every task kind implements. A kind turns one config entry into a task that
//   1. is configured when the config loads (strict keys, paths resolved),
//   2. prepares its documents and requests before any model loads (preflight),
//   3. evaluates ONE model at a time, its evaluation written to the run's store,
//   4. compares the models from their stored evaluations only.
// The split between 3 and 4 is what lets a run keep one model resident at a time.
import type { z } from "zod";
import type { Backend } from "../../backends/backend.js";
import type { ProgressSink, SampleRow, TaskOutcome } from "../../run/taskContext.js";
import type { RunStore } from "../../store/runStore.js";
import type { LoadedTask } from "../taskRegistry.js";

/** Resolves the paths a config entry names; every path is resolved once, when the config loads. */
export interface PathResolver {
  /** A data file: beside the config, in the working directory, then in the data dir. Unchanged when not found (it may be a dataset id). */
  data(p: string): string;
  /** A file such as a probes YAML or a local embedder: beside the config, then in the working directory. Unchanged when not found. */
  file(p: string): string;
  /** A model file: beside the config, in the working directory, then in the models dir. Unchanged when not found or an `hf:` URI. */
  model(p: string): string;
}

/** What a kind is given to configure one entry. */
export interface ConfigureContext {
  /** The entry's unique name in results (`name`, else `task`, with `#2` … when repeated). */
  name: string;
  /** The config file, for error messages. */
  file: string;
  /** The task YAML the entry names, for YAML-defined kinds. */
  definition?: LoadedTask;
  paths: PathResolver;
  /** Validates `raw` against the kind's strict schema; an error is one line naming the file, line and key ("did you mean …"). */
  parse<S extends z.ZodType>(schema: S, raw: unknown): z.infer<S>;
}

/** One config entry, validated and with its paths resolved, as a kind returns it. */
export interface KindTask {
  /** The kind's name, e.g. `multiple_choice`. */
  kind: string;
  /** The entry as validated (defaults applied, paths absolute). */
  entry: Readonly<{ task: string; name?: string } & Record<string, unknown>>;
  /** The task YAML, for YAML-defined kinds. */
  definition?: LoadedTask;
  /** Renders the documents and requests and validates the data, without touching a model. */
  prepare(env: PrepareEnv): Promise<PreparedTask>;
}

/** A configured entry with its unique name in results. */
export interface ConfiguredTask extends KindTask {
  /** `name`, else `task`, with `#2` … when the same name appears again. */
  name: string;
}

/** What preparation needs from the run. */
export interface PrepareEnv {
  /** The task's unique name in results. */
  name: string;
  /** The data dir (absolute): QUANTEVAL_DATA_DIR, the config's data_dir, or the default cache. */
  dataDir: string;
  seed: number;
  /** --limit, overriding the entry's own limit. */
  limit?: number;
  warn(message: string): void;
}

/** What evaluating one model needs. */
export interface EvaluateEnv {
  name: string;
  store: RunStore;
  progress: ProgressSink;
  warn(message: string): void;
}

/** What comparing needs: the model names, never a model (except a generate task's judge). */
export interface CompareEnv {
  name: string;
  seed: number;
  bootstrap: number;
  baseline: string;
  /** Variants, and the noise-floor re-run when enabled (named in `noiseFloorName`). */
  variants: string[];
  noiseFloorName?: string;
  store: RunStore;
  progress: ProgressSink;
  warn(message: string): void;
  /** Models still open, for a judge that is one of the run's models. */
  openModels: Backend[];
}

/** One model's evaluation of one task, as the store keeps it. */
export interface ModelEvaluation<S = unknown> {
  /** Metrics of this model alone (may be completed by `compare` when they need the baseline). */
  results: Record<string, unknown>;
  samples: SampleRow[];
  /** What `compare` needs beyond the samples (per-document correctness, generations …). */
  state: S;
}

/** A model's evaluation whose samples were written chunk by chunk as it ran: its results and state. */
export type ChunkedEvaluation<S = unknown> = Omit<ModelEvaluation<S>, "samples">;

/**
 * Where a chunked evaluation puts each finished chunk of documents: the run's store (one
 * transaction a chunk, so an interrupted run keeps every finished chunk), or memory for a
 * caller that wants the whole evaluation at once.
 */
export interface ChunkSink<C = unknown> {
  /** The record of chunk `index` an earlier run stored under `key` (same model, same documents), if any: that chunk is done. */
  stored(index: number, key: string): C | undefined;
  /** Writes one finished chunk: the sample rows of documents first … first + samples.length − 1 and the chunk's record. */
  put(index: number, key: string, first: number, samples: SampleRow[], record: C): void;
}

/** Reads stored evaluations of one task. */
export interface StoredEvaluations<S = unknown> {
  get(model: string): ModelEvaluation<S>;
}

/** A task ready to run: its documents rendered and its data validated. */
export type PreparedTask<S = unknown> = PerModelTask<S> | JointTask<S>;

interface PreparedBase<S> {
  /**
   * Tokens per window when the task decodes equal-length windows (perplexity's n_ctx): each GGUF
   * model then also holds a window context, which the schedule's memory estimate counts.
   */
  windowTokens?: number;
  /**
   * Called with each resident group's models before they are evaluated, for a kind whose
   * selection depends on the models (generate keeps the prompts that fit every model's context).
   */
  selectForModels?(models: Backend[]): Promise<void>;
  /**
   * Models evaluated under a selection that a later group's models changed (a prompt that does
   * not fit them): the runner loads each again, calls selectForModels with it and evaluates it
   * again (only the new requests are computed), until none is stale.
   */
  staleModels?(): string[];
  /** Identifies the current selection (after every group was shown): equal keys, equal items and requests. */
  selectionKey?(): string;
  /**
   * Names of the run's models that `compare` needs resident (a generate task's judge that is one
   * of them). When the schedule released them, the runner opens them again, once for every task,
   * after every model's evaluations are stored.
   */
  compareModels?(): string[];
  /** Comparisons, final per-model results, samples and the manifest, from stored evaluations only. */
  compare(stored: StoredEvaluations<S>, env: CompareEnv): Promise<TaskOutcome>;
}

/** Evaluated one model at a time. */
export interface PerModelTask<S> extends PreparedBase<S> {
  schedule: "per_model";
  /** The whole evaluation, built in memory (a kind with `evaluateInChunks` builds it from its chunks: see evaluateWhole). */
  evaluate(model: Backend, env: EvaluateEnv): Promise<ModelEvaluation<S>>;
  /**
   * Optional, preferred by the runner when present: evaluates the documents chunk by chunk, each
   * chunk's samples and compact record going to `chunks` as it finishes (a chunk `chunks` already
   * holds is not evaluated again), and returns the results and a compact state. Memory then does
   * not grow with the number of documents; `compare` reads the samples back from the store.
   */
  evaluateInChunks?(model: Backend, env: EvaluateEnv, chunks: ChunkSink): Promise<ChunkedEvaluation<S>>;
}

/** A whole evaluation from a chunked one: the chunks' samples collected in memory (for `evaluate`). */
export async function evaluateWhole<S>(run: (chunks: ChunkSink) => Promise<ChunkedEvaluation<S>>): Promise<ModelEvaluation<S>> {
  const samples: SampleRow[] = [];
  const evaluation = await run({
    stored: () => undefined,
    put: (_index, _key, first, rows) => {
      for (const [i, row] of rows.entries()) samples[first + i] = row;
    },
  });
  return { ...evaluation, samples };
}

/**
 * Evaluated with every model at once when they fit together (perplexity's KLD then reads the
 * baseline's distributions straight from memory, with no file), or one model at a time through
 * `evaluateAlone`, where the baseline's distributions go to disk first (src/store/baselineDistributions.ts).
 */
export interface JointTask<S> extends PreparedBase<S> {
  schedule: "joint";
  evaluateJointly(baseline: Backend, variants: Backend[], env: EvaluateEnv): Promise<Map<string, ModelEvaluation<S>>>;
  /**
   * One model resident alone (schedule sequential): the baseline's pass leaves on disk in
   * `scratchDir` what the variants' passes need from it; the baseline is evaluated first.
   */
  evaluateAlone(model: Backend, role: "baseline" | "variant", env: EvaluateEnv & { scratchDir: string }): Promise<ModelEvaluation<S>>;
}

/** A task kind: one file under src/tasks/kinds and one line in the registry. */
export interface TaskKind {
  /** The kind's name: the `type` of a task YAML, or a code task's name. */
  name: string;
  /** How entries find this kind: `task: <name>` for a code task, `type:` in a task YAML otherwise. */
  claims: { task: string } | { yamlType: string };
  /** One line for `quanteval tasks show`. */
  description: string;
  /** The metrics it reports (for a YAML task, those its definition lists). */
  metrics(definition?: LoadedTask): readonly string[];
  /** Where its data comes from, for `quanteval tasks`. */
  dataHint: string;
  /** Validates one config entry against the kind's strict schema and resolves its paths. */
  configure(raw: Record<string, unknown>, ctx: ConfigureContext): KindTask;
}
