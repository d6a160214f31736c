// llama-bench's pp/tg tests, reproduced over the libllama that quanteval evaluates with.
//
// Same procedure as tools/llama-bench/llama-bench.cpp (test_prompt / test_gen) of the
// pinned llama.cpp release: a context of n_prompt + n_gen cells, n_batch 2048, n_ubatch 512,
// one sequence; random token ids (BOS first when the model adds one); one warm-up run of
// each test, then `repetitions` timed runs with the KV cache cleared before each; the
// prefill test decodes n_prompt tokens in n_batch slices with logits for the last one only,
// the generation test makes n_gen single-token llama_decode calls with a synchronize after
// each. Hand-written because no library exposes llama-bench's loop over our own binding.
import { statSync } from "node:fs";
import { cpus } from "node:os";
import type { GpuChoice, LlamaLib, LlamaModel } from "../backends/llamaLib.js";
import { loadLlamaLib } from "../backends/llamaLib.js";
import { NativeBatch, type PlanEntry, runPlan } from "../backends/ggufBatcher.js";
import { QuantevalError } from "../util/errors.js";
import { createRng } from "../util/rng.js";
import { attachThreadpool } from "../backends/threadpool.js";

export interface SpeedBenchOptions {
  threads?: number;
  repetitions?: number;
  nPrompt?: number;
  nGen?: number;
  nBatch?: number;
  nUbatch?: number;
  seed?: number;
  gpu?: GpuChoice;
  /**
   * "sync" calls llama_decode on this thread, as llama-bench does (the default: it measures
   * the engine). "async" goes through runPlan, the path evaluations take (one libuv hop per call).
   */
  call?: "sync" | "async";
  /** Attach a persistent threadpool as llama-bench does (default true). */
  threadpool?: boolean;
}

export interface SpeedBenchResult {
  file_bytes: number;
  params: number;
  bits_per_weight: number;
  load_ms: number;
  prefill_tps_runs: number[];
  decode_tps_runs: number[];
  threads: number;
  repetitions: number;
  n_prompt: number;
  n_gen: number;
  n_batch: number;
  n_ubatch: number;
  rss_before_load_bytes: number;
  lib_dir: string;
  /** Whether a persistent threadpool was attached (false when the CPU backend lacks the API). */
  threadpool: boolean;
}

async function loadModel(lib: LlamaLib, path: string): Promise<{ model: LlamaModel; ms: number }> {
  const mp = lib.model_default_params();
  mp.n_gpu_layers = lib.dir.includes("cuda") || lib.dir.includes("vulkan") ? 999 : 0;
  const t0 = performance.now();
  const model = await new Promise<LlamaModel | null>((resolve, reject) => lib.model_load_from_file.async(path, mp, (err: unknown, m) => (err ? reject(err) : resolve(m))));
  const ms = performance.now() - t0;
  if (!model) throw new QuantevalError(`${path}: llama.cpp could not load this GGUF (truncated, corrupt, or an unsupported architecture); re-download or re-convert it`);
  return { model, ms };
}

/** Measures load time, pp and tg speed of one GGUF model in this process. */
export async function runSpeedBench(modelPath: string, opts: SpeedBenchOptions = {}): Promise<SpeedBenchResult> {
  let fileBytes: number;
  try {
    fileBytes = statSync(modelPath).size;
  } catch {
    throw new QuantevalError(`model file not found: ${modelPath} (check the 'model' path, or set QUANTEVAL_MODELS_DIR)`);
  }
  const threads = opts.threads ?? cpus().length;
  const reps = opts.repetitions ?? 3;
  const nPrompt = opts.nPrompt ?? 512;
  const nGen = opts.nGen ?? 128;
  const nBatch = opts.nBatch ?? 2048;
  const nUbatch = Math.min(opts.nUbatch ?? 512, nBatch);
  if (!Number.isInteger(reps) || reps < 1) throw new QuantevalError(`cost repetitions must be a whole number ≥ 1 (got ${reps})`);
  const lib = loadLlamaLib(opts.gpu ?? "auto");
  const rssBefore = process.memoryUsage().rss;
  const { model, ms: loadMs } = await loadModel(lib, modelPath);
  const cp = lib.context_default_params();
  Object.assign(cp, { n_ctx: nPrompt + nGen, n_batch: nBatch, n_ubatch: nUbatch, n_seq_max: 1, n_threads: threads, n_threads_batch: threads });
  const ctx = lib.init_from_model(model, cp);
  if (!ctx) {
    lib.model_free(model);
    throw new QuantevalError(`${modelPath}: could not create a llama.cpp context of ${nPrompt + nGen} cells for the speed test`);
  }
  const batch = new NativeBatch(lib, Math.max(nBatch, 1), 1);
  // As llama-bench: a persistent threadpool (see threadpool.ts). Off only to measure what it saves.
  const pool = opts.threadpool === false ? null : attachThreadpool(lib, ctx, threads);
  try {
    const vocab = lib.model_get_vocab(model);
    const nVocab = lib.vocab_n_tokens(vocab);
    const bos = lib.vocab_get_add_bos(vocab) ? lib.vocab_bos(vocab) : -1;
    const rng = createRng(opts.seed ?? 1234);
    const mem = lib.get_memory(ctx);
    const decode = async (entries: PlanEntry[]) => {
      if (opts.call === "async") {
        await runPlan(lib, ctx, batch, nVocab, entries, () => {});
      } else {
        for (let from = 0; from < entries.length; from += batch.capacity) {
          const rc = lib.decode(ctx, batch.fill(entries, from, Math.min(entries.length, from + batch.capacity)));
          if (rc !== 0) throw new Error(`llama_decode failed with code ${rc} during the speed test`);
        }
      }
      lib.synchronize(ctx);
    };
    const prompt = async (): Promise<void> => {
      const entries: PlanEntry[] = [];
      for (let i = 0; i < nPrompt; i++) {
        // Logits for the last token of each n_batch slice, as llama_batch_get_one asks.
        const lastOfSlice = i === nPrompt - 1 || (i + 1) % nBatch === 0;
        entries.push({ token: i === 0 && bos >= 0 ? bos : rng.int(nVocab), pos: i, seqs: [0], output: lastOfSlice });
      }
      await decode(entries);
    };
    const gen = async (n: number): Promise<void> => {
      let token = bos >= 0 ? bos : rng.int(nVocab);
      for (let i = 0; i < n; i++) {
        await decode([{ token, pos: i, seqs: [0], output: true }]);
        token = rng.int(nVocab);
      }
    };
    const clear = () => lib.memory_clear(mem, false);
    const timed = async (fn: () => Promise<void>, nTokens: number): Promise<number> => {
      clear();
      const t0 = process.hrtime.bigint();
      await fn();
      return nTokens / (Number(process.hrtime.bigint() - t0) / 1e9);
    };
    const prefill: number[] = [];
    const decodeRuns: number[] = [];
    if (nPrompt > 0) {
      clear();
      await prompt(); // warm-up
      for (let r = 0; r < reps; r++) prefill.push(await timed(prompt, nPrompt));
    }
    if (nGen > 0) {
      clear();
      await gen(1); // warm-up, as llama-bench
      for (let r = 0; r < reps; r++) decodeRuns.push(await timed(() => gen(nGen), nGen));
    }
    const params = Number(lib.model_n_params(model));
    const size = Number(lib.model_size(model));
    return {
      file_bytes: fileBytes,
      params,
      bits_per_weight: params > 0 ? (size * 8) / params : 0,
      load_ms: loadMs,
      prefill_tps_runs: prefill,
      decode_tps_runs: decodeRuns,
      threads,
      repetitions: reps,
      n_prompt: nPrompt,
      n_gen: nGen,
      n_batch: nBatch,
      n_ubatch: nUbatch,
      rss_before_load_bytes: rssBefore,
      lib_dir: lib.dir,
      threadpool: pool !== null,
    };
  } finally {
    pool?.dispose();
    batch.free();
    lib.free(ctx);
    lib.model_free(model);
  }
}
