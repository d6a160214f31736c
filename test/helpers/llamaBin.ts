// Locates llama.cpp's reference tools (llama-server, llama-perplexity, …) built by
// scripts/build-llamacpp.sh: QUANTEVAL_LLAMA_BIN, else the build cache for the llama.cpp tag
// that node-llama-cpp pins (~/.cache/quanteval/llama.cpp-<tag>/build/bin, or under QUANTEVAL_CACHE).
import { type SpawnSyncReturns, execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
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
 * A preload library (test/helpers/logflush.c, compiled once with cc) that makes a llama.cpp
 * tool write all its log lines before it exits. llama.cpp's common logger hands every line to
 * a background thread and never shuts that thread down (common/log.cpp leaks the singleton on
 * purpose), so on a loaded machine the last lines, which hold the final figures, were lost at
 * exit. Undefined (with the reason) when no C compiler is available.
 */
export function logFlushPreload(): { path: string; reason?: undefined } | { path?: undefined; reason: string } {
  const src = join(repoRoot, "test", "helpers", "logflush.c");
  const hash = createHash("sha256").update(readFileSync(src)).digest("hex").slice(0, 12);
  const dir = join(process.env.QUANTEVAL_CACHE ?? join(tmpdir(), "quanteval-test"), "logflush");
  const path = join(dir, `logflush-${hash}.so`);
  if (existsSync(path)) return { path };
  try {
    mkdirSync(dir, { recursive: true });
    const tmp = `${path}.${process.pid}.tmp`;
    execFileSync("cc", ["-O2", "-shared", "-fPIC", "-o", tmp, src, "-ldl", "-lpthread"], { stdio: "pipe" });
    renameSync(tmp, path);
    return { path };
  } catch (e) {
    return { reason: `cannot compile ${src} (${(e as Error).message.split("\n")[0]})` };
  }
}

/**
 * Runs a llama.cpp tool with its log drained before exit (logFlushPreload), so every line it
 * logged is in stdout/stderr. Throws when the preload cannot be built: a cross-check must not
 * silently go back to reading a log that can lose its last lines.
 */
export function runLlamaTool(path: string, args: string[], opts: { maxBuffer?: number } = {}): SpawnSyncReturns<string> {
  const preload = logFlushPreload();
  if (!preload.path) throw new Error(`llama.cpp tool output cannot be read reliably: ${preload.reason}`);
  return spawnSync(path, args, { encoding: "utf8", maxBuffer: opts.maxBuffer ?? 64 << 20, env: { ...process.env, LD_PRELOAD: [preload.path, process.env.LD_PRELOAD].filter(Boolean).join(":") } });
}
