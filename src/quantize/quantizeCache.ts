// The quantize cache: a sidecar `<output>.quanteval.json` records which input (sha256), type,
// importance matrix and per-tensor recipe produced a file, and the file's own sha256. A cached
// file is reused only when its sha256 still matches (issue 16 item 11: a corrupted variant of
// the right size produced NaN and the error blamed the model), otherwise it is re-made.
import { basename, dirname, join, resolve } from "node:path";
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { sha256File } from "../util/sha256File.js";
import { pidAlive } from "../util/pidAlive.js";

const SIDECAR_VERSION = 2;

/** What a quantized file was made from; equal keys mean the same output. */
export interface QuantizeKey {
  input_sha256: string;
  type: string;
  /** sha256 of the imatrix file, when one was used. */
  imatrix_sha256?: string;
  /** `tensor_types` recipe (pattern → ggml type), when given. */
  tensor_types?: Record<string, string>;
}

interface Sidecar<R> {
  quanteval_quantize: number;
  key: QuantizeKey;
  result: R;
}

/** `<outDir>/<input basename without .gguf>-<type>[@<tag>].gguf` */
export function quantizedPath(input: string, type: string, outDir: string, tag?: string): string {
  const base = basename(input).replace(/\.gguf$/i, "");
  return resolve(outDir, `${base}-${type}${tag ? `@${tag}` : ""}.gguf`);
}

export function sidecarPath(outPath: string): string {
  return `${outPath}.quanteval.json`;
}

const sameKey = (a: QuantizeKey, b: QuantizeKey): boolean =>
  a.input_sha256 === b.input_sha256 && a.type === b.type && (a.imatrix_sha256 ?? "") === (b.imatrix_sha256 ?? "") && JSON.stringify(a.tensor_types ?? {}) === JSON.stringify(b.tensor_types ?? {});

export type CacheLookup<R> = { hit: R } | { miss: true; corrupted?: string };

/**
 * The cached result for `key` at `outPath`, verified by size and sha256; a file whose bytes no
 * longer match its sidecar is reported in `corrupted` (and must be re-made).
 */
export async function lookupCache<R extends { sha256: string; file_bytes: number }>(outPath: string, key: QuantizeKey): Promise<CacheLookup<R>> {
  let side: Sidecar<R> | undefined;
  try {
    side = JSON.parse(readFileSync(sidecarPath(outPath), "utf8")) as Sidecar<R>;
  } catch {
    return { miss: true };
  }
  if (!side || side.quanteval_quantize !== SIDECAR_VERSION || !side.result || !side.key || !sameKey(side.key, key) || !existsSync(outPath)) return { miss: true };
  const size = statSync(outPath).size;
  if (size !== side.result.file_bytes) {
    return { miss: true, corrupted: `cached ${outPath} has ${size} bytes but was written with ${side.result.file_bytes}; re-made it` };
  }
  const sha = await sha256File(outPath);
  if (sha !== side.result.sha256) {
    return { miss: true, corrupted: `cached ${outPath} has sha256 ${sha.slice(0, 12)}… but was written as ${side.result.sha256.slice(0, 12)}… (corrupted on disk); re-made it` };
  }
  return { hit: side.result };
}

export function writeSidecar<R>(outPath: string, key: QuantizeKey, result: R): void {
  const side: Sidecar<R> = { quanteval_quantize: SIDECAR_VERSION, key, result };
  writeAtomic(sidecarPath(outPath), JSON.stringify(side, null, 2) + "\n");
}

export function writeAtomic(path: string, text: string): void {
  const tmp = `${path}.partial-${process.pid}`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

/** Removes `<out>.partial-<pid>` files left by quantize runs that died. */
export function removeStalePartials(outPath: string): void {
  const dir = dirname(outPath);
  const prefix = `${basename(outPath)}.partial-`;
  for (const f of readdirSync(dir)) {
    if (!f.startsWith(prefix)) continue;
    const pid = Number(f.slice(prefix.length));
    if (Number.isInteger(pid) && pid !== process.pid && !pidAlive(pid)) rmSync(join(dir, f), { force: true });
  }
}
