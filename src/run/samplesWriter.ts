// samples.jsonl and the store's samples table, written as each task is compared rather than held
// until the run ends: a run's memory does not grow with the number of documents it has written.
// The lines go to a temporary file in the output folder, renamed to samples.jsonl only when the
// run finishes, so a crashed or interrupted run never leaves half a samples.jsonl under the final
// name (a finished one from an earlier run stays until the new one replaces it whole).
import { closeSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import type { RunStore } from "../store/runStore.js";
import { samplePages } from "./evaluationStore.js";
import type { SampleRow } from "./taskContext.js";

/** The final file's name in the output folder. */
export const SAMPLES_FILE = "samples.jsonl";
/** Lines are written in chunks of about this many characters (fewer system calls than one per line). */
const CHUNK_CHARS = 1 << 20;

/** Streams samples to `<out>/samples.jsonl` (through a temporary file) and to the run's store. */
export class SamplesWriter {
  /** The temporary file, beside the final one (same folder, so the rename is atomic). */
  readonly tempPath: string;
  private readonly finalPath: string;
  private fd: number | undefined;
  private pending: string[] = [];
  private pendingChars = 0;

  /** Opens (truncates) the temporary file in `out`; a temporary file left by a crashed run is replaced. */
  constructor(
    out: string,
    private readonly store: RunStore,
  ) {
    this.finalPath = join(out, SAMPLES_FILE);
    this.tempPath = `${this.finalPath}.tmp`;
    this.fd = openSync(this.tempPath, "w");
  }

  /**
   * Writes one task's samples of each model: to the store (for the viewer, keyed by doc_id) and as
   * lines `{task, model, ...row}`. Samples read from stored evaluations are written page by page
   * (samplePages), so only a page of rows is alive at once.
   */
  writeTask(task: string, samples: Record<string, SampleRow[]>): void {
    for (const model of Object.keys(samples)) {
      this.store.deleteSamples(task, model);
      for (const rows of samplePages(samples, model)) {
        this.store.appendSamples(task, model, rows);
        for (const r of rows) this.push(JSON.stringify({ task, model, ...r }));
      }
    }
    this.flush();
  }

  /** Flushes, closes and renames the temporary file to samples.jsonl. */
  finish(): void {
    this.flush();
    this.close();
    renameSync(this.tempPath, this.finalPath);
  }

  /** Closes and removes the temporary file (a failed run); an earlier samples.jsonl is left as it was. */
  discard(): void {
    this.close();
    rmSync(this.tempPath, { force: true });
  }

  private push(line: string): void {
    this.pending.push(line);
    this.pendingChars += line.length + 1;
    if (this.pendingChars >= CHUNK_CHARS) this.flush();
  }

  private flush(): void {
    if (this.fd === undefined || this.pending.length === 0) return;
    writeSync(this.fd, `${this.pending.join("\n")}\n`);
    this.pending = [];
    this.pendingChars = 0;
  }

  private close(): void {
    if (this.fd === undefined) return;
    const fd = this.fd;
    this.fd = undefined;
    closeSync(fd);
  }
}
