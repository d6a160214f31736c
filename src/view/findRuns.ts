// Finds the runs under a folder: the folder itself when it is a run, else run folders up to
// three levels below it (hidden folders and node_modules skipped).
import { readdirSync, statSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { isRunDir, RESULTS_FILE } from "./runReader.js";

/** A run the viewer can open; `id` is its path relative to the root ("." for the root). */
export interface RunEntry {
  id: string;
  dir: string;
  /** results.json's modification time (ms since the epoch). */
  mtimeMs: number;
}

const MAX_DEPTH = 3;
const MAX_RUNS = 1000;

/** Runs under `root`, newest first. */
export function findRuns(root: string): RunEntry[] {
  const out: RunEntry[] = [];
  const visit = (dir: string, depth: number) => {
    if (out.length >= MAX_RUNS) return;
    if (isRunDir(dir)) {
      const rel = relative(root, dir);
      out.push({ id: rel === "" ? "." : rel.split(sep).join("/"), dir, mtimeMs: statSync(join(dir, RESULTS_FILE)).mtimeMs });
      return;
    }
    if (depth >= MAX_DEPTH) return;
    let names: string[];
    try {
      names = readdirSync(dir, { withFileTypes: true })
        .filter((d) => d.isDirectory() && !d.name.startsWith(".") && d.name !== "node_modules")
        .map((d) => d.name)
        .sort();
    } catch {
      return; // unreadable folder: not a run
    }
    for (const n of names) visit(join(dir, n), depth + 1);
  };
  visit(root, 0);
  return out.sort((a, b) => b.mtimeMs - a.mtimeMs || a.id.localeCompare(b.id));
}
