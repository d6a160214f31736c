// `quanteval export RUN --format lm-eval --out DIR`: a finished run as another tool's files.
// Formats are a registry; lm-eval's --output_path layout is the first.
import { resolve } from "node:path";
import { type Command, Option } from "commander";
import { exportLmEval } from "../lmeval/exportLmEval.js";

/** Export formats by name: each writes the run in `runDir` under `outDir` and returns the files written. */
const FORMATS: Record<string, (runDir: string, outDir: string, warn: (m: string) => void) => Promise<string[]>> = {
  "lm-eval": async (runDir, outDir, warn) => {
    const s = await exportLmEval(runDir, outDir, { onWarning: warn });
    return s.models.flatMap((m) => [m.results, ...m.samples]);
  },
};

export function registerExportCommand(program: Command): void {
  program
    .command("export")
    .description("write a finished run in another tool's format (lm-eval: its --output_path layout, one folder per model)")
    .argument("<run>", "a run directory (quanteval run --out DIR)")
    .addOption(new Option("--format <format>", "output format").choices(Object.keys(FORMATS)).makeOptionMandatory())
    .requiredOption("--out <dir>", "output folder (lm-eval's --output_path)")
    .action(async (run: string, o: { format: string; out: string }) => {
      const files = await FORMATS[o.format](resolve(run), resolve(o.out), (m) => process.stderr.write(`warning: ${m}\n`));
      for (const f of files) process.stdout.write(`${f}\n`);
    });
}
