// Reads dataset rows from JSONL, JSON, CSV, TSV or Parquet files. Errors name the file
// and line. Rows are plain objects with the dataset's own field names; each row remembers the
// line it starts on (rowLine), so later errors point at the real line even after blank JSONL
// lines or multi-line CSV records.
import { readFileSync } from "node:fs";
import { extname } from "node:path";
import { parse as parseCsv } from "csv-parse/sync";
import { parquetReadObjects } from "hyparquet";
import { QuantevalError } from "../util/errors.js";

export type Row = Record<string, unknown>;

const lines = new WeakMap<Row, number>();

/** The 1-based line a row starts on in its file, when the format has lines. */
export function rowLine(row: Row): number | undefined {
  return lines.get(row);
}

/** "file:line" for row `i` of `rows` read from `path` (the row's real line; i + 1 for formats without lines). */
export function rowWhere(path: string, rows: Row[], i: number): string {
  return `${path}:${rows[i] ? (rowLine(rows[i]) ?? i + 1) : i + 1}`;
}

/** A data file's bytes; errors say what is wrong with the path. */
export function readBytes(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new QuantevalError(`data file not found: ${path} (check the task's 'data' path or QUANTEVAL_DATA_DIR)`);
    if (code === "EISDIR") throw new QuantevalError(`${path}: is a folder, not a data file; point the task's 'data' at a file`);
    throw new QuantevalError(`${path}: cannot read the data file (${code ?? (e as Error).message}); check its permissions`);
  }
}

/** Decodes bytes as strict UTF-8, so a Latin-1 or binary file is refused instead of mangled. */
export function readUtf8(path: string): string {
  const bytes = readBytes(path);
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes).replace(/^\uFEFF/, "");
  } catch {
    const lossy = new TextDecoder("utf-8").decode(bytes);
    const line = lossy.slice(0, Math.max(0, lossy.indexOf("\uFFFD"))).split("\n").length;
    throw new QuantevalError(`${path}:${line}: file is not valid UTF-8; re-save it as UTF-8 (e.g. iconv -f latin1 -t utf-8)`);
  }
}

const isObject = (v: unknown): v is Row => v !== null && typeof v === "object" && !Array.isArray(v);

async function readParquet(path: string): Promise<Row[]> {
  const buf = readBytes(path);
  const file = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
  try {
    return (await parquetReadObjects({ file })) as Row[];
  } catch (e) {
    throw new QuantevalError(`${path}: not a readable Parquet file (${(e as Error).message}); re-export it, or use .jsonl or .csv`);
  }
}

function readJsonl(path: string, text: string): Row[] {
  const rows: Row[] = [];
  text.split("\n").forEach((line, i) => {
    if (line.trim() === "") return;
    try {
      const v = JSON.parse(line) as unknown;
      if (!isObject(v)) throw new Error("not an object");
      lines.set(v, i + 1);
      rows.push(v);
    } catch (e) {
      throw new QuantevalError(`${path}:${i + 1}: invalid JSON line (${(e as Error).message}); each line must be one JSON object`);
    }
  });
  return rows;
}

function readJson(path: string, text: string): Row[] {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new QuantevalError(`${path}: not valid JSON (${(e as Error).message}); the file may be truncated — re-download or re-export it`);
  }
  if (!Array.isArray(v)) throw new QuantevalError(`${path}: expected a JSON array of objects`);
  const bad = v.findIndex((x) => !isObject(x));
  if (bad >= 0)
    throw new QuantevalError(
      `${path}: element ${bad} of the array is ${JSON.stringify(v[bad])?.slice(0, 40) ?? String(v[bad])}, not an object; the file must be an array of objects with named fields`,
    );
  return v as Row[];
}

function readCsv(path: string, text: string, tsv: boolean): Row[] {
  let parsed: Array<{ record: Row; raw: string; info: { lines: number } }>;
  try {
    parsed = parseCsv(text, { columns: true, delimiter: tsv ? "\t" : ",", skip_empty_lines: true, relax_quotes: tsv, quote: tsv ? false : '"', info: true, raw: true });
  } catch (e) {
    const line = (e as { lines?: number }).lines;
    throw new QuantevalError(`${path}${line ? `:${line}` : ""}: ${(e as Error).message.split("\n")[0]}`);
  }
  return parsed.map(({ record, raw, info }) => {
    // info.lines is the record's last line; its raw text (blank lines before it stripped) spans the rest.
    const body = raw.replace(/^(\r?\n)+/, "").replace(/\r?\n$/, "");
    lines.set(record, info.lines - (body.match(/\n/g)?.length ?? 0));
    return record;
  });
}

export async function readRows(path: string): Promise<Row[]> {
  const ext = extname(path).toLowerCase();
  if (ext === ".parquet") return readParquet(path);
  const text = readUtf8(path);
  if (ext === ".jsonl" || ext === ".ndjson") return readJsonl(path, text);
  if (ext === ".json") return readJson(path, text);
  if (ext === ".csv" || ext === ".tsv") return readCsv(path, text, ext === ".tsv");
  if (ext === ".txt" || ext === ".raw" || ext === ".tokens" || ext === "") return [{ text }];
  throw new QuantevalError(`${path}: unsupported data format '${ext}'; use .jsonl, .json, .csv, .tsv, .parquet or raw text`);
}
