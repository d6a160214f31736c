// What running a model costs: size, load time, prefill and decode speed, peak memory.
// The seven flat keys are the ones results.json carries per model.

/** Cost of one model, measured in a child process of its own (see measureCost.ts). */
export interface CostMetrics {
  /** Size of the GGUF file on disk. */
  file_bytes: number;
  /** Parameter count (llama_model_n_params). */
  params: number;
  /** Tensor bytes × 8 / params, as GgufBackend.describe() and llama-bench compute it. */
  bits_per_weight: number;
  /** Wall time of llama_model_load_from_file, in milliseconds. */
  load_ms: number;
  /** Median prompt-processing speed (pp512-like: one sequence of n_prompt tokens), tokens/s. */
  prefill_tps: number;
  /** Median generation speed (tg128-like: n_gen single-token decode steps), tokens/s. */
  decode_tps: number;
  /** Peak resident set size of the measuring process (VmHWM on Linux, else getrusage maxrss), Node.js runtime included. */
  peak_rss_bytes: number;
  /** How the figures were measured, and every repetition. */
  cost_detail: CostDetail;
}

export interface CostDetail {
  threads: number;
  repetitions: number;
  n_prompt: number;
  n_gen: number;
  n_batch: number;
  n_ubatch: number;
  prefill_tps_runs: number[];
  decode_tps_runs: number[];
  /** RSS of the measuring process just before the model was loaded (the runtime's share of peak_rss_bytes). */
  rss_before_load_bytes: number;
  /** Which libllama build ran the test (node-llama-cpp's prebuilt binaries). */
  lib_dir: string;
  /** A persistent threadpool was attached, as llama-bench does (see threadpool.ts). */
  threadpool: boolean;
}

export interface CostOptions {
  /** CPU threads; defaults to the number of cores, as llama-bench's tests are usually run. */
  threads?: number;
  /** Timed repetitions of each test after one warm-up; the median is reported. Default 3. */
  repetitions?: number;
  /** Prompt tokens of the prefill test. Default 512 (pp512). */
  nPrompt?: number;
  /** Decode steps of the generation test. Default 128 (tg128). */
  nGen?: number;
  /** Seed of the random token ids (llama-bench also feeds random tokens). Default 1234. */
  seed?: number;
  /** Give up after this many milliseconds. Default 15 minutes. */
  timeoutMs?: number;
}

/** The middle value (mean of the two middle values for an even count). */
export function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
