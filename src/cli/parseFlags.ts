import { InvalidArgumentError } from "commander";

/** Parses a flag that must be a whole number ≥ 1 (with an optional maximum). */
export function parsePositiveInt(value: string, flag: string, max = Number.MAX_SAFE_INTEGER): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1 || n > max) {
    throw new InvalidArgumentError(`${flag} must be a whole number from 1 to ${max} (got '${value}')`);
  }
  return n;
}
