// Random-weight Llama GGUFs of chosen shapes for benchmarks, written once into
// ~/.cache/quanteval/bench by bench/make-synthetic-model.py with llama.cpp's own gguf-py
// (needs python3 with numpy and the llama.cpp source that scripts/build-llamacpp.sh fetches).
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, renameSync } from "node:fs";
import { join } from "node:path";
import { quantevalCacheDir } from "../src/util/cacheDir.js";
import { llamaBinDir, repoRoot, sharedFile } from "./llamaBin.js";

/**
 * Path of the cached synthetic model `name` built with make-synthetic-model.py `args`
 * (e.g. ["--n-embd", "2048", ...]), or undefined after printing why it cannot be made.
 */
export function syntheticModel(name: string, args: string[]): string | undefined {
  const dir = join(quantevalCacheDir(), "bench");
  const out = join(dir, name);
  if (existsSync(out)) return out;
  const bin = llamaBinDir();
  const ggufPy = bin ? join(bin, "..", "..", "gguf-py") : undefined;
  if (!ggufPy || !existsSync(ggufPy)) {
    console.log(`${name} skipped: llama.cpp's source is not in the cache; run 'bash scripts/build-llamacpp.sh'`);
    return undefined;
  }
  mkdirSync(dir, { recursive: true });
  const tmp = `${out}.tmp`;
  const script = join(repoRoot, "bench", "make-synthetic-model.py");
  const r = spawnSync("python3", [script, "--gguf-py", ggufPy, "--donor", sharedFile("models", "stories260K.gguf"), "--out", tmp, ...args], { stdio: ["ignore", "ignore", "pipe"], encoding: "utf8" });
  if (r.status !== 0) {
    console.log(`${name} skipped: make-synthetic-model.py failed (needs python3 with numpy): ${r.stderr.trim().split("\n").pop()}`);
    return undefined;
  }
  renameSync(tmp, out);
  return out;
}
