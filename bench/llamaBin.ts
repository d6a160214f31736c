// Locates llama.cpp's reference tools, built by `bash scripts/build-llamacpp.sh` from the exact
// llama.cpp source that the pinned node-llama-cpp ships: QUANTEVAL_LLAMA_BIN, else the default
// cache folder for this release (~/.cache/quanteval/llama.cpp-<tag>/build/bin).
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { llamaBuildInfo } from "../src/backends/llamaLib.js";
import { logFlushEnv } from "../test/helpers/logFlush.js";

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

let toolEnv: NodeJS.ProcessEnv | undefined;

/**
 * The environment to run a llama.cpp tool in when its printed figures are read: with the
 * tests' preload (test/helpers/logflush.c, test/helpers/logFlush.ts), which makes the tool
 * write every log line before it exits. Without it, llama.cpp's asynchronous logger lost the
 * last lines (the final figures) at exit under load. Compiled and hashed on the first call:
 * call it before anything is timed.
 *
 * Timing stays fair: the preload acts at thread creation (one dladdr per thread), at each
 * condition-variable wait or signal (one atomic increment; in llama.cpp's tools these are the
 * logger's, a few per log line, while the compute threads are OpenMP's and wait on futexes)
 * and at exit, where it polls in 1 ms steps until the logger has written its queue. Figures
 * taken from the tool's own timestamps (llama-perplexity's evaluation, llama-batched-bench's
 * speeds) end before the exit; a process wall time gains the library load and that wait, a few
 * milliseconds against runs of seconds (and the lines it waits for are writes the tool would
 * make anyway on a machine that keeps up).
 */
export function llamaToolEnv(): NodeJS.ProcessEnv {
  toolEnv ??= logFlushEnv();
  return toolEnv;
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
