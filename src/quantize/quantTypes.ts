// User-facing quantization type names → llama.cpp `llama_ftype` numbers.
//
// The names and numbers are those of llama.cpp's own `llama-quantize` (tools/quantize/quantize.cpp,
// QUANT_OPTIONS) for the release node-llama-cpp 3.22.1 ships; `llama_ftype` is in include/llama.h.
// Left out: COPY (not a quantization), NVFP4 (llama_model_quantize rejects ftype 39).
import { QuantevalError } from "../util/errors.js";

export interface QuantType {
  /** Canonical lower-case name, as used in file names and results (e.g. `q4_k_m`). */
  name: string;
  /** `llama_ftype` value passed to llama_model_quantize. */
  ftype: number;
  /** ggml type the 2-D weight tensors get before the mixture/shape rules (`llama_ftype_get_default_type`). */
  baseType: string;
  /**
   * True when llama.cpp refuses this type on normal-sized models without an importance matrix,
   * which quanteval does not pass (llama.cpp: "this quantization requires an imatrix").
   */
  needsImatrix?: boolean;
  description: string;
}

export const QUANT_TYPES: readonly QuantType[] = [
  { name: "f32", ftype: 0, baseType: "f32", description: "32-bit float (no quantization)" },
  { name: "f16", ftype: 1, baseType: "f16", description: "16-bit float" },
  { name: "bf16", ftype: 32, baseType: "bf16", description: "bfloat16" },
  { name: "q8_0", ftype: 7, baseType: "q8_0", description: "8.5 bpw" },
  { name: "q6_k", ftype: 18, baseType: "q6_k", description: "6.56 bpw k-quant" },
  { name: "q5_k_m", ftype: 17, baseType: "q5_k", description: "5-bit k-quant mix, medium" },
  { name: "q5_k_s", ftype: 16, baseType: "q5_k", description: "5-bit k-quant, small" },
  { name: "q5_0", ftype: 8, baseType: "q5_0", description: "5.5 bpw" },
  { name: "q5_1", ftype: 9, baseType: "q5_1", description: "6 bpw" },
  { name: "q4_k_m", ftype: 15, baseType: "q4_k", description: "4-bit k-quant mix, medium" },
  { name: "q4_k_s", ftype: 14, baseType: "q4_k", description: "4-bit k-quant, small" },
  { name: "q4_0", ftype: 2, baseType: "q4_0", description: "4.5 bpw" },
  { name: "q4_1", ftype: 3, baseType: "q4_1", description: "5 bpw" },
  { name: "iq4_nl", ftype: 25, baseType: "iq4_nl", description: "4.5 bpw non-linear" },
  { name: "iq4_xs", ftype: 30, baseType: "iq4_xs", description: "4.25 bpw non-linear" },
  { name: "q3_k_l", ftype: 13, baseType: "q3_k", description: "3-bit k-quant mix, large" },
  { name: "q3_k_m", ftype: 12, baseType: "q3_k", description: "3-bit k-quant mix, medium" },
  { name: "q3_k_s", ftype: 11, baseType: "q3_k", description: "3-bit k-quant, small" },
  { name: "iq3_m", ftype: 27, baseType: "iq3_s", description: "3.66 bpw mix" },
  { name: "iq3_s", ftype: 26, baseType: "iq3_s", description: "3.44 bpw" },
  { name: "iq3_xs", ftype: 22, baseType: "iq3_s", description: "3.3 bpw" },
  { name: "iq3_xxs", ftype: 23, baseType: "iq3_xxs", needsImatrix: true, description: "3.06 bpw" },
  { name: "q2_k", ftype: 10, baseType: "q2_k", description: "2-bit k-quant mix" },
  { name: "q2_k_s", ftype: 21, baseType: "q2_k", needsImatrix: true, description: "2-bit k-quant, small" },
  { name: "iq2_m", ftype: 29, baseType: "iq2_s", needsImatrix: true, description: "2.7 bpw" },
  { name: "iq2_s", ftype: 28, baseType: "iq2_xs", needsImatrix: true, description: "2.5 bpw" },
  { name: "iq2_xs", ftype: 20, baseType: "iq2_xs", needsImatrix: true, description: "2.31 bpw" },
  { name: "iq2_xxs", ftype: 19, baseType: "iq2_xxs", needsImatrix: true, description: "2.06 bpw" },
  { name: "iq1_m", ftype: 31, baseType: "iq1_m", needsImatrix: true, description: "1.75 bpw" },
  { name: "iq1_s", ftype: 24, baseType: "iq1_s", needsImatrix: true, description: "1.56 bpw" },
  { name: "tq2_0", ftype: 37, baseType: "tq2_0", description: "2.06 bpw ternary" },
  { name: "tq1_0", ftype: 36, baseType: "tq1_0", description: "1.69 bpw ternary" },
  { name: "q2_0", ftype: 41, baseType: "q2_0", description: "2.25 bpw (group 64)" },
  { name: "q1_0", ftype: 40, baseType: "q1_0", description: "1.125 bpw" },
  { name: "mxfp4_moe", ftype: 38, baseType: "mxfp4", description: "MXFP4 for MoE experts, Q8_0 elsewhere" },
];

/** Accepted spellings that llama-quantize also accepts, mapped to their canonical name. */
export const QUANT_TYPE_ALIASES: Readonly<Record<string, string>> = {
  q3_k: "q3_k_m",
  q4_k: "q4_k_m",
  q5_k: "q5_k_m",
};

const byName = new Map(QUANT_TYPES.map((t) => [t.name, t]));

/** Looks a type up by name (case-insensitive, aliases allowed); undefined when unknown. */
export function findQuantType(name: string): QuantType | undefined {
  const key = name.trim().toLowerCase().replace(/-/g, "_");
  return byName.get(QUANT_TYPE_ALIASES[key] ?? key);
}

/** The valid names, for error messages and --help. */
export function validQuantTypeNames(): string[] {
  return QUANT_TYPES.map((t) => t.name);
}

/** Like findQuantType, but an unknown name is a user error naming `flag` and the valid names. */
export function getQuantType(name: string, flag = "--types"): QuantType {
  const t = findQuantType(name);
  if (!t) throw new QuantevalError(`unknown quantization type '${name.trim()}' in ${flag}; valid: ${validQuantTypeNames().join(", ")}`);
  return t;
}

/**
 * Parses a comma-separated list such as `q8_0,q4_k_m,Q4_0`. Returns canonical types in the
 * given order without duplicates; an unknown or empty entry is a QuantevalError listing the
 * valid names.
 */
export function parseQuantTypes(csv: string, flag = "--types"): QuantType[] {
  const parts = csv.split(",").map((s) => s.trim());
  if (parts.every((p) => p === "")) {
    throw new QuantevalError(`${flag} is empty; give a comma-separated list such as q8_0,q4_k_m (valid: ${validQuantTypeNames().join(", ")})`);
  }
  const out: QuantType[] = [];
  for (const p of parts) {
    if (p === "") throw new QuantevalError(`empty entry in ${flag} '${csv}'; give a comma-separated list such as q8_0,q4_k_m`);
    const t = getQuantType(p, flag);
    if (!out.includes(t)) out.push(t);
  }
  return out;
}
