// The generation requests of a generate task and the prompt-length check that selects prompts.
import type { Backend, GenerateRequest, GenerateResult } from "../../backends/backend.js";
import type { GenerateTaskSpec } from "./spec.js";

type Chatty = Backend & { applyChatTemplate?: (t: string) => string };

/** One model's generations: clean prompts, perturbed prompts, probe questions. */
export interface ModelOutputs {
  clean: GenerateResult[];
  perturbed: GenerateResult[];
  probes: GenerateResult[];
}

/** The request for one prompt; greedy requests carry no seed, so their cache keys do not change with the run seed. */
export function generationRequest(spec: GenerateTaskSpec, prompt: string, seed: number): GenerateRequest {
  const stop = spec.stop === undefined ? undefined : Array.isArray(spec.stop) ? spec.stop : [spec.stop];
  return {
    prompt,
    maxTokens: spec.max_tokens,
    ...(stop?.length ? { stop } : {}),
    ...(spec.temperature > 0 ? { temperature: spec.temperature, topP: spec.top_p, seed } : {}),
    ...(spec.chat ? { chat: true } : {}),
  };
}

/** Tokens of the prompt as the model sees it (after its chat template when `chat`). */
export async function promptTokens(m: Backend, prompt: string, chat: boolean): Promise<number> {
  const c = m as Chatty;
  const text = chat && c.applyChatTemplate ? c.applyChatTemplate(prompt) : prompt;
  return (await m.tokenize(text, true)).length;
}

/** True when the prompt leaves room for max_tokens in every model's context. */
export function fitsEveryModel(models: Backend[], spec: GenerateTaskSpec): (prompt: string) => Promise<boolean> {
  return async (prompt) => {
    for (const m of models) if ((await promptTokens(m, prompt, spec.chat)) + spec.max_tokens > m.contextLength()) return false;
    return true;
  };
}
