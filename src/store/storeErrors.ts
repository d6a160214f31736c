// SQLite failures of the run store as one line naming the file and the fix, instead of a
// SqliteError stack: disk full, a read-only file or folder, a corrupt file, an I/O error.
import { QuantevalError } from "../util/errors.js";

const FIXES: Array<[RegExp, string]> = [
  [/^SQLITE_FULL/, "disk full while writing the run store; free space, then continue with the same command and --resume"],
  [/^SQLITE_READONLY/, "the run store is read-only; make the file and its folder writable, or choose another --out"],
  [/^SQLITE_(CORRUPT|NOTADB)/, "the run store is corrupt (not a readable SQLite database); delete the folder and run again, or choose another --out"],
  [/^SQLITE_CANTOPEN/, "cannot open the run store; check the folder exists and is writable, or choose another --out"],
  [/^SQLITE_IOERR/, "I/O error on the run store (full or failing disk?); check the disk, then continue with --resume"],
  [/^SQLITE_PERM/, "permission denied on the run store; make it writable or choose another --out"],
];

/** Names the store when the failing file is not known (an error caught outside RunStore). */
export const STORE_ERROR_PLACE = "the run store (quanteval.sqlite in --out)";

/** The one-line QuantevalError for a SQLite error on `file`, or undefined when `e` is not one we explain. */
export function explainStoreError(e: unknown, file: string): QuantevalError | undefined {
  if (e instanceof QuantevalError) return e;
  const code = (e as { code?: unknown })?.code;
  if (typeof code !== "string") return undefined;
  const fix = FIXES.find(([re]) => re.test(code));
  return fix ? new QuantevalError(`${file}: ${fix[1]} (${code})`) : undefined;
}

/** Runs `fn`, turning an explained SQLite error into its one-line QuantevalError. */
export function guardStore<T>(file: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw explainStoreError(e, file) ?? e;
  }
}
