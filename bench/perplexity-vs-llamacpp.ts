// Times quanteval's perplexity against llama.cpp's `llama-perplexity` on the same model, text,
// threads, n_ctx and chunks, and prints tokens/s for both and their ratio.
//
//   node --import tsx bench/perplexity-vs-llamacpp.ts [--model M.gguf] [--data wiki.test.raw]
//        [--threads N] [--n-ctx 512] [--chunks 40] [--rounds 3]
//
// The two tools run alternately `rounds` times and the medians are printed, so that a change
// in the machine's load affects both alike.
// Two figures per tool: evaluation only (llama-perplexity's log from "calculating perplexity" to
// "Final estimate", against runPerplexity's time minus its tokenization — both decode every
// chunk and take the log-softmax of every scored row) and the whole run (process wall time
// against open + tokenize + runPerplexity).
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { cpus } from "node:os";
import { parseArgs } from "node:util";
import { GgufBackend } from "../src/backends/gguf.js";
import { median } from "../src/cost/costMetrics.js";
import { runPerplexity } from "../src/tasks/perplexity.js";
import { llamaTool, rate, sharedFile } from "./llamaBin.js";

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

/** One llama-perplexity run (its defaults: n_batch 2048, so n_batch / n_ctx chunks per batch). */
function reference(): { evalMs: number; wallMs: number; ppl: number } {
  const t0 = performance.now();
  const ref = spawnSync(tool, ["-m", model, "-f", data, "-c", String(nCtx), "-b", "2048", "-t", String(threads), "--chunks", String(chunks)], {
    encoding: "utf8",
    maxBuffer: 64 << 20,
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
    process.stderr.write(`llama-perplexity failed or printed no figures (exit ${ref.status}):\n${log.slice(-2000)}\n`);
    process.exit(1);
  }
  return { evalMs: end - start, wallMs, ppl: Number(ppl[1]) };
}

/** quanteval: runPerplexity, the perplexity task's own code; evaluation = its time minus tokenization. */
async function quanteval(): Promise<{ evalMs: number; wallMs: number; ppl: number }> {
  const t0 = performance.now();
  const backend = await GgufBackend.open({ name: "bench", path: model, nCtx, threads });
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

const refRuns: Array<Awaited<ReturnType<typeof reference>>> = [];
const ourRuns: Array<Awaited<ReturnType<typeof quanteval>>> = [];
for (let r = 0; r < rounds; r++) {
  refRuns.push(reference());
  ourRuns.push(await quanteval());
}
const tps = (runs: Array<{ evalMs: number; wallMs: number }>, k: "evalMs" | "wallMs") => median(runs.map((x) => (tokens / x[k]) * 1000));
const row = (label: string, k: "evalMs" | "wallMs") => {
  const a = tps(refRuns, k);
  const b = tps(ourRuns, k);
  return `${label.padEnd(34)} ${rate(a).padStart(10)} ${rate(b).padStart(10)} ${(b / a).toFixed(2).padStart(7)}`;
};
process.stdout.write(
  [
    `perplexity: ${model}`,
    `  ${chunks} chunks × n_ctx ${nCtx} = ${tokens} tokens evaluated, ${threads} threads, median of ${rounds} alternating rounds`,
    `  PPL llama-perplexity ${refRuns[0].ppl.toFixed(4)} · quanteval ${ourRuns[0].ppl.toFixed(4)}`,
    "",
    `${"tokens/s".padEnd(34)} ${"llama.cpp".padStart(10)} ${"quanteval".padStart(10)} ${"ratio".padStart(7)}`,
    row("evaluation (decode + log-softmax)", "evalMs"),
    row("whole run (load, tokenize, eval)", "wallMs"),
    "",
  ].join("\n"),
);
