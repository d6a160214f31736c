// Builds one of quanteval's small native libraries (native/*.cpp) once per machine with the system
// C++ compiler, as better-sqlite3 builds its addon at install, but on first use and without
// node-gyp: a plain shared library that koffi loads. Each is cached under the quanteval cache,
// keyed by the source, the flags, the compiler and the CPU, because it is built with -march=native.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { cpus } from "node:os";
import { basename, join } from "node:path";
import { quantevalCacheDir } from "./cacheDir.js";

// No -ffast-math: NaN checks must survive, and every sum keeps its written order.
const FLAGS = ["-O3", "-march=native", "-std=c++17", "-fno-math-errno", "-fno-trapping-math", "-shared", "-fPIC", "-pthread"];

/**
 * Compiles `source` into lib`name`.so (or .dylib) in the cache if needed; returns its path, or
 * why it cannot be built (QUANTEVAL_NATIVE_BUILD=0, Windows, no compiler, a build failure).
 */
export function buildNativeLibrary(source: string, name: string): { path: string } | { reason: string } {
  if (process.env.QUANTEVAL_NATIVE_BUILD === "0") return { reason: "QUANTEVAL_NATIVE_BUILD=0" };
  if (process.platform === "win32") return { reason: "quanteval's native libraries are built on Linux and macOS only" };
  if (!existsSync(source)) return { reason: `${source} is missing from the installation` };
  const cxx = process.env.CXX ?? "c++";
  const version = spawnSync(cxx, ["--version"], { encoding: "utf8" });
  if (version.error || version.status !== 0) return { reason: `no C++ compiler: '${cxx} --version' failed; install g++ or clang, or set CXX` };
  const key = createHash("sha256")
    .update(readFileSync(source))
    .update(FLAGS.join(" "))
    .update(version.stdout)
    .update(`${process.arch} ${cpus()[0]?.model ?? ""}`)
    .digest("hex")
    .slice(0, 16);
  const dir = join(quantevalCacheDir(), basename(source, ".cpp"), key);
  const lib = join(dir, process.platform === "darwin" ? `lib${name}.dylib` : `lib${name}.so`);
  if (existsSync(lib)) return { path: lib };
  mkdirSync(dir, { recursive: true });
  // Built beside its final name and renamed, so concurrent first uses never load a partial file.
  const tmp = `${lib}.${process.pid}.tmp`;
  const r = spawnSync(cxx, [...FLAGS, source, "-o", tmp, ...(process.platform === "linux" ? ["-ldl"] : [])], { encoding: "utf8", timeout: 300_000 });
  if (r.error || r.status !== 0) {
    rmSync(tmp, { force: true });
    const why = (r.stderr || String(r.error ?? "")).trim().split("\n")[0];
    return { reason: `'${cxx}' could not build ${source}: ${why}` };
  }
  renameSync(tmp, lib);
  return { path: lib };
}
