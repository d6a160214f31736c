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
}

/** GGML_TYPE_COUNT bound for the name scan (ggml.h has fewer than 64 types). */
const MAX_TYPES = 64;
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
    byName: (n) => {
      const key = n.trim().toLowerCase();
      for (let t = 0; t < MAX_TYPES; t++) if (name(t) === key && Number(g.blck_size(t)) > 0) return t;
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
