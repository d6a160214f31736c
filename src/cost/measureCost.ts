// Measures a model's cost (size, load time, pp/tg speed, peak RSS) in a child process of its
// own, so that peak RSS belongs to that model alone and nothing else competes for the threads.
//
// The child is this module's sibling costWorker (.ts under tsx, .js when compiled), started
// with the same Node.js binary and loader flags as this process (`process.execPath` and
// `process.execArgv`), which works both in development (`node --import tsx`) and from dist/.
import { fork } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { QuantevalError } from "../util/errors.js";
import { type CostMetrics, type CostOptions, median } from "./costMetrics.js";
import type { CostWorkerMessage } from "./costWorker.js";

/** Path of the worker script beside this module, whatever extension this module has. */
function workerPath(): string {
  const self = fileURLToPath(import.meta.url);
  const ext = self.endsWith(".ts") ? ".ts" : self.endsWith(".mts") ? ".mts" : ".js";
  const p = self.replace(/measureCost\.[mc]?[jt]s$/, `costWorker${ext}`);
  if (!existsSync(p)) throw new Error(`internal: cost worker not found at ${p}`);
  return p;
}

/**
 * The parent's Node.js flags minus those that would change what the child does (running it as
 * a test file, opening a debugger port already taken, evaluating a string, watching files).
 */
function childExecArgv(): string[] {
  const drop = /^--(test|inspect|debug|watch|eval|print|input-type|experimental-test)/;
  const out: string[] = [];
  const argv = process.execArgv;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "-e" || a === "-p" || drop.test(a)) {
      // A flag given as two words ("--eval code") takes its value along.
      if (
        !a.includes("=") &&
        i + 1 < argv.length &&
        !argv[i + 1].startsWith("-") &&
        /^(-e|-p|--eval|--print|--input-type|--test-reporter|--test-reporter-destination|--test-name-pattern|--test-concurrency|--watch-path|--test-shard|--test-skip-pattern)$/.test(a)
      )
        i++;
      continue;
    }
    out.push(a);
  }
  return out;
}

/**
 * Measures one GGUF model: file size, parameters and bits per weight, load time, prefill
 * tokens/s (pp512-like) and decode tokens/s (tg128-like) as medians over `repetitions` runs
 * after a warm-up, and the peak RSS of the measuring process.
 */
export async function measureCost(modelPath: string, opts: CostOptions = {}): Promise<CostMetrics> {
  const { timeoutMs = 15 * 60_000, ...benchOpts } = opts;
  const child = fork(workerPath(), [modelPath, JSON.stringify(benchOpts)], {
    execPath: process.execPath,
    execArgv: childExecArgv(),
    stdio: ["ignore", "ignore", "pipe", "ipc"],
  });
  let stderr = "";
  child.stderr?.setEncoding("utf8").on("data", (s: string) => {
    stderr = (stderr + s).slice(-4000);
  });
  const msg = await new Promise<CostWorkerMessage | undefined>((resolve, reject) => {
    let got: CostWorkerMessage | undefined;
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new QuantevalError(`cost measurement of ${modelPath} took longer than ${Math.round(timeoutMs / 1000)} s; lower the repetitions or turn 'cost' off`));
    }, timeoutMs);
    child.on("message", (m) => (got = m as CostWorkerMessage));
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on("exit", () => {
      clearTimeout(timer);
      resolve(got);
    });
  });
  if (!msg)
    throw new Error(
      `cost measurement of ${modelPath}: the measuring process ended without a result (exit ${child.exitCode ?? child.signalCode})${stderr ? `: ${stderr.trim().split("\n").slice(-3).join(" | ")}` : ""}`,
    );
  if (!msg.ok) {
    if (msg.user) throw new QuantevalError(msg.message);
    const e = new Error(`cost measurement of ${modelPath} failed: ${msg.message}`);
    if (msg.stack) e.stack = `${e.message}\n--- in the measuring process ---\n${msg.stack}`;
    throw e;
  }
  const r = msg.result;
  return {
    file_bytes: r.file_bytes,
    params: r.params,
    bits_per_weight: r.bits_per_weight,
    load_ms: r.load_ms,
    prefill_tps: median(r.prefill_tps_runs),
    decode_tps: median(r.decode_tps_runs),
    peak_rss_bytes: msg.max_rss_bytes,
    cost_detail: {
      threads: r.threads,
      repetitions: r.repetitions,
      n_prompt: r.n_prompt,
      n_gen: r.n_gen,
      n_batch: r.n_batch,
      n_ubatch: r.n_ubatch,
      prefill_tps_runs: r.prefill_tps_runs,
      decode_tps_runs: r.decode_tps_runs,
      rss_before_load_bytes: r.rss_before_load_bytes,
      lib_dir: r.lib_dir,
      threadpool: r.threadpool,
    },
  };
}
