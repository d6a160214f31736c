// `quanteval sensitivity <model> --type q2_k --data FILE --chunks 8 (--max-size SIZE | --bits BPW) [--high q8_0] [--n-ctx N] [--out DIR] [--json]`
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Command } from "commander";
import { resolveModel } from "../models/resolveModel.js";
import { readCalibrationText } from "../quantize/imatrix/calibrationText.js";
import { analyzeSensitivity, type SensitivityReport } from "../quantize/sensitivity/sensitivity.js";
import { QuantevalError } from "../util/errors.js";
import { formatBytes } from "../util/formatBytes.js";

interface SensitivityCliOptions {
  type: string;
  high: string;
  data: string;
  chunks: string;
  nCtx?: string;
  maxSize?: string;
  bits?: string;
  out?: string;
  threads?: string;
  json?: boolean;
}

const UNITS: Record<string, number> = { "": 1, b: 1, k: 1e3, kb: 1e3, m: 1e6, mb: 1e6, g: 1e9, gb: 1e9, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3 };

/** `300K`, `1.5GB`, `2GiB`, `123456` → bytes. */
export function parseSize(s: string, flag: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(s);
  const unit = m ? UNITS[m[2].toLowerCase()] : undefined;
  if (!m || unit === undefined) throw new QuantevalError(`${flag} '${s}': give a size such as 300K, 1.5GB or 2GiB`);
  return Math.floor(Number(m[1]) * unit);
}

function positive(s: string | undefined, flag: string, integer: boolean): number | undefined {
  if (s === undefined) return undefined;
  const n = Number(s);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) throw new QuantevalError(`${flag} must be a positive ${integer ? "integer" : "number"}, got '${s}'`);
  return n;
}

export function formatSensitivity(r: SensitivityReport): string {
  const lines = [
    `${r.model}: each group alone at ${r.low_type}, the rest at ${r.high_type} (KLD ${r.floor.kld_mean.toFixed(5)} ± ${r.floor.kld_err.toFixed(5)}, ${formatBytes(r.floor.bytes)}); most sensitive first`,
    "group              tensors  KLD                  +KLD      saves     written",
  ];
  for (const g of r.groups) {
    lines.push(
      `${g.group.padEnd(18)} ${String(g.tensors).padStart(7)}  ${g.kld_mean.toFixed(5)} ± ${g.kld_err.toFixed(5)}  ${g.kld_added.toFixed(5).padStart(8)}  ${formatBytes(g.bytes_saved).padStart(8)}  ${Object.entries(
        g.low_written,
      )
        .map(([t, n]) => `${t}=${n}`)
        .join(" ")}`,
    );
  }
  const p = r.proposal;
  lines.push(
    "",
    `proposal (budget ${formatBytes(r.budget_bytes)}): ${Object.keys(p.tensor_types).length} groups at ${r.low_type}, the rest ${r.high_type}`,
    `  predicted KLD ${p.predicted_kld.toFixed(5)} (floor + the groups' added KLD), measured ${p.measured_kld.toFixed(5)} ± ${p.measured_kld_err.toFixed(5)}`,
    `  estimated ${formatBytes(p.estimated_bytes)}, written ${formatBytes(p.measured_bytes)}${p.measured_bytes > r.budget_bytes ? " — OVER the budget (llama.cpp's type mix/fallbacks differ from the estimate)" : ""}: ${p.path}`,
    "",
    "# config snippet:",
    r.snippet.trimEnd(),
  );
  return lines.join("\n");
}

export function registerSensitivityCommand(program: Command): void {
  program
    .command("sensitivity")
    .description("KLD of each tensor group alone at a low type, and the lowest-KLD per-tensor recipe under a size budget")
    .argument("<model>", "GGUF model (F32/F16/BF16)")
    .requiredOption("--type <type>", "low type for one group at a time (e.g. q2_k)")
    .option("--high <type>", "quantization type for the rest of the proposed recipe", "q8_0")
    .requiredOption("--data <file|dataset>", "text the KLD is measured on")
    .requiredOption("--chunks <n>", "chunks of text for each KLD")
    .option("--n-ctx <n>", "tokens per chunk (default min(512, model context))")
    .option("--max-size <size>", "size budget of the file, e.g. 300K, 1.5GB")
    .option("--bits <bpw>", "size budget in bits per weight over all tensors")
    .option("--out <dir>", "folder for the group variants (default: a temporary folder)")
    .option("--threads <n>", "threads")
    .option("--json", "print the report as JSON")
    .action(async (model: string, o: SensitivityCliOptions) => {
      const input = await resolveModel(model, { field: "<model>" });
      const calib = await readCalibrationText(o.data, "--data", { baseDir: process.cwd() });
      const report = await analyzeSensitivity(input, {
        lowType: o.type,
        highType: o.high,
        chunks: positive(o.chunks, "--chunks", true)!,
        nCtx: positive(o.nCtx, "--n-ctx", true),
        threads: positive(o.threads, "--threads", true),
        maxBytes: o.maxSize !== undefined ? parseSize(o.maxSize, "--max-size") : undefined,
        bits: positive(o.bits, "--bits", false),
        text: calib.text,
        where: calib.path,
        outDir: o.out ?? join(tmpdir(), "quanteval-sensitivity"),
        onProgress: (label) => process.stderr.write(`${label} …\n`),
      });
      process.stdout.write((o.json ? JSON.stringify(report, null, 2) : formatSensitivity(report)) + "\n");
    });
}
