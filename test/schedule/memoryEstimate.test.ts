// The memory estimate read from the real GGUF headers in ../shared (checked against the shapes
// llama.cpp prints and the resident memory measured by bench/memory.ts --calibrate), and the
// free-memory probes behind the schedule's budget.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { resolveBudget } from "../../src/schedule/memoryBudget.js";
import { estimateFromShape, estimateModelMemory, freeRam, freeVram, kvCacheBytes, readModelShape, type MemoryEstimate } from "../../src/schedule/memoryEstimate.js";
import { planSchedule } from "../../src/schedule/planSchedule.js";
import { models } from "../helpers/shared.js";

const GB = 1e9;
const model = (name: string, gb: number): MemoryEstimate => ({
  name,
  weights_bytes: gb * GB,
  kv_bytes: 0,
  compute_bytes: 0,
  window_bytes: 0,
  total_bytes: gb * GB,
  kv_cells: 4096,
  cache_type: "f16",
  n_vocab: 32000,
  device: "ram",
});
const run = [model("f16", 13.5), model("q8_0", 7), model("q6_k", 5.5), model("q4_k_m", 4.1), model("q3_k_m", 3.3)];

describe("memoryEstimate", () => {
  test("reads the shape of the shared models from their GGUF headers", async () => {
    const s = await readModelShape(models.stories());
    assert.deepEqual({ ...s, weightBytes: undefined }, { weightBytes: undefined, nLayer: 5, nEmbd: 64, nFf: 172, nHead: 8, nHeadKv: 4, headDim: 8, nVocab: 512, nCtxTrain: 2048 });
    assert.ok(s.weightBytes > 1_000_000 && s.weightBytes < 1_185_376, `tensor bytes ${s.weightBytes} < file size`);
    const t = await readModelShape(models.tinyRandom());
    assert.equal(t.nVocab, 32000);
    assert.equal(t.nLayer, 1);
  });

  test("KV cache: n_layer × cells × n_head_kv × head_dim × bytes × 2", async () => {
    // stories260K: 5 layers, 4 KV heads of 8 → 4096 cells × f16 = 2.62 MB (llama.cpp prints 2.50 MiB)
    assert.equal(kvCacheBytes({ nLayer: 5, nHeadKv: 4, headDim: 8 }, 4096, "f16"), 2_621_440);
    // a Llama-2-7B: 32 layers, 32 KV heads of 128, 4096 cells, f16 → 2 GiB, as llama.cpp prints
    assert.equal(kvCacheBytes({ nLayer: 32, nHeadKv: 32, headDim: 128 }, 4096, "f16"), 2 * 1024 ** 3);
    assert.equal(kvCacheBytes({ nLayer: 32, nHeadKv: 32, headDim: 128 }, 4096, "q8_0"), 1.0625 * 1024 ** 3);
  });

  test("estimates within 25% of the peak RSS measured with the real backend (bench/memory.ts --calibrate)", async () => {
    // measured (several runs): stories260K 13.9–14.5 MiB, llama-2-tiny-random 72.7–75.9 MiB (see memoryEstimate.ts)
    const s = await estimateModelMemory("stories", models.stories());
    const t = await estimateModelMemory("tiny", models.tinyRandom());
    for (const [e, measured] of [
      [s, 14.5 * 2 ** 20],
      [t, 74 * 2 ** 20],
    ] as const) {
      assert.ok(Math.abs(e.total_bytes - measured) / measured < 0.25, `${e.name}: estimate ${e.total_bytes} vs measured ${measured}`);
    }
    // With a perplexity task each model also holds the window context (four 512-token windows per
    // llama_decode): measured 214 MiB resident at 32k, 882–884 MiB on a synthetic 128k model.
    const tw = await estimateModelMemory("tiny", models.tinyRandom(), { windowTokens: 512 });
    assert.ok(Math.abs(tw.total_bytes - 214 * 2 ** 20) / (214 * 2 ** 20) < 0.25, `tiny with windows: estimate ${tw.total_bytes}`);
    assert.ok(tw.window_bytes > 128 * 2 ** 20, "1,028 scored rows of 32k logits");
    assert.equal(s.window_bytes, 0, "no window context without a perplexity task");
    assert.equal(s.kv_cells, 4096);
    assert.equal(estimateFromShape("x", await readModelShape(models.stories()), { gpuLayers: 5 }).device, "vram");
  });

  test("free memory: RAM is measured; VRAM is unknown on a CPU-only build, never 0", async () => {
    const ram = await freeRam();
    assert.ok(ram.bytes! > 0);
    const vram = await freeVram();
    // This machine has no GPU: the figure must be unknown with a reason (a GPU machine reports bytes).
    if (vram.source !== "vram") {
      assert.equal(vram.bytes, undefined);
      assert.match(vram.note!, /memory_budget/);
    }
  });
});

describe("resolveBudget", () => {
  test("the budget: config override, else free VRAM when offloaded (unknown on CPU), else free RAM", async () => {
    assert.deepEqual(await resolveBudget({ memoryBudget: "8GB" }), { bytes: 8e9, source: "memory_budget" });
    const ram = await resolveBudget({});
    assert.equal(ram.source, "MemAvailable");
    assert.ok(ram.bytes! > 0);
    // This machine has no GPU: the real probe reports unknown, and the plan falls back to sequential.
    const vram = await resolveBudget({ offloaded: true });
    if (vram.source !== "vram") {
      const plan = planSchedule({ models: run, mode: "auto", budget: vram });
      assert.equal(plan.record.used, "sequential");
      assert.match(plan.record.reason, /memory budget unknown/);
    }
  });
});
