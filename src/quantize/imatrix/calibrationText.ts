// Calibration text for an importance matrix: a raw text file (as llama-imatrix's `-f`), or a
// row dataset (JSONL/Parquet/CSV/..., a path or `<id>:<config>:<split>`) whose string fields
// are joined, one row after another.
import { basename, extname } from "node:path";
import { createHash } from "node:crypto";
import { dataDir } from "../../data/dataDirs.js";
import { readRows, readUtf8 } from "../../data/readRows.js";
import { resolveDataset, resolveLocalPath } from "../../data/resolveDataset.js";
import { QuantevalError } from "../../util/errors.js";

export interface CalibrationText {
  /** Resolved file. */
  path: string;
  text: string;
  /** Short name for variant names (`wiki` from `wiki.test.raw`, `train` → parent folder). */
  name: string;
  text_sha256: string;
}

const ROW_EXTS = new Set([".jsonl", ".json", ".parquet", ".csv", ".tsv"]);

/** A short, file-name-safe name for the data set a path holds. */
export function calibrationName(path: string): string {
  const stem = basename(path)
    .replace(/\.[^.]*$/, "")
    .replace(/\..*$/, "");
  const generic = /^(train|test|validation|valid|dev|data)$/i.test(stem);
  const name = generic ? basename(path.slice(0, path.length - basename(path).length - 1)) : stem;
  return name.replace(/[^A-Za-z0-9_.-]+/g, "_").slice(0, 40) || "data";
}

/** Resolves `data` (path or dataset id) and reads its text. `field` names the flag/key in errors. */
export async function readCalibrationText(data: string, field: string, opts: { baseDir: string; dataDir?: string }): Promise<CalibrationText> {
  let path = resolveLocalPath(data, opts.baseDir) ?? resolveLocalPath(data, dataDir(opts.dataDir));
  if (!path) {
    const [id, config, split] = data.split(":");
    if (!config || !split) throw new QuantevalError(`${field}: '${data}' not found; give a text file path or a dataset id as <id>:<config>:<split>`);
    path = await resolveDataset({ id, config, split }, { dataDir: opts.dataDir });
  }
  let text: string;
  if (ROW_EXTS.has(extname(path).toLowerCase())) {
    const rows = await readRows(path);
    text = rows
      .map((r) =>
        Object.values(r)
          .filter((v): v is string => typeof v === "string")
          .join(""),
      )
      .join("\n\n");
  } else {
    text = readUtf8(path);
  }
  if (!text.trim()) throw new QuantevalError(`${field}: ${path} holds no text`);
  return { path, text, name: calibrationName(path), text_sha256: createHash("sha256").update(text).digest("hex") };
}
