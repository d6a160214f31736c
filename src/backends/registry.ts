// The backends quanteval can open, one entry each (promptfoo's provider registry): adding a
// backend is its module plus one entry here. Each module is imported only when a model uses it,
// and an import error surfaces as it is: only a missing *optional package* is softened, by the
// backend itself, into a one-line "install it" error (see ./optionalPackage.ts).
import type { ModelSpec } from "../config/schema.js";
import { QuantevalError } from "../util/errors.js";
import type { Backend } from "./backend.js";

/** A backend's name as a model spec's `backend` field spells it. */
export type BackendId = NonNullable<ModelSpec["backend"]> | "lm_eval";

/** One backend: how it is recognised in a spec and how it opens a model. */
export interface BackendEntry {
  id: BackendId;
  /** What it serves, for error messages and docs. */
  description: string;
  /**
   * Whether a spec without an explicit `backend` belongs to this backend. Entries are tried in
   * order; a backend that must be named explicitly returns false.
   */
  test(spec: ModelSpec): boolean;
  /** Whether the spec's `model` is a local path to resolve before open(). */
  localModel: boolean;
  /** Opens the model; `path` is the resolved local model path when `localModel`. */
  open(spec: ModelSpec, path: string | undefined): Promise<Backend>;
}

/** Every backend, in the order their `test` is tried. */
export const BACKENDS: readonly BackendEntry[] = [
  {
    id: "http",
    description: "a model served over HTTP (llama-server, vLLM, OpenAI-compatible)",
    test: (spec) => spec.base_url !== undefined,
    localModel: false,
    open: async (spec, path) => (await import("./http.js")).openFromSpec(spec, path),
  },
  {
    id: "gguf",
    description: "a .gguf file, in process through llama.cpp",
    test: (spec) => spec.model !== undefined && /\.gguf$/i.test(spec.model),
    localModel: true,
    open: async (spec, path) => (await import("./gguf.js")).openFromSpec(spec, path),
  },
  {
    id: "lm_eval",
    description: "lm-evaluation-harness results (with --log_samples) standing in for a model",
    test: (spec) => spec.lm_eval !== undefined,
    localModel: false,
    open: async (spec) => (await import("../lmeval/lmEvalBackend.js")).LmEvalBackend.open(spec),
  },
  {
    id: "onnx",
    description: "an ONNX model folder in transformers.js's layout",
    test: () => false,
    localModel: true,
    open: async (spec, path) => (await import("./onnx.js")).openFromSpec(spec, path),
  },
];

/** The backend ids, e.g. for a config schema's enum. */
export const BACKEND_IDS = BACKENDS.map((b) => b.id);

/** "gguf, http or onnx": the values `backend:` takes (lm_eval is chosen by the `lm_eval:` key, not by `backend:`). */
function idList(): string {
  const ids = BACKEND_IDS.filter((id) => id !== "lm_eval").sort();
  return ids.length > 1 ? `${ids.slice(0, -1).join(", ")} or ${ids[ids.length - 1]}` : ids.join("");
}

/** The entry a spec uses: its explicit `backend`, else the first entry whose test() accepts it. */
export function backendFor(spec: ModelSpec): BackendEntry {
  const entry = spec.backend ? BACKENDS.find((b) => b.id === spec.backend) : BACKENDS.find((b) => b.test(spec));
  if (entry) return entry;
  if (spec.backend) throw new QuantevalError(`model '${spec.name}': unknown backend '${spec.backend}'; use ${idList()}`);
  throw new QuantevalError(`model '${spec.name}': cannot infer the backend from '${spec.model ?? ""}'; add backend: ${idList()}`);
}
