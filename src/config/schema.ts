// The run config: a zod schema whose errors the loader turns into one-line messages
// naming the file and the field.
import { z } from "zod";

/** One model: a baseline or a variant. */
export const modelSpec = z
  .object({
    /** Display name in every table. */
    name: z.string().min(1),
    /** A local path, a bare file name under QUANTEVAL_MODELS_DIR, or an `hf:` URI. Required for gguf and onnx. */
    model: z.string().min(1).optional(),
    /** Inferred from the model path (.gguf → gguf) when absent. */
    backend: z.enum(["gguf", "http", "onnx"]).optional(),
    /** Scoring window per sequence, in tokens. */
    n_ctx: z
      .number()
      .int()
      .min(8)
      .max(1 << 20)
      .optional(),
    /** Total KV cells shared by parallel sequences (gguf). */
    kv_size: z.number().int().min(64).optional(),
    /** Tokens per decode call (gguf). */
    n_batch: z.number().int().min(1).optional(),
    /** Parallel sequences per context (gguf). */
    n_seq_max: z.number().int().min(1).max(256).optional(),
    /** gguf: sequences generated together with continuous batching (default 16, at most n_seq_max). */
    parallel: z.number().int().min(1).max(256).optional(),
    threads: z.number().int().min(1).max(1024).optional(),
    gpu_layers: z.number().int().min(0).optional(),
    gpu: z.enum(["auto", "cpu", "cuda", "vulkan"]).optional(),
    add_bos: z.boolean().optional(),
    /**
     * gguf: flash attention (llama.cpp -fa). Scores depend slightly on how requests are batched, in
     * every setting: "off" with cache_type f32 makes a lone sequence's rows (perplexity windows)
     * bit-identical across batch layouts, but multiple-choice requests packed together still differ
     * by up to ~5e-5 nats per request (measured on stories260K, test/backends/batchInvariance.test.ts).
     */
    flash_attn: z.enum(["auto", "on", "off"]).optional(),
    /** gguf: KV cache type (llama.cpp -ctk/-ctv). */
    cache_type: z.enum(["f16", "f32", "bf16", "q8_0"]).optional(),
    /** gguf: repack weights for the CPU's fastest kernels (default true; false matches llama.cpp's --no-repack). */
    repack: z.boolean().optional(),
    /** HTTP backend: one URL or several replicas. */
    base_url: z.union([z.string().url(), z.array(z.string().url()).min(1)]).optional(),
    /** HTTP backend: name of the environment variable holding the API key (the key itself never goes in a config). */
    api_key_env: z.string().optional(),
    /** HTTP backend: requests in flight at once (per model, across replicas). */
    concurrency: z.number().int().min(1).max(1024).optional(),
    /** HTTP backend: force a scoring protocol instead of detecting it. */
    protocol: z.enum(["llama-completion", "llama-oai", "openai-echo", "vllm-prompt-logprobs", "generate-only"]).optional(),
    /** HTTP backend: how many top log-probs to ask for. */
    top_logprobs: z.number().int().min(1).optional(),
    /**
     * HTTP backend: sha256 of the served weights (64 hex digits, as `sha256sum` prints), so a remote
     * server, or one started with a relative -m path, is recognised as the same weights as another model.
     */
    sha256: z
      .string()
      .regex(/^[0-9a-fA-F]{64}$/, "64 hex digits: the GGUF's sha256 as sha256sum prints it")
      .optional(),
    /** HTTP backend: a local copy of the served GGUF, hashed for the sha256 and read for the file size. */
    file: z.string().min(1).optional(),
    /** HTTP backend: request timeout in milliseconds. */
    timeout_ms: z.number().int().min(1).optional(),
    /** ONNX backend: dtype variant (fp32, fp16, q8, q4 …). */
    dtype: z.string().optional(),
    /** lm-evaluation-harness output standing in for this model: a results_*.json or its --output_path folder (no model is loaded). */
    lm_eval: z.string().min(1).optional(),
    /** Published scores for this model, checked against the measured ones: {task: {metric: value, ci?: number}}, or an lm-eval results file (read when the config loads). */
    reference_scores: z.record(z.string(), z.record(z.string(), z.number())).optional(),
  })
  .strict();

/**
 * The baseline: a model, or `from` a finished run folder whose baseline scores (and stored
 * distributions, kept with keep_distributions) this run takes instead of evaluating it again.
 */
export const baselineSpec = modelSpec
  .extend({
    /** A finished run's --out folder: its baseline of this name serves every task already evaluated there (src/run/baselineFrom.ts). */
    from: z.string().min(1).optional(),
  })
  .strict();

/** One calibration of an imatrix sweep: text (file or dataset id), chunks, optional chunk length and name. */
export const imatrixCalibration = z
  .object({
    /** Calibration text: a text file, a row dataset file, or <id>:<config>:<split>. */
    data: z.string().min(1),
    chunks: z.number().int().min(1),
    /** Tokens per chunk (default 512, as llama-imatrix). */
    n_ctx: z.number().int().min(16).optional(),
    /** Short name in variant names (`q4_k_m@<name>-<chunks>`); defaults from the data file. */
    name: z
      .string()
      .regex(/^[A-Za-z0-9_.-]+$/, "letters, digits, _ . - only")
      .optional(),
  })
  .strict();

export const quantizeSweep = z
  .object({
    /** Quantization types to produce from the baseline with llama.cpp's quantizer. */
    quantize: z.array(z.string().min(1)).min(1),
    /** Calibrations: each type is made once per entry (`none`: without an imatrix). */
    imatrix: z
      .array(z.union([imatrixCalibration, z.literal("none")]))
      .min(1)
      .optional(),
    /** Per-tensor types for every variant (tensor-name regex → ggml type), as llama-quantize --tensor-type. */
    tensor_types: z.record(z.string(), z.string().min(1)).optional(),
    /** Where the variants are written; defaults to <out>/variants. */
    out: z.string().optional(),
  })
  .strict();

/**
 * A task entry as the config schema sees it: its `task` (and display `name`). Every other key
 * belongs to the entry's task kind, whose strict schema checks it when the config loads
 * (src/tasks/kinds/*.ts; unknown keys get "did you mean").
 */
export const taskSpec = z
  .object({
    /** A built-in task name, a path to a task YAML, or a code task (`perplexity`, `generate`). */
    task: z.string().min(1),
    /** Display name when the same task appears twice. */
    name: z.string().optional(),
  })
  .passthrough();

export const configSchema = z
  .object({
    baseline: baselineSpec,
    variants: z.union([z.array(modelSpec), quantizeSweep]).default([]),
    tasks: z.array(taskSpec).min(1),
    /** Seeds few-shot draws and bootstrap resamples. */
    seed: z.number().int().default(1234),
    /** Evaluate the baseline twice under another batch layout and report it as a row. */
    noise_floor: z.boolean().default(false),
    /** Bootstrap resamples for confidence intervals. */
    bootstrap: z.number().int().min(1000).max(1_000_000).default(1000),
    /** Measure load time, prefill and decode speed and peak memory per model. */
    cost: z.boolean().default(false),
    /** Which models are resident together: `auto` (together when they fit memory_budget), `sequential` (one at a time) or `together`. */
    schedule: z.enum(["auto", "sequential", "together"]).default("auto"),
    /** Memory the schedule may use ("16GiB", "24GB" or bytes); defaults to free RAM (free VRAM when layers are offloaded). */
    memory_budget: z.union([z.string().min(1), z.number().positive()]).optional(),
    /** Keep the baseline's stored next-token distributions (<out>/distributions) after the run instead of deleting them. */
    keep_distributions: z.boolean().default(false),
    /** Where dataset ids and data files are looked up; relative to the config's folder. */
    data_dir: z.string().optional(),
    /** Where bare model file names and hf: models are looked up; relative to the config's folder. */
    models_dir: z.string().optional(),
  })
  .strict();

export type ModelSpec = z.infer<typeof modelSpec>;
export type BaselineSpec = z.infer<typeof baselineSpec>;
export type TaskSpec = z.infer<typeof taskSpec>;
export type QuantizeSweep = z.infer<typeof quantizeSweep>;
export type ImatrixCalibration = z.infer<typeof imatrixCalibration>;
export type RunConfig = z.infer<typeof configSchema>;
