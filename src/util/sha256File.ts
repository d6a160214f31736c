import { createHash } from "node:crypto";
import { createReadStream, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { quantevalCacheDir } from "./cacheDir.js";

const memo = new Map<string, string>();

/**
 * sha256 of a file, streamed; memoized per path, size and mtime within the process, and across
 * processes in `<cache>/sha256/` per device, inode, size, mtime and ctime (nanoseconds).
 *
 * Why across processes: a 2.9 GB F32 model takes 2.5–3.5 s of CPU to hash (12% of a two-chunk
 * perplexity run of the 0.8 B bench model, bench/README.md), paid again on every run of the same
 * baseline. Any write to the file changes its ctime, which no program can set back, so a changed
 * file is always hashed again.
 */
export async function sha256File(path: string): Promise<string> {
  const st = statSync(path, { bigint: true });
  const key = `${resolve(path)}:${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
  const hit = memo.get(key) ?? readStored(key);
  if (hit) return hit;
  const h = createHash("sha256");
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 22 })) h.update(chunk as Buffer);
  const hex = h.digest("hex");
  memo.set(key, hex);
  if (st.size >= STORE_MIN_BYTES) store(key, hex);
  return hex;
}

/** Files under this size are hashed every time (cheaper than a cache file). */
const STORE_MIN_BYTES = 64n << 20n;

function entryPath(key: string): string {
  return join(quantevalCacheDir(), "sha256", `${createHash("sha256").update(key).digest("hex").slice(0, 32)}.json`);
}

function readStored(key: string): string | undefined {
  try {
    const e = JSON.parse(readFileSync(entryPath(key), "utf8")) as { key?: string; sha256?: string };
    return e.key === key && typeof e.sha256 === "string" && /^[0-9a-f]{64}$/.test(e.sha256) ? e.sha256 : undefined;
  } catch {
    return undefined;
  }
}

function store(key: string, sha256: string): void {
  // Best effort: a read-only cache only means hashing again next time.
  try {
    const file = entryPath(key);
    mkdirSync(join(quantevalCacheDir(), "sha256"), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify({ key, sha256 }));
    renameSync(tmp, file);
  } catch {
    // ignored on purpose (see above)
  }
}
