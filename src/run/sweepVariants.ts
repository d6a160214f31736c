// A quantization sweep in the config (`variants: {quantize: [...]}`): makes each variant
// from the baseline with llama.cpp's own quantizer, cached by input sha256 + type.
import type { ModelSpec, QuantizeSweep } from "../config/schema.js";
import { quantizeModel } from "../quantize/quantizeModel.js";
import { parseQuantTypes } from "../quantize/quantTypes.js";
import type { ProgressSink } from "./taskContext.js";

export async function sweepVariants(
  basePath: string,
  baseline: ModelSpec,
  sweep: QuantizeSweep,
  defaultOut: string,
  io: { progress: ProgressSink; log: (m: string) => void; warn: (m: string) => void },
): Promise<Array<{ spec: ModelSpec; path: string }>> {
  const types = parseQuantTypes(sweep.quantize.join(","), "variants.quantize").map((t) => t.name);
  // `sweep.out` was resolved beside the config when it loaded.
  const outDir = sweep.out ?? defaultOut;
  const made: Array<{ spec: ModelSpec; path: string }> = [];
  for (const type of types) {
    const id = `quantize:${type}`;
    io.progress.start(id, `quantize ${type}`, 1);
    const r = await quantizeModel(basePath, type, outDir, { onProgress: (d, t) => io.progress.update(id, d, t) });
    io.progress.stop(id);
    io.log(`${type}: ${r.cached ? "cached" : "quantized"} → ${r.path}`);
    if (r.fallbacks && (Array.isArray(r.fallbacks) ? r.fallbacks.length > 0 : true)) {
      const n = Array.isArray(r.fallbacks) ? r.fallbacks.length : r.fallbacks;
      io.warn(`${type}: ${n} tensors were written in another type than requested (llama.cpp fallback); written types: ${Object.entries(r.tensor_types).map(([k, v]) => `${k}×${v}`).join(", ")}`);
    }
    const { reference_scores: _r, name: _n, model: _m, ...settings } = baseline;
    made.push({ spec: { ...settings, name: type, model: r.path, backend: "gguf" }, path: r.path });
  }
  return made;
}
