// `quanteval quantize <model> --types q8_0,q4_k_m --out <dir> [--imatrix FILE] [--tensor-type name=type ...] [--threads N] [--json]`
import { formatBytes } from "../util/formatBytes.js";
import type { Command } from "commander";
import cliProgress from "cli-progress";
import { resolveModel } from "../models/resolveModel.js";
import { parseQuantTypes, validQuantTypeNames } from "../quantize/quantTypes.js";
import { type QuantizeResult, quantizeModel } from "../quantize/quantizeModel.js";
import { QuantevalError } from "../util/errors.js";

interface QuantizeCliOptions {
  types: string;
  out: string;
  threads?: string;
  json?: boolean;
  imatrix?: string;
  tensorType: string[];
}

/** `--tensor-type name=type`, repeatable (as llama-quantize), into a recipe object. */
export function parseTensorTypeFlags(items: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of items) {
    const eq = item.indexOf("=");
    if (eq <= 0 || eq === item.length - 1) throw new QuantevalError(`--tensor-type '${item}': write it as <tensor-name-pattern>=<ggml type>, e.g. ffn_down=q6_k`);
    out[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return out;
}

function parseThreads(s: string | undefined): number | undefined {
  if (s === undefined) return undefined;
  const n = Number(s);
  if (!/^\d+$/.test(s.trim()) || !Number.isInteger(n) || n < 1) {
    throw new QuantevalError(`--threads must be a positive integer, got '${s}'`);
  }
  return n;
}

/** Plain-text table of the results, one row per output, followed by fallback warnings. */
export function formatQuantizeTable(results: QuantizeResult[]): string {
  const header = ["type", "size", "bits/weight", "tensor types written", "file"];
  const rows = results.map((r) => [
    (r.name ?? r.type) + (r.cached ? " (cached)" : ""),
    formatBytes(r.file_bytes),
    r.bits_per_weight.toFixed(2),
    Object.entries(r.tensor_types)
      .map(([t, n]) => `${t}=${n}`)
      .join(" "),
    r.path,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const fmt = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i])))
      .join("  ")
      .trimEnd();
  const lines = [fmt(header), fmt(widths.map((w) => "-".repeat(w))), ...rows.map(fmt)];
  for (const r of results) if (r.note) lines.push(`warning: ${r.note}`);
  return lines.join("\n");
}

export function registerQuantizeCommand(program: Command): void {
  program
    .command("quantize")
    .description("quantize a GGUF model with llama.cpp's quantizer into one file per type (cached by input sha256 + type)")
    .argument("<model>", "GGUF model to quantize (F32/F16/BF16): a path, a file under the models folder, or hf:<org>/<repo>/<file>")
    .requiredOption("--types <csv>", `comma-separated quantization types, e.g. q8_0,q4_k_m (valid: ${validQuantTypeNames().join(", ")})`)
    .requiredOption("--out <dir>", "folder for the quantized files (<model>-<type>.gguf)")
    .option("--threads <n>", "quantization threads (default: all cores)")
    .option("--imatrix <file>", "importance matrix (GGUF, from 'quanteval imatrix' or llama-imatrix), as llama-quantize --imatrix")
    .option("--tensor-type <name=type>", "per-tensor type override, repeatable, as llama-quantize --tensor-type (e.g. ffn_down=q6_k)", (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option("--json", "print the results as JSON on stdout")
    .action(async (model: string, options: QuantizeCliOptions) => {
      const types = parseQuantTypes(options.types, "--types");
      const needs = types.filter((t) => t.needsImatrix);
      if (needs.length && !options.imatrix) {
        throw new QuantevalError(`${needs.map((t) => t.name).join(", ")} need an importance matrix; pass --imatrix FILE (make one with 'quanteval imatrix') or drop them from --types`);
      }
      const tensorTypes = parseTensorTypeFlags(options.tensorType ?? []);
      const threads = parseThreads(options.threads);
      const input = await resolveModel(model, { field: "<model>" });
      const tty = Boolean(process.stderr.isTTY);
      const results: QuantizeResult[] = [];
      for (const t of types) {
        let bar: cliProgress.SingleBar | undefined;
        if (tty) {
          bar = new cliProgress.SingleBar(
            { format: `${t.name.padEnd(8)} [{bar}] {value}/{total} tensors {tensor}`, hideCursor: true, clearOnComplete: false, stream: process.stderr },
            cliProgress.Presets.shades_classic,
          );
          bar.start(1, 0, { tensor: "" });
        } else {
          process.stderr.write(`quantizing ${input} to ${t.name} ...\n`);
        }
        let r: QuantizeResult;
        try {
          r = await quantizeModel(input, t.name, options.out, {
            threads,
            imatrix: options.imatrix,
            tensorTypes,
            onProgress: bar
              ? (done, total, tensor) => {
                  bar!.setTotal(Math.max(1, total));
                  bar!.update(done, { tensor: tensor ?? "" });
                }
              : undefined,
          });
        } finally {
          bar?.stop();
        }
        if (!tty) {
          process.stderr.write(r.cached ? `${r.name}: cached ${r.path}\n` : `${r.name}: wrote ${r.path} (${r.n_tensors} tensors in ${r.seconds.toFixed(2)} s)\n`);
        }
        if (r.note && options.json) process.stderr.write(`warning: ${r.note}\n`);
        results.push(r);
      }
      if (options.json) process.stdout.write(JSON.stringify(results, null, 2) + "\n");
      else process.stdout.write(formatQuantizeTable(results) + "\n");
    });
}
