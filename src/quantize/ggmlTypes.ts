// ggml type facts (names, block sizes, bytes per block) straight from libggml-base, so they
// always match the quantizer that wrote a file.
import { loadGgml } from "./ggmlBindings.js";

export interface GgmlTypes {
  /** Lower-case ggml type name, e.g. `q4_k`. */
  name(t: number): string;
  blck(t: number): number;
  size(t: number): number;
  /** ggml type number of a (case-insensitive) type name, or undefined. */
  byName(name: string): number | undefined;
  /** Names of all types with data (block size > 0). */
  names(): string[];
}

/**
 * GGML_TYPE_COUNT of the pinned llama.cpp (ggml.h): ggml_type_name/ggml_blck_size index a table
 * without a bounds check, so a type number past it must never be passed.
 */
export const GGML_TYPE_COUNT = 43;
let cached: GgmlTypes | undefined;

export function ggmlTypes(): GgmlTypes {
  if (cached) return cached;
  const g = loadGgml();
  const names = new Map<number, string>();
  const name = (t: number): string => {
    let n = names.get(t);
    if (n === undefined) {
      n = String((g.type_name(t) as string | null) ?? `type${t}`).toLowerCase();
      names.set(t, n);
    }
    return n;
  };
  cached = {
    name,
    blck: (t) => Number(g.blck_size(t)),
    size: (t) => Number(g.type_size(t)),
    names: () =>
      Array.from({ length: GGML_TYPE_COUNT }, (_, t) => t)
        .filter((t) => Number(g.blck_size(t)) > 0)
        .map(name),
    byName: (n) => {
      const key = n.trim().toLowerCase();
      for (let t = 0; t < GGML_TYPE_COUNT; t++) if (name(t) === key && Number(g.blck_size(t)) > 0) return t;
      return undefined;
    },
  };
  return cached;
}

/** Block size of the ggml type called `name`, or undefined. */
export function blockOfTypeName(name: string): number | undefined {
  const g = ggmlTypes();
  const t = g.byName(name);
  return t === undefined ? undefined : g.blck(t);
}
