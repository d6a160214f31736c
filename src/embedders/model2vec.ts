// A Model2Vec static sentence embedder (https://github.com/MinishLab/model2vec), run in-process
// from a local model folder: model.safetensors + tokenizer.json + config.json.
//
// It mirrors model2vec's StaticModel.encode():
//   - texts are first cut to max_length × (median vocabulary token length) characters;
//   - tokenized with the folder's tokenizer.json WITHOUT special tokens;
//   - the tokenizer model's unknown token is dropped;
//   - token ids are cut to max_length (512, model2vec's default);
//   - the vector is the mean over tokens of embeddings[mapping[id]] · weights[id]
//     (`mapping`/`weights` exist only in vocabulary-quantized models; otherwise row = id, weight = 1);
//   - a text with no tokens left embeds to all zeros;
//   - the vector is L2-normalized (norm + 1e-32, as model2vec does) when config.json says "normalize": true.
import { existsSync, readFileSync, statSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import type { Embedder } from "./embedder.js";

/** One tensor read from a safetensors file, converted to a JavaScript typed array. */
export interface SafetensorsTensor {
  dtype: string;
  shape: number[];
  data: Float32Array | Float64Array | Int32Array;
}

const DTYPE_BYTES: Record<string, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1 };
const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Parses a safetensors file held in memory: an 8-byte little-endian header length N, N bytes of
 * JSON header ({name: {dtype, shape, data_offsets: [begin, end]}}, plus optional "__metadata__"),
 * then the raw little-endian tensor bytes (offsets are relative to the end of the header).
 * F64 stays Float64Array; F32/F16/BF16 become Float32Array; I32/I16/I8/U8 become Int32Array;
 * I64 becomes Float64Array (exact up to 2^53).
 */
export function parseSafetensors(bytes: Uint8Array, source = "safetensors"): Map<string, SafetensorsTensor> {
  if (bytes.byteLength < 8) throw new Error(`${source}: too short to be a safetensors file`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = Number(view.getBigUint64(0, true));
  if (headerLen > bytes.byteLength - 8) throw new Error(`${source}: header length ${headerLen} exceeds file size`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLen))) as Record<string, unknown>;
  } catch (e) {
    throw new Error(`${source}: header is not valid JSON (${(e as Error).message})`);
  }
  const dataStart = 8 + headerLen;
  const tensors = new Map<string, SafetensorsTensor>();
  for (const [name, raw] of Object.entries(header)) {
    if (name === "__metadata__") continue;
    const info = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const dtype = String(info.dtype);
    const width = DTYPE_BYTES[dtype];
    if (width === undefined) throw new Error(`${source}: tensor "${name}" has unsupported dtype ${dtype}`);
    const shape = info.shape as number[];
    const [begin, end] = info.data_offsets as [number, number];
    const count = shape.reduce((a, b) => a * b, 1);
    if (end - begin !== count * width || dataStart + end > bytes.byteLength) {
      throw new Error(`${source}: tensor "${name}" offsets [${begin}, ${end}] do not fit shape [${shape}] ${dtype}`);
    }
    tensors.set(name, { dtype, shape, data: decode(bytes, dataStart + begin, count, dtype) });
  }
  return tensors;
}

function decode(bytes: Uint8Array, at: number, count: number, dtype: string): SafetensorsTensor["data"] {
  // Copy into a fresh, aligned buffer (typed-array views need alignment; note that Node's
  // Buffer.slice would NOT copy, hence new Uint8Array(subarray)).
  const copy = new Uint8Array(bytes.subarray(at, at + count * DTYPE_BYTES[dtype]));
  const dv = new DataView(copy.buffer);
  switch (dtype) {
    case "F32":
      if (HOST_LITTLE_ENDIAN) return new Float32Array(copy.buffer);
      return Float32Array.from({ length: count }, (_, i) => dv.getFloat32(i * 4, true));
    case "F64":
      if (HOST_LITTLE_ENDIAN) return new Float64Array(copy.buffer);
      return Float64Array.from({ length: count }, (_, i) => dv.getFloat64(i * 8, true));
    case "F16":
      return Float32Array.from({ length: count }, (_, i) => halfToFloat(dv.getUint16(i * 2, true)));
    case "BF16":
      return Float32Array.from({ length: count }, (_, i) => {
        const f = new DataView(new ArrayBuffer(4));
        f.setUint32(0, dv.getUint16(i * 2, true) << 16);
        return f.getFloat32(0);
      });
    case "I64":
      return Float64Array.from({ length: count }, (_, i) => Number(dv.getBigInt64(i * 8, true)));
    case "I32":
      if (HOST_LITTLE_ENDIAN) return new Int32Array(copy.buffer);
      return Int32Array.from({ length: count }, (_, i) => dv.getInt32(i * 4, true));
    case "I16":
      return Int32Array.from({ length: count }, (_, i) => dv.getInt16(i * 2, true));
    case "I8":
      return Int32Array.from({ length: count }, (_, i) => dv.getInt8(i));
    default: // U8
      return Int32Array.from(copy);
  }
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

/** Options for {@link Model2VecEmbedder.load}. */
export interface Model2VecOptions {
  /** Maximum tokens per text (model2vec's `max_length`, default 512); null disables truncation. */
  maxTokens?: number | null;
  /** Overrides config.json's "normalize". */
  normalize?: boolean;
}

/** The minimal tokenizer surface the embedder needs (an @huggingface/transformers tokenizer fits). */
interface IdTokenizer {
  encode(text: string, options: { add_special_tokens: boolean }): number[];
  get_vocab(): Map<string, number>;
}

/** A Model2Vec static embedder loaded from a local folder; see the file comment for the exact algorithm. */
export class Model2VecEmbedder implements Embedder {
  /** "model2vec:" + the folder's name. */
  readonly id: string;
  /** Embedding dimension. */
  readonly dim: number;
  /** Whether output vectors are L2-normalized. */
  readonly normalize: boolean;

  private constructor(
    readonly folder: string,
    private readonly tokenizer: IdTokenizer,
    private readonly embeddings: Float32Array,
    private readonly mapping: Int32Array | null,
    private readonly weights: Float64Array | Float32Array | null,
    private readonly unkId: number | null,
    private readonly maxTokens: number | null,
    private readonly maxChars: number | null,
    dim: number,
    normalize: boolean,
  ) {
    this.id = `model2vec:${basename(folder)}`;
    this.dim = dim;
    this.normalize = normalize;
  }

  /**
   * Loads a Model2Vec folder (model.safetensors, tokenizer.json, optional config.json). Works fully
   * offline: the tokenizer is built from tokenizer.json directly, never fetched.
   */
  static async load(folder: string, options: Model2VecOptions = {}): Promise<Model2VecEmbedder> {
    const dir = resolve(folder);
    if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new Error(`model2vec model folder not found: ${dir}`);
    const need = (f: string): string => {
      const p = join(dir, f);
      if (!existsSync(p)) throw new Error(`model2vec model folder ${dir} has no ${f}`);
      return p;
    };
    const modelPath = need("model.safetensors");
    const tokenizerPath = need("tokenizer.json");
    const configPath = join(dir, "config.json");
    const config = existsSync(configPath) ? (JSON.parse(readFileSync(configPath, "utf8")) as Record<string, unknown>) : {};

    const tensors = parseSafetensors(readFileSync(modelPath), modelPath);
    const emb = tensors.get("embeddings");
    if (!emb || emb.shape.length !== 2) throw new Error(`${modelPath}: no 2-D "embeddings" tensor`);
    const [rows, dim] = emb.shape;
    const embeddings = emb.data instanceof Float32Array ? emb.data : Float32Array.from(emb.data);
    const mapT = tensors.get("mapping");
    const mapping = mapT ? (mapT.data instanceof Int32Array ? mapT.data : Int32Array.from(mapT.data)) : null;
    const weights = tensors.get("weights")?.data ?? null;
    if (weights instanceof Int32Array) throw new Error(`${modelPath}: "weights" must be a float tensor`);

    // model2vec uses the raw tokenizers.Tokenizer from tokenizer.json (no tokenizer_config.json,
    // which AutoTokenizer.from_pretrained requires), so build the tokenizer from the JSON itself.
    const tokenizerJson = JSON.parse(readFileSync(tokenizerPath, "utf8")) as {
      model?: { type?: string; unk_id?: number | null; unk_token?: string | null };
    };
    const { PreTrainedTokenizer } = await import("@huggingface/transformers");
    const tokenizer = new PreTrainedTokenizer(tokenizerJson, {}) as unknown as IdTokenizer;
    const vocab = tokenizer.get_vocab();

    const vocabSize = mapping ? mapping.length : rows;
    if (vocab.size !== vocabSize) {
      throw new Error(`${dir}: tokenizer has ${vocab.size} tokens but the model has ${vocabSize} token rows`);
    }
    if (mapping) {
      for (const r of mapping) if (r < 0 || r >= rows) throw new Error(`${modelPath}: mapping points outside embeddings`);
    }
    if (weights && weights.length !== vocabSize) throw new Error(`${modelPath}: weights length ${weights.length} != ${vocabSize}`);

    // Unknown token: Unigram models store its id, WordPiece/BPE/WordLevel its string.
    const m = tokenizerJson.model ?? {};
    let unkId: number | null = null;
    if (typeof m.unk_id === "number") unkId = m.unk_id;
    else if (typeof m.unk_token === "string") unkId = vocab.get(m.unk_token) ?? null;

    const maxTokens = options.maxTokens === undefined ? 512 : options.maxTokens;
    if (maxTokens !== null && !(Number.isInteger(maxTokens) && maxTokens > 0)) {
      throw new Error(`model2vec: maxTokens must be a positive integer or null, got ${maxTokens}`);
    }
    const maxChars = maxTokens === null ? null : maxTokens * medianTokenLength(vocab);
    const normalize = options.normalize ?? config.normalize === true;
    return new Model2VecEmbedder(dir, tokenizer, embeddings, mapping, weights, unkId, maxTokens, maxChars, dim, normalize);
  }

  /** Token ids model2vec would average for this text (after truncation and unknown-token removal). */
  tokenIds(text: string): number[] {
    let t = text;
    if (this.maxChars !== null && t.length > this.maxChars) t = Array.from(t).slice(0, this.maxChars).join("");
    let ids = this.tokenizer.encode(t, { add_special_tokens: false });
    if (this.unkId !== null) ids = ids.filter((id) => id !== this.unkId);
    if (this.maxTokens !== null && ids.length > this.maxTokens) ids = ids.slice(0, this.maxTokens);
    return ids;
  }

  /** Embeds one text synchronously. */
  embedOne(text: string): Float32Array {
    const ids = this.tokenIds(text);
    const acc = new Float64Array(this.dim);
    for (const id of ids) {
      const row = (this.mapping ? this.mapping[id] : id) * this.dim;
      const w = this.weights ? this.weights[id] : 1;
      for (let d = 0; d < this.dim; d++) acc[d] += this.embeddings[row + d] * w;
    }
    const out = new Float32Array(this.dim);
    if (ids.length === 0) return out;
    let norm = 0;
    for (let d = 0; d < this.dim; d++) {
      acc[d] /= ids.length;
      norm += acc[d] * acc[d];
    }
    const scale = this.normalize ? 1 / (Math.sqrt(norm) + 1e-32) : 1;
    for (let d = 0; d < this.dim; d++) out[d] = acc[d] * scale;
    return out;
  }

  /** Embeds each text (see the file comment); one vector of length {@link dim} per text. */
  async embed(texts: string[]): Promise<Float32Array[]> {
    return texts.map((t) => this.embedOne(t));
  }
}

/** model2vec's median_token_length: int(np.median(len(token) for every vocabulary token)). */
function medianTokenLength(vocab: Map<string, number>): number {
  const lens = Array.from(vocab.keys(), (t) => Array.from(t).length).sort((a, b) => a - b);
  if (lens.length === 0) return 1;
  const mid = lens.length >> 1;
  const median = lens.length % 2 === 1 ? lens[mid] : (lens[mid - 1] + lens[mid]) / 2;
  return Math.max(1, Math.trunc(median));
}
