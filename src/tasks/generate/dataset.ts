// Prompts (and reference answers) of a generate task, read from one or more datasets.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { readRows, type Row } from "../../data/readRows.js";
import { resolveDataset, resolveLocalPath } from "../../data/resolveDataset.js";
import { QuantevalError } from "../../util/errors.js";
import { render } from "../template.js";

/** One prompt of the task; `doc_id` is unique across the task's datasets. */
export interface GenerateItem {
  doc_id: number;
  /** The dataset label (the `data` entry as written in the config). */
  dataset: string;
  /** Row index inside its dataset file. */
  row: number;
  prompt: string;
  reference?: string;
}

/** What the manifest records per dataset. */
export interface DatasetInfo {
  label: string;
  path: string;
  sha256: string;
  rows: number;
  used: number;
  /** Rows passed over because prompt + max_tokens does not fit a model's context. */
  skipped_too_long: number;
}

export interface LoadItemsOptions {
  taskName: string;
  /** Where dataset ids are looked up (local paths were resolved when the config loaded). */
  dataDir?: string;
  split?: string;
  input: string;
  reference?: string;
  limit?: number;
  /** True when the prompt leaves room for the generation in every model's context. */
  fits: (prompt: string) => Promise<boolean>;
}

/** A field value or a {{field}} template rendered from the row. */
export function fieldText(row: Row, field: string, where: string): string {
  if (field.includes("{{")) return render(field, row, where);
  if (!(field in row))
    throw new QuantevalError(`${where}: field '${field}' missing from the row (fields: ${Object.keys(row).join(", ")}); set 'input'/'reference' to a field name or a {{field}} template`);
  const v = row[field];
  return typeof v === "string" ? v : JSON.stringify(v);
}

async function resolveData(data: string, opts: LoadItemsOptions): Promise<string> {
  const local = resolveLocalPath(data);
  if (local) return local;
  const parts = data.split(":");
  if (parts.length >= 2 || opts.split) {
    const [id, a, b] = parts;
    const ref = b !== undefined ? { id, config: a, split: b } : a !== undefined ? { id, split: a } : { id, split: opts.split! };
    return resolveDataset(ref, { dataDir: opts.dataDir });
  }
  throw new QuantevalError(
    `task '${opts.taskName}': data '${data}' not found (looked beside the config, in the working directory and in the data dir); give a file path or a dataset id <id>:<config>:<split>`,
  );
}

/**
 * Reads every dataset and keeps, per dataset, the first `limit` rows whose prompt fits every
 * model's context with room for the generation (rows that do not fit are counted, not hidden).
 */
export async function loadGenerateItems(data: string[], opts: LoadItemsOptions): Promise<{ items: GenerateItem[]; datasets: DatasetInfo[] }> {
  const items: GenerateItem[] = [];
  const datasets: DatasetInfo[] = [];
  for (const label of data) {
    const path = await resolveData(label, opts);
    const rows = await readRows(path);
    const info: DatasetInfo = { label, path, sha256: createHash("sha256").update(readFileSync(path)).digest("hex"), rows: rows.length, used: 0, skipped_too_long: 0 };
    for (let i = 0; i < rows.length && (opts.limit === undefined || info.used < opts.limit); i++) {
      const where = `task '${opts.taskName}': ${path} row ${i + 1}`;
      const prompt = fieldText(rows[i], opts.input, where);
      if (!(await opts.fits(prompt))) {
        info.skipped_too_long++;
        continue;
      }
      const reference = opts.reference ? fieldText(rows[i], opts.reference, where) : undefined;
      items.push({ doc_id: items.length, dataset: label, row: i, prompt, reference });
      info.used++;
    }
    if (info.used === 0)
      throw new QuantevalError(
        `task '${opts.taskName}': no usable prompt in ${path} (${info.rows} rows, ${info.skipped_too_long} too long for the models' context); raise the models' n_ctx or lower max_tokens`,
      );
    datasets.push(info);
  }
  return { items, datasets };
}
