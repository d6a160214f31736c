// Starts a real llama-server on 127.0.0.1 on a free port, waits until /health answers 200,
// and stops it afterwards. Its output is kept (last 64 KB) for failure messages.
// storiesServerForTests does so around one test file's tests.
import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import { after, before } from "node:test";
import { llamaTool } from "./llamaBin.js";
import { models } from "./shared.js";

export interface LlamaServerOptions {
  /** The llama-server binary (see llamaTool("llama-server")). */
  bin: string;
  model: string;
  /** Total context (-c), shared by the slots. */
  ctx?: number;
  /** Slots (--parallel). */
  parallel?: number;
  /** CPU threads (default 1: on a shared, oversubscribed machine ggml's spinning thread barrier makes 2 threads ~10× slower for a tiny model). */
  threads?: number;
  extraArgs?: string[];
  /** How long to wait for /health (default 60 s). */
  startTimeoutMs?: number;
}

export interface RunningLlamaServer {
  url: string;
  port: number;
  /** The server's log so far. */
  log(): string;
  stop(): Promise<void>;
}

/** A port that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

const running = new Set<ChildProcess>();
process.once("exit", () => {
  for (const p of running) p.kill("SIGKILL");
});

export async function startLlamaServer(opts: LlamaServerOptions): Promise<RunningLlamaServer> {
  const port = await freePort();
  const args = [
    "-m",
    opts.model,
    "--host",
    "127.0.0.1",
    "--port",
    String(port),
    "-c",
    String(opts.ctx ?? 2048),
    "--parallel",
    String(opts.parallel ?? 4),
    "-t",
    String(opts.threads ?? 1),
    "--no-webui",
    ...(opts.extraArgs ?? []),
  ];
  const child = spawn(opts.bin, args, { stdio: ["ignore", "pipe", "pipe"] });
  running.add(child);
  let log = "";
  const keep = (b: Buffer) => {
    log = (log + b.toString("utf8")).slice(-65536);
  };
  child.stdout!.on("data", keep);
  child.stderr!.on("data", keep);
  let exited: string | undefined;
  const exitPromise = new Promise<void>((resolve) =>
    child.once("exit", (code, signal) => {
      exited = `exited with ${code ?? signal}`;
      running.delete(child);
      resolve();
    }),
  );
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (exited) return;
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
    await exitPromise;
    clearTimeout(timer);
  };
  const deadline = Date.now() + (opts.startTimeoutMs ?? 60_000);
  for (;;) {
    if (exited) throw new Error(`llama-server ${exited} before it was ready:\n${log.slice(-3000)}`);
    try {
      const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) });
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`llama-server did not become healthy within ${opts.startTimeoutMs ?? 60_000} ms:\n${log.slice(-3000)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url, port, log: () => log, stop };
}

/**
 * stories260K (../shared) served by llama-server for the tests of one file: started before them,
 * stopped after; an f32 KV cache and no flash attention, so its scores are exact. `skip` is the
 * reason when llama-server is not built (pass it to each test's `skip`).
 */
export function storiesServerForTests(): { skip: string | false; server: () => RunningLlamaServer } {
  const tool = llamaTool("llama-server");
  const skip = tool.reason ?? false;
  let server: RunningLlamaServer | undefined;
  before(async () => {
    if (!skip) server = await startLlamaServer({ bin: tool.path!, model: models.stories(), parallel: 4, ctx: 2048, extraArgs: ["-ctk", "f32", "-ctv", "f32", "-fa", "off"] });
  });
  after(async () => server?.stop());
  return { skip, server: () => server! };
}
