import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command } from "commander";
import { GgufBackend } from "../../src/backends/gguf.js";
import { registerQuantizeCommand } from "../../src/cli/quantizeCommand.js";
import { parseQuantTypes, findQuantType } from "../../src/quantize/quantTypes.js";
import { type QuantizeResult, quantizeModel, sidecarPath } from "../../src/quantize/quantizeModel.js";
import { QuantevalError } from "../../src/util/errors.js";
import { sha256File } from "../../src/util/sha256File.js";
import { models } from "../helpers/shared.js";

const REFERENCE_QUANTIZE = "/root/.cache/quanteval/llama.cpp-v0.5.0/build/bin/llama-quantize";
const THREADS = 2;

let dir: string;
const results: Record<string, QuantizeResult> = {};

before(() => {
  dir = mkdtempSync(join(tmpdir(), "quanteval-quantize-"));
});
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

function magic(path: string): string {
  return readFileSync(path).subarray(0, 4).toString("latin1");
}

test("parseQuantTypes: canonical names, aliases, duplicates, unknown types", () => {
  assert.deepEqual(
    parseQuantTypes("q8_0, Q4_K_M,q4_k,q4_0").map((t) => t.name),
    ["q8_0", "q4_k_m", "q4_0"],
  );
  assert.equal(findQuantType("q4_k_m")?.ftype, 15);
  assert.equal(findQuantType("f32")?.ftype, 0);
  assert.throws(
    () => parseQuantTypes("q8_0,q9_k"),
    (e: unknown) => e instanceof QuantevalError && /^unknown quantization type 'q9_k' in --types; valid: (?=.*\bq4_k_m\b)(?=.*\bq8_0\b)(?=.*\bf16\b)/.test(e.message),
  );
  assert.throws(() => parseQuantTypes(" "), QuantevalError);
  assert.throws(() => parseQuantTypes("q8_0,,q4_0"), QuantevalError);
});

test("quantizes stories260K to q8_0 and q4_0; outputs load and score", async () => {
  const input = models.stories();
  for (const type of ["q8_0", "q4_0"]) {
    const progress: Array<[number, number]> = [];
    const t0 = performance.now();
    const r = await quantizeModel(input, type, dir, { threads: THREADS, onProgress: (d, t) => progress.push([d, t]) });
    const ms = performance.now() - t0;
    console.log(
      `# ${type}: ${ms.toFixed(0)} ms (llama_model_quantize ${(r.seconds * 1000).toFixed(1)} ms), ${r.file_bytes} bytes, ${r.bits_per_weight.toFixed(2)} bpw, types ${JSON.stringify(r.tensor_types)}`,
    );
    if (r.note) console.log(`# ${r.note}`);
    results[type] = r;
    assert.equal(r.cached, false);
    assert.equal(r.type, type);
    assert.equal(r.path, join(dir, `stories260K-${type}.gguf`));
    assert.equal(magic(r.path), "GGUF");
    assert.equal(r.input_sha256, await sha256File(input));
    assert.equal(r.sha256, await sha256File(r.path));
    assert.equal(r.requested_tensor_type, type);
    assert.ok((r.tensor_types[type] ?? 0) > 0, `written types ${JSON.stringify(r.tensor_types)} contain ${type}`);
    assert.equal(r.n_tensors, 48);
    assert.equal(r.n_weight_tensors, 37);
    // ffn_down rows are 172 wide: not a multiple of 32, so llama.cpp writes them as f16.
    assert.ok(r.fallbacks.some((f) => f.tensor === "blk.0.ffn_down.weight" && f.written === "f16"));
    assert.ok(r.note?.includes("fell back"));
    // progress came from llama.cpp's per-tensor log lines
    assert.ok(progress.length >= 48, `progress events: ${progress.length}`);
    assert.deepEqual(progress.at(-1), [48, 48]);
    // no temp file left, sidecar present
    assert.deepEqual(
      readdirSync(dir).filter((f) => f.includes(".partial")),
      [],
    );
    assert.ok(existsSync(sidecarPath(r.path)));

    const backend = await GgufBackend.open({ name: type, path: r.path, threads: THREADS, gpu: "cpu", gpuLayers: 0 });
    try {
      const d = await backend.describe();
      assert.equal(d.quantization, type.toUpperCase());
      const [ll] = await backend.loglikelihood([{ context: "Once upon a time, there was a little", continuation: " girl" }]);
      assert.ok(Number.isFinite(ll.logprob) && ll.logprob < 0, `logprob ${ll.logprob}`);
      console.log(`# ${type}: logprob(' girl') = ${ll.logprob.toFixed(4)}`);
    } finally {
      await backend.dispose();
    }
  }
  // Same bytes as the quantized variants in the shared folder (made by llama.cpp's quantizer).
  assert.equal(results.q8_0.sha256, await sha256File(models.storiesVariant("q8_0")));
  assert.equal(results.q4_0.sha256, await sha256File(models.storiesVariant("q4_0")));
});

test("a second call is cached: the file is not written again", async () => {
  const first = results.q4_0 ?? (await quantizeModel(models.stories(), "q4_0", dir, { threads: THREADS }));
  const before = statSync(first.path, { bigint: true });
  const again = await quantizeModel(models.stories(), "Q4_0", dir, { threads: THREADS });
  const now = statSync(first.path, { bigint: true });
  assert.equal(again.cached, true);
  assert.equal(now.ino, before.ino, "same file, not replaced");
  assert.equal(now.mtimeNs, before.mtimeNs, "not rewritten");
  assert.equal(again.path, first.path);
  assert.equal(again.sha256, first.sha256);
  assert.deepEqual(again.tensor_types, first.tensor_types);
  assert.deepEqual(again.fallbacks, first.fallbacks);
});

test("a sidecar that does not match the file is not trusted", async () => {
  const r = await quantizeModel(models.stories(), "q5_0", dir, { threads: THREADS });
  const side = JSON.parse(readFileSync(sidecarPath(r.path), "utf8"));
  side.result.file_bytes += 1; // as if the file were truncated/replaced
  writeFileSync(sidecarPath(r.path), JSON.stringify(side));
  const again = await quantizeModel(models.stories(), "q5_0", dir, { threads: THREADS });
  assert.equal(again.cached, false);
  assert.equal(again.sha256, r.sha256);
  assert.equal((await quantizeModel(models.stories(), "q5_0", dir)).cached, true);
});

test("q4_k_m on stories260K reports its fallbacks", async () => {
  const r = await quantizeModel(models.stories(), "q4_k_m", dir, { threads: THREADS });
  console.log(`# q4_k_m: types ${JSON.stringify(r.tensor_types)}; ${r.note}`);
  assert.equal(r.requested_tensor_type, "q4_k");
  assert.equal(r.tensor_types.q4_k, undefined, "no tensor can be q4_k: rows are 64/172 wide");
  assert.ok(r.fallbacks.length >= 35, `fallbacks: ${r.fallbacks.length}`);
  const byName = new Map(r.fallbacks.map((f) => [f.tensor, f]));
  assert.deepEqual(byName.get("blk.0.attn_q.weight"), { tensor: "blk.0.attn_q.weight", requested: "q4_k", written: "q5_0", ncols: 64, block: 256 });
  assert.equal(byName.get("blk.0.ffn_down.weight")?.written, "f16");
  for (const f of r.fallbacks) assert.notEqual(f.requested, f.written);
  assert.match(r.note ?? "", /^q4_k_m: \d+ of 37 weight tensors fell back to another type: .*q4_k->q5_0.*block size 256/);
  assert.equal(magic(r.path), "GGUF");
});

test("errors are user errors and leave no file behind", async () => {
  await assert.rejects(quantizeModel(models.stories(), "q9_k", dir), /unknown quantization type 'q9_k'.*valid: /);
  await assert.rejects(quantizeModel(join(dir, "missing.gguf"), "q4_0", dir), (e: unknown) => e instanceof QuantevalError && /model file not found/.test(e.message));
  const out = mkdtempSync(join(dir, "requant-"));
  // llama.cpp refuses to requantize an already-quantized model.
  await assert.rejects(quantizeModel(models.storiesVariant("q4_0"), "q8_0", out), (e: unknown) => e instanceof QuantevalError && /already quantized/.test(e.message));
  assert.deepEqual(readdirSync(out), []);
});

test("CLI: quantize --json prints the results", async () => {
  const program = new Command("quanteval").exitOverride();
  registerQuantizeCommand(program);
  const chunks: string[] = [];
  const write = process.stdout.write;
  const writeErr = process.stderr.write;
  process.stdout.write = ((s: string) => (chunks.push(String(s)), true)) as typeof process.stdout.write;
  process.stderr.write = (() => true) as typeof process.stderr.write;
  try {
    await program.parseAsync(["quantize", models.stories(), "--types", "q8_0,q4_0", "--out", dir, "--threads", String(THREADS), "--json"], { from: "user" });
  } finally {
    process.stdout.write = write;
    process.stderr.write = writeErr;
  }
  const out = JSON.parse(chunks.join("")) as QuantizeResult[];
  assert.deepEqual(
    out.map((r) => [r.type, r.cached]),
    [
      ["q8_0", true],
      ["q4_0", true],
    ],
  );
  await assert.rejects(program.parseAsync(["quantize", models.stories(), "--types", "q4_0,bogus", "--out", dir], { from: "user" }), /unknown quantization type 'bogus' in --types; valid: /);
});

test("same bytes as llama.cpp's llama-quantize (q4_0)", async (t) => {
  if (!existsSync(REFERENCE_QUANTIZE)) {
    const reason = `reference llama-quantize not found at ${REFERENCE_QUANTIZE} (build it with scripts/build-llamacpp.sh)`;
    console.log(`# skipped: ${reason}`);
    t.skip(reason);
    return;
  }
  const ours = results.q4_0 ?? (await quantizeModel(models.stories(), "q4_0", dir, { threads: THREADS }));
  const ref = join(dir, "reference-q4_0.gguf");
  execFileSync(REFERENCE_QUANTIZE, [models.stories(), ref, "q4_0", String(THREADS)], { stdio: "ignore" });
  const refSha = await sha256File(ref);
  console.log(`# llama-quantize q4_0 sha256 ${refSha}, ours ${ours.sha256}`);
  assert.equal(ours.sha256, refSha);
});
