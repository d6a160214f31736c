// Runs the real CLI in a child process (under tsx, from the sources): to completion (cli), or
// started and left running (startCli) for tests that signal it or must keep this event loop free.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { join } from "node:path";
import { repoRoot } from "./shared.js";

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

const cliArgs = (args: string[]) => ["--import", "tsx", join(repoRoot, "src", "cli", "main.ts"), ...args];

export function cli(args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}): CliResult {
  const r = spawnSync(process.execPath, cliArgs(args), {
    cwd: opts.cwd ?? repoRoot,
    env: { ...process.env, ...opts.env },
    encoding: "utf8",
    timeout: 300_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** How a CLI child process ended. */
export interface CliExit {
  status: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

/** A CLI child process still running, and its end (stderr is read as it comes, so the child never blocks on a full pipe). */
export interface RunningCli {
  child: ChildProcess;
  exited: Promise<CliExit>;
}

/** Starts the CLI in a child process (stdout ignored, stderr collected) and returns at once. */
export function startCli(args: string[], opts: { env?: Record<string, string> } = {}): RunningCli {
  const child = spawn(process.execPath, cliArgs(args), { cwd: repoRoot, env: { ...process.env, ...opts.env }, stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  const exited = new Promise<CliExit>((resolve) => child.on("exit", (status, signal) => resolve({ status, signal, stderr })));
  return { child, exited };
}

/**
 * The CLI to completion without blocking this event loop: servers this process runs as children
 * (llama-server, a proxy) must keep draining their output pipes, which spawnSync would stall.
 */
export function cliAsync(args: string[], opts: { env?: Record<string, string> } = {}): Promise<CliExit> {
  return startCli(args, opts).exited;
}

/** How a signalled CLI run ended, and how long after the signal (NaN when it ended before one was sent). */
export interface SignalledExit extends CliExit {
  seconds: number;
}

/**
 * Starts the CLI and sends `signal` the first time `ready()` holds, polled every `pollMs` (a
 * store's progress, say, so the signal lands at a chosen point of the run, not at a time).
 */
export function signalWhen(args: string[], ready: () => boolean, signal: NodeJS.Signals, opts: { env?: Record<string, string>; pollMs?: number } = {}): Promise<SignalledExit> {
  const { child, exited } = startCli(args, opts);
  let sentAt = 0;
  const timer = setInterval(() => {
    if (!ready()) return;
    clearInterval(timer);
    sentAt = performance.now();
    child.kill(signal);
  }, opts.pollMs ?? 10);
  return exited.then((e) => {
    clearInterval(timer);
    return { ...e, seconds: sentAt ? (performance.now() - sentAt) / 1000 : Number.NaN };
  });
}
