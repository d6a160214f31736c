// Operating-system failures (disk full, permission denied, read-only file system, …) as one
// line naming the file and the fix. Node's fs errors carry the path and an errno code; this
// turns them into the CLI's promise of one line and a non-zero exit instead of a stack.
import { QuantevalError } from "./errors.js";

const FIXES: Record<string, string> = {
  ENOSPC: "no space left on the device; free space, then continue with the same command and --resume",
  EDQUOT: "disk quota exceeded; free space, then continue with the same command and --resume",
  EACCES: "permission denied; check the file's and its folder's permissions",
  EPERM: "operation not permitted; check the file's permissions and attributes",
  EROFS: "read-only file system; choose a writable location (e.g. another --out)",
  EISDIR: "is a folder, not a file",
  ENOTDIR: "a part of the path is not a folder",
  EIO: "I/O error (a failing disk?)",
  EMFILE: "too many open files; raise the limit (ulimit -n)",
  ENOENT: "no such file or folder",
};

/** The one-line QuantevalError for a Node system error with a path, or undefined. */
export function explainSystemError(e: unknown): QuantevalError | undefined {
  const err = e as NodeJS.ErrnoException | undefined;
  if (!err || typeof err.code !== "string" || !(err.code in FIXES)) return undefined;
  const what = err.syscall ? `${err.syscall} failed` : "failed";
  const where = err.path ?? "a file";
  return new QuantevalError(`${where}: ${what}: ${FIXES[err.code]} (${err.code})`);
}
