// A GGUF embedding model run in-process through node-llama-cpp's embedding context
// (llama.cpp pooling as set in the GGUF metadata: mean/CLS/last for embedding models,
// the last token's hidden state for plain decoder models). Never downloads or builds anything:
// node-llama-cpp's prebuilt CPU binary is used as shipped.
import { existsSync, statSync } from "node:fs";
import { basename, resolve } from "node:path";
import type { Embedder } from "./embedder.js";

/** Options for {@link GgufEmbedder.load}. */
export interface GgufEmbedderOptions {
  /** Context size in tokens; longer texts are cut to fit (default 512). */
  contextSize?: number;
  /** CPU threads (default: node-llama-cpp's default). On a busy machine 1–2 avoids slow oversubscription. */
  threads?: number;
  /** L2-normalize output vectors (default true, as sentence-embedding models do). */
  normalize?: boolean;
}

type NodeLlama = typeof import("node-llama-cpp");
type Llama = Awaited<ReturnType<NodeLlama["getLlama"]>>;
type LlamaModel = Awaited<ReturnType<Llama["loadModel"]>>;
type EmbeddingContext = Awaited<ReturnType<LlamaModel["createEmbeddingContext"]>>;

/** A GGUF embedding model through node-llama-cpp. */
export class GgufEmbedder implements Embedder {
  /** "gguf:" + the file name. */
  readonly id: string;

  private constructor(
    readonly path: string,
    private readonly llama: Llama,
    private readonly model: LlamaModel,
    private readonly context: EmbeddingContext,
    private readonly maxTokens: number,
    private readonly normalize: boolean,
  ) {
    this.id = `gguf:${basename(path)}`;
  }

  /** Loads the .gguf file; a missing file fails with a one-line error before node-llama-cpp loads. */
  static async load(path: string, options: GgufEmbedderOptions = {}): Promise<GgufEmbedder> {
    const file = resolve(path);
    if (!existsSync(file) || !statSync(file).isFile()) throw new Error(`GGUF embedding model not found: ${file}`);
    const contextSize = options.contextSize ?? 512;
    const { getLlama, LlamaLogLevel } = await import("node-llama-cpp");
    const llama = await getLlama({ gpu: false, build: "never", skipDownload: true, logLevel: LlamaLogLevel.error, progressLogs: false });
    let model: LlamaModel | undefined;
    try {
      model = await llama.loadModel({ modelPath: file });
      const context = await model.createEmbeddingContext({ contextSize, ...(options.threads ? { threads: options.threads } : {}) });
      return new GgufEmbedder(file, llama, model, context, contextSize, options.normalize ?? true);
    } catch (e) {
      await model?.dispose().catch(() => undefined);
      await llama.dispose().catch(() => undefined);
      throw new Error(`could not load GGUF embedding model ${file}: ${(e as Error).message.split("\n")[0]}`);
    }
  }

  /** Embeds each text (cut to the context size in tokens); one vector per text, in input order. */
  async embed(texts: string[]): Promise<Float32Array[]> {
    const out: Float32Array[] = [];
    for (const text of texts) {
      let tokens = this.model.tokenize(text);
      // node-llama-cpp adds BOS/EOS and needs input length < context size: keep 3 cells free.
      if (tokens.length > this.maxTokens - 3) tokens = tokens.slice(0, this.maxTokens - 3);
      // An empty text has no token to pool: embed to zeros, as model2vec does.
      if (tokens.length === 0) {
        out.push(new Float32Array(this.model.embeddingVectorSize));
        continue;
      }
      const v = Float32Array.from((await this.context.getEmbeddingFor(tokens)).vector);
      if (this.normalize) {
        let n = 0;
        for (const x of v) n += x * x;
        const s = n > 0 ? 1 / Math.sqrt(n) : 1;
        for (let i = 0; i < v.length; i++) v[i] *= s;
      }
      out.push(v);
    }
    return out;
  }

  /** Frees the context, the model and node-llama-cpp's bindings. */
  async dispose(): Promise<void> {
    await this.context.dispose();
    await this.model.dispose();
    await this.llama.dispose();
  }
}
