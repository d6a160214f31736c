// Creates the backend a model spec asks for. The only place that knows backend classes.
import type { ModelSpec } from "../config/schema.js";
import { QuantevalError } from "../util/errors.js";
import type { Backend } from "./backend.js";
import { GgufBackend } from "./gguf.js";

/** Infers the backend from the spec: explicit `backend`, else `.gguf` → gguf, `base_url` → http. */
export function backendKind(spec: ModelSpec): "gguf" | "http" | "onnx" {
  if (spec.backend) return spec.backend;
  if (spec.base_url) return "http";
  if (spec.model && /\.gguf$/i.test(spec.model)) return "gguf";
  throw new QuantevalError(`model '${spec.name}': cannot infer the backend from '${spec.model ?? ""}'; add backend: gguf, http or onnx`);
}

/** Opens a model. `path` is the resolved local model path for file-based backends. */
export async function openBackend(spec: ModelSpec, path: string | undefined): Promise<Backend> {
  const kind = backendKind(spec);
  if (kind === "gguf") {
    return GgufBackend.open({
      name: spec.name,
      path: path!,
      nCtx: spec.n_ctx,
      kvSize: spec.kv_size,
      nBatch: spec.n_batch,
      nSeqMax: spec.n_seq_max,
      parallel: spec.parallel,
      threads: spec.threads,
      gpuLayers: spec.gpu_layers,
      gpu: spec.gpu,
      addBos: spec.add_bos,
      repack: spec.repack,
      flashAttn: spec.flash_attn,
      cacheType: spec.cache_type,
    });
  }
  const mod = kind === "http" ? "./http.js" : "./onnx.js";
  let factory: { openFromSpec: (spec: ModelSpec, path: string | undefined) => Promise<Backend> };
  try {
    factory = (await import(mod)) as typeof factory;
  } catch {
    throw new QuantevalError(`model '${spec.name}': the ${kind} backend is not available in this build`);
  }
  return factory.openFromSpec(spec, path);
}
