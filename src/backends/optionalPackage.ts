// Imports a package that only some backends need. Only the package being absent becomes a
// one-line "install it" error (promptfoo's isMissingPackageImportError); any other load error
// (a syntax error, a failing native binding, a bug) surfaces unchanged, with its stack.
import { QuantevalError } from "../util/errors.js";

/** True when `err` says that `pkg` itself (not a module inside it) cannot be found. */
export function isMissingPackageImportError(err: unknown, pkg: string): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  if (!e || (e.code !== "ERR_MODULE_NOT_FOUND" && e.code !== "MODULE_NOT_FOUND")) return false;
  return typeof e.message === "string" && (e.message.includes(`'${pkg}'`) || e.message.includes(`"${pkg}"`));
}

/** `import(pkg)` via `load` (a literal import, so types follow), with a missing package as a QuantevalError saying what needs it. */
export async function importOptional<T>(pkg: string, neededFor: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (e) {
    if (isMissingPackageImportError(e, pkg)) throw new QuantevalError(`${neededFor} needs the package ${pkg}, which is not installed; run 'npm install ${pkg}'`);
    throw e;
  }
}
