// Locates llama.cpp's reference tools, built by `bash scripts/build-llamacpp.sh` from the exact
// llama.cpp source that the pinned node-llama-cpp ships: QUANTEVAL_LLAMA_BIN, else the default
// cache folder for this release (~/.cache/quanteval/llama.cpp-<tag>/build/bin).
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { llamaBuildInfo } from "../src/backends/llamaLib.js";

export const repoRoot = resolve(fileURLToPath(new URL("..", import.meta.url)));

/** The folder holding llama-bench, llama-perplexity …, or undefined when they are not built. */
export function llamaBinDir(): string | undefined {
  const dir = process.env.QUANTEVAL_LLAMA_BIN ?? join(process.env.QUANTEVAL_CACHE ?? join(homedir(), ".cache", "quanteval"), `llama.cpp-${llamaBuildInfo().llama_cpp_release}`, "build", "bin");
  return existsSync(dir) ? dir : undefined;
}

/** Path of one reference tool; exits with how to build it when absent. */
export function llamaTool(name: string): string {
  const dir = llamaBinDir();
  const p = dir ? join(dir, name) : undefined;
  if (!p || !existsSync(p)) {
    process.stderr.write(`${name} not found${dir ? ` in ${dir}` : ""}: build the reference tools with 'bash scripts/build-llamacpp.sh' (or set QUANTEVAL_LLAMA_BIN to their folder)\n`);
    process.exit(1);
  }
  return p;
}

/** The shared models/data folder (../shared beside the repository, or QUANTEVAL_SHARED_DIR). */
export function sharedFile(...parts: string[]): string {
  const p = join(resolve(process.env.QUANTEVAL_SHARED_DIR ?? join(repoRoot, "..", "shared")), ...parts);
  if (!existsSync(p)) {
    process.stderr.write(`${p} not found: pass --model/--data, or set QUANTEVAL_SHARED_DIR\n`);
    process.exit(1);
  }
  return p;
}

/** "1,234" or "12.3". */
export const rate = (v: number): string => (v >= 100 ? Math.round(v).toLocaleString("en-US") : v.toFixed(1));
