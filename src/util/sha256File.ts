import { createHash } from "node:crypto";
import { createReadStream, statSync } from "node:fs";

const memo = new Map<string, string>();

/** sha256 of a file, streamed; memoized per path, size and mtime within the process. */
export async function sha256File(path: string): Promise<string> {
  const st = statSync(path);
  const key = `${path}:${st.size}:${st.mtimeMs}`;
  const hit = memo.get(key);
  if (hit) return hit;
  const h = createHash("sha256");
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 22 })) h.update(chunk as Buffer);
  const hex = h.digest("hex");
  memo.set(key, hex);
  return hex;
}
