// Reads dataset rows from JSONL, JSON, CSV, TSV or Parquet files. Errors name the file
// and line. Rows are plain objects with the dataset's own field names.
import { readFileSync } from "node:fs";
import { extname } from "node:path";
import { parse as parseCsv } from "csv-parse/sync";
import { parquetReadObjects } from "hyparquet";
import { QuantevalError } from "../util/errors.js";

export type Row = Record<string, unknown>;

/** Decodes bytes as strict UTF-8, so a Latin-1 or binary file is refused instead of mangled. */
export function readUtf8(path: string): string {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch {
    throw new QuantevalError(`data file not found: ${path} (check the task's 'data' path or QUANTEVAL_DATA_DIR)`);
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes).replace(/^\uFEFF/, "");
  } catch {
    const lossy = new TextDecoder("utf-8").decode(bytes);
    const line = lossy.slice(0, Math.max(0, lossy.indexOf("\uFFFD"))).split("\n").length;
    throw new QuantevalError(`${path}:${line}: file is not valid UTF-8; re-save it as UTF-8 (e.g. iconv -f latin1 -t utf-8)`);
  }
}

export async function readRows(path: string): Promise<Row[]> {
  const ext = extname(path).toLowerCase();
  if (ext === ".parquet") {
    const buf = readFileSync(path);
    const file = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
    return (await parquetReadObjects({ file })) as Row[];
  }
  const text = readUtf8(path);
  if (ext === ".jsonl" || ext === ".ndjson") {
    const rows: Row[] = [];
    text.split("\n").forEach((line, i) => {
      if (line.trim() === "") return;
      try {
        const v = JSON.parse(line) as unknown;
        if (v === null || typeof v !== "object" || Array.isArray(v)) throw new Error("not an object");
        rows.push(v as Row);
      } catch (e) {
        throw new QuantevalError(`${path}:${i + 1}: invalid JSON line (${(e as Error).message}); each line must be one JSON object`);
      }
    });
    return rows;
  }
  if (ext === ".json") {
    const v = JSON.parse(text) as unknown;
    if (!Array.isArray(v)) throw new QuantevalError(`${path}: expected a JSON array of objects`);
    return v as Row[];
  }
  if (ext === ".csv" || ext === ".tsv") {
    try {
      return parseCsv(text, { columns: true, delimiter: ext === ".tsv" ? "\t" : ",", skip_empty_lines: true, relax_quotes: ext === ".tsv", quote: ext === ".tsv" ? false : '"' }) as Row[];
    } catch (e) {
      throw new QuantevalError(`${path}: ${(e as Error).message.split("\n")[0]}`);
    }
  }
  if (ext === ".txt" || ext === ".raw" || ext === "") return [{ text }];
  throw new QuantevalError(`${path}: unsupported data format '${ext}'; use .jsonl, .json, .csv, .tsv, .parquet or raw text`);
}
