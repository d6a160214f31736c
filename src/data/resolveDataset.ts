// Resolves a dataset reference to a local file: a path, or a Hugging Face dataset id with
// config and split looked up under the data directory (<dir>/<dataset>/<config>/<split>.{jsonl,parquet}),
// downloaded from the Hub's parquet conversion when online and absent.
import { existsSync, mkdirSync, renameSync, writeFileSync } from "node:fs";
import { basename, dirname, isAbsolute, join, resolve } from "node:path";
import { QuantevalError } from "../util/errors.js";
import { dataDir } from "./dataDirs.js";

export interface DatasetRef {
  /** Hugging Face id such as `skt/kobest_v1`. */
  id: string;
  /** Config (subset) name such as `copa`. */
  config?: string;
  split: string;
}

const EXTS = [".jsonl", ".parquet", ".json", ".csv", ".tsv"];

/** Candidate local files for an id: <dir>/<org>/<name>/… and <dir>/<name>/…. */
function candidates(dir: string, ref: DatasetRef): string[] {
  const names = [ref.id, basename(ref.id)];
  const out: string[] = [];
  for (const n of names) {
    const base = ref.config ? join(dir, n, ref.config) : join(dir, n);
    for (const ext of EXTS) out.push(join(base, ref.split + ext));
  }
  return out;
}

export async function resolveDataset(ref: DatasetRef, opts: { dataDir?: string; offline?: boolean } = {}): Promise<string> {
  const dir = dataDir(opts.dataDir);
  const hit = candidates(dir, ref).find((p) => existsSync(p));
  if (hit) return hit;
  const where = `${ref.id}${ref.config ? `/${ref.config}` : ""} split '${ref.split}'`;
  if (opts.offline || process.env.HF_HUB_OFFLINE === "1") {
    throw new QuantevalError(`dataset ${where} not found under ${dir}; place ${candidates(dir, ref)[0]} there or set QUANTEVAL_DATA_DIR`);
  }
  const url = `https://huggingface.co/datasets/${ref.id}/resolve/refs%2Fconvert%2Fparquet/${ref.config ?? "default"}/${ref.split}/0000.parquet`;
  const target = join(dir, ref.id, ref.config ?? "default", `${ref.split}.parquet`);
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(60_000) });
  } catch (e) {
    throw new QuantevalError(`dataset ${where} is not under ${dir} and downloading it failed (${(e as Error).message}); place it there or set QUANTEVAL_DATA_DIR`);
  }
  if (!res.ok) throw new QuantevalError(`dataset ${where}: download from the Hugging Face Hub answered HTTP ${res.status}; check the id, config and split`);
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(`${target}.part`, Buffer.from(await res.arrayBuffer()));
  renameSync(`${target}.part`, target);
  return target;
}

/** An existing local file: absolute, or relative to each of `dirs` in turn, then to the working directory. */
export function resolveLocalPath(p: string, ...dirs: string[]): string | undefined {
  if (isAbsolute(p)) return existsSync(p) ? p : undefined;
  for (const base of [...dirs, process.cwd()]) {
    const c = resolve(base, p);
    if (existsSync(c)) return c;
  }
  return undefined;
}
