import { closeSync, openSync, readSync, statSync } from "node:fs";
import { QuantevalError } from "./errors.js";

/**
 * Checks that `path` is a file starting with the GGUF magic, so a missing or non-GGUF file
 * gets one clear line instead of a crash in llama.cpp. `what` names where the path came from
 * (e.g. "the 'model' path"). Returns the file size.
 */
export function checkGgufFile(path: string, what: string): number {
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(path);
  } catch {
    throw new QuantevalError(`model file not found: ${path} (check ${what})`);
  }
  if (!st.isFile()) throw new QuantevalError(`model path is not a file: ${path} (check ${what})`);
  const magic = Buffer.alloc(4);
  try {
    const fd = openSync(path, "r");
    try {
      readSync(fd, magic, 0, 4, 0);
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    throw new QuantevalError(`model file ${path} cannot be read (${code}); make it readable (chmod a+r) or check ${what}`);
  }
  if (magic.toString("latin1") !== "GGUF") {
    throw new QuantevalError(`${path} is not a GGUF file (its first bytes are not 'GGUF'): convert it with llama.cpp's convert_hf_to_gguf.py, or choose another backend`);
  }
  return st.size;
}
