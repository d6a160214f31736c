// `quanteval sensitivity`: how much each tensor group costs in KLD when it alone goes to a low
// type, and the recipe (which groups go low, the rest at a high type) with the lowest KLD under
// a size budget. Each group variant is a real llama_model_quantize output: the high type
// everywhere with the group overridden (as `--tensor-type`); its cost is the KLD and the bytes
// it adds/saves against the all-high floor. (The float type cannot be the floor: llama.cpp
// applies no overrides when the file type is F32/F16.) The proposed recipe is quantized and
// measured too, so the additive prediction is checked, not trusted.
import { stringify } from "yaml";
import { QuantevalError } from "../../util/errors.js";
import { ggmlTypes } from "../ggmlTypes.js";
import { measureKld } from "../measureKld.js";
import { type QuantizeResult, quantizeModel } from "../quantizeModel.js";
import { findQuantType, getQuantType } from "../quantTypes.js";
import { readTensorTable } from "../writtenTensors.js";
import { chooseRecipe, type GroupCost } from "./chooseRecipe.js";
import { tensorGroups } from "./tensorGroups.js";

export interface SensitivityOptions {
  /** Low type for the groups: a ggml type (q2_k) or a quantization type name (its base type). */
  lowType: string;
  /** Quantization type of the rest of the proposed recipe (default q8_0). */
  highType?: string;
  chunks: number;
  nCtx?: number;
  threads?: number;
  /** KLD text and its origin (for errors). */
  text: string;
  where: string;
  outDir: string;
  /** Size budget: bytes of the file, or bits per weight over all tensors. */
  maxBytes?: number;
  bits?: number;
  onProgress?: (label: string, done: number, total: number) => void;
}

export interface GroupSensitivity {
  group: string;
  pattern: string;
  tensors: number;
  /** KLD with this group alone at the low type (the rest at the high type). */
  kld_mean: number;
  kld_err: number;
  /** KLD added over the all-high floor. */
  kld_added: number;
  /** File bytes saved against the all-high floor. */
  bytes_saved: number;
  /** Types llama.cpp actually wrote for the group at the low type (a shape can force a fallback). */
  low_written: Record<string, number>;
}

export interface SensitivityReport {
  model: string;
  low_type: string;
  high_type: string;
  /** Every group at the high type. */
  floor: { kld_mean: number; kld_err: number; bytes: number };
  groups: GroupSensitivity[];
  budget_bytes: number;
  proposal: {
    tensor_types: Record<string, string>;
    predicted_kld: number;
    estimated_bytes: number;
    measured_kld: number;
    measured_kld_err: number;
    measured_bytes: number;
    path: string;
  };
  /** A config snippet that runs the proposal (`variants:` of a quanteval config). */
  snippet: string;
}

function lowGgmlType(name: string): string {
  const q = findQuantType(name);
  const t = ggmlTypes().byName(q ? q.baseType : name);
  if (t === undefined) throw new QuantevalError(`--type: unknown type '${name}'; give a ggml type such as q2_k, q4_0, iq4_nl`);
  return ggmlTypes().name(t);
}

export async function analyzeSensitivity(model: string, opts: SensitivityOptions): Promise<SensitivityReport> {
  if ((opts.maxBytes === undefined) === (opts.bits === undefined)) throw new QuantevalError("give exactly one size budget: --max-size BYTES or --bits BPW");
  const low = lowGgmlType(opts.lowType);
  if (/^iq[123]_(xxs|xs|s|m)$/.test(low) && !/^iq3_s$/.test(low)) throw new QuantevalError(`--type ${low} needs an importance matrix, which sensitivity does not take; choose e.g. q2_k or q3_k`);
  const high = getQuantType(opts.highType ?? "q8_0", "--high");
  const tensors = await readTensorTable(model);
  const groups = tensorGroups(tensors);
  const elements = tensors.reduce((s, t) => s + t.dims.reduce((a, b) => a * b, 1), 0);
  const q = (tensorTypes?: Record<string, string>, tag?: string) => quantizeModel(model, high.name, opts.outDir, { threads: opts.threads, tensorTypes, tag });

  // The floor: every group at the high type. Each group's cost is measured against it.
  opts.onProgress?.(`quantize all → ${high.name}`, 0, groups.length + 1);
  const floor = await q();
  const overhead = floor.file_bytes - (floor.bits_per_weight * elements) / 8;
  const budget = opts.maxBytes ?? Math.floor((opts.bits! * elements) / 8 + overhead);
  const variants: Array<{ r: QuantizeResult; written: Record<string, number> }> = [];
  for (const [i, g] of groups.entries()) {
    opts.onProgress?.(`quantize ${g.name} → ${low}`, i + 1, groups.length + 1);
    const r = await q({ [g.pattern]: low }, `sens-${g.name}-${low}`);
    const written: Record<string, number> = {};
    for (const t of (await readTensorTable(r.path)).filter((t) => new RegExp(g.pattern).test(t.name))) {
      const n = ggmlTypes().name(t.type);
      written[n] = (written[n] ?? 0) + 1;
    }
    variants.push({ r, written });
  }
  opts.onProgress?.("KLD per group", 0, groups.length + 1);
  const klds = await measureKld(model, [floor.path, ...variants.map((v) => v.r.path)], opts.text, { chunks: opts.chunks, nCtx: opts.nCtx, threads: opts.threads, where: opts.where });
  const floorKld = klds[0];
  const rows: GroupSensitivity[] = groups.map((g, i) => ({
    group: g.name,
    pattern: g.pattern,
    tensors: g.tensors.length,
    kld_mean: klds[i + 1].kld_mean,
    kld_err: klds[i + 1].kld_err,
    kld_added: klds[i + 1].kld_mean - floorKld.kld_mean,
    bytes_saved: floor.file_bytes - variants[i].r.file_bytes,
    low_written: variants[i].written,
  }));
  // Additive model: recipe KLD ≈ floor + Σ added KLD of its low groups; size ≈ floor − Σ saved.
  const costs: GroupCost[] = rows.map((r) => ({ name: r.group, kld: Math.max(0, r.kld_added), lowBytes: -r.bytes_saved, highBytes: 0 }));
  const choice = chooseRecipe(costs, floor.file_bytes, budget);
  if (!choice) {
    const smallest = floor.file_bytes - rows.reduce((s, r) => s + Math.max(0, r.bytes_saved), 0);
    throw new QuantevalError(`size budget ${budget} bytes is below the smallest recipe (every group at ${low}: ~${smallest} bytes); raise --max-size/--bits or choose a lower --type`);
  }
  const recipe: Record<string, string> = {};
  for (const name of choice.low) recipe[rows.find((r) => r.group === name)!.pattern] = low;
  opts.onProgress?.("measure the proposal", groups.length + 1, groups.length + 1);
  const proposal = choice.low.length ? await q(recipe, `recipe-${low}-${choice.low.length}of${groups.length}`) : floor;
  const [measured] = choice.low.length ? await measureKld(model, [proposal.path], opts.text, { chunks: opts.chunks, nCtx: opts.nCtx, threads: opts.threads, where: opts.where }) : [floorKld];
  const snippet = stringify({ variants: { quantize: [high.name], ...(choice.low.length ? { tensor_types: recipe } : {}) } });
  return {
    model,
    low_type: low,
    high_type: high.name,
    floor: { kld_mean: floorKld.kld_mean, kld_err: floorKld.kld_err, bytes: floor.file_bytes },
    groups: rows.sort((a, b) => b.kld_added - a.kld_added),
    budget_bytes: budget,
    proposal: {
      tensor_types: recipe,
      predicted_kld: floorKld.kld_mean + choice.predictedKld,
      estimated_bytes: choice.estimatedBytes,
      measured_kld: measured.kld_mean,
      measured_kld_err: measured.kld_err,
      measured_bytes: proposal.file_bytes,
      path: proposal.path,
    },
    snippet,
  };
}
