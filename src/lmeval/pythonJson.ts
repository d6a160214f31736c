// Python's json.dumps and repr(float), byte for byte, because lm-eval's files are what Python
// writes and its hashes (doc_hash) are sha256 of json.dumps output. Hand-written: JSON.stringify
// has other separators (",", ":" instead of ", ", ": "), writes 1.0 as 1 and 1e-05 as 0.00001,
// and JavaScript numbers do not say whether Python had an int or a float.
import { createHash } from "node:crypto";

/** A value Python holds as a float (JSON-dumped as repr(float): 1.0, 1e-05, NaN, Infinity). */
export class PyFloat {
  constructor(readonly value: number) {}
}

/** Marks a number as a Python float. */
export const pyFloat = (value: number): PyFloat => new PyFloat(value);

/** A JSON value as Python would hold it; plain integral numbers are ints, others floats. */
export type PyJson = null | boolean | number | string | PyFloat | PyJson[] | { [key: string]: PyJson | undefined };

/** Python's `repr(x)` for a float: shortest round-trip digits, exponent outside 1e-4 ≤ |x| < 1e16. */
export function pyFloatRepr(x: number): string {
  if (Number.isNaN(x)) return "nan";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
  // JavaScript's exponential form has the same shortest round-trip digits as Python's repr.
  const [mant, expStr] = x.toExponential().split("e");
  const exp = Number(expStr);
  const neg = mant.startsWith("-");
  const digits = mant.replace("-", "").replace(".", "");
  const sign = neg ? "-" : "";
  if (exp < -4 || exp >= 16) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    return `${sign}${m}e${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
  }
  if (exp < 0) return `${sign}0.${"0".repeat(-exp - 1)}${digits}`;
  const intPart = digits.slice(0, exp + 1).padEnd(exp + 1, "0");
  const frac = digits.slice(exp + 1);
  return `${sign}${intPart}.${frac || "0"}`;
}

function floatJson(x: number): string {
  if (Number.isNaN(x)) return "NaN";
  if (!Number.isFinite(x)) return x > 0 ? "Infinity" : "-Infinity";
  return pyFloatRepr(x);
}

/**
 * Python's `json.dumps(value, ensure_ascii=False)` (no indent: ", " and ": " separators) or with
 * `indent` (newlines, "," and ": "). Keys keep insertion order; undefined members are skipped.
 */
export function pyJsonDumps(value: PyJson, indent?: number): string {
  const nl = (depth: number) => (indent === undefined ? "" : "\n" + " ".repeat(indent * depth));
  const itemSep = indent === undefined ? ", " : ",";
  const walk = (v: PyJson | undefined, depth: number): string => {
    if (v === null || v === undefined) return "null";
    if (typeof v === "boolean") return v ? "true" : "false";
    if (typeof v === "string") return JSON.stringify(v); // same escapes as ensure_ascii=False
    if (typeof v === "number") return Number.isInteger(v) ? String(v) : floatJson(v);
    if (v instanceof PyFloat) return floatJson(v.value);
    if (Array.isArray(v)) {
      if (v.length === 0) return "[]";
      return "[" + v.map((x) => nl(depth + 1) + walk(x, depth + 1)).join(itemSep) + nl(depth) + "]";
    }
    const entries = Object.entries(v).filter(([, x]) => x !== undefined);
    if (entries.length === 0) return "{}";
    return "{" + entries.map(([k, x]) => nl(depth + 1) + JSON.stringify(k) + ": " + walk(x, depth + 1)).join(itemSep) + nl(depth) + "}";
  };
  return walk(value, 0);
}

/** lm-eval's `hash_string`: sha256 hex of the UTF-8 string. */
export function hashString(s: string): string {
  return createHash("sha256").update(s, "utf8").digest("hex");
}
