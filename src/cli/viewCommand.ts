// `quanteval view [RUN_DIR_OR_ROOT] [--port N] [--host H] [--allow-host NAME…]`: the local side-by-side viewer.
import { resolve } from "node:path";
import { type Command, InvalidArgumentError } from "commander";
import { QuantevalError } from "../util/errors.js";
import { findRuns } from "../view/findRuns.js";
import { startViewer } from "../view/startViewer.js";

const DEFAULT_PORT = 8765;

export function registerViewCommand(program: Command): void {
  program
    .command("view")
    .description("browse a run's samples side by side in a local web page (baseline vs variant, flips, search)")
    .argument("[dir]", "a run's output folder, or a folder with runs below it", ".")
    .option("--port <n>", `port to listen on (0 picks a free one; default ${DEFAULT_PORT})`, (v) => {
      if (!/^\d+$/.test(v.trim()) || Number(v) > 65535) throw new InvalidArgumentError(`--port must be a whole number from 0 to 65535 (got '${v}')`);
      return Number(v);
    })
    .option("--host <host>", "interface to bind (default 127.0.0.1: only this machine can connect)", "127.0.0.1")
    .option("--allow-host <name...>", "also answer requests addressed to these host names (e.g. a DNS name of this machine); others are refused against DNS rebinding")
    .action(async (dir: string, o: { port?: number; host: string; allowHost?: string[] }) => {
      const root = resolve(dir);
      const runs = findRuns(root);
      if (runs.length === 0) throw new QuantevalError(`${dir}: no runs found (a run folder holds results.json and quanteval.sqlite, up to 3 levels down); pass a run's --out folder`);
      const viewer = await startViewer({ root, port: o.port ?? DEFAULT_PORT, host: o.host, allowHosts: o.allowHost });
      if (!["127.0.0.1", "localhost", "::1"].includes(o.host)) process.stderr.write(`warning: --host ${o.host} lets other machines read these runs' prompts and outputs\n`);
      process.stdout.write(`quanteval view: ${viewer.url} (${runs.length} run${runs.length === 1 ? "" : "s"} under ${root}) · Ctrl-C to stop\n`);
      // The CLI's default SIGINT message is about interrupted runs; a viewer just stops.
      process.removeAllListeners("SIGINT");
      await new Promise<void>((done) => {
        process.once("SIGINT", () => void viewer.close().then(done));
        process.once("SIGTERM", () => void viewer.close().then(done));
      });
    });
}
