// Turns a zod validation error into one actionable line naming the file, line, field and fix.
import { closest, distance } from "fastest-levenshtein";
import type { ZodError } from "zod";

function fieldPath(path: PropertyKey[]): string {
  return path.map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join("");
}

/** How to place an issue: its line in the file, the keys known where it occurred, and where the validated object sits. */
export interface ZodErrorContext {
  /** The line of a path in the file, when the YAML parser knows it. */
  lineOf?: (path: PropertyKey[]) => number | undefined;
  /** The keys accepted at a path (relative to the validated object), for "did you mean". */
  knownKeys?: (path: PropertyKey[]) => string[];
  /** The validated object's own path in the file, e.g. ["tasks", 2]. */
  prefix?: PropertyKey[];
}

/** The first issue of `err` as one line: `file:line: unknown key 'x'; did you mean 'y'?` and the like. */
export function describeZodError(file: string, err: ZodError, lineOf?: (path: PropertyKey[]) => number | undefined, ctx: ZodErrorContext = {}): string {
  const issue = err.issues[0];
  const prefix = ctx.prefix ?? [];
  const findLine = ctx.lineOf ?? lineOf;
  const at = (p: PropertyKey[]) => {
    const line = findLine?.([...prefix, ...p]);
    return `${file}${line ? `:${line}` : ""}`;
  };
  if (issue.code === "unrecognized_keys") {
    const key = issue.keys[0];
    const known = ctx.knownKeys?.(issue.path) ?? [];
    const guess = known.length > 0 ? closest(key, known) : undefined;
    const hint = guess && distance(key, guess) <= Math.max(2, Math.floor(key.length / 3)) ? `; did you mean '${guess}'?` : `; remove it${known.length ? ` (known keys: ${known.join(", ")})` : ""}`;
    return `${at([...issue.path, key])}: unknown key '${fieldPath([...prefix, ...issue.path, key])}'${hint}`;
  }
  const p = fieldPath([...prefix, ...issue.path]);
  if (issue.code === "invalid_type" && /received undefined/.test(issue.message)) {
    return `${at(issue.path)}: missing required field '${p}'; add it (${issue.expected})`;
  }
  return `${at(issue.path)}: field '${p || "(root)"}': ${issue.message}`;
}
