// The native distribution kernels (native/distmath.cpp) against the JavaScript reference on real
// next-token distributions: llama-2-tiny-random (32,000-token vocabulary) and stories260K (512),
// and the whole perplexity/KLD run with either path. Native and JS must agree within 1e-6
// relative (measured: ~1e-13, the order of float64 sums). Skips the native side only when no
// C++ compiler is present, saying so.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { GgufBackend } from "../../src/backends/gguf.js";
import { jsKernels } from "../../src/metrics/distMathJs.js";
import { chooseDistMath, driftRows, topKRows } from "../../src/metrics/distMathKernels.js";
import { loadNativeDistMath } from "../../src/metrics/nativeDistMath.js";
import { runPerplexity } from "../../src/tasks/perplexity.js";
import { models, sharedPath } from "../helpers/shared.js";

const native = loadNativeDistMath();
const skip = typeof native === "string" ? `native kernels unavailable: ${native}` : false;
if (skip) console.log(`# skipping: ${skip}`);
const nat = () => native as Exclude<typeof native, string>;

const rel = (a: number, b: number) => (a === b ? 0 : Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b)));

/** Real log-prob rows of two different windows of wikitext (so base ≠ variant), as raw "logits" + a shift. */
async function realRows(path: string, nCtx: number): Promise<{ a: Float32Array; b: Float32Array; targets: Int32Array; nRows: number; nVocab: number }> {
  const be = await GgufBackend.open({ name: "m", path, nCtx, threads: 2 });
  try {
    const text = readFileSync(sharedPath("datasets", "wikitext-2-raw-v1", "wiki.test.raw"), "utf8").slice(0, 40_000);
    const toks = await be.tokenize(text, true);
    const [da, db] = await be.distributions([
      { tokens: toks.slice(0, nCtx), firstScored: nCtx / 2 },
      { tokens: toks.slice(nCtx, 2 * nCtx), firstScored: nCtx / 2 },
    ]);
    return { a: da.logprobs, b: db.logprobs, targets: da.targets, nRows: da.nRows, nVocab: da.nVocab };
  } finally {
    await be.dispose();
  }
}

for (const [label, path] of [
  ["llama-2-tiny-random (32k vocab)", models.tinyRandom],
  ["stories260K (512 vocab)", models.stories],
] as const) {
  test(`native kernels equal the JS reference on ${label}`, { skip }, async () => {
    const { a, b, nRows, nVocab } = await realRows(path(), 128);
    // log-softmax is shift-invariant: real log-probs plus 7 are real logits of the same distribution
    const logits = a.map((x) => x + 7);
    const viaJs = logits.slice();
    const viaNat = logits.slice();
    assert.equal(jsKernels.logSoftmax(viaJs, nRows, nVocab), 0);
    assert.equal(nat().logSoftmax(viaNat, nRows, nVocab), 0);
    let worst = 0;
    for (let i = 0; i < viaJs.length; i++) if (Number.isFinite(viaJs[i])) worst = Math.max(worst, rel(viaJs[i], viaNat[i]));
    assert.ok(worst <= 1e-6, `log-softmax differs by ${worst} relative`);

    const dj = driftRows(nRows);
    const dn = driftRows(nRows);
    jsKernels.drift(a, b, nRows, nVocab, -16, dj);
    nat().drift(a, b, nRows, nVocab, -16, dn);
    for (let r = 0; r < nRows; r++) {
      assert.ok(rel(dj.kld[r], dn.kld[r]) <= 1e-6, `row ${r}: KLD ${dj.kld[r]} vs ${dn.kld[r]}`);
      assert.equal(dn.argBase[r], dj.argBase[r]);
      assert.equal(dn.argVariant[r], dj.argVariant[r]);
    }
    // identical rows: exactly 0, as llama.cpp
    nat().drift(a, a, nRows, nVocab, -16, dn);
    assert.ok(dn.kld.every((x) => x === 0));

    const k = 40;
    const tj = topKRows(nRows, k);
    const tn = topKRows(nRows, k);
    jsKernels.topK(a, nRows, nVocab, k, tj);
    nat().topK(a, nRows, nVocab, k, tn);
    assert.deepEqual(tn.ids, tj.ids);
    assert.deepEqual(tn.logprobs, tj.logprobs);
    for (let r = 0; r < nRows; r++) {
      assert.ok(rel(tj.tail[r], tn.tail[r]) <= 1e-6, `row ${r}: tail ${tj.tail[r]} vs ${tn.tail[r]}`);
      // top K + tail is the whole distribution
      let top = 0;
      for (let j = 0; j < k; j++) top += Math.exp(tn.logprobs[r * k + j]);
      assert.ok(Math.abs(top + tn.tail[r] - 1) < 1e-5, `row ${r}: top ${top} + tail ${tn.tail[r]}`);
      for (let j = 1; j < k; j++) assert.ok(tn.logprobs[r * k + j] <= tn.logprobs[r * k + j - 1]);
    }
  });
}

test("logSoftmaxInto writes exactly logSoftmax's values from a separate source, at any row offset", { skip }, async () => {
  // The GGUF backend hands a view over llama.cpp's logits buffer as the source and a window's
  // rows as the destination, both subarrays: same bits as the in-place kernel, nothing else touched.
  const { a, nRows, nVocab } = await realRows(models.stories(), 128);
  const logits = a.map((x) => x + 7);
  for (const kernels of [jsKernels, nat()]) {
    const inPlace = logits.slice();
    kernels.logSoftmax(inPlace, nRows, nVocab);
    const src = new Float32Array((nRows + 1) * nVocab);
    src.set(logits, nVocab);
    const before = src.slice();
    const dst = new Float32Array((nRows + 3) * nVocab).fill(42);
    assert.equal(kernels.logSoftmaxInto(src.subarray(nVocab), dst.subarray(2 * nVocab, (nRows + 2) * nVocab), nRows, nVocab), 0);
    assert.deepEqual(dst.subarray(2 * nVocab, (nRows + 2) * nVocab), inPlace, kernels.name);
    assert.ok(dst.subarray(0, 2 * nVocab).every((x) => x === 42) && dst.subarray((nRows + 2) * nVocab).every((x) => x === 42), `${kernels.name}: wrote outside its rows`);
    assert.deepEqual(src, before, `${kernels.name}: changed its source`);
    const bad = new Float32Array([1, NaN, 3, 4, 1, 2, 3, 4]);
    const out = new Float32Array(8);
    assert.equal(kernels.logSoftmaxInto(bad, out, 2, 4), 1, kernels.name);
    assert.ok(out.subarray(0, 4).every(Number.isNaN) && out.subarray(4).every(Number.isFinite), kernels.name);
  }
});

test("NaN and +∞ logits give NaN rows, counted, never a number", { skip }, () => {
  for (const kernels of [jsKernels, nat()]) {
    const rows = new Float32Array([1, 2, 3, 4, 1, NaN, 3, 4, 1, Infinity, 3, 4, -Infinity, 0, -Infinity, -Infinity]);
    assert.equal(kernels.logSoftmax(rows, 4, 4), 2, kernels.name);
    assert.ok(rows.subarray(4, 12).every(Number.isNaN), kernels.name);
    assert.ok(rows.subarray(0, 4).every(Number.isFinite), kernels.name);
    assert.deepEqual(Array.from(rows.subarray(12)), [-Infinity, 0, -Infinity, -Infinity], kernels.name);
  }
});

test("perplexity and KLD of stories260K vs Q4_0: native kernels equal the JS path within 1e-6", { skip }, async () => {
  const text = readFileSync(sharedPath("datasets", "wikitext-2-raw-v1", "wiki.test.raw"), "utf8");
  const runWith = async (kernels: typeof jsKernels) => {
    chooseDistMath(kernels);
    const base = await GgufBackend.open({ name: "f32", path: models.stories(), threads: 2 });
    const q4 = await GgufBackend.open({ name: "q4_0", path: models.storiesVariant("q4_0"), threads: 2 });
    try {
      return await runPerplexity(text, base, [q4], { nCtx: 512, chunks: 4 }, "test");
    } finally {
      chooseDistMath(undefined);
      await base.dispose();
      await q4.dispose();
    }
  };
  const js = await runWith(jsKernels);
  const nv = await runWith(nat());
  for (const m of ["f32", "q4_0"]) assert.ok(rel(js.results[m].ppl, nv.results[m].ppl) <= 1e-6, `${m} PPL`);
  const dj = js.drift.q4_0 as unknown as Record<string, number>;
  const dn = nv.drift.q4_0 as unknown as Record<string, number>;
  for (const key of Object.keys(dj)) {
    if (dj[key] === null) continue;
    // percentiles are float32 values; everything else float64
    assert.ok(rel(dj[key], dn[key]) <= 1e-6, `${key}: JS ${dj[key]} vs native ${dn[key]}`);
  }
});

test("a variant's NaN logits are named with chunk and position, never averaged", async () => {
  // No broken GGUF is at hand: the real Q4_0 model is wrapped so that one row comes back as the
  // log-softmax kernels return a row of NaN/+∞ logits (all NaN; tested above on both kernels).
  const text = readFileSync(sharedPath("datasets", "wikitext-2-raw-v1", "wiki.test.raw"), "utf8");
  const base = await GgufBackend.open({ name: "f32", path: models.stories(), threads: 2 });
  const q4 = await GgufBackend.open({ name: "q4_0", path: models.storiesVariant("q4_0"), threads: 2 });
  const real = q4.distributions.bind(q4);
  let call = 0;
  q4.distributions = async (windows) => {
    const out = await real(windows);
    if (call++ === 0) out[1].logprobs.fill(NaN, 7 * out[1].nVocab, 8 * out[1].nVocab);
    return out;
  };
  try {
    await assert.rejects(runPerplexity(text, base, [q4], { nCtx: 512, chunks: 2 }, "task ppl"), /task ppl: model 'q4_0' gave NaN or \+∞ logits at chunk 1, position 263 \(predicting token 264\)/);
  } finally {
    await base.dispose();
    await q4.dispose();
  }
});

test("a vocabulary too wide for the log-prob buffer gets one line with what to lower", async () => {
  const { chunksPerCall } = await import("../../src/tasks/perplexity.js");
  assert.equal(chunksPerCall(255, 32_000, 512, "t"), 4, "llama-perplexity's n_batch / n_ctx when it fits");
  assert.equal(chunksPerCall(255, 64_000, 512, "t"), 2, "as many as fit the batch target (140 MB a model)");
  assert.equal(chunksPerCall(255, 256_000, 512, "t"), 1, "one chunk over the target still goes, within the buffer");
  process.env.QUANTEVAL_DIST_BUFFER_MB = "100";
  try {
    assert.throws(
      () => chunksPerCall(255, 256_000, 512, "task ppl"),
      /^QuantevalError: task ppl: one chunk of 255 scored positions × 256000 vocabulary entries needs 249 MB .* over the 100 MB buffer \(tried 1 chunk per batch\); lower n_ctx to at most 206 or raise QUANTEVAL_DIST_BUFFER_MB$/,
    );
  } finally {
    delete process.env.QUANTEVAL_DIST_BUFFER_MB;
  }
});
