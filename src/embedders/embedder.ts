// The one interface every sentence embedder implements (model2vec, ONNX, HTTP, …).

/**
 * A sentence embedder: turns texts into fixed-size vectors, one per text, in input order.
 * Implementations must be deterministic for the same input and configuration.
 */
export interface Embedder {
  /** A short, stable identifier recorded next to results, e.g. "model2vec:potion-base-8M". */
  readonly id: string;
  /** Embeds each text; the result has exactly one vector per input text, in the same order. */
  embed(texts: string[]): Promise<Float32Array[]>;
  /** Releases native resources (sessions, sockets), if the embedder holds any. */
  dispose?(): Promise<void>;
}
