// The quanteval cache root, shared by the native builds (scripts/build-llamacpp.sh uses the same).
import { homedir } from "node:os";
import { join } from "node:path";

/** QUANTEVAL_CACHE, else ~/.cache/quanteval. */
export function quantevalCacheDir(): string {
  return process.env.QUANTEVAL_CACHE ?? join(homedir(), ".cache", "quanteval");
}
