// A sentence-transformer embedder running an ONNX model in-process through
// @huggingface/transformers' 'feature-extraction' pipeline, from a local folder laid out the
// way transformers.js expects (config.json, tokenizer.json, tokenizer_config.json,
// onnx/model.onnx or onnx/model_<dtype>.onnx). Never downloads anything.
import { existsSync, statSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import type { DataType, DeviceType, FeatureExtractionPipeline } from "@huggingface/transformers";
import type { Embedder } from "./embedder.js";

/** Options for {@link TransformersEmbedder.load}. */
export interface TransformersEmbedderOptions {
  /** ONNX weights variant to load ("fp32" → onnx/model.onnx, "q8" → onnx/model_quantized.onnx, …). Default: library default. */
  dtype?: DataType;
  /** Execution device (default: library default, "cpu" in Node). */
  device?: DeviceType;
  /** Token pooling; sentence-transformers models mostly use "mean" (the default). */
  pooling?: "mean" | "cls";
  /** L2-normalize output vectors (default true). */
  normalize?: boolean;
  /** Texts per pipeline call (default 32). */
  batchSize?: number;
}

/** An ONNX sentence-transformer embedder (mean pooling + normalize by default). */
export class TransformersEmbedder implements Embedder {
  /** "onnx:" + the folder's name. */
  readonly id: string;

  private constructor(
    readonly folder: string,
    private readonly extractor: FeatureExtractionPipeline,
    private readonly pooling: "mean" | "cls",
    private readonly normalize: boolean,
    private readonly batchSize: number,
  ) {
    this.id = `onnx:${basename(folder)}`;
  }

  /**
   * Loads the model folder with local files only. A missing folder or config.json fails fast with a
   * one-line error naming the path, before the (heavy) library is even imported.
   */
  static async load(folder: string, options: TransformersEmbedderOptions = {}): Promise<TransformersEmbedder> {
    // Absolute path on purpose: transformers.js treats a relative "org/name" string as a Hub
    // model id and would look under env.localModelPath instead of the given folder.
    const dir = resolve(folder);
    if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new Error(`ONNX embedding model folder not found: ${dir}`);
    if (!existsSync(join(dir, "config.json"))) throw new Error(`ONNX embedding model folder ${dir} has no config.json`);
    const batchSize = options.batchSize ?? 32;
    if (!(Number.isInteger(batchSize) && batchSize > 0)) throw new Error(`onnx embedder: batchSize must be a positive integer, got ${batchSize}`);

    const { pipeline } = await import("@huggingface/transformers");
    let extractor: FeatureExtractionPipeline;
    try {
      extractor = (await pipeline("feature-extraction", dir, {
        local_files_only: true,
        ...(options.dtype ? { dtype: options.dtype } : {}),
        ...(options.device ? { device: options.device } : {}),
      })) as FeatureExtractionPipeline;
    } catch (e) {
      const msg = (e as Error).message.split("\n")[0];
      throw new Error(`could not load ONNX embedding model from ${dir}: ${msg}`);
    }
    return new TransformersEmbedder(dir, extractor, options.pooling ?? "mean", options.normalize ?? true, batchSize);
  }

  /** Embeds texts in batches; one vector per text, in input order. */
  async embed(texts: string[]): Promise<Float32Array[]> {
    const out: Float32Array[] = [];
    for (let i = 0; i < texts.length; i += this.batchSize) {
      const batch = texts.slice(i, i + this.batchSize);
      const tensor = await this.extractor(batch, { pooling: this.pooling, normalize: this.normalize });
      const dims = tensor.dims;
      if (dims.length !== 2 || dims[0] !== batch.length) {
        throw new Error(`${this.id}: expected output of shape [${batch.length}, dim], got [${dims.join(", ")}]`);
      }
      const dim = dims[1];
      const data = tensor.data as ArrayLike<number>;
      for (let r = 0; r < batch.length; r++) out.push(Float32Array.from({ length: dim }, (_, d) => Number(data[r * dim + d])));
    }
    return out;
  }

  /** Releases the ONNX Runtime session. */
  async dispose(): Promise<void> {
    await this.extractor.dispose();
  }
}
