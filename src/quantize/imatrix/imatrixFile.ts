// Reads and writes llama.cpp's GGUF imatrix files with ggml's own GGUF reader/writer, in the
// layout llama-imatrix writes (tools/imatrix/imatrix.cpp, save_imatrix) and llama-quantize reads
// (common/imatrix-loader): `general.type = imatrix`, `imatrix.datasets`, `imatrix.chunk_count`,
// `imatrix.chunk_size`, and per weight `<name>.in_sum2` (F32, ne0 × n_mat) and `<name>.counts`
// (F32, 1 × n_mat), tensors in sorted name order.
import { existsSync, renameSync, rmSync } from "node:fs";
import koffi from "koffi";
import { QuantevalError } from "../../util/errors.js";
import { GGML_TYPE_F32, loadGgml, readTensor } from "../ggmlBindings.js";
import type { ImatrixData, ImatrixEntry } from "./imatrixData.js";

const KV_DATASETS = "imatrix.datasets";
const KV_CHUNK_COUNT = "imatrix.chunk_count";
const KV_CHUNK_SIZE = "imatrix.chunk_size";
const SUMS = ".in_sum2";
const COUNTS = ".counts";

/** Writes `data` to `path` (atomically: a partial name, then a rename). */
export function writeImatrix(path: string, data: ImatrixData): void {
  const g = loadGgml();
  const names = [...data.entries.keys()].sort();
  const overhead = Number(g.tensor_overhead());
  let mem = 1024;
  for (const n of names) {
    const e = data.entries.get(n)!;
    mem += 2 * overhead + 4 * (e.sums.length + e.counts.length) + 64;
  }
  const ctx = g.init({ mem_size: mem, mem_buffer: null, no_alloc: false });
  const gguf = g.gguf_init_empty();
  const tmp = `${path}.partial-${process.pid}`;
  try {
    g.gguf_set_val_str(gguf, "general.type", "imatrix");
    g.gguf_set_arr_str(gguf, KV_DATASETS, data.datasets, data.datasets.length);
    g.gguf_set_val_u32(gguf, KV_CHUNK_COUNT, data.chunkCount);
    g.gguf_set_val_u32(gguf, KV_CHUNK_SIZE, data.chunkSize);
    for (const name of names) {
      const e = data.entries.get(name)!;
      const nMat = e.counts.length;
      const sums = g.new_tensor_2d(ctx, GGML_TYPE_F32, e.sums.length / nMat, nMat);
      g.set_name(sums, name + SUMS);
      new Float32Array(koffi.view(readTensor(sums).data, e.sums.length * 4)).set(e.sums);
      const counts = g.new_tensor_2d(ctx, GGML_TYPE_F32, 1, nMat);
      g.set_name(counts, name + COUNTS);
      new Float32Array(koffi.view(readTensor(counts).data, nMat * 4)).set(e.counts);
      g.gguf_add_tensor(gguf, sums);
      g.gguf_add_tensor(gguf, counts);
    }
    if (!g.gguf_write_to_file(gguf, tmp, false)) throw new QuantevalError(`cannot write the imatrix ${path}; check --out`);
    renameSync(tmp, path);
  } finally {
    rmSync(tmp, { force: true });
    g.gguf_free(gguf);
    g.free(ctx);
  }
}

/** Reads a GGUF imatrix file. A file that is not one is a QuantevalError naming `path` and `field`. */
export function readImatrix(path: string, field = "--imatrix"): ImatrixData {
  if (!existsSync(path)) throw new QuantevalError(`${field}: ${path} does not exist; give an imatrix file written by 'quanteval imatrix' or llama-imatrix`);
  const g = loadGgml();
  const ctxOut = koffi.alloc("void *", 1);
  const gguf = g.gguf_init_from_file(path, { no_alloc: false, ctx: ctxOut });
  if (!gguf) {
    throw new QuantevalError(`${field}: ${path} is not a GGUF imatrix (llama-imatrix's legacy .dat format is not read); re-make it with 'quanteval imatrix' or 'llama-imatrix -o FILE.gguf'`);
  }
  const ctx = koffi.decode(ctxOut, "void *");
  try {
    const typeKey = Number(g.gguf_find_key(gguf, "general.type"));
    const kind = typeKey >= 0 ? String(g.gguf_get_val_str(gguf, typeKey)) : "";
    if (kind !== "imatrix") throw new QuantevalError(`${field}: ${path} is a GGUF file but not an imatrix (general.type '${kind}'); give an imatrix file`);
    const u32 = (k: string) => {
      const id = Number(g.gguf_find_key(gguf, k));
      return id >= 0 ? Number(g.gguf_get_val_u32(gguf, id)) : 0;
    };
    const dsKey = Number(g.gguf_find_key(gguf, KV_DATASETS));
    const datasets: string[] = [];
    if (dsKey >= 0) for (let i = 0; i < Number(g.gguf_get_arr_n(gguf, dsKey)); i++) datasets.push(String(g.gguf_get_arr_str(gguf, dsKey, i)));
    const sums = new Map<string, { data: Float32Array; ne: number[] }>();
    const counts = new Map<string, Float32Array>();
    for (let t = g.get_first_tensor(ctx); t; t = g.get_next_tensor(ctx, t)) {
      const v = readTensor(t);
      // ggml's reader also puts the whole data section in the context as one blob tensor.
      if (!v.name.endsWith(SUMS) && !v.name.endsWith(COUNTS)) continue;
      const n = v.ne[0] * v.ne[1] * v.ne[2] * v.ne[3];
      const arr = new Float32Array(n);
      if (v.type !== GGML_TYPE_F32) throw new QuantevalError(`${field}: ${path}: tensor ${v.name} is not F32; the file is not a valid imatrix`);
      arr.set(new Float32Array(koffi.view(v.data, n * 4)));
      if (v.name.endsWith(SUMS)) sums.set(v.name.slice(0, -SUMS.length), { data: arr, ne: v.ne });
      else if (v.name.endsWith(COUNTS)) counts.set(v.name.slice(0, -COUNTS.length), arr);
    }
    const entries = new Map<string, ImatrixEntry>();
    for (const [name, s] of sums) {
      const c = counts.get(name);
      if (!c) throw new QuantevalError(`${field}: ${path}: ${name}${SUMS} has no ${name}${COUNTS}; the file is not a valid imatrix`);
      entries.set(name, { sums: s.data, counts: Array.from(c), ne0: s.ne[0], nMat: s.ne[1] });
    }
    if (entries.size === 0) throw new QuantevalError(`${field}: ${path} holds no imatrix entries; re-make it`);
    return { entries, datasets, chunkCount: u32(KV_CHUNK_COUNT), chunkSize: u32(KV_CHUNK_SIZE) };
  } finally {
    g.gguf_free(gguf);
    if (ctx) g.free(ctx);
  }
}
