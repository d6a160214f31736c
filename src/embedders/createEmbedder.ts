// Builds an Embedder from a config spec (the `embedder:` block of a run config).
import type { Embedder } from "./embedder.js";
import { HttpEmbedder } from "./httpEmbedder.js";
import { Model2VecEmbedder } from "./model2vec.js";
import { TransformersEmbedder } from "./transformersEmbedder.js";

/** Which embedder implementation to use. */
export type EmbedderKind = "model2vec" | "onnx" | "http" | "gguf";

/** Embedder configuration, with the snake_case keys used in config files. */
export interface EmbedderSpec {
  kind: EmbedderKind;
  /** Local model folder (model2vec, onnx) or file (gguf). */
  path?: string;
  /** Server base URL (http). */
  base_url?: string;
  /** Model name sent to the server (http). */
  model?: string;
  /** Environment variable holding the API key (http). */
  api_key_env?: string;
}

/**
 * Creates the embedder a spec describes: "model2vec" and "onnx" need `path`; "http" needs
 * `base_url` and `model`; "gguf" needs `path` (a GGUF embedding model, through node-llama-cpp).
 */
export async function createEmbedder(spec: EmbedderSpec): Promise<Embedder> {
  const need = (field: "path" | "base_url" | "model"): string => {
    const v = spec[field];
    if (!v) throw new Error(`embedder kind "${spec.kind}" needs "${field}"`);
    return v;
  };
  switch (spec.kind) {
    case "model2vec":
      return Model2VecEmbedder.load(need("path"));
    case "onnx":
      return TransformersEmbedder.load(need("path"));
    case "http":
      return new HttpEmbedder({ baseUrl: need("base_url"), model: need("model"), apiKeyEnv: spec.api_key_env });
    case "gguf":
      return (await import("./ggufEmbedder.js")).GgufEmbedder.load(need("path"));
    default:
      throw new Error(`unknown embedder kind ${JSON.stringify((spec as { kind: unknown }).kind)}`);
  }
}
