// A preload library (test/helpers/logflush.c, compiled once with cc) that makes a llama.cpp tool
// write all its log lines before it exits. llama.cpp's common logger hands every line to a
// background thread and never shuts that thread down (common/log.cpp leaks the singleton on
// purpose), so on a loaded machine the last lines, which hold the final figures, were lost at
// exit. The tests (runLlamaTool) and the benchmarks that read llama.cpp's printed figures
// (bench/perplexity-vs-llamacpp.ts, bench/distributions-vs-llamacpp.ts,
// bench/generate-parallel.ts) run the tools with it.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { repoRoot } from "./shared.js";

/** Path of the compiled preload library, or undefined with the reason when no C compiler is available. */
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
 * The environment to run a llama.cpp tool in so that its log is drained before exit: this
 * process's, with the preload first in LD_PRELOAD. Throws when the preload cannot be built: a
 * cross-check or a benchmark must not silently go back to reading a log that can lose its last lines.
 */
export function logFlushEnv(): NodeJS.ProcessEnv {
  const preload = logFlushPreload();
  if (!preload.path) throw new Error(`llama.cpp tool output cannot be read reliably: ${preload.reason}`);
  return { ...process.env, LD_PRELOAD: [preload.path, process.env.LD_PRELOAD].filter(Boolean).join(":") };
}
