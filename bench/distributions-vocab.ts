// Next-token distributions at a real vocabulary size (llama-2-tiny-random, 32,000 tokens):
// quanteval's GgufBackend.distributions (one llama_decode per batch, logits read as one
// Float32Array, log-softmax in typed arrays) against node-llama-cpp's own JS API
// (`sequence.controlledEvaluate` with `generateNext.probabilities`, a Map per position),
// on the same model, tokens and threads, measured side by side in this run.
//   node --import tsx bench/distributions-vocab.ts [rows]
import { getLlama } from "node-llama-cpp";
import { GgufBackend } from "../src/backends/gguf.js";
import { sharedPath } from "../test/helpers/shared.js";

const model = sharedPath("models", "llama-2-tiny-random.gguf");
const rows = Number(process.argv[2] ?? 1024);
const nCtx = 512;
const first = nCtx / 2;
const windows = Math.ceil(rows / (nCtx - first));
const tokens = (w: number) => Array.from({ length: nCtx }, (_, i) => 1 + ((i * 31 + w * 17) % 31000));

const ours = await GgufBackend.open({ name: "q", path: model, nCtx, threads: 2 });
const t0 = performance.now();
let scored = 0;
for (let w = 0; w < windows; w++) {
  const [d] = await ours.distributions([{ tokens: tokens(w), firstScored: first }]);
  scored += d.nRows;
}
const oursMs = performance.now() - t0;
await ours.dispose();

const llama = await getLlama({ gpu: false, build: "never", logLevel: "error" as never });
const m = await llama.loadModel({ modelPath: model });
const ctx = await m.createContext({ contextSize: nCtx, threads: 2 });
const seq = ctx.getSequence();
// The Map path is slow: time a fraction of the windows and scale per row.
const refWindows = Math.max(1, Math.min(windows, 2));
const t1 = performance.now();
let refRows = 0;
for (let w = 0; w < refWindows; w++) {
  await seq.clearHistory();
  const input = tokens(w).map((t, i) => (i >= first - 1 && i < nCtx - 1 ? ([t, { generateNext: { probabilities: true } }] as const) : t));
  const res = await seq.controlledEvaluate(input as never);
  refRows += res.filter((r) => r?.next?.probabilities).length;
}
const refMs = performance.now() - t1;
await ctx.dispose();
await m.dispose();

const oursRate = scored / (oursMs / 1000);
const refRate = refRows / (refMs / 1000);
console.log(`vocab 32000, n_ctx ${nCtx}: quanteval ${scored} rows in ${oursMs.toFixed(0)} ms = ${oursRate.toFixed(0)} rows/s`);
console.log(`node-llama-cpp controlledEvaluate (Map per position): ${refRows} rows in ${refMs.toFixed(0)} ms = ${refRate.toFixed(0)} rows/s`);
console.log(`ratio quanteval / node-llama-cpp Map path: ${(oursRate / refRate).toFixed(1)}×`);
