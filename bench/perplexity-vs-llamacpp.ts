// Times quanteval's perplexity against llama.cpp's `llama-perplexity` on the same model, text,
// threads, n_ctx and chunks, and prints tokens/s for both and their ratio.
//
//   node --import tsx bench/perplexity-vs-llamacpp.ts [--model M.gguf] [--data wiki.test.raw]
//        [--threads N] [--n-ctx 512] [--chunks 40] [--rounds 3]
//
// The two tools run alternately `rounds` times, swapping which goes first every round, so that a
// change in the machine's load affects both alike (bench/alternateRounds.ts); every round is
// printed with the load average it ran under, then the medians per tool and of the per-round ratios.
// Two figures per tool: evaluation only (llama-perplexity's log from "calculating perplexity" to
// "Final estimate", against runPerplexity's time minus its tokenization — both decode every
// chunk and take the log-softmax of every scored row) and the whole run (process wall time
// against open + describe + tokenize + runPerplexity). describe() hashes the model file (sha256,
// the run store's fingerprint; 2.9 GB at the 0.8 B model; kept across runs in <cache>/sha256/
// after the first) and runs before the evaluation clock starts, as llama-perplexity's model
// load does: it counts in the whole run only.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { cpus } from "node:os";
import { parseArgs } from "node:util";
import { GgufBackend } from "../src/backends/gguf.js";
import { llamaBuildInfo } from "../src/backends/llamaLib.js";
import { distMath } from "../src/metrics/distMathKernels.js";
import { runPerplexity } from "../src/tasks/perplexity.js";
import { alternateRounds, loadLine, ratioLine, roundStats } from "./alternateRounds.js";
import { llamaTool, llamaToolEnv, rate, sharedFile } from "./llamaBin.js";

const { values } = parseArgs({
  options: {
    model: { type: "string" },
    data: { type: "string" },
    threads: { type: "string" },
    "n-ctx": { type: "string", default: "512" },
    chunks: { type: "string", default: "40" },
    rounds: { type: "string", default: "3" },
  },
});
const model = values.model ?? sharedFile("models", "stories260K.gguf");
const data = values.data ?? sharedFile("datasets", "wikitext-2-raw-v1", "wiki.test.raw");
const threads = Number(values.threads ?? cpus().length);
const nCtx = Number(values["n-ctx"]);
const chunks = Number(values.chunks);
const tokens = nCtx * chunks;
const rounds = Number(values.rounds);
const text = readFileSync(data, "utf8");

const tool = llamaTool("llama-perplexity");
// Its log drained before exit, so the figures are always there (see llamaToolEnv for why the timing is unchanged).
const env = llamaToolEnv();

interface RunFigures {
  evalMs: number;
  wallMs: number;
  ppl: number;
}

/** One llama-perplexity run (its defaults: n_batch 2048, so n_batch / n_ctx chunks per batch). */
function reference(): RunFigures {
  const t0 = performance.now();
  const ref = spawnSync(tool, ["-m", model, "-f", data, "-c", String(nCtx), "-b", "2048", "-t", String(threads), "--chunks", String(chunks)], {
    encoding: "utf8",
    maxBuffer: 64 << 20,
    env,
  });
  const wallMs = performance.now() - t0;
  const log = `${ref.stdout}\n${ref.stderr}`;
  // Its log lines carry timestamps (minutes.seconds.milliseconds.microseconds): the evaluation
  // runs from "calculating perplexity" to "Final estimate", after tokenization.
  const stamp = (what: string) => {
    const m = new RegExp(`(\\d+)\\.(\\d+)\\.(\\d+)\\.(\\d+) I ${what}`).exec(log);
    return m ? Number(m[1]) * 60_000 + Number(m[2]) * 1000 + Number(m[3]) + Number(m[4]) / 1000 : undefined;
  };
  const start = stamp("perplexity: calculating perplexity");
  const end = stamp("Final estimate");
  const ppl = /Final estimate: PPL = ([\d.]+)/.exec(log);
  if (ref.status !== 0 || start === undefined || end === undefined || !ppl) {
    process.stderr.write(`llama-perplexity failed (exit ${ref.status}${ref.status === 0 ? ", no figures" : ""}):\n${log.slice(-2000)}\n`);
    process.exit(1);
  }
  return { evalMs: end - start, wallMs, ppl: Number(ppl[1]) };
}

/** quanteval: runPerplexity, the perplexity task's own code; evaluation = its time minus tokenization. */
async function quanteval(): Promise<RunFigures> {
  const t0 = performance.now();
  const backend = await GgufBackend.open({ name: "bench", path: model, nCtx, threads });
  await backend.describe();
  // The context the chunks are decoded on is made and warmed up before the evaluation clock
  // starts, as llama-perplexity makes and warms its own at load, before "calculating perplexity".
  await backend.prepareWindows(nCtx);
  let tokenizeMs = 0;
  const tokenize = backend.tokenize.bind(backend);
  backend.tokenize = async (t, addBos) => {
    const s = performance.now();
    const r = await tokenize(t, addBos);
    tokenizeMs += performance.now() - s;
    return r;
  };
  const t1 = performance.now();
  const run = await runPerplexity(text, backend, [], { nCtx, chunks }, "bench");
  const evalMs = performance.now() - t1 - tokenizeMs;
  await backend.dispose();
  return { evalMs, wallMs: performance.now() - t0, ppl: run.results.bench.ppl };
}

const tps = (x: RunFigures, k: "evalMs" | "wallMs") => (tokens / x[k]) * 1000;
const cell = (v: number) => rate(v).padStart(10);

process.stdout.write(
  [
    `perplexity: ${model}`,
    `  ${chunks} chunks × n_ctx ${nCtx} = ${tokens} tokens evaluated, ${threads} threads, ${rounds} alternating rounds (the first tool alternates)`,
    `  both: n_batch 2048, n_ubatch 512, KV f16, flash attention auto, logits of the scored half only; each chunk attends over its own`,
    `  ${nCtx} KV cells (both: n_batch / n_ctx chunks per llama_decode, one KV stream each)`,
    `  quanteval: llama.cpp library ${llamaBuildInfo().llama_lib}, distribution math ${distMath().name}`,
    `  before: ${loadLine()}`,
    "",
    `${"round".padEnd(8)} ${"eval tok/s llama.cpp".padStart(21)} ${"quanteval".padStart(10)} ${"ratio".padStart(6)}   ${"whole run llama.cpp".padStart(19)} ${"quanteval".padStart(10)} ${"ratio".padStart(6)}   load (1 min) l / q`,
    "",
  ].join("\n"),
);
const results = await alternateRounds(rounds, reference, quanteval, (r, i) => {
  const e = [tps(r.a, "evalMs"), tps(r.b, "evalMs")];
  const w = [tps(r.a, "wallMs"), tps(r.b, "wallMs")];
  process.stdout.write(
    `${`${i + 1} (${r.first === "a" ? "l,q" : "q,l"})`.padEnd(8)} ${cell(e[0]).padStart(21)} ${cell(e[1])} ${(e[1] / e[0]).toFixed(2).padStart(6)}   ${cell(w[0]).padStart(19)} ${cell(w[1])} ${(w[1] / w[0]).toFixed(2).padStart(6)}   ${r.loadA.toFixed(1)} / ${r.loadB.toFixed(1)}\n`,
  );
});
const ev = roundStats(results, (x) => tps(x, "evalMs"));
const wh = roundStats(results, (x) => tps(x, "wallMs"));
process.stdout.write(
  [
    `${"median".padEnd(8)} ${cell(ev.a).padStart(21)} ${cell(ev.b)} ${(ev.b / ev.a).toFixed(2).padStart(6)}   ${cell(wh.a).padStart(19)} ${cell(wh.b)} ${(wh.b / wh.a).toFixed(2).padStart(6)}`,
    `  median of the per-round ratios: evaluation ${ratioLine(ev)}, whole run ${ratioLine(wh)}`,
    `  PPL llama-perplexity ${results[0].a.ppl.toFixed(4)} · quanteval ${results[0].b.ppl.toFixed(4)}`,
    `  after: ${loadLine()}`,
    "",
  ].join("\n"),
);
