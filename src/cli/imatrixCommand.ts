// `quanteval imatrix <model> --data FILE|DATASET --chunks N [--n-ctx 512] --out imatrix.gguf [--threads N]`
import type { Command } from "commander";
import cliProgress from "cli-progress";
import { resolveModel } from "../models/resolveModel.js";
import { readCalibrationText } from "../quantize/imatrix/calibrationText.js";
import { DEFAULT_IMATRIX_CTX, type MadeImatrix, makeImatrixFile } from "../quantize/imatrix/makeImatrix.js";
import { QuantevalError } from "../util/errors.js";

interface ImatrixCliOptions {
  data: string;
  chunks: string;
  nCtx?: string;
  out: string;
  threads?: string;
}

function positiveInt(s: string | undefined, flag: string): number | undefined {
  if (s === undefined) return undefined;
  if (!/^\d+$/.test(s.trim()) || Number(s) < 1) throw new QuantevalError(`${flag} must be a positive integer, got '${s}'`);
  return Number(s);
}

export function registerImatrixCommand(program: Command): void {
  program
    .command("imatrix")
    .description("collect an importance matrix (llama.cpp's GGUF imatrix format) for 'quantize --imatrix'")
    .argument("<model>", "GGUF model (F32/F16/BF16 preferred): a path, a file under the models folder, or hf:<org>/<repo>/<file>")
    .requiredOption("--data <file|dataset>", "calibration text: a text file, a row dataset file, or <id>:<config>:<split>")
    .requiredOption("--chunks <n>", "number of chunks of --n-ctx tokens to evaluate")
    .option("--n-ctx <n>", `tokens per chunk (default ${DEFAULT_IMATRIX_CTX}, as llama-imatrix)`)
    .requiredOption("--out <file>", "imatrix file to write (e.g. imatrix.gguf)")
    .option("--threads <n>", "threads (default: llama.cpp's choice)")
    .action(async (model: string, o: ImatrixCliOptions) => {
      const chunks = positiveInt(o.chunks, "--chunks")!;
      const nCtx = positiveInt(o.nCtx, "--n-ctx");
      const threads = positiveInt(o.threads, "--threads");
      if (!o.out.trim()) throw new QuantevalError("--out is empty; give the imatrix file to write, e.g. --out imatrix.gguf");
      const input = await resolveModel(model, { field: "<model>" });
      const calib = await readCalibrationText(o.data, "--data", { baseDir: process.cwd() });
      const tty = Boolean(process.stderr.isTTY);
      const bar = tty
        ? new cliProgress.SingleBar(
            { format: "imatrix [{bar}] {value}/{total} chunks | {speed} chunks/s | eta {eta_formatted}", hideCursor: true, stream: process.stderr },
            cliProgress.Presets.shades_classic,
          )
        : undefined;
      const t0 = performance.now();
      bar?.start(chunks, 0, { speed: "-" });
      let r: MadeImatrix;
      try {
        r = await makeImatrixFile(input, calib, o.out, {
          chunks,
          nCtx,
          threads,
          onProgress: (done) => bar?.update(done, { speed: done > 0 ? (done / ((performance.now() - t0) / 1000)).toFixed(2) : "-" }),
        });
      } finally {
        bar?.stop();
      }
      process.stderr.write(
        `imatrix: ${r.entries} tensors from ${r.chunks} chunks of ${r.n_ctx} tokens of ${calib.path} in ${r.seconds.toFixed(1)} s (${(r.chunks / r.seconds).toFixed(2)} chunks/s)\n`,
      );
      process.stdout.write(`${o.out}\n`);
    });
}
