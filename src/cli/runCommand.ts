// `quanteval run CONFIG --out DIR [--limit N] [--resume] [--json]`
import type { Command } from "commander";
import { loadConfig } from "../config/loadConfig.js";
import { runEvaluation } from "../run/runEvaluation.js";
import { QuantevalError } from "../util/errors.js";
import { parsePositiveInt } from "./parseFlags.js";
import { nativeBuildStep } from "./nativeBuildStep.js";
import { createProgress } from "./progressBars.js";
import { printRun } from "./printRun.js";

/** Signals that stop a run cleanly (resumable): Ctrl-C, docker stop / systemd / CI runners, a closed terminal. */
const STOP_SIGNALS: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];

/** `a, b,c` → ["a", "b", "c"]. */
const splitNames = (v: string): string[] =>
  v
    .split(",")
    .map((n) => n.trim())
    .filter(Boolean);

export function registerRunCommand(program: Command): void {
  program
    .command("run")
    .description("evaluate the baseline and every variant on the config's tasks, and compare them")
    .argument("<config>", "YAML run config")
    .requiredOption("-o, --out <dir>", "output directory (results.json, samples.jsonl, quanteval.sqlite)")
    .option("--limit <n>", "override every task's limit (perplexity: chunks)", (v) => parsePositiveInt(v, "--limit"))
    .option("--resume", "continue an interrupted run in --out without redoing finished requests")
    .option("--only <names>", "evaluate only these variants, comma-separated (the baseline always)", splitNames)
    .option("-j, --concurrency <n>", "requests in flight per HTTP model (1–1024)", (v) => parsePositiveInt(v, "--concurrency", 1024))
    .option("--json", "print results.json to stdout instead of tables")
    .option("--details", "print the full tables (every score, comparison and drift figure), not only the verdict")
    .action(async (configPath: string, o: { out: string; limit?: number; resume?: boolean; only?: string[]; json?: boolean; details?: boolean; concurrency?: number }) => {
      if (o.out.trim() === "") throw new QuantevalError("--out is empty; name an output folder (e.g. --out runs/today)");
      const loaded = loadConfig(configPath);
      if (o.concurrency !== undefined) {
        const c = loaded.config;
        c.baseline.concurrency = o.concurrency;
        if (Array.isArray(c.variants)) for (const v of c.variants) v.concurrency = o.concurrency;
      }
      const progress = createProgress();
      await nativeBuildStep([loaded.config.baseline, ...(Array.isArray(loaded.config.variants) ? loaded.config.variants : [])], progress);
      // First Ctrl-C (or SIGTERM from docker stop/systemd/CI, or SIGHUP): stop at the next batch
      // boundary with the store closed cleanly and the lock released; a second signal exits now.
      const abort = new AbortController();
      const onSigint = (signal: NodeJS.Signals) => {
        if (abort.signal.aborted) process.exit(130);
        process.stderr.write(`\n${signal}: stopping after the current batch… (Ctrl-C again to quit at once)\n`);
        abort.abort();
      };
      for (const s of STOP_SIGNALS) process.on(s, onSigint);
      const results = await runEvaluation(loaded, {
        signal: abort.signal,
        out: o.out,
        limit: o.limit,
        resume: o.resume,
        only: o.only,
        progress,
        // Warnings are printed once, after the tables (printRun), not also as they arise.
        onLog: (m) => process.stderr.write(`${m}\n`),
      }).finally(() => {
        progress.close();
        for (const s of STOP_SIGNALS) process.removeListener(s, onSigint);
      });
      if (o.json) {
        // stdout is the JSON alone; the warnings (printed by printRun otherwise) go to stderr once.
        for (const w of results.warnings) process.stderr.write(`warning: ${w}\n`);
        process.stdout.write(JSON.stringify(results, null, 2) + "\n");
        return;
      }
      printRun(results, { details: o.details });
      process.stdout.write(`results: ${o.out}/results.json · samples: ${o.out}/samples.jsonl · requests: ${results.requests.computed} computed, ${results.requests.cached} from cache\n`);
    });
}
