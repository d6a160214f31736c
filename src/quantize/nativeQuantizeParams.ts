// Builds the native arrays llama_model_quantize_params points to: the importance matrix
// (`imatrix`, an array of llama_model_imatrix_data terminated by a null name) and per-tensor
// type overrides (`tt_overrides`, llama_model_tensor_override terminated by a null pattern),
// as llama-quantize's `--imatrix` and `--tensor-type` fill them (tools/quantize/quantize.cpp).
// The memory is koffi-allocated and must outlive the llama_model_quantize call: free() after.
import koffi, { type TypeObject } from "koffi";
import { QuantevalError } from "../util/errors.js";
import { llamaImatrixData, llamaTensorOverride } from "./ggmlBindings.js";
import { ggmlTypes } from "./ggmlTypes.js";
import { type ImatrixData, importanceOf } from "./imatrix/imatrixData.js";

/** Owns native allocations until free(). */
export class NativeArena {
  private readonly blocks: unknown[] = [];

  bytes(n: number): { ptr: unknown; view: Uint8Array } {
    const ptr = koffi.alloc("uint8_t", Math.max(1, n));
    this.blocks.push(ptr);
    return { ptr, view: new Uint8Array(koffi.view(ptr, Math.max(1, n))) };
  }

  cString(s: string): unknown {
    const b = Buffer.from(s + "\0", "utf8");
    const { ptr, view } = this.bytes(b.length);
    view.set(b);
    return ptr;
  }

  floats(a: Float32Array): unknown {
    const { ptr, view } = this.bytes(a.byteLength);
    view.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
    return ptr;
  }

  structArray(type: TypeObject, rows: Array<Record<string, unknown>>): unknown {
    const size = koffi.sizeof(type);
    const { ptr } = this.bytes(size * rows.length);
    rows.forEach((r, i) => koffi.encode(ptr, i * size, type, r));
    return ptr;
  }

  free(): void {
    for (const b of this.blocks.splice(0)) koffi.free(b);
  }
}

/** The per-column importance of every entry, as llama-quantize hands it over. */
export function nativeImatrix(arena: NativeArena, data: ImatrixData): unknown {
  const rows = [...data.entries].map(([name, e]) => {
    const imp = importanceOf(e);
    return { name: arena.cString(name), data: arena.floats(imp), size: imp.length };
  });
  rows.push({ name: null, data: null, size: 0 });
  return arena.structArray(llamaImatrixData, rows);
}

/**
 * Validates a `tensor_types` recipe (regex over tensor names → ggml type name, as
 * llama-quantize's `--tensor-type name=type`) and returns it with canonical lower-case types.
 */
export function checkTensorTypes(recipe: Record<string, string>, field: string): Record<string, string> {
  const g = ggmlTypes();
  const out: Record<string, string> = {};
  for (const [pattern, type] of Object.entries(recipe)) {
    if (!pattern) throw new QuantevalError(`${field}: empty tensor name pattern; write e.g. {ffn_down: q6_k}`);
    try {
      new RegExp(pattern);
    } catch (e) {
      throw new QuantevalError(`${field}.${pattern}: not a valid regular expression (${(e as Error).message})`);
    }
    const t = g.byName(String(type));
    if (t === undefined) {
      throw new QuantevalError(`${field}.${pattern}: unknown ggml type '${type}'; valid: ${g.names().join(", ")}`);
    }
    out[pattern.toLowerCase()] = g.name(t);
  }
  return out;
}

export function nativeTensorOverrides(arena: NativeArena, recipe: Record<string, string>): unknown {
  const g = ggmlTypes();
  const rows: Array<Record<string, unknown>> = Object.entries(recipe).map(([pattern, type]) => ({ pattern: arena.cString(pattern), type: g.byName(type) }));
  rows.push({ pattern: null, type: 0 });
  return arena.structArray(llamaTensorOverride, rows);
}

// struct llama_model_kv_override (include/llama.h): int32 tag, char key[128], then (8-aligned)
// a union of int64 / double / bool / char[128].
const KV_OVERRIDE_SIZE = 264;
const KV_VALUE_OFFSET = 136;
const KV_TYPE_INT = 0;
const KV_TYPE_STR = 3;

/**
 * The metadata llama-quantize writes into a file quantized with an imatrix
 * (`quantize.imatrix.file`, `.dataset`, `.entries_count`, `.chunks_count`, in that order), so
 * the output is byte-identical to `llama-quantize --imatrix FILE`.
 */
export function nativeImatrixKv(arena: NativeArena, file: string, data: ImatrixData): unknown {
  const kvs: Array<[string, string | number]> = [["quantize.imatrix.file", file]];
  if (data.datasets.length) kvs.push(["quantize.imatrix.dataset", data.datasets[0]]);
  kvs.push(["quantize.imatrix.entries_count", data.entries.size]);
  if (data.chunkCount > 0) kvs.push(["quantize.imatrix.chunks_count", data.chunkCount]);
  const { ptr, view } = arena.bytes(KV_OVERRIDE_SIZE * (kvs.length + 1));
  view.fill(0);
  const dv = new DataView(view.buffer, view.byteOffset, view.byteLength);
  kvs.forEach(([key, value], i) => {
    const o = i * KV_OVERRIDE_SIZE;
    dv.setInt32(o, typeof value === "string" ? KV_TYPE_STR : KV_TYPE_INT, true);
    view.set(Buffer.from(key, "utf8").subarray(0, 127), o + 4);
    if (typeof value === "string") view.set(Buffer.from(value, "utf8").subarray(0, 127), o + KV_VALUE_OFFSET);
    else dv.setBigInt64(o + KV_VALUE_OFFSET, BigInt(value), true);
  });
  return ptr;
}
