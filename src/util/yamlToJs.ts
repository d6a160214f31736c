// Converts a parsed YAML document to plain data with the alias expansion bounded, so a
// "billion laughs" file (aliases of aliases) is refused with one line instead of exhausting
// memory or dying on the yaml package's ReferenceError.
import type { Document } from "yaml";
import { QuantevalError } from "./errors.js";

/** Most alias expansions a document may need (the yaml package's own default). */
export const MAX_YAML_ALIASES = 100;

/** `doc.toJS()` with aliases bounded; `file` names the YAML in the error. */
export function yamlToJs(doc: Document, file: string): unknown {
  try {
    return doc.toJS({ maxAliasCount: MAX_YAML_ALIASES });
  } catch (e) {
    if (e instanceof ReferenceError) throw new QuantevalError(`${file}: YAML aliases expand too far (${e.message}); write the values out instead of nesting aliases`);
    throw e;
  }
}
