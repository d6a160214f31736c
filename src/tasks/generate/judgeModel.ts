// Opens a generate task's judge: one of the run's models by name, or a model of its own.
import type { Backend } from "../../backends/backend.js";
import { openBackend } from "../../backends/openBackend.js";
import { resolveModel } from "../../models/resolveModel.js";
import { QuantevalError } from "../../util/errors.js";
import type { GenerateTaskSpec } from "./spec.js";

/** The judge, and whether this task opened it (and so disposes it). */
export interface JudgeHandle {
  judge: Backend;
  owned: boolean;
}

/**
 * Opens the judge. A name is looked up among `models` (the run's models resident for the
 * comparisons); `runNames` (every model of the run) names them in the error.
 */
export async function openJudge(spec: GenerateTaskSpec, models: Backend[], where: string, runNames: string[] = models.map((b) => b.name)): Promise<JudgeHandle | undefined> {
  if (!spec.judge) return undefined;
  const m = spec.judge.model;
  if (typeof m === "string") {
    const found = models.find((b) => b.name === m);
    if (!found) throw new QuantevalError(`${where}: judge.model '${m}' is not a model of this run (models: ${runNames.join(", ")}); name one, or give a model spec {name, model} or {name, base_url}`);
    if (!found.capabilities.generate) throw new QuantevalError(`${where}: judge.model '${m}' cannot generate; choose a generating model`);
    return { judge: found, owned: false };
  }
  const isHttp = m.backend === "http" || (!m.backend && m.base_url !== undefined);
  // The model path was resolved when the config loaded.
  const path = isHttp ? undefined : await resolveModel(m.model ?? "", { field: `${where}: judge.model.model` });
  const judge = await openBackend(m, path);
  try {
    await judge.describe();
    if (!judge.capabilities.generate) throw new QuantevalError(`${where}: judge model '${m.name}' cannot generate; choose a generating model`);
  } catch (e) {
    await judge.dispose().catch(() => undefined);
    throw e;
  }
  return { judge, owned: true };
}
