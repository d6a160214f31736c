// The tensor table of a GGUF file (read with node-llama-cpp's GGUF parser): what a quantization
// actually wrote, and the shapes an imatrix is checked against.
import { ggmlTypes, blockOfTypeName } from "./ggmlTypes.js";
import type { QuantizeFallback } from "./quantizeLog.js";

export interface TensorRow {
  name: string;
  /** ggml type number. */
  type: number;
  dims: number[];
}

/** Every tensor of a GGUF file: name, ggml type, dimensions (ne order). */
export async function readTensorTable(path: string): Promise<TensorRow[]> {
  const { readGgufFileInfo } = await import("node-llama-cpp");
  const info = await readGgufFileInfo(path, {
    logWarnings: false,
    spliceSplitFiles: false,
    ignoreKeys: ["tokenizer.ggml.tokens", "tokenizer.ggml.scores", "tokenizer.ggml.token_type", "tokenizer.ggml.merges"],
  });
  return (info.fullTensorInfo ?? info.tensorInfo ?? []).map((t) => ({ name: t.name, type: Number(t.ggmlType), dims: t.dimensions.map(Number) }));
}

export interface WrittenInfo {
  tensor_types: Record<string, number>;
  n_tensors: number;
  n_weight_tensors: number;
  bits_per_weight: number;
  shapeFallbacks: QuantizeFallback[];
  /** Tensor name → ggml type name written. */
  types_by_tensor: Record<string, string>;
}

/** Reads the tensor table of the written file; flags weight tensors whose shape forced another type. */
export async function inspectWritten(path: string, requested: string): Promise<WrittenInfo> {
  const tensors = await readTensorTable(path);
  const g = ggmlTypes();
  const reqBlock = blockOfTypeName(requested) ?? 1;
  const counts: Record<string, number> = {};
  const byTensor: Record<string, string> = {};
  let bits = 0;
  let elements = 0;
  let weights = 0;
  const shapeFallbacks: QuantizeFallback[] = [];
  for (const t of tensors) {
    const name = g.name(t.type);
    counts[name] = (counts[name] ?? 0) + 1;
    byTensor[t.name] = name;
    const n = t.dims.reduce((a, b) => a * b, 1);
    elements += n;
    const blck = g.blck(t.type);
    if (blck > 0) bits += (n / blck) * g.size(t.type) * 8;
    if (t.dims.length >= 2) {
      weights++;
      if (reqBlock > 1 && name !== requested && t.dims[0] % reqBlock !== 0) {
        shapeFallbacks.push({ tensor: t.name, requested, written: name, ncols: t.dims[0], block: reqBlock });
      }
    }
  }
  return {
    tensor_types: Object.fromEntries(Object.entries(counts).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))),
    n_tensors: tensors.length,
    n_weight_tensors: weights,
    bits_per_weight: elements > 0 ? bits / elements : 0,
    shapeFallbacks,
    types_by_tensor: byTensor,
  };
}

/** One-line summary of fallbacks, e.g. `q4_k_m: 37 of 37 weight tensors fell back ...: 29x q4_k->q5_0, ...`. */
export function describeFallbacks(type: string, fallbacks: QuantizeFallback[], nWeightTensors: number): string | undefined {
  if (fallbacks.length === 0) return undefined;
  const pairs = new Map<string, number>();
  const blocks = new Set<number>();
  const cols = new Set<number>();
  for (const f of fallbacks) {
    const k = `${f.requested}->${f.written}`;
    pairs.set(k, (pairs.get(k) ?? 0) + 1);
    if (f.block) blocks.add(f.block);
    if (f.ncols !== undefined) cols.add(f.ncols);
  }
  const mix = [...pairs]
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${n}x ${k}`)
    .join(", ");
  const why = blocks.size > 0 ? ` (row length ${[...cols].sort((a, b) => a - b).join("/")} not a multiple of the block size ${[...blocks].sort((a, b) => a - b).join("/")})` : "";
  return `${type}: ${fallbacks.length} of ${nWeightTensors} weight tensors fell back to another type: ${mix}${why}`;
}
