// Stored baseline distributions against co-evaluation (both models resident) on the same windows,
// and against llama.cpp's own two-pass `llama-perplexity --kl-divergence-base/--kl-divergence`,
// on stories260K (512 vocab) vs its Q4_0 and on llama-2-tiny-random (32k vocab) vs a Q8_0 and a
// Q4_0 quantized here. The llama.cpp checks skip with a printed reason when its build is absent.
import assert from "node:assert/strict";
import { existsSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { GgufBackend } from "../../src/backends/gguf.js";
import { type DistributionDrift, DistributionDriftAccumulator } from "../../src/metrics/distributionDrift.js";
import { quantizeModel } from "../../src/quantize/quantizeModel.js";
import { BaselineDistributions, BaselineDistributionsWriter, addWindowDrift, driftAgainstStore, storeBaselineDistributions } from "../../src/store/baselineDistributions.js";
import { ROW_ENCODINGS, bytesPerPosition } from "../../src/store/baselineDistributionsFormat.js";
import { llamaTool, runLlamaTool } from "../helpers/llamaBin.js";
import { tempDir } from "../helpers/runConfig.js";
import { models, sharedPath } from "../helpers/shared.js";
import { QuantevalError } from "../../src/util/errors.js";

const N_CTX = 512;
const CHUNKS = 6;
/** Fewer chunks on the 32k vocabulary: every position is a 32k row in each pass. */
const CHUNKS_32K = 3;
const wikiPath = () => sharedPath("datasets", "wikitext-2-raw-v1", "wiki.test.raw");
const perplexityTool = llamaTool("llama-perplexity");
if (perplexityTool.reason) console.log(`# skipping llama.cpp checks: ${perplexityTool.reason}`);

interface PairRun {
  co: DistributionDrift;
  stored: { u16: DistributionDrift; f32: DistributionDrift };
  bytes: { u16: number; f32: number };
  nRows: number;
}

/** llama-perplexity's windows: chunk i of n_ctx tokens with its first token replaced by BOS; scores n_ctx/2+1 … */
async function windows(backend: GgufBackend, chunks: number): Promise<{ tokens: number[]; firstScored: number }[]> {
  const tokens = await backend.tokenize(readFileSync(wikiPath(), "utf8"), true);
  const out = [];
  for (let i = 0; i < chunks; i++) {
    const w = tokens.slice(i * N_CTX, (i + 1) * N_CTX);
    w[0] = tokens[0];
    out.push({ tokens: w, firstScored: N_CTX / 2 + 1 });
  }
  return out;
}

/** Co-evaluates base vs variant while storing the baseline in both row forms, then re-evaluates the variant against each store. */
async function runPair(basePath: string, variantPath: string, chunks: number): Promise<PairRun> {
  const base = await GgufBackend.open({ name: "base", path: basePath, repack: false, nCtx: N_CTX });
  const variant = await GgufBackend.open({ name: "variant", path: variantPath, repack: false, nCtx: N_CTX });
  try {
    const wins = await windows(base, chunks);
    const nv = (await base.describe()).n_vocab!;
    const co = new DistributionDriftAccumulator(nv);
    const dirs = { u16: join(tempDir(), "u16"), f32: join(tempDir(), "f32") };
    // One pass over the baseline: co-evaluate each window and store it in both forms.
    const f32Writer = await BaselineDistributionsWriter.create(dirs.f32, { nVocab: nv, fingerprint: base.fingerprint(), encoding: "f32" });
    const u16Meta = await storeBaselineDistributions(base, wins, dirs.u16, {
      encoding: "u16",
      onWindow: async (b, i) => {
        const [v] = await variant.distributions([wins[i]]);
        addWindowDrift(co, b, v, "co-evaluation");
        await f32Writer.append(b);
      },
    });
    const f32Meta = await f32Writer.finish();
    assert.deepEqual(u16Meta.windows, f32Meta.windows);
    const nRows = u16Meta.n_rows;
    const stored = {} as PairRun["stored"];
    const bytes = {} as PairRun["bytes"];
    for (const form of ["u16", "f32"] as const) {
      bytes[form] = statSync(join(dirs[form], "rows.bin")).size;
      // Later, with only the variant: its rows against the stored baseline, 2 windows per call.
      const store = await BaselineDistributions.open(dirs[form], { fingerprint: base.fingerprint() });
      const acc = new DistributionDriftAccumulator(nv);
      await driftAgainstStore(variant, wins, store, acc, { perCall: 2 });
      stored[form] = acc.finish();
      await store.dispose();
      assert.equal(existsSync(dirs[form]), false, "dispose() deletes a store not kept");
    }
    return { co: co.finish(), stored, bytes, nRows };
  } finally {
    await base.dispose();
    await variant.dispose();
  }
}

function llamaPerplexityKld(basePath: string, variantPath: string, chunks: number): { kld: number; top: number } {
  const run = (args: string[], mustHave: RegExp): string => {
    // runLlamaTool drains llama.cpp's asynchronous logger before exit, so the figures are never lost.
    const r = runLlamaTool(perplexityTool.path!, ["-t", "2", "--no-repack", "-c", String(N_CTX), "--chunks", String(chunks), "-f", wikiPath(), ...args]);
    assert.equal(r.status, 0, `llama-perplexity failed: ${r.stderr.slice(-500)}`);
    const out = r.stdout + r.stderr;
    assert.match(out, mustHave, "llama-perplexity's figures");
    return out;
  };
  const kldBase = join(tempDir(), "base.kld");
  run(["-m", basePath, "--kl-divergence-base", kldBase], /Final estimate/);
  const out = run(["-m", variantPath, "--kl-divergence-base", kldBase, "--kl-divergence"], /^(?=[\s\S]*Mean\s+KLD:)(?=[\s\S]*Same top p:\s*[\d.]+)/);
  return { kld: Number(out.match(/Mean\s+KLD:\s*([-\d.e]+)/)![1]), top: Number(out.match(/Same top p:\s*([\d.]+)/)![1]) / 100 };
}

// llama-2-tiny-random has n_embd 8: its logits are nearly flat, so any quantization leaves KLD at
// ~1e-9 nats, the float32 resolution of log-probs near ln 32000 (ulp 9.5e-7) averaged over the
// vocabulary. Below this absolute level a relative comparison measures rounding, not drift.
const KLD_NOISE = 1e-9;

const EXACT_FIELDS = ["n_tokens", "ppl_base", "ppl_variant", "delta_p_mean", "delta_p_rms", "top1_agreement", "ln_ppl_ratio_mean"] as const;

function checkPair(label: string, r: PairRun, nVocab: number): void {
  // f32 rows are the co-evaluated rows bit for bit: every statistic is identical.
  assert.deepEqual(r.stored.f32, r.co, `${label}: f32 store = co-evaluation`);
  // u16 rows: target log-prob and argmax are exact, so PPL, Δp and top-1 are identical …
  for (const k of EXACT_FIELDS) assert.equal(r.stored.u16[k], r.co[k], `${label}: u16 ${k}`);
  // … and KLD carries only the rounding of entries above the −16 floor (see baselineDistributionsFormat.ts).
  const absErr = Math.abs(r.stored.u16.kld_mean - r.co.kld_mean);
  console.log(
    `# ${label}: KLD co ${r.co.kld_mean.toExponential(6)} u16 ${r.stored.u16.kld_mean.toExponential(6)} (rel ${(absErr / r.co.kld_mean).toExponential(2)}), top-1 ${r.co.top1_agreement.toFixed(5)}, ${r.nRows} positions, disk u16 ${r.bytes.u16} B (${r.bytes.u16 / r.nRows} B/position), f32 ${r.bytes.f32} B`,
  );
  assert.ok(absErr <= ROW_ENCODINGS.u16.maxAbsError, `${label}: u16 KLD mean error ${absErr} within the per-entry rounding ${ROW_ENCODINGS.u16.maxAbsError}`);
  assert.ok(absErr <= Math.max(1e-3 * Math.abs(r.co.kld_mean), KLD_NOISE), `${label}: u16 KLD within 0.1% of co-evaluation (or ${KLD_NOISE} nats)`);
  assert.equal(r.bytes.u16, r.nRows * bytesPerPosition(nVocab, "u16"));
  assert.equal(r.bytes.f32, r.nRows * bytesPerPosition(nVocab, "f32"));
}

function checkVsLlama(label: string, r: PairRun, ref: { kld: number; top: number }): void {
  console.log(`# ${label}: llama.cpp KLD ${ref.kld} top-1 ${ref.top}; stored u16 KLD ${r.stored.u16.kld_mean.toFixed(6)} top-1 ${r.stored.u16.top1_agreement.toFixed(5)}`);
  // llama-perplexity prints KLD with 6 decimals: its figure is ±5e-7 nats.
  const tol = Math.max(0.01 * Math.abs(ref.kld), 5e-7 + KLD_NOISE);
  assert.ok(Math.abs(r.stored.u16.kld_mean - ref.kld) <= tol, `${label}: KLD within 1% of llama-perplexity (or its printed precision)`);
  assert.ok(Math.abs(r.stored.u16.top1_agreement - ref.top) < 0.005, `${label}: same-top-1 within 0.5 pp of llama-perplexity`);
}

describe("stored baseline distributions", () => {
  test("stories260K vs Q4_0: stored = co-evaluated, and agrees with llama-perplexity", async () => {
    const r = await runPair(models.stories(), models.storiesVariant("q4_0"), CHUNKS);
    checkPair("stories260K q4_0", r, 512);
    if (!perplexityTool.reason) checkVsLlama("stories260K q4_0", r, llamaPerplexityKld(models.stories(), models.storiesVariant("q4_0"), CHUNKS));
  });

  describe("llama-2-tiny-random (32k vocab)", () => {
    let qdir = "";
    before(() => {
      qdir = tempDir();
    });
    for (const type of ["q8_0", "q4_0"] as const) {
      test(`vs ${type}: stored = co-evaluated, and agrees with llama-perplexity`, async () => {
        const q = await quantizeModel(models.tinyRandom(), type, qdir);
        const r = await runPair(models.tinyRandom(), q.path, CHUNKS_32K);
        checkPair(`tiny-random ${type}`, r, 32000);
        if (!perplexityTool.reason) checkVsLlama(`tiny-random ${type}`, r, llamaPerplexityKld(models.tinyRandom(), q.path, CHUNKS_32K));
      });
    }
    after(() => rmSync(qdir, { recursive: true, force: true }));
  });

  test("a variant given other windows than the stored baseline's is a one-line error", async () => {
    const base = await GgufBackend.open({ name: "base", path: models.stories(), nCtx: N_CTX });
    try {
      const [w0, w1] = await windows(base, 2);
      const dir = join(tempDir(), "store");
      await storeBaselineDistributions(base, [w0], dir);
      const store = await BaselineDistributions.open(dir);
      const acc = new DistributionDriftAccumulator(512);
      await assert.rejects(
        driftAgainstStore(base, [w1], store, acc),
        (e: Error) => e instanceof QuantevalError && /row 0 predicts token \d+ but the stored baseline's predicts \d+; the stored baseline was written for other windows/.test(e.message),
      );
      await assert.rejects(driftAgainstStore(base, [w0, w1], store, acc), (e: Error) => e instanceof QuantevalError && /has 1 windows, the variant 'base' was given 2/.test(e.message));
      await store.dispose();
    } finally {
      await base.dispose();
    }
  });

  test("keep: true leaves the store for reuse; delete() removes it; bad stores are one-line errors", async () => {
    const dir = join(tempDir(), "kept");
    const w = await BaselineDistributionsWriter.create(dir, { nVocab: 4, fingerprint: "fp" });
    const row = new Float32Array([-0.5, -1.5, -2.5, -20]);
    await w.append({ nVocab: 4, nRows: 1, logprobs: row, targets: new Int32Array([2]), full: true });
    await assert.rejects(BaselineDistributions.open(dir), (e: Error) => e instanceof QuantevalError && /unfinished/.test(e.message));
    await w.finish();
    await assert.rejects(BaselineDistributions.open(dir, { fingerprint: "other" }), (e: Error) => e instanceof QuantevalError && /different baseline/.test(e.message));
    const kept = await BaselineDistributions.open(dir, { keep: true });
    const back = await kept.readWindow(0);
    assert.equal(back.logprobs[2], row[2], "target log-prob exact");
    assert.equal(back.logprobs[0], row[0], "argmax log-prob exact");
    assert.ok(back.logprobs[3] <= -16, "entries below the floor stay below it");
    assert.ok(Math.abs(back.logprobs[1] - row[1]) <= ROW_ENCODINGS.u16.maxAbsError + 1e-6);
    await kept.dispose();
    assert.ok(existsSync(dir), "kept after dispose()");

    // An entry within rounding of the maximum, before it: u16 gives it the maximum's code, the argmax must stay.
    const tieDir = join(tempDir(), "tie");
    const tw = await BaselineDistributionsWriter.create(tieDir, { nVocab: 4, fingerprint: "fp" });
    await tw.append({ nVocab: 4, nRows: 1, logprobs: new Float32Array([-1.00001, -1, -3, -17]), targets: new Int32Array([3]), full: true });
    await tw.finish();
    const tie = await BaselineDistributions.open(tieDir);
    const t = (await tie.readWindow(0)).logprobs;
    assert.equal(t.indexOf(Math.max(...t)), 1, "first maximum is the stored argmax");
    assert.ok(t[0] < t[1] && t[1] - t[0] < 1e-6);
    assert.equal(t[3], Math.fround(-17), "the target's log-prob is exact even below the floor");
    await tie.dispose();

    // Disk per scored position, u16 (f32): 512, 32k, 128k and 256k vocabularies.
    assert.deepEqual(
      [512, 32000, 128000, 256000].map((v) => bytesPerPosition(v)),
      [1044, 64020, 256020, 512020],
    );
    assert.deepEqual(
      [512, 32000, 128000, 256000].map((v) => bytesPerPosition(v, "f32")),
      [2068, 128020, 512020, 1024020],
    );
    const again = await BaselineDistributions.open(dir, { keep: true });
    await again.delete();
    assert.equal(existsSync(dir), false, "delete() removes a kept store");
    await assert.rejects(BaselineDistributions.open(dir), (e: Error) => e instanceof QuantevalError && /holds no stored baseline/.test(e.message));
  });
});
