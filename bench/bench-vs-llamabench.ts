// Compares quanteval's cost metrics (prefill and decode tokens/s) with llama.cpp's own
// `llama-bench -p 512 -n 128 -t <threads>` on the same models and threads, and prints ratios.
//
//   node --import tsx bench/bench-vs-llamabench.ts [--model M.gguf ...] [--threads N] [--repetitions 5] [--rounds 3] [--paths]
//
// Every path runs `rounds` times, alternating, and the medians over all repetitions are printed,
// so that a change in the machine's load affects all of them alike.
// "quanteval cost" is what results.json reports (measureCost: a child process per model, sync
// llama_decode, persistent threadpool). With --paths, two more rows show what the evaluation
// path costs (slow when the cores are busy: the second one collapses under contention):
// "async" goes through runPlan (one libuv hop per llama_decode, as GgufBackend), and
// "no threadpool" lets ggml create worker threads on every llama_decode (GgufBackend today).
import { spawnSync } from "node:child_process";
import { cpus } from "node:os";
import { basename } from "node:path";
import { parseArgs } from "node:util";
import { measureCost } from "../src/cost/measureCost.js";
import { median } from "../src/cost/costMetrics.js";
import { runSpeedBench } from "../src/cost/speedBench.js";
import { llamaTool, rate, sharedFile } from "./llamaBin.js";

const { values } = parseArgs({
  options: {
    model: { type: "string", multiple: true },
    threads: { type: "string" },
    repetitions: { type: "string", default: "5" },
    rounds: { type: "string", default: "3" },
    paths: { type: "boolean", default: false },
  },
});
const modelPaths = values.model ?? [sharedFile("models", "stories260K.gguf"), sharedFile("models", "stories260K-variants", "stories260K-q4_0.gguf")];
const threads = Number(values.threads ?? cpus().length);
const reps = Number(values.repetitions);
const rounds = Number(values.rounds);
const tool = llamaTool("llama-bench");

function llamaBench(model: string): { pp: number[]; tg: number[] } {
  const r = spawnSync(tool, ["-m", model, "-p", "512", "-n", "128", "-t", String(threads), "-r", String(reps), "-o", "json"], { encoding: "utf8", maxBuffer: 16 << 20 });
  if (r.status !== 0) {
    process.stderr.write(`llama-bench failed (exit ${r.status}):\n${r.stderr.slice(-2000)}\n`);
    process.exit(1);
  }
  const tests = JSON.parse(r.stdout) as Array<{ n_prompt: number; n_gen: number; samples_ts: number[] }>;
  const pp = tests.find((t) => t.n_prompt > 0 && t.n_gen === 0)!;
  const tg = tests.find((t) => t.n_gen > 0 && t.n_prompt === 0)!;
  // Every sample: quanteval reports medians, llama-bench prints means.
  return { pp: pp.samples_ts, tg: tg.samples_ts };
}

const paths = values.paths ? (["llama-bench", "quanteval cost", "  async (runPlan)", "  no threadpool"] as const) : (["llama-bench", "quanteval cost"] as const);
const lines: string[] = [`pp512 / tg128, ${threads} threads, ${rounds} rounds × ${reps} repetitions after a warm-up, medians (tokens/s)`, ""];
const header = `${"model".padEnd(26)} ${"path".padEnd(22)} ${"pp512".padStart(8)} ${"ratio".padStart(6)} ${"tg128".padStart(8)} ${"ratio".padStart(6)}`;
lines.push(header, "-".repeat(header.length));
for (const model of modelPaths) {
  const samples = new Map<string, { pp: number[]; tg: number[] }>(paths.map((p) => [p, { pp: [], tg: [] }]));
  const add = (p: string, pp: number[], tg: number[]) => {
    samples.get(p)!.pp.push(...pp);
    samples.get(p)!.tg.push(...tg);
  };
  for (let r = 0; r < rounds; r++) {
    const ref = llamaBench(model);
    add(paths[0], ref.pp, ref.tg);
    const cost = await measureCost(model, { threads, repetitions: reps });
    add(paths[1], cost.cost_detail.prefill_tps_runs, cost.cost_detail.decode_tps_runs);
    if (!values.paths) continue;
    const a = await runSpeedBench(model, { threads, repetitions: reps, call: "async" });
    add("  async (runPlan)", a.prefill_tps_runs, a.decode_tps_runs);
    const n = await runSpeedBench(model, { threads, repetitions: reps, threadpool: false });
    add("  no threadpool", n.prefill_tps_runs, n.decode_tps_runs);
  }
  const ref = { pp: median(samples.get(paths[0])!.pp), tg: median(samples.get(paths[0])!.tg) };
  for (const p of paths) {
    const f = { pp: median(samples.get(p)!.pp), tg: median(samples.get(p)!.tg) };
    const ratio = (v: number, base: number) => (p === paths[0] ? "" : (v / base).toFixed(2));
    lines.push(`${basename(model).padEnd(26)} ${p.padEnd(22)} ${rate(f.pp).padStart(8)} ${ratio(f.pp, ref.pp).padStart(6)} ${rate(f.tg).padStart(8)} ${ratio(f.tg, ref.tg).padStart(6)}`);
  }
}
process.stdout.write(lines.join("\n") + "\n");
