// Aggregate generation throughput of GgufBackend.generate with 1, 8 and 16 parallel sequences
// in one llama.cpp context, side by side with llama.cpp's own `llama-batched-bench` on the same
// model, threads, prompt length and generation length. The issue asks for ≥ 4× the
// single-sequence tokens/s at ≥ 8 sequences.
//
//   node --import tsx bench/generate-parallel.ts [--model M.gguf ...] [--max-tokens 64]
//        [--threads N] [--repeats 2] [--no-synthetic]
//
// Models: stories260K from ../shared, and a random-weight F32 Llama of a realistic shape
// (n_embd 2048, 16 layers, 0.8 B parameters, 2.9 GB) written once into ~/.cache/quanteval/bench
// by bench/make-synthetic-model.py with llama.cpp's own gguf-py (needs python3 with numpy).
// Why both: parallel decoding pays off where one sequence is bound by reading the weights, as
// every deployed LLM is; stories260K's per-token work (attention over llama.cpp's minimum of
// 256 KV cells with 8-wide heads, and the logits) does not shrink when batched, so even
// llama-batched-bench gains little there. The table shows both, measured the same way.
//
// Figures per row: "all" = generated tokens over the whole call (prefill included, as a user
// waits for it); "decode" = tokens after the first of each sequence over the time after the
// prefill (the time of the same call with max_tokens 1 subtracted), llama-batched-bench's S_TG.
// Generation stops at EOS; tokens/s counts the tokens actually generated.
import { spawnSync } from "node:child_process";
import { cpus } from "node:os";
import { basename } from "node:path";
import { parseArgs } from "node:util";
import { GgufBackend } from "../src/backends/gguf.js";
import { llamaTool, llamaToolEnv, rate, sharedFile } from "./llamaBin.js";
import { syntheticModel } from "./syntheticModel.js";

const { values } = parseArgs({
  options: {
    model: { type: "string", multiple: true },
    "max-tokens": { type: "string", default: "64" },
    threads: { type: "string" },
    repeats: { type: "string", default: "2" },
    "no-synthetic": { type: "boolean", default: false },
  },
});
const maxTokens = Number(values["max-tokens"]);
const repeats = Number(values.repeats);
const threads = Number(values.threads ?? cpus().length);
const SEQS = [1, 8, 16];

const OPENINGS = [
  "Once upon a time, there was a little girl named Lily.",
  "One day, a boy named Tom went to the park with his mom.",
  "There was a big red ball in the garden.",
  "Sam and his dog liked to play in the snow.",
  "Once upon a time, there was a small bird who wanted to fly high.",
  "Anna found a shiny key under her bed.",
  "The sun was hot and the children wanted to swim.",
  "A little cat named Mittens lived in a big house.",
  "Ben had a new toy car that was very fast.",
  "Mia and her friend went to the beach to build a castle.",
  "There once was a kind old man who had a garden full of flowers.",
  "Lucy wanted to bake a cake for her mom.",
  "Tim saw a big truck on the road.",
  "The little fish swam in the blue sea.",
  "Once upon a time, a bunny hopped into the forest.",
  "Max the dog loved to dig holes in the yard.",
];

/** The synthetic F32 model, written on first use (skipped with a reason when it cannot be). */
function synthetic(): string | undefined {
  return syntheticModel("synthetic-llama-2048x16-f32.gguf", ["--n-embd", "2048", "--n-layer", "16", "--n-ff", "5632", "--n-head", "32", "--n-head-kv", "8", "--dtype", "f32"]);
}

interface Rate {
  all: number;
  decode: number;
}

async function measureQuanteval(modelPath: string): Promise<{ rates: Map<number, Rate>; promptTokens: number }> {
  const backend = await GgufBackend.open({ name: "bench", path: modelPath, nCtx: 512, kvSize: 4096, nSeqMax: Math.max(...SEQS), threads });
  await backend.describe();
  const lens = await Promise.all(OPENINGS.map((o) => backend.tokenize(o, true)));
  const promptTokens = Math.round(lens.reduce((s, l) => s + l.length, 0) / lens.length);
  // Warm-up at the largest width: allocates the generation context once, pages the weights in.
  await backend.generate(Array.from({ length: Math.max(...SEQS) }, (_, i) => ({ prompt: OPENINGS[i % OPENINGS.length], maxTokens: 2 })));
  const rates = new Map<number, Rate>();
  for (const n of SEQS) {
    const reqs = (max: number) => Array.from({ length: n }, (_, i) => ({ prompt: OPENINGS[i % OPENINGS.length], maxTokens: max }));
    let best: Rate = { all: 0, decode: 0 };
    for (let r = 0; r < repeats; r++) {
      let t0 = performance.now();
      await backend.generate(reqs(1));
      const prefill = (performance.now() - t0) / 1000;
      t0 = performance.now();
      const res = await backend.generate(reqs(maxTokens));
      const seconds = (performance.now() - t0) / 1000;
      const tokens = res.reduce((s, x) => s + x.nTokens, 0);
      const all = tokens / seconds;
      const decode = (tokens - n) / Math.max(1e-9, seconds - prefill);
      best = { all: Math.max(best.all, all), decode: Math.max(best.decode, decode) };
    }
    rates.set(n, best);
  }
  await backend.dispose();
  return { rates, promptTokens };
}

function measureLlamaCpp(modelPath: string, promptTokens: number): Map<number, Rate> {
  const tool = llamaTool("llama-batched-bench");
  // It prints its rows through llama.cpp's asynchronous logger: drained before exit, so no row is lost.
  const env = llamaToolEnv();
  const rates = new Map<number, Rate>();
  for (let r = 0; r < repeats; r++) {
    // -c 4096 over 16 sequences gives each a 256-cell KV stream, as quanteval's generation context.
    const args = [
      "-m",
      modelPath,
      "-c",
      "4096",
      "-b",
      "2048",
      "-ub",
      "512",
      "-npp",
      String(promptTokens),
      "-ntg",
      String(maxTokens),
      "-npl",
      SEQS.join(","),
      "-t",
      String(threads),
      "--output-format",
      "jsonl",
    ];
    const p = spawnSync(tool, args, { encoding: "utf8", maxBuffer: 16 << 20, env });
    if (p.status !== 0) {
      process.stderr.write(`llama-batched-bench failed (exit ${p.status}):\n${p.stderr.slice(-2000)}\n`);
      process.exit(1);
    }
    for (const line of p.stdout.split("\n")) {
      if (!line.startsWith("{")) continue;
      const j = JSON.parse(line) as { pl: number; speed: number; speed_tg: number };
      const prev = rates.get(j.pl) ?? { all: 0, decode: 0 };
      rates.set(j.pl, { all: Math.max(prev.all, j.speed), decode: Math.max(prev.decode, j.speed_tg) });
    }
  }
  return rates;
}

const models = values.model ?? [sharedFile("models", "stories260K.gguf"), ...(values["no-synthetic"] ? [] : [synthetic()].filter((m): m is string => Boolean(m)))];
const x = (v: number, one: number) => `${(v / one).toFixed(2)}×`;
const summary: string[] = [];
console.log(`generate-parallel · max_tokens ${maxTokens} · ${threads} threads · best of ${repeats}`);
console.log('"all" includes the prefill; "decode" is llama-batched-bench\'s S_TG. ×1 = against one sequence of the same tool.\n');
for (const model of models) {
  const q = await measureQuanteval(model);
  const l = measureLlamaCpp(model, q.promptTokens);
  console.log(`${basename(model)} · ${q.promptTokens}-token prompts`);
  const head = `${"seqs".padStart(4)} | ${"quanteval all".padStart(13)} ${"×1".padStart(6)} | ${"decode".padStart(7)} ${"×1".padStart(6)} | ${"llama.cpp all".padStart(13)} ${"×1".padStart(6)} | ${"S_TG".padStart(7)} ${"×1".padStart(6)} | decode q/l`;
  console.log(head);
  console.log("-".repeat(head.length));
  const q1 = q.rates.get(1)!;
  const l1 = l.get(1)!;
  for (const n of SEQS) {
    const a = q.rates.get(n)!;
    const b = l.get(n)!;
    console.log(
      `${String(n).padStart(4)} | ${rate(a.all).padStart(13)} ${x(a.all, q1.all).padStart(6)} | ${rate(a.decode).padStart(7)} ${x(a.decode, q1.decode).padStart(6)} | ${rate(b.all).padStart(13)} ${x(b.all, l1.all).padStart(6)} | ${rate(b.decode).padStart(7)} ${x(b.decode, l1.decode).padStart(6)} | ${(a.decode / b.decode).toFixed(2).padStart(10)}`,
    );
  }
  const best = Math.max(...SEQS.filter((n) => n >= 8).map((n) => q.rates.get(n)!.decode / q1.decode));
  const bestAll = Math.max(...SEQS.filter((n) => n >= 8).map((n) => q.rates.get(n)!.all / q1.all));
  const bestL = Math.max(...SEQS.filter((n) => n >= 8).map((n) => l.get(n)!.decode / l1.decode));
  summary.push(
    `${basename(model)}: best at ≥8 sequences ${best.toFixed(2)}× decode, ${bestAll.toFixed(2)}× with prefill (llama-batched-bench ${bestL.toFixed(2)}×) — ${best >= 4 ? "meets" : "misses"} the ≥4× target`,
  );
  console.log("");
}
for (const s of summary) console.log(s);
