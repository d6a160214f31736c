// Creates the backend a model spec asks for, through the backend registry (./registry.ts).
import type { ModelSpec } from "../config/schema.js";
import type { Backend } from "./backend.js";
import { type BackendId, backendFor } from "./registry.js";

/** Infers the backend from the spec: explicit `backend`, else `base_url` → http, `.gguf` → gguf. */
export function backendKind(spec: ModelSpec): BackendId {
  return backendFor(spec).id;
}

/** Opens a model. `path` is the resolved local model path for file-based backends. */
export async function openBackend(spec: ModelSpec, path: string | undefined): Promise<Backend> {
  return backendFor(spec).open(spec, path);
}
