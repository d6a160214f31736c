// Importance matrices on real models: quanteval's in-process collection against llama.cpp's own
// llama-imatrix, quantizing with it against llama-quantize --imatrix, and the bad inputs.
// stories260K's legacy types (q4_0, q5_0) use the imatrix for real; its k-quant/IQ paths are
// exercised on a synthetic random-weight Llama in imatrixSynthetic.test.ts.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readCalibrationText, type CalibrationText } from "../../src/quantize/imatrix/calibrationText.js";
import { readImatrix } from "../../src/quantize/imatrix/imatrixFile.js";
import { cachedImatrix, makeImatrixFile } from "../../src/quantize/imatrix/makeImatrix.js";
import { measureKld } from "../../src/quantize/measureKld.js";
import { quantizeModel } from "../../src/quantize/quantizeModel.js";
import { QuantevalError } from "../../src/util/errors.js";
import { sha256File } from "../../src/util/sha256File.js";
import { llamaBinDir } from "../helpers/llamaBin.js";
import { models, sharedPath } from "../helpers/shared.js";

const THREADS = 2;
const N_CTX = 128; // stories260K's training context
const CHUNKS = 8;
const tool = (name: string) => {
  const p = join(llamaBinDir(), name);
  return existsSync(p) ? p : undefined;
};

let dir: string;
let wiki: CalibrationText;
let ours: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "quanteval-imatrix-"));
  wiki = await readCalibrationText(sharedPath("datasets", "wikitext-2-raw-v1", "wiki.test.raw"), "--data", { baseDir: dir });
  ours = join(dir, "ours.gguf");
  const t0 = performance.now();
  const r = await makeImatrixFile(models.stories(), wiki, ours, { chunks: CHUNKS, nCtx: N_CTX, threads: THREADS });
  console.log(`# quanteval imatrix: ${r.entries} entries, ${CHUNKS} chunks in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
});
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

test("the file holds every blk.* matrix multiply input of stories260K, in llama.cpp's GGUF imatrix layout", () => {
  const d = readImatrix(ours);
  assert.equal(d.entries.size, 35, "5 layers × 7 matrices (token_embd and output are not collected)");
  assert.equal(d.chunkCount, CHUNKS);
  assert.equal(d.chunkSize, N_CTX);
  assert.deepEqual(d.datasets, [wiki.path]);
  const q = d.entries.get("blk.0.attn_q.weight")!;
  assert.equal(q.ne0, 64);
  assert.deepEqual(q.counts, [CHUNKS * N_CTX]);
  assert.equal(d.entries.get("blk.0.ffn_down.weight")!.ne0, 172);
  for (const [name, e] of d.entries)
    assert.ok(
      e.sums.every((v) => Number.isFinite(v) && v >= 0),
      name,
    );
});

test("entries equal llama-imatrix's on the same data and chunks (within float tolerance)", (t) => {
  const bin = tool("llama-imatrix");
  if (!bin) return t.skip(`llama-imatrix not built in ${llamaBinDir()} (bash scripts/build-llamacpp.sh)`);
  const ref = join(dir, "ref.gguf");
  execFileSync(bin, ["-m", models.stories(), "-f", wiki.path, "-c", String(N_CTX), "--chunks", String(CHUNKS), "-o", ref, "--no-ppl", "-t", String(THREADS)], { stdio: "ignore" });
  const a = readImatrix(ours);
  const b = readImatrix(ref);
  assert.deepEqual([...a.entries.keys()].sort(), [...b.entries.keys()].sort());
  assert.equal(a.chunkCount, b.chunkCount);
  let worst = 0;
  for (const [name, ea] of a.entries) {
    const eb = b.entries.get(name)!;
    assert.deepEqual(ea.counts, eb.counts, name);
    assert.equal(ea.sums.length, eb.sums.length, name);
    for (let i = 0; i < ea.sums.length; i++) {
      const rel = Math.abs(ea.sums[i] - eb.sums[i]) / Math.max(1e-6, Math.abs(eb.sums[i]));
      worst = Math.max(worst, rel);
    }
  }
  console.log(`# largest relative difference of an in_sum2 value: ${worst.toExponential(2)}`);
  assert.ok(worst < 1e-3, `relative difference ${worst}`);
});

test("q4_0/q5_0 with the imatrix: the same file as llama-quantize --imatrix, and the imatrix is used for real", async (t) => {
  const bin = tool("llama-quantize");
  for (const type of ["q4_0", "q5_0"]) {
    const plain = await quantizeModel(models.stories(), type, dir, { threads: THREADS });
    const withIm = await quantizeModel(models.stories(), type, dir, { threads: THREADS, imatrix: ours });
    assert.equal(withIm.name, `${type}@ours`);
    assert.notEqual(withIm.sha256, plain.sha256, `${type}: the imatrix changed the quantized weights`);
    assert.equal(withIm.imatrix?.entries, 35);
    if (!bin) {
      t.diagnostic(`llama-quantize not built in ${llamaBinDir()}: reference comparison skipped`);
      continue;
    }
    const ref = join(dir, `ref-${type}.gguf`);
    execFileSync(bin, ["--imatrix", ours, models.stories(), ref, type, String(THREADS)], { stdio: "ignore" });
    // Same imatrix metadata and the same weights: byte-identical, hence the same KLD.
    assert.equal(withIm.sha256, await sha256File(ref), `${type}: same bytes as llama-quantize --imatrix`);
  }
});

test("KLD on stories260K: q4_0 with a WikiText imatrix against none (measured, not tuned)", async () => {
  const plain = await quantizeModel(models.stories(), "q4_0", dir, { threads: THREADS });
  const withIm = await quantizeModel(models.stories(), "q4_0", dir, { threads: THREADS, imatrix: ours });
  // Scored on WikiText past the calibration chunks (the imatrix saw the first 8 × 128 tokens).
  const text = wiki.text.slice(200_000, 400_000);
  const [a, b] = await measureKld(models.stories(), [plain.path, withIm.path], text, { chunks: 16, nCtx: N_CTX, threads: THREADS, where: "wikitext" });
  console.log(`# q4_0 KLD: none ${a.kld_mean.toFixed(4)} ± ${a.kld_err.toFixed(4)}, imatrix(wiki-8) ${b.kld_mean.toFixed(4)} ± ${b.kld_err.toFixed(4)}`);
  assert.ok(Number.isFinite(a.kld_mean) && Number.isFinite(b.kld_mean) && a.kld_mean > 0 && b.kld_mean > 0);
});

test("the imatrix cache: same model, text and chunks reuse the file", async () => {
  const cache = join(dir, "cache");
  const first = await cachedImatrix(models.stories(), wiki, cache, { chunks: 2, nCtx: N_CTX, threads: THREADS });
  const again = await cachedImatrix(models.stories(), wiki, cache, { chunks: 2, nCtx: N_CTX, threads: THREADS });
  assert.equal(first.cached, false);
  assert.equal(again.cached, true);
  assert.equal(again.path, first.path);
  assert.match(first.path, /stories260K\.imatrix-wiki-2-[0-9a-f]{16}\.gguf$/);
});

test("bad input: too few tokens, an imatrix of another model, an IQ2 type without one — one line naming the file", async () => {
  const short = join(dir, "short.txt");
  writeFileSync(short, "Once upon a time there was a cat.\n");
  const calib = await readCalibrationText(short, "--data", { baseDir: dir });
  await assert.rejects(
    makeImatrixFile(models.stories(), calib, join(dir, "x.gguf"), { chunks: 4, nCtx: N_CTX }),
    (e: unknown) => e instanceof QuantevalError && e.message.includes(short) && /too few for 4 chunks/.test(e.message) && !e.message.includes("\n"),
  );
  // An imatrix from another model: llama-2-tiny-random has other tensor widths.
  const other = join(dir, "other.gguf");
  const tiny = await readCalibrationText(sharedPath("datasets", "wikitext-2-raw-v1", "wiki.test.raw"), "--data", { baseDir: dir });
  await makeImatrixFile(models.tinyRandom(), tiny, other, { chunks: 2, nCtx: 64, threads: THREADS });
  const out = mkdtempSync(join(dir, "bad-"));
  await assert.rejects(
    quantizeModel(models.stories(), "q4_0", out, { imatrix: other }),
    (e: unknown) => e instanceof QuantevalError && e.message.includes(other) && /made for another model/.test(e.message) && !e.message.includes("\n"),
  );
  await assert.rejects(quantizeModel(models.stories(), "iq2_xs", out), (e: unknown) => e instanceof QuantevalError && /iq2_xs needs an importance matrix; pass --imatrix/.test(e.message));
  const notImatrix = models.stories();
  await assert.rejects(quantizeModel(models.stories(), "q4_0", out, { imatrix: notImatrix }), (e: unknown) => e instanceof QuantevalError && /not an imatrix/.test(e.message));
  assert.deepEqual(readdirSync(out), [], "no work was done");
});

test("a cached variant whose bytes changed (same size) is re-made and named, not trusted", async () => {
  const out = mkdtempSync(join(dir, "corrupt-"));
  const r = await quantizeModel(models.stories(), "q4_0", out, { threads: THREADS });
  const bytes = readFileSync(r.path);
  bytes[bytes.length - 100] ^= 0xff; // a flipped byte in the tensor data, size unchanged
  writeFileSync(r.path, bytes);
  const again = await quantizeModel(models.stories(), "q4_0", out, { threads: THREADS });
  assert.equal(again.cached, false);
  assert.equal(again.sha256, r.sha256);
  assert.match(again.note ?? "", new RegExp(`cached ${r.path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} has sha256 .* \\(corrupted on disk\\); re-made it`));
  assert.equal((await quantizeModel(models.stories(), "q4_0", out, { threads: THREADS })).cached, true);
});

test("CLI: imatrix writes the file, quantize --imatrix/--tensor-type use it; bad flags are one line", async () => {
  const { cli } = await import("../helpers/cli.js");
  const out = join(dir, "cli.gguf");
  const r = cli(["imatrix", models.stories(), "--data", wiki.path, "--chunks", "2", "--n-ctx", String(N_CTX), "--out", out, "--threads", String(THREADS)]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), out);
  assert.match(r.stderr, /imatrix: 35 tensors from 2 chunks of 128 tokens of .*wiki\.test\.raw in [\d.]+ s \([\d.]+ chunks\/s\)/);
  const q = cli(["quantize", models.stories(), "--types", "q4_0", "--imatrix", out, "--tensor-type", "attn_v=q8_0", "--out", join(dir, "cli-q"), "--json", "--threads", String(THREADS)]);
  assert.equal(q.status, 0, q.stderr);
  const [res] = JSON.parse(q.stdout) as Array<{ name: string; imatrix: { chunks: number }; tensor_overrides: Record<string, string> }>;
  assert.equal(res.name, "q4_0@cli+attn_v-q8_0");
  assert.equal(res.imatrix.chunks, 2);
  assert.deepEqual(res.tensor_overrides, { attn_v: "q8_0" });
  const bad = cli(["quantize", models.stories(), "--types", "q4_0,iq2_xxs", "--out", join(dir, "cli-bad")]);
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr.trim(), /^quanteval: iq2_xxs need an importance matrix; pass --imatrix FILE/);
  const many = cli(["imatrix", models.stories(), "--data", wiki.path, "--chunks", "100000", "--n-ctx", String(N_CTX), "--out", join(dir, "x.gguf")]);
  assert.notEqual(many.status, 0);
  assert.equal(many.stderr.trim().split("\n").length, 1, many.stderr);
  assert.match(many.stderr, /wiki\.test\.raw: \d+ tokens are too few for 100000 chunks of 128 tokens/);
});
