// What the runner gives a task, and what a task gives back.
import type { Backend } from "../backends/backend.js";
import type { RunStore } from "../store/runStore.js";

/** Progress reporting; the CLI renders it with cli-progress, the library default is silent. */
export interface ProgressSink {
  start(id: string, label: string, total: number): void;
  /** `note` (e.g. a throughput such as "1,234 tok/s") is shown beside the bar. */
  update(id: string, done: number, total?: number, note?: string): void;
  stop(id: string): void;
}

/** The library's default progress sink: reports nothing. */
export const silentProgress: ProgressSink = { start() {}, update() {}, stop() {} };

/** The run a task is part of: its settings and its models. */
export interface TaskRunContext {
  /** The data dir (absolute), for dataset ids. */
  dataDir: string;
  seed: number;
  /** --limit, overriding the task's own limit. */
  limit?: number;
  bootstrap: number;
  baseline: Backend;
  /** Variants, and the noise-floor re-run of the baseline when enabled (named in `noiseFloorName`). */
  variants: Backend[];
  noiseFloorName?: string;
  store: RunStore;
  progress: ProgressSink;
  warn(message: string): void;
}

/** One per-sample row; `doc_id` identifies the item across models. */
export type SampleRow = { doc_id: number } & Record<string, unknown>;

/** One task's outcome as a kind's comparison builds it (src/results/types.ts names each kind's shape). */
export interface TaskOutcome {
  type: string;
  /** Metrics per model name. */
  results: Record<string, Record<string, unknown>>;
  /** Comparison against the baseline per variant name. */
  comparisons: Record<string, Record<string, unknown>>;
  samples: Record<string, SampleRow[]>;
  /** Task facts for the reproducibility manifest (definition hash, data file, settings). */
  manifest: Record<string, unknown>;
  /** Anything else a report may show (e.g. generation-drift tables). */
  extra?: Record<string, unknown>;
}
