// The whole KLD run (baseline + variant: PPL of both, KLD, top-1, Δp) of quanteval against
// llama.cpp's two passes — `llama-perplexity --kl-divergence-base FILE` on the baseline, then
// `--kl-divergence` on the variant — on the same text, chunks, n_ctx and threads, alternating
// rounds, at three vocabulary widths:
//   32k   llama-2-tiny-random against its Q4_0 (quantized by quanteval into the bench cache)
//   128k  a 1-layer random Llama with a 128,000-token vocabulary, F32 against F16 of the same weights
//   256k  the same at 256,000 tokens
// The forward pass of these models is almost free, so the distribution math is the whole cost.
// Each round is printed with the load average it ran under, then the medians (bench/alternateRounds.ts).
// Also prints llama.cpp's base-logits file size (quanteval writes none).
//
//   node --import tsx bench/distributions-vs-llamacpp.ts [--vocab 32k,128k,256k] [--chunks 4]
//        [--rounds 2] [--threads N] [--n-ctx 512] [--kernels]
//
// --kernels instead times the kernels alone (log-softmax, KLD + argmax, top-64 + tail) in
// JavaScript on one thread against native/distmath.cpp on 1 and on all threads, per row: the
// measurement behind the choice of a native library (bench/README.md).
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { GgufBackend } from "../src/backends/gguf.js";
import { jsKernels } from "../src/metrics/distMathJs.js";
import { distMath, driftRows, topKRows, type DistMathKernels } from "../src/metrics/distMathKernels.js";
import { loadNativeDistMath } from "../src/metrics/nativeDistMath.js";
import { quantizeModel } from "../src/quantize/quantizeModel.js";
import { runPerplexity } from "../src/tasks/perplexity.js";
import { quantevalCacheDir } from "../src/util/cacheDir.js";
import { alternateRounds, loadLine, ratioLine, roundStats } from "./alternateRounds.js";
import { llamaTool, llamaToolEnv, rate, sharedFile } from "./llamaBin.js";
import { syntheticModel } from "./syntheticModel.js";

const { values } = parseArgs({
  options: {
    vocab: { type: "string", default: "32k,128k,256k" },
    chunks: { type: "string", default: "4" },
    rounds: { type: "string", default: "2" },
    threads: { type: "string" },
    "n-ctx": { type: "string", default: "512" },
    kernels: { type: "boolean", default: false },
  },
});
const threads = Number(values.threads ?? availableParallelism());
const nCtx = Number(values["n-ctx"]);
const chunks = Number(values.chunks);
const rounds = Number(values.rounds);
const vocabs = values.vocab.split(",");

/** A 1-layer random Llama of `nVocab` tokens, F32 and F16 of the same weights (same seed). */
function syntheticPair(nVocab: number): [string, string] | undefined {
  const shape = ["--n-embd", "128", "--n-layer", "1", "--n-ff", "256", "--n-head", "2", "--n-head-kv", "2", "--n-vocab", String(nVocab)];
  const f32 = syntheticModel(`synthetic-llama-128x1-v${nVocab}-f32.gguf`, [...shape, "--dtype", "f32"]);
  const f16 = syntheticModel(`synthetic-llama-128x1-v${nVocab}-f16.gguf`, [...shape, "--dtype", "f16"]);
  return f32 && f16 ? [f32, f16] : undefined;
}

async function pairFor(vocab: string): Promise<[string, string] | undefined> {
  if (vocab === "32k") {
    const base = sharedFile("models", "llama-2-tiny-random.gguf");
    const dir = join(quantevalCacheDir(), "bench");
    mkdirSync(dir, { recursive: true });
    const q = await quantizeModel(base, "q4_0", dir);
    return [base, q.path];
  }
  const n = { "128k": 128_000, "256k": 256_000 }[vocab];
  if (!n) throw new Error(`--vocab: unknown width '${vocab}' (32k, 128k, 256k)`);
  return syntheticPair(n);
}

const data = sharedFile("datasets", "wikitext-2-raw-v1", "wiki.test.raw");
const text = readFileSync(data, "utf8");
const perplexity = () => llamaTool("llama-perplexity");

interface Run {
  ms: number;
  kld: number;
  pplQ: number;
  fileBytes: number;
}

/**
 * llama.cpp's two passes, timed together (process wall times); their logs drained before exit,
 * so the figures are always there (see llamaToolEnv for why the timing is unchanged).
 */
function reference(base: string, variant: string): Run {
  const dir = mkdtempSync(join(tmpdir(), "qe-kld-"));
  const file = join(dir, "base.kld");
  const common = ["-f", data, "-c", String(nCtx), "-b", "2048", "-t", String(threads), "--chunks", String(chunks)];
  const opts = { encoding: "utf8", maxBuffer: 64 << 20, env: llamaToolEnv() } as const;
  try {
    const t0 = performance.now();
    const p1 = spawnSync(perplexity(), ["-m", base, ...common, "--kl-divergence-base", file], opts);
    const p2 = spawnSync(perplexity(), ["-m", variant, ...common, "--kl-divergence-base", file, "--kl-divergence"], opts);
    const ms = performance.now() - t0;
    const log = `${p2.stdout}\n${p2.stderr}`;
    const kld = /Mean\s+KLD:\s*([-\d.e]+)/.exec(log);
    const pplQ = /Mean PPL\(Q\)\s*:\s*([\d.]+)/.exec(log);
    if (p1.status !== 0 || p2.status !== 0 || !kld || !pplQ) throw new Error(`llama-perplexity failed (exit ${p1.status}/${p2.status}):\n${(p1.stderr + log).slice(-1500)}`);
    return { ms, kld: Number(kld[1]), pplQ: Number(pplQ[1]), fileBytes: statSync(file).size };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** quanteval: open both models, runPerplexity (PPL of both + drift), dispose. */
async function quanteval(base: string, variant: string): Promise<Run> {
  const t0 = performance.now();
  const b = await GgufBackend.open({ name: "base", path: base, nCtx, threads });
  const v = await GgufBackend.open({ name: "variant", path: variant, nCtx, threads });
  try {
    const run = await runPerplexity(text, b, [v], { nCtx, chunks }, "bench");
    const d = run.drift.variant as { kld_mean: number };
    return { ms: performance.now() - t0, kld: d.kld_mean, pplQ: run.results.variant.ppl, fileBytes: 0 };
  } finally {
    await b.dispose();
    await v.dispose();
  }
}

async function wholeRuns(): Promise<void> {
  console.log(`KLD run (baseline + variant), ${chunks} chunks × n_ctx ${nCtx}, ${threads} threads, ${rounds} alternating rounds (the first tool alternates); distribution math: ${distMath().name}`);
  console.log(`before: ${loadLine()}`);
  console.log(
    `${"vocab".padEnd(6)} ${"round".padEnd(8)} ${"llama.cpp s".padStart(12)} ${"quanteval s".padStart(12)} ${"ratio".padStart(6)} ${"tok/s l / q".padStart(18)} ${"KLD l / q".padStart(22)} ${"PPL(Q) l / q".padStart(20)} ${"load l / q".padStart(12)}  base-logits file`,
  );
  const tokens = 2 * chunks * nCtx;
  const line = (vocab: string, label: string, a: number, b: number, ratio: number, ref: Run, our: Run, load: string) =>
    console.log(
      `${vocab.padEnd(6)} ${label.padEnd(8)} ${a.toFixed(2).padStart(12)} ${b.toFixed(2).padStart(12)} ${ratio.toFixed(2).padStart(6)} ${`${rate(tokens / a)} / ${rate(tokens / b)}`.padStart(18)} ${`${ref.kld.toFixed(6)} / ${our.kld.toFixed(6)}`.padStart(22)} ${`${ref.pplQ.toFixed(3)} / ${our.pplQ.toFixed(3)}`.padStart(20)} ${load.padStart(12)}  ${(ref.fileBytes / 2 ** 20).toFixed(0)} MB / 0`,
    );
  for (const vocab of vocabs) {
    const pair = await pairFor(vocab);
    if (!pair) continue;
    const results = await alternateRounds(
      rounds,
      () => reference(...pair),
      () => quanteval(...pair),
      (r, i) => line(vocab, `${i + 1} (${r.first === "a" ? "l,q" : "q,l"})`, r.a.ms / 1000, r.b.ms / 1000, r.a.ms / r.b.ms, r.a, r.b, `${r.loadA.toFixed(1)} / ${r.loadB.toFixed(1)}`),
    );
    // Seconds, so the ratio is llama.cpp's time over quanteval's (above 1: quanteval is faster).
    const st = roundStats(results, (x) => 1000 / x.ms);
    line(vocab, "median", 1 / st.a, 1 / st.b, st.b / st.a, results[0].a, results[0].b, "");
    console.log(`${"".padEnd(6)} median of the per-round ratios ${ratioLine(st)}`);
  }
  console.log(`after: ${loadLine()}`);
}

/** Per-row cost of each kernel on random rows (the kernels do not depend on the values' origin). */
function kernelTimes(): void {
  const native = loadNativeDistMath(1);
  const nativeAll = loadNativeDistMath(threads);
  if (typeof native === "string" || typeof nativeAll === "string") throw new Error(`native kernels unavailable: ${native}`);
  const sets: Array<[string, DistMathKernels]> = [
    ["js, 1 thread", jsKernels],
    ["native, 1 thread", native],
    [`native, ${threads} threads`, nativeAll],
  ];
  console.log(`µs per row: log-softmax of one row, KLD + both argmaxes of a row pair, top-64 + tail of one row`);
  console.log(`${"vocab".padEnd(8)} ${"kernels".padEnd(20)} ${"log-softmax".padStart(12)} ${"KLD+argmax".padStart(12)} ${"top-64".padStart(10)}`);
  for (const vocab of vocabs) {
    const nVocab = { "32k": 32_000, "128k": 128_000, "256k": 256_000 }[vocab] ?? 32_000;
    const nRows = Math.max(16, Math.floor(64_000_000 / nVocab));
    const logits = new Float32Array(nRows * nVocab);
    let s = 1;
    for (let i = 0; i < logits.length; i++) logits[i] = ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648) * 20 - 10;
    const other = logits.map((x, i) => x + ((i % 7) - 3) * 0.05);
    for (const [label, k] of sets) {
      const a = logits.slice();
      const b = other.slice();
      let t = performance.now();
      k.logSoftmax(a, nRows, nVocab);
      const ls = (performance.now() - t) / nRows;
      k.logSoftmax(b, nRows, nVocab);
      t = performance.now();
      k.drift(a, b, nRows, nVocab, -16, driftRows(nRows));
      const dr = (performance.now() - t) / nRows;
      t = performance.now();
      k.topK(a, nRows, nVocab, 64, topKRows(nRows, 64));
      const tk = (performance.now() - t) / nRows;
      console.log(`${vocab.padEnd(8)} ${label.padEnd(20)} ${(ls * 1000).toFixed(0).padStart(12)} ${(dr * 1000).toFixed(0).padStart(12)} ${(tk * 1000).toFixed(0).padStart(10)}`);
    }
  }
}

if (values.kernels) kernelTimes();
else await wholeRuns();
