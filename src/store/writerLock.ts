// The run store's writer lock: who holds it (host, PID and the process's start time) and
// whether that holder provably no longer runs. A PID alone is not enough: after kill -9, an
// OOM kill or a container restart the PID is reused (often pid 1), so a lock naming only a
// PID could never be taken over.
import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import { pidAlive } from "../util/pidAlive.js";

/** What a lock records about its holder. */
export interface LockHolder {
  host: string;
  pid: number;
  /** Process start time in clock ticks since boot (/proc/PID/stat field 22); null off Linux. */
  start: number | null;
}

/** The start time of `pid` from /proc, or null when it cannot be read (no such process, no /proc). */
export function processStartTime(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) is in parentheses and may hold spaces; fields resume after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const start = Number(fields[19]);
    return Number.isFinite(start) ? start : null;
  } catch {
    return null;
  }
}

/** This process as a lock holder. */
export function currentHolder(): LockHolder {
  return { host: hostname(), pid: process.pid, start: processStartTime(process.pid) };
}

/** Parses a stored lock: JSON, or a bare PID written by older versions. */
export function parseHolder(value: string): LockHolder {
  if (/^\d+$/.test(value)) return { host: hostname(), pid: Number(value), start: null };
  try {
    const v = JSON.parse(value) as Partial<LockHolder>;
    return { host: String(v.host ?? ""), pid: Number(v.pid), start: typeof v.start === "number" ? v.start : null };
  } catch {
    return { host: "", pid: NaN, start: null };
  }
}

export function sameHolder(a: LockHolder, b: LockHolder): boolean {
  return a.host === b.host && a.pid === b.pid && a.start === b.start;
}

/**
 * Why the holder provably no longer runs, or null when it may still run. Only a lock taken on
 * this host can be proven stale: its PID is gone, or now belongs to a process started at
 * another time (the PID was reused).
 */
export function staleReason(h: LockHolder): string | null {
  if (!Number.isInteger(h.pid) || h.pid <= 0) return "the lock is unreadable";
  if (h.host !== hostname()) return null;
  if (!pidAlive(h.pid)) return `pid ${h.pid} no longer runs`;
  if (h.start !== null) {
    const now = processStartTime(h.pid);
    if (now !== null && now !== h.start) return `pid ${h.pid} now belongs to another process (started at tick ${now}, the lock's at ${h.start})`;
    return null;
  }
  // A bare-PID lock from an older version: stale when that PID is no quanteval process.
  try {
    const cmd = readFileSync(`/proc/${h.pid}/cmdline`, "utf8");
    if (!/quanteval|cli[/\\]main\.[jt]s/.test(cmd)) return `pid ${h.pid} is not a quanteval process`;
  } catch {
    // no /proc: cannot tell
  }
  return null;
}
