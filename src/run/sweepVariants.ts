// A quantization sweep in the config (`variants: {quantize: [...], imatrix: [...], tensor_types: {...}}`):
// makes each type × calibration variant from the baseline with llama.cpp's own quantizer, the
// imatrix of each calibration once (cached by model sha256 + text sha256 + chunks + n_ctx), and
// the variants cached by input sha256 + type + imatrix + recipe. Names: `q4_k_m`, `q4_k_m@wiki-128`.
import { join } from "node:path";
import type { ImatrixCalibration, ModelSpec, QuantizeSweep } from "../config/schema.js";
import { readCalibrationText } from "../quantize/imatrix/calibrationText.js";
import { cachedImatrix } from "../quantize/imatrix/makeImatrix.js";
import { quantizeModel } from "../quantize/quantizeModel.js";
import { checkTensorTypes } from "../quantize/nativeQuantizeParams.js";
import type { VariantQuantMeta } from "../quantize/quantHypotheses.js";
import { parseQuantTypes } from "../quantize/quantTypes.js";
import { QuantevalError } from "../util/errors.js";
import type { ProgressSink } from "./taskContext.js";

export interface SweptVariant {
  spec: ModelSpec;
  path: string;
  /** What the variant is (type, calibration, chunks), for the quantization hypotheses. */
  meta: VariantQuantMeta;
}

export async function sweepVariants(
  basePath: string,
  baseline: ModelSpec,
  sweep: QuantizeSweep,
  defaultOut: string,
  io: { progress: ProgressSink; log: (m: string) => void; warn: (m: string) => void; dataDir?: string },
): Promise<SweptVariant[]> {
  const types = parseQuantTypes(sweep.quantize.join(","), "variants.quantize");
  const calibrations: Array<ImatrixCalibration | "none"> = sweep.imatrix ?? ["none"];
  // Checked before any work: a type that needs an imatrix cannot be made without one.
  if (calibrations.includes("none")) {
    const needs = types.filter((t) => t.needsImatrix);
    if (needs.length)
      throw new QuantevalError(
        `variants.quantize: ${needs.map((t) => t.name).join(", ")} need an importance matrix, but variants.imatrix includes none (or is absent); add a calibration {data, chunks} and drop none`,
      );
  }
  if (sweep.tensor_types) checkTensorTypes(sweep.tensor_types, "variants.tensor_types");
  // `out` and each calibration's `data` were resolved when the config loaded.
  const outDir = sweep.out ?? defaultOut;
  const imatrices: Array<{ path?: string; meta: Omit<VariantQuantMeta, "type" | "name"> }> = [];
  for (const [i, c] of calibrations.entries()) {
    if (c === "none") {
      imatrices.push({ meta: { calibration: null, chunks: null } });
      continue;
    }
    const field = `variants.imatrix[${i}].data`;
    const calib = await readCalibrationText(c.data, field, { baseDir: process.cwd(), dataDir: io.dataDir });
    const name = c.name ?? calib.name;
    const id = `imatrix:${i}`;
    io.progress.start(id, `imatrix ${name} · ${c.chunks} chunks`, c.chunks);
    const m = await cachedImatrix(basePath, calib, join(outDir, "imatrix"), { chunks: c.chunks, nCtx: c.n_ctx, onProgress: (d, t) => io.progress.update(id, d, t) });
    io.progress.stop(id);
    io.log(`imatrix ${name}-${c.chunks}: ${m.cached ? "cached" : "collected"} → ${m.path}`);
    imatrices.push({ path: m.path, meta: { calibration: name, chunks: c.chunks } });
  }
  const tags = imatrices.map((m) => (m.meta.calibration ? `${m.meta.calibration}-${m.meta.chunks}` : undefined));
  if (new Set(tags).size !== tags.length) throw new QuantevalError(`variants.imatrix: two calibrations get the same name (${tags.join(", ")}); give them distinct 'name's`);
  const made: SweptVariant[] = [];
  for (const type of types) {
    for (const [k, im] of imatrices.entries()) {
      const tag = tags[k];
      const name = tag ? `${type.name}@${tag}` : type.name;
      const id = `quantize:${name}`;
      io.progress.start(id, `quantize ${name}`, 1);
      const r = await quantizeModel(basePath, type.name, outDir, { imatrix: im.path, tag, tensorTypes: sweep.tensor_types, onProgress: (d, t) => io.progress.update(id, d, t) });
      io.progress.stop(id);
      io.log(`${name}: ${r.cached ? "cached" : "quantized"} → ${r.path}`);
      if (r.note && /corrupted|re-made/.test(r.note)) io.warn(r.note);
      if (r.fallbacks.length > 0) {
        io.warn(
          `${name}: ${r.fallbacks.length} tensors were written in another type than requested (llama.cpp fallback); written types: ${Object.entries(r.tensor_types)
            .map(([t, n]) => `${t}×${n}`)
            .join(", ")}`,
        );
      }
      const { reference_scores: _r, name: _n, model: _m, ...settings } = baseline;
      made.push({ spec: { ...settings, name, model: r.path, backend: "gguf" }, path: r.path, meta: { name, type: type.name, ...im.meta } });
    }
  }
  return made;
}
