// Locates llama.cpp's reference tools (llama-server, llama-perplexity, …) built by
// scripts/build-llamacpp.sh: QUANTEVAL_LLAMA_BIN, else the build cache for the llama.cpp tag
// that node-llama-cpp pins (~/.cache/quanteval/llama.cpp-<tag>/build/bin, or under QUANTEVAL_CACHE).
import { type SpawnSyncReturns, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { logFlushEnv } from "./logFlush.js";
import { repoRoot } from "./shared.js";

/** The folder the tools should be in. */
export function llamaBinDir(): string {
  if (process.env.QUANTEVAL_LLAMA_BIN) return process.env.QUANTEVAL_LLAMA_BIN;
  let tag = "v0.5.0";
  try {
    tag = (JSON.parse(readFileSync(join(repoRoot, "node_modules", "node-llama-cpp", "llama", "llama.cpp.info.json"), "utf8")) as { tag: string }).tag;
  } catch {
    // keep the default tag
  }
  return join(process.env.QUANTEVAL_CACHE ?? join(homedir(), ".cache", "quanteval"), `llama.cpp-${tag}`, "build", "bin");
}

/** Path of one tool, or undefined with the reason a test prints when it skips. */
export function llamaTool(name: "llama-server" | "llama-perplexity" | "llama-bench" | "llama-quantize"): { path: string; reason?: undefined } | { path?: undefined; reason: string } {
  const path = join(llamaBinDir(), name);
  if (existsSync(path)) return { path };
  return { reason: `${name} not built at ${path} (run: bash scripts/build-llamacpp.sh, or set QUANTEVAL_LLAMA_BIN)` };
}

/**
 * Runs a llama.cpp tool with its log drained before exit (test/helpers/logFlush.ts), so every
 * line it logged is in stdout/stderr. Throws when the preload cannot be built.
 */
export function runLlamaTool(path: string, args: string[], opts: { maxBuffer?: number } = {}): SpawnSyncReturns<string> {
  return spawnSync(path, args, { encoding: "utf8", maxBuffer: opts.maxBuffer ?? 64 << 20, env: logFlushEnv() });
}
