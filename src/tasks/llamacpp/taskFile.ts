// The selected tasks of a llama.cpp-mode data file, held as byte ranges into the file instead of
// their text (issue 14). llama.cpp's selection draws from the whole file, so the selected tasks
// span it; a run keeps 16 bytes a task of the file and 4 a selected task, and a task is read back
// and parsed when a chunk renders it. The file's size and modification time are checked at each
// read: a file changed during the run is an error, not a silent mix of two files.
import { isUtf8 } from "node:buffer";
import { createHash } from "node:crypto";
import { closeSync, existsSync, fstatSync, openSync, readSync } from "node:fs";
import { readBytes, readUtf8 } from "../../data/readRows.js";
import { QuantevalError } from "../../util/errors.js";

/** Tasks rendered by position (a chunked evaluation's source). */
export interface TaskSource<D> {
  readonly length: number;
  render(i: number): D;
}

/** What a file looked like when it was read; a later read must find the same. */
interface Stamp {
  size: number;
  mtimeMs: number;
}

/** A data file read once at preparation: its bytes after a UTF-8 BOM, their sha256, and its stamp. */
export interface ReadTaskFile {
  path: string;
  /** The text's bytes (a leading BOM left out, as readUtf8 drops it). */
  bytes: Buffer;
  /** Where `bytes` start in the file (3 after a BOM, else 0). */
  offset: number;
  sha256: string;
  stamp: Stamp;
}

/** Reads a data file as strict UTF-8 (readUtf8's errors), keeping its bytes rather than a string. */
export function readTaskFile(path: string): ReadTaskFile {
  // Stamped before it is read: a change while reading is caught at the first task read back.
  const stamp = existsSync(path) ? statOf(path) : { size: -1, mtimeMs: -1 };
  const all = readBytes(path);
  // readUtf8 throws its error (with the line) for a file that is not UTF-8.
  if (!isUtf8(all)) readUtf8(path);
  const offset = all.length >= 3 && all[0] === 0xef && all[1] === 0xbb && all[2] === 0xbf ? 3 : 0;
  const bytes = all.subarray(offset);
  return { path, bytes, offset, sha256: createHash("sha256").update(bytes).digest("hex"), stamp };
}

function statOf(path: string): Stamp {
  const fd = openSync(path, "r");
  try {
    const s = fstatSync(fd);
    return { size: s.size, mtimeMs: s.mtimeMs };
  } finally {
    closeSync(fd);
  }
}

/**
 * The lines llama.cpp reads from a prompt file, as byte ranges [start, end) of `bytes` (two
 * numbers a line): `-f` drops one trailing newline, then the text is split at every newline.
 */
export function fileLines(bytes: Buffer): Float64Array {
  const end = bytes.length > 0 && bytes[bytes.length - 1] === 0x0a ? bytes.length - 1 : bytes.length;
  let count = 1;
  for (let i = bytes.indexOf(0x0a); i >= 0 && i < end; i = bytes.indexOf(0x0a, i + 1)) count++;
  const out = new Float64Array(2 * count);
  let start = 0;
  for (let k = 0; k < count; k++) {
    const nl = k < count - 1 ? bytes.indexOf(0x0a, start) : end;
    out[2 * k] = start;
    out[2 * k + 1] = nl;
    start = nl + 1;
  }
  return out;
}

/**
 * The selected tasks of a file: `ranges` holds every task's byte range [start, end) in the text
 * (two numbers a task), `selected` the selected tasks' numbers in selection order; `parse` turns
 * a task's text and number into the task.
 */
export class TaskFile<D> implements TaskSource<D> {
  constructor(
    private readonly file: Pick<ReadTaskFile, "path" | "offset" | "stamp">,
    private readonly ranges: Float64Array,
    private readonly selected: Int32Array,
    private readonly parse: (text: string, task: number) => D,
  ) {}

  get length(): number {
    return this.selected.length;
  }

  /** Reads and parses the i-th selected task. */
  render(i: number): D {
    const task = this.selected[i];
    const start = this.ranges[2 * task];
    const buf = Buffer.alloc(this.ranges[2 * task + 1] - start);
    const fd = openSync(this.file.path, "r");
    try {
      const s = fstatSync(fd);
      if (s.size !== this.file.stamp.size || s.mtimeMs !== this.file.stamp.mtimeMs) {
        throw new QuantevalError(`${this.file.path}: the data file changed during the run (its tasks were selected when the run started); run again`);
      }
      for (let at = 0; at < buf.length; ) {
        const n = readSync(fd, buf, at, buf.length - at, this.file.offset + start + at);
        if (n === 0) throw new QuantevalError(`${this.file.path}: the data file is shorter than when the run started; run again`);
        at += n;
      }
    } finally {
      closeSync(fd);
    }
    return this.parse(buf.toString("utf8"), task);
  }
}
