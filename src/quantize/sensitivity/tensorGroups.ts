// Tensor groups for per-tensor recipes: every `blk.N.<x>.weight` of all layers is group `<x>`
// (ffn_down, attn_v, …); a tensor outside the blocks (token_embd, output) is a group of its own.
// Each group has the regex llama-quantize's `--tensor-type` (and `tensor_types`) matches with.
import type { TensorRow } from "../writtenTensors.js";

export interface TensorGroup {
  name: string;
  /** Regex over tensor names selecting exactly this group. */
  pattern: string;
  tensors: TensorRow[];
}

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** The weight (2-D+) tensors of a model, grouped; in first-seen order. */
export function tensorGroups(tensors: TensorRow[]): TensorGroup[] {
  const groups = new Map<string, TensorGroup>();
  for (const t of tensors) {
    if (t.dims.length < 2) continue;
    const m = /^blk\.\d+\.(.+)\.weight$/.exec(t.name);
    const name = m ? m[1] : t.name.replace(/\.weight$/, "");
    const pattern = m ? `^blk\\.\\d+\\.${escapeRegex(m[1])}\\.weight$` : `^${escapeRegex(t.name)}$`;
    let g = groups.get(name);
    if (!g) groups.set(name, (g = { name, pattern, tensors: [] }));
    g.tensors.push(t);
  }
  return [...groups.values()];
}
