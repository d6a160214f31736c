// One model's per-task correctness in llama.cpp's scoring modes as a compact column (a byte a task,
// base64 in the store), so a task's evaluation state and its chunk records do not grow by a JSON
// boolean array (issue 14: memory flat in dataset size). Stores written before the column hold
// the booleans themselves; they are read as they are.
import { fromBase64, toBase64 } from "../multipleChoiceColumns.js";

/** Correctness of `n` tasks as the store keeps it: base64 of one byte a task (1 = correct). */
export interface EncodedCorrect {
  n: number;
  correct: string;
}

/** Encodes a correctness column for the store (JSON). */
export const encodeCorrect = (correct: Uint8Array): EncodedCorrect => ({ n: correct.length, correct: toBase64(correct) });

/** The bytes of an encoded correctness column. */
export const correctBytes = (e: EncodedCorrect): Uint8Array => new Uint8Array(fromBase64(e.correct));

/** Decodes a stored correctness column; a store written before the column holds a boolean array. */
export function decodeCorrect(e: EncodedCorrect | boolean[]): boolean[] {
  if (Array.isArray(e)) return e;
  return Array.from(correctBytes(e), (c) => c === 1);
}
