// k-quant and IQ paths with an importance matrix, on a synthetic random-weight Llama whose rows
// are 256 wide (stories260K's 64/172-wide rows fit no k-quant or IQ block, so llama.cpp falls
// back there). Made by bench/make-synthetic-model.py with llama.cpp's own gguf-py.
// What is MECHANICAL here: the weights are random, so KLDs and "does the imatrix help" mean
// nothing on this model; the claims are only that the paths run, write the requested types, use
// the imatrix (other bytes than without), and refuse what they must refuse.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { readCalibrationText } from "../../src/quantize/imatrix/calibrationText.js";
import { readImatrix } from "../../src/quantize/imatrix/imatrixFile.js";
import { makeImatrixFile } from "../../src/quantize/imatrix/makeImatrix.js";
import { quantizeModel } from "../../src/quantize/quantizeModel.js";
import { QuantevalError } from "../../src/util/errors.js";
import { models, repoRoot, sharedPath } from "../helpers/shared.js";

const THREADS = 2;
let dir: string;
let model: string | undefined;
let skip: string | undefined;
let imatrix: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "quanteval-synth-"));
  const ggufPy = join(process.env.QUANTEVAL_CACHE ?? join(homedir(), ".cache", "quanteval"), "llama.cpp-v0.5.0", "gguf-py");
  if (!existsSync(ggufPy)) {
    skip = `llama.cpp's gguf-py not at ${ggufPy} (bash scripts/build-llamacpp.sh clones it)`;
    return;
  }
  const out = join(dir, "synthetic-256x2.gguf");
  const args = [join(repoRoot, "bench", "make-synthetic-model.py"), "--gguf-py", ggufPy, "--donor", models.stories(), "--out", out];
  args.push("--n-embd", "256", "--n-layer", "2", "--n-ff", "512", "--n-head", "4", "--n-head-kv", "4", "--n-ctx", "512", "--dtype", "f32");
  const r = spawnSync("python3", args, { encoding: "utf8" });
  if (r.status !== 0) {
    skip = `make-synthetic-model.py failed (needs python3 with numpy): ${(r.stderr ?? "").trim().split("\n").pop()}`;
    return;
  }
  model = out;
  const wiki = await readCalibrationText(sharedPath("datasets", "wikitext-2-raw-v1", "wiki.test.raw"), "--data", { baseDir: dir });
  imatrix = join(dir, "synthetic-wiki.gguf");
  await makeImatrixFile(model, wiki, imatrix, { chunks: 4, nCtx: 128, threads: THREADS });
});
after(() => rmSync(dir, { recursive: true, force: true }));

test("imatrix of the synthetic model covers its 2 × 7 block matrices with 256/512-wide inputs", (t) => {
  if (skip) return t.skip(skip);
  const d = readImatrix(imatrix);
  assert.equal(d.entries.size, 14);
  assert.equal(d.entries.get("blk.0.ffn_down.weight")!.ne0, 512);
  assert.equal(d.entries.get("blk.1.attn_q.weight")!.ne0, 256);
});

test("k-quants with the imatrix: q4_k_m and q2_k write k-quant blocks, and the imatrix changes them (mechanical)", async (t) => {
  if (skip) return t.skip(skip);
  for (const type of ["q4_k_m", "q2_k"]) {
    const plain = await quantizeModel(model!, type, dir, { threads: THREADS });
    const withIm = await quantizeModel(model!, type, dir, { threads: THREADS, imatrix });
    const base = type === "q4_k_m" ? "q4_k" : "q2_k";
    assert.ok((withIm.tensor_types[base] ?? 0) > 0, `${type}: written ${JSON.stringify(withIm.tensor_types)}`);
    assert.deepEqual(withIm.tensor_types, plain.tensor_types, `${type}: the imatrix does not change the type mix`);
    assert.notEqual(withIm.sha256, plain.sha256, `${type}: the imatrix was used`);
    assert.equal(withIm.fallbacks.length, 0, `${type}: ${withIm.note}`);
  }
});

test("IQ types: iq2_xs and iq1_s need the imatrix and run with it (mechanical)", async (t) => {
  if (skip) return t.skip(skip);
  const out = mkdtempSync(join(dir, "iq-"));
  await assert.rejects(quantizeModel(model!, "iq2_xs", out), (e: unknown) => e instanceof QuantevalError && /^iq2_xs needs an importance matrix/.test(e.message));
  await assert.rejects(quantizeModel(model!, "iq1_s", out), (e: unknown) => e instanceof QuantevalError && /^iq1_s needs an importance matrix/.test(e.message));
  assert.deepEqual(readdirSync(out), [], "refused before any work");
  for (const type of ["iq2_xs", "iq1_s", "iq4_xs"]) {
    const r = await quantizeModel(model!, type, out, { threads: THREADS, imatrix });
    assert.ok((r.tensor_types[type] ?? 0) > 0, `${type}: written ${JSON.stringify(r.tensor_types)}`);
  }
});

test("tensor_types on the synthetic model: ffn_down=q6_k, attn_v=q8_0 over q4_k_m", async (t) => {
  if (skip) return t.skip(skip);
  const r = await quantizeModel(model!, "q4_k_m", dir, { threads: THREADS, tensorTypes: { ffn_down: "q6_k", attn_v: "Q8_0" } });
  assert.deepEqual(r.tensor_overrides, { ffn_down: "q6_k", attn_v: "q8_0" });
  assert.match(r.name, /^q4_k_m@ffn_down-q6_k\+attn_v-q8_0$/);
  const { readTensorTable } = await import("../../src/quantize/writtenTensors.js");
  const { ggmlTypes } = await import("../../src/quantize/ggmlTypes.js");
  const types = new Map((await readTensorTable(r.path)).map((x) => [x.name, ggmlTypes().name(x.type)]));
  for (const l of [0, 1]) {
    assert.equal(types.get(`blk.${l}.ffn_down.weight`), "q6_k");
    assert.equal(types.get(`blk.${l}.attn_v.weight`), "q8_0");
    assert.equal(types.get(`blk.${l}.attn_q.weight`), "q4_k");
  }
  await assert.rejects(
    quantizeModel(model!, "q4_k_m", dir, { tensorTypes: { ffn_down: "q9_k" } }),
    (e: unknown) => e instanceof QuantevalError && /^tensor_types\.ffn_down: unknown ggml type 'q9_k'; valid: .*q6_k/.test(e.message),
  );
});

test("same bytes as llama-quantize for iq2_xs --imatrix and q4_k_m --tensor-type (synthetic model)", async (t) => {
  if (skip) return t.skip(skip);
  const { llamaBinDir } = await import("../helpers/llamaBin.js");
  const { execFileSync } = await import("node:child_process");
  const { sha256File } = await import("../../src/util/sha256File.js");
  const bin = join(llamaBinDir(), "llama-quantize");
  if (!existsSync(bin)) return t.skip(`llama-quantize not built in ${llamaBinDir()}`);
  const iq = await quantizeModel(model!, "iq2_xs", dir, { threads: THREADS, imatrix });
  const refIq = join(dir, "ref-iq2_xs.gguf");
  execFileSync(bin, ["--imatrix", imatrix, model!, refIq, "iq2_xs", String(THREADS)], { stdio: "ignore" });
  assert.equal(iq.sha256, await sha256File(refIq), "iq2_xs --imatrix");
  const tt = await quantizeModel(model!, "q4_k_m", dir, { threads: THREADS, tensorTypes: { ffn_down: "q6_k", attn_v: "q8_0" } });
  const refTt = join(dir, "ref-q4_k_m-tt.gguf");
  execFileSync(bin, ["--tensor-type", "ffn_down=q6_k", "--tensor-type", "attn_v=q8_0", model!, refTt, "q4_k_m", String(THREADS)], { stdio: "ignore" });
  assert.equal(tt.sha256, await sha256File(refTt), "q4_k_m --tensor-type");
});
