// Text generation over HTTP: llama-server's native /completion (token prompt, exact finish
// reason), or OpenAI-compatible /v1/completions and /v1/chat/completions.
import type { GenerateRequest, GenerateResult } from "../backend.js";
import { QuantevalError } from "../../util/errors.js";
import type { HttpPool } from "./pool.js";

interface OpenAiChoice {
  text?: string;
  message?: { content?: string | null };
  finish_reason?: string | null;
}

/** Sampling fields shared by every endpoint; greedy unless a temperature is given. */
function sampling(req: GenerateRequest): Record<string, unknown> {
  const t = req.temperature ?? 0;
  return {
    temperature: t,
    ...(req.topP !== undefined ? { top_p: req.topP } : {}),
    ...(req.seed !== undefined ? { seed: req.seed } : {}),
    ...(req.stop && req.stop.length > 0 ? { stop: req.stop } : {}),
  };
}

/**
 * OpenAI's finish_reason "stop" covers both a stop string and end-of-sequence; it is
 * reported as "stop" when stop strings were requested and the text does not run to the limit.
 */
function openAiFinish(reason: string | null | undefined, req: GenerateRequest): GenerateResult["finishReason"] {
  if (reason === "length") return "length";
  return req.stop && req.stop.length > 0 ? "stop" : "eos";
}

/** llama-server native /completion on token ids; samplers it would add by default are turned off. */
export async function llamaGenerate(pool: HttpPool, prompt: number[], req: GenerateRequest, model: string | undefined): Promise<GenerateResult> {
  const d = await pool.request<{ content?: string; tokens_predicted?: number; stop_type?: string }>("/completion", {
    prompt,
    n_predict: req.maxTokens,
    ...sampling(req),
    // llama-server's defaults (top_k 40, min_p 0.05, top_p 0.95) would change sampling.
    top_k: 0,
    min_p: 0,
    top_p: req.topP ?? 1,
    typical_p: 1,
    repeat_penalty: 1,
    cache_prompt: true,
    ...(model ? { model } : {}),
  });
  if (typeof d.content !== "string") throw new QuantevalError(`/completion answered without content`);
  const finishReason = d.stop_type === "eos" ? "eos" : d.stop_type === "word" ? "stop" : "length";
  return { text: d.content, nTokens: d.tokens_predicted ?? 0, finishReason };
}

/** /v1/completions, or /v1/chat/completions with the prompt as one user message. */
export async function openAiGenerate(pool: HttpPool, req: GenerateRequest, model: string, extra: Record<string, unknown> = {}): Promise<GenerateResult> {
  const body = { model, max_tokens: req.maxTokens, ...sampling(req), ...extra };
  const d = req.chat
    ? await pool.request<{ choices?: OpenAiChoice[]; usage?: { completion_tokens?: number } }>("/v1/chat/completions", { ...body, messages: [{ role: "user", content: req.prompt }] })
    : await pool.request<{ choices?: OpenAiChoice[]; usage?: { completion_tokens?: number } }>("/v1/completions", { ...body, prompt: req.prompt });
  const c = d.choices?.[0];
  const text = req.chat ? c?.message?.content : c?.text;
  if (typeof text !== "string") throw new QuantevalError(`${req.chat ? "/v1/chat/completions" : "/v1/completions"} answered without text`);
  return { text, nTokens: d.usage?.completion_tokens ?? 0, finishReason: openAiFinish(c?.finish_reason, req) };
}
