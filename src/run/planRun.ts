// The run's schedule: each model's resident-memory estimate, the budget, and planSchedule's
// groups. Models other than local GGUF files (HTTP servers, ONNX) are estimated at 0 bytes: an
// HTTP model holds no weights here, and the ONNX backend has no calibrated estimate yet.
import { backendKind } from "../backends/openBackend.js";
import type { ModelSpec, RunConfig } from "../config/schema.js";
import { resolveBudget } from "../schedule/memoryBudget.js";
import { type MemoryEstimate, estimateModelMemory } from "../schedule/memoryEstimate.js";
import { type SchedulePlan, planSchedule } from "../schedule/planSchedule.js";

/** One model of the run with the file it loads (undefined for HTTP). */
export interface RunModel {
  spec: ModelSpec;
  path: string | undefined;
}

function zeroEstimate(name: string): MemoryEstimate {
  return { name, weights_bytes: 0, kv_bytes: 0, compute_bytes: 0, window_bytes: 0, total_bytes: 0, kv_cells: 0, cache_type: "f16", n_vocab: 0, device: "ram" };
}

/**
 * Plans which of `models` (baseline first, the noise-floor pass last) are resident together.
 * `windowTokens`: the longest equal-length window a task of the run decodes (perplexity's
 * n_ctx), whose window context each model then also holds; 0 when none does.
 */
export async function planRun(models: RunModel[], config: Pick<RunConfig, "schedule" | "memory_budget">, where: string, windowTokens = 0): Promise<SchedulePlan> {
  const estimates: MemoryEstimate[] = [];
  for (const { spec, path } of models) {
    estimates.push(
      path && backendKind(spec) === "gguf"
        ? await estimateModelMemory(spec.name, path, {
            nCtx: spec.n_ctx,
            kvCells: spec.kv_size,
            cacheType: spec.cache_type,
            gpuLayers: spec.gpu_layers,
            nBatch: spec.n_batch,
            nSeqMax: spec.n_seq_max,
            windowTokens,
          })
        : zeroEstimate(spec.name),
    );
  }
  const budget = await resolveBudget({ memoryBudget: config.memory_budget, offloaded: models.some((m) => (m.spec.gpu_layers ?? 0) > 0), where: `${where}: memory_budget` });
  return planSchedule({ models: estimates, mode: config.schedule, budget, where: `${where}: schedule` });
}
