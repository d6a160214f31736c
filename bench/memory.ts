// Peak memory of a quanteval run with a baseline and four quantized variants against a
// baseline-only run of the same tasks (issue 14: target ratio ≤ 1.3 once models are resident one
// at a time), and wall time of `schedule: sequential` against `schedule: together`.
//
//   node --import tsx bench/memory.ts [--model BASE.gguf] [--stories] [--types q8_0,q4_k_m,q4_0,q2_k]
//        [--limit 20] [--chunks 8] [--n-ctx 512] [--nice] [--calibrate]
//
// Baseline: the synthetic 0.8 B F32 Llama (2048 × 16 layers, 2.9 GB, written once into
// ~/.cache/quanteval/bench by bench/make-synthetic-model.py, as bench/generate-parallel.ts does),
// or `--stories` (stories260K from ../shared, a quick check that the bench works), or `--model`.
// Variants: quanteval's own quantizer (llama.cpp's llama_model_quantize), cached beside the input
// by sha256. Each run is `quanteval run` in a child under `/usr/bin/time -v` (its "Maximum resident
// set size"), tasks: kobest_copa (`--limit` documents) + perplexity (`--chunks` × `--n-ctx`, with
// KLD of every variant): baseline only, then baseline + variants with `schedule: sequential` and with
// `schedule: together` (the default, `auto`, picks one of these two; the bench prints which).
// `--nice` runs the children under nice (a shared machine); the load average is printed beside
// every figure.
//
// `--calibrate` instead measures the resident memory of each model with the real GgufBackend in a
// child process (VmHWM after opening it with its defaults and running a log-likelihood request and
// one llama_decode of four 512-token perplexity windows, minus VmHWM before the model was opened, minus the returned rows) and
// prints it beside src/schedule/memoryEstimate.ts's estimate.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { GgufBackend } from "../src/backends/gguf.js";
import { loadLlamaLib } from "../src/backends/llamaLib.js";
import { quantizeModel } from "../src/quantize/quantizeModel.js";
import { resolveBudget } from "../src/schedule/memoryBudget.js";
import { estimateModelMemory } from "../src/schedule/memoryEstimate.js";
import { planSchedule } from "../src/schedule/planSchedule.js";
import { formatBytes } from "../src/util/formatBytes.js";
import { syntheticModel } from "./syntheticModel.js";
import { repoRoot, sharedFile } from "./llamaBin.js";
import { type MeasuredRun, formatLoad, runQuanteval } from "./memoryRun.js";

const { values } = parseArgs({
  options: {
    model: { type: "string" },
    stories: { type: "boolean", default: false },
    types: { type: "string", default: "q8_0,q4_k_m,q4_0,q2_k" },
    limit: { type: "string", default: "20" },
    chunks: { type: "string", default: "8" },
    "n-ctx": { type: "string", default: "512" },
    calibrate: { type: "boolean", default: false },
    nice: { type: "boolean", default: false },
    "resident-child": { type: "string" },
  },
});

const cacheDir = join(process.env.QUANTEVAL_CACHE ?? join(homedir(), ".cache", "quanteval"), "bench");
const vmHwm = (): number => Number(/VmHWM:\s+(\d+)/.exec(readFileSync("/proc/self/status", "utf8"))![1]) * 1024;

/** The synthetic 0.8 B F32 Llama of bench/generate-parallel.ts (same file name and shape, so one cached copy serves both). */
function syntheticBaseline(): string {
  const m = syntheticModel("synthetic-llama-2048x16-f32.gguf", ["--n-embd", "2048", "--n-layer", "16", "--n-ff", "5632", "--n-head", "32", "--n-head-kv", "8", "--dtype", "f32"]);
  if (!m) throw new Error("the synthetic baseline could not be made (see above); pass --model or --stories");
  return m;
}

/** Child mode: resident bytes of one model in the real backend (see the header). */
async function residentChild(path: string): Promise<void> {
  loadLlamaLib("auto");
  const before = vmHwm();
  const b = await GgufBackend.open({ name: "m", path, repack: false });
  await b.loglikelihood([{ context: "Once upon a time ".repeat(100), continuation: " there" }]);
  // Four windows, one llama_decode on the window context, as a perplexity task decodes them.
  const ds = await b.distributions(Array.from({ length: 4 }, (_, w) => ({ tokens: Array.from({ length: 512 }, (_, i) => 1 + ((i + w) % 200)), firstScored: 257 })));
  console.log(JSON.stringify({ resident: vmHwm() - before - ds.reduce((n, d) => n + d.logprobs.byteLength, 0) }));
}

async function calibrate(paths: string[]): Promise<void> {
  console.log("| model | measured resident | estimate (weights + KV + compute) |\n| --- | --- | --- |");
  for (const p of paths) {
    const r = spawnSync(process.execPath, ["--import", "tsx", join(repoRoot, "bench", "memory.ts"), "--resident-child", p], { cwd: repoRoot, encoding: "utf8" });
    const measured = Number((JSON.parse(r.stdout.trim().split("\n").pop() ?? "{}") as { resident?: number }).resident);
    const e = await estimateModelMemory(p, p, { windowTokens: 512 });
    console.log(
      `| ${p.split("/").pop()} | ${formatBytes(measured)} | ${formatBytes(e.total_bytes)} (${formatBytes(e.weights_bytes)} + ${formatBytes(e.kv_bytes)} + ${formatBytes(e.compute_bytes)}${e.window_bytes ? ` + ${formatBytes(e.window_bytes)}` : ""}) |`,
    );
  }
}

async function main(): Promise<void> {
  if (values["resident-child"]) return residentChild(values["resident-child"]);
  const base = values.model ?? (values.stories ? sharedFile("models", "stories260K.gguf") : syntheticBaseline());
  if (values.calibrate) return calibrate([base]);
  const types = values.types.split(",").map((t) => t.trim());
  const qdir = join(cacheDir, "memory-variants");
  const variants = [];
  for (const t of types) {
    const q = await quantizeModel(base, t, qdir);
    console.error(`${t}: ${q.path} (${formatBytes(q.file_bytes)}${q.cached ? ", cached" : ""})`);
    variants.push({ name: t, model: q.path });
  }
  const nCtx = Number(values["n-ctx"]);
  const tasks = [
    { task: "kobest_copa", limit: Number(values.limit) },
    { task: "perplexity", data: sharedFile("datasets", "wikitext-2-raw-v1", "wiki.test.raw"), n_ctx: nCtx, chunks: Number(values.chunks) },
  ];
  const common = { data_dir: sharedFile("datasets"), tasks, seed: 1234 };
  const baseline = { name: "base", model: base, n_ctx: nCtx };
  // What `schedule: auto` would choose here: when it is one of the explicit schedules, the default
  // run is that run, and is not run twice (a 0.8 B run with four variants takes many minutes).
  const estimates = await Promise.all([{ name: "base", model: base }, ...variants].map((m) => estimateModelMemory(m.name, m.model, { nCtx })));
  const plan = planSchedule({ models: estimates, mode: "auto", budget: await resolveBudget({}) });
  const runs: [string, Record<string, unknown>][] = [
    ["baseline only", { ...common, baseline }],
    ["schedule: sequential", { ...common, baseline, variants, schedule: "sequential" }],
    ["schedule: together", { ...common, baseline, variants, schedule: "together" }],
  ];
  const rows: [string, MeasuredRun][] = [];
  for (const [label, config] of runs) {
    console.error(`running: ${label} …`);
    rows.push([label, runQuanteval(config, { nice: values.nice })]);
  }
  const only = rows[0][1].peakRss;
  console.log(`\nbaseline ${base.split("/").pop()}, variants ${types.join(", ")}; kobest_copa limit ${values.limit}, perplexity ${values.chunks} × ${nCtx} with KLD\n`);
  console.log("| run | peak RSS | × baseline-only | wall time | load average (1 min, before–after) |\n| --- | --- | --- | --- | --- |");
  for (const [label, m] of rows) {
    if (m.error) console.log(`| ${label} | n/a | n/a | n/a (${m.error.replace(/\|/g, "/").slice(0, 200)}) | ${formatLoad(m)} |`);
    else console.log(`| ${label} | ${formatBytes(m.peakRss ?? null)} | ${only && m.peakRss ? (m.peakRss / only).toFixed(2) : "n/a"} | ${m.seconds.toFixed(1)} s | ${formatLoad(m)} |`);
  }
  console.log(
    `\nestimated resident (src/schedule/memoryEstimate.ts): ${estimates.map((e) => `${e.name} ${formatBytes(e.total_bytes)}`).join(", ")}; all together ${formatBytes(estimates.reduce((a, e) => a + e.total_bytes, 0))}`,
  );
  console.log(`the default (schedule: auto) would choose: ${plan.record.used} (${plan.record.reason}), i.e. the '${plan.record.used}' row`);
  const [seq, tog] = [rows[1][1], rows[2][1]];
  console.log(`\nsequential / together wall time: ${seq.error || tog.error ? "n/a" : (seq.seconds / tog.seconds).toFixed(2)}`);
}

await main();
