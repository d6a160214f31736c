// A generate task's generations, evaluated in chunks of requests so a run's memory does not grow
// with its number of prompts (issue 14). The requests (clean prompts, then perturbed prompts, then
// probe questions) are split into chunks of CHUNK_REQUESTS; each chunk goes through the store's
// request cache in batches of 64 exactly as the whole list did (a chunk is a whole number of
// batches, so a fresh run sends the backend the same batches and gets the same generations), and
// its generations go to the store as sample rows of the evaluation (seq = request index), without
// their token ids, which no measure reads. A resumed run skips every chunk the store holds for the
// same model and requests. `compare` reads the generations back page by page.
import type { Backend, GenerateRequest, GenerateResult } from "../../backends/backend.js";
import { SAMPLE_PAGES } from "../../run/evaluationStore.js";
import type { SampleRow } from "../../run/taskContext.js";
import { evaluateDocumentChunks, planChunks, type ChunkPlan, type RequestType } from "../kinds/documentChunks.js";
import type { ChunkSink, EvaluateEnv, StoredEvaluations } from "../kinds/taskKind.js";
import type { ModelOutputs } from "./requests.js";

/** Requests a chunk: 16 batches of 64. */
export const CHUNK_REQUESTS = 1024;

/** Requests a backend call: as when the whole list went through the cache at once. */
const BATCH = 64;

/** Generations, 64 a batch. */
const generateRequests: RequestType<GenerateRequest, GenerateResult> = {
  kind: "generate",
  compute: (m, missing) => m.generate(missing),
  batchSize: () => BATCH,
};

/** How many requests of each part the list holds, in order: clean, perturbed, probes. */
export interface OutputLayout {
  clean: number;
  perturbed: number;
  probes: number;
}

/** What a generate task's evaluation state holds: the layout of its stored rows (or, in stores written before chunks, the generations). */
export type GenerateState = { layout: OutputLayout } | ModelOutputs;

/** The chunks of a request list; a chunk's hash covers its requests. */
export function planGenerationChunks(requests: readonly GenerateRequest[], chunkRequests = CHUNK_REQUESTS): ChunkPlan[] {
  return planChunks(requests.length, chunkRequests, "generate", (i, hash) => {
    hash.update(`${JSON.stringify(requests[i])}\u0000`);
    return { requests: 1, promptHash: "" };
  }).chunks;
}

/** One stored row: a generation without its token ids. */
const row = (i: number, g: GenerateResult): SampleRow => ({ doc_id: i, text: g.text, nTokens: g.nTokens, finishReason: g.finishReason });

/** Generates every request chunk by chunk (skipping those `sink` holds); the generations go to `sink` as rows. */
export async function evaluateGenerations(requests: readonly GenerateRequest[], chunks: ChunkPlan[], m: Backend, env: EvaluateEnv, sink: ChunkSink): Promise<void> {
  await evaluateDocumentChunks(
    { chunks, source: { render: (i) => ({ i, request: requests[i] }) } },
    {
      type: generateRequests,
      requests: (d) => [d.request],
      score: (docs, results) => ({ samples: results.map((g, k) => row(docs[k].i, g)), record: { n: results.length } }),
      place: () => undefined,
    },
    m,
    env,
    sink,
  );
}

/**
 * A generation as compare reads it. Equal to `same` (the baseline's for the same request) in text,
 * token count and finish reason, it is `same` itself (one object held, not two: every generation
 * of the greedy noise-floor re-run); with only the text equal, its text is `same`'s string.
 */
function generation(r: SampleRow, same: GenerateResult | undefined): GenerateResult {
  if (same === undefined || r.text !== same.text) return { text: r.text as string, nTokens: r.nTokens as number, finishReason: r.finishReason as GenerateResult["finishReason"] };
  return r.nTokens === same.nTokens && r.finishReason === same.finishReason ? same : { ...same, nTokens: r.nTokens as number, finishReason: r.finishReason as GenerateResult["finishReason"] };
}

/**
 * One model's generations from the store, read page by page (token ids left out: no measure reads
 * them). Stores written before chunked evaluation hold them in the state. With `like` (the
 * baseline's generations), a generation equal to the baseline's for the same request is the
 * baseline's object (its text the baseline's string when only the text is equal): a noise-floor
 * re-run or a close variant then adds no copy of it. Generations are read, never changed.
 */
export function readOutputs(stored: StoredEvaluations<GenerateState>, model: string, like?: ModelOutputs): ModelOutputs {
  const state = stored.get(model).state;
  if (!("layout" in state)) {
    const strip = (gs: GenerateResult[], base: GenerateResult[] | undefined) => gs.map((g, i) => generation(g as unknown as SampleRow, base?.[i]));
    return { clean: strip(state.clean, like?.clean), perturbed: strip(state.perturbed, like?.perturbed), probes: strip(state.probes, like?.probes) };
  }
  const { clean, perturbed } = state.layout;
  const out: ModelOutputs = { clean: [], perturbed: [], probes: [] };
  const pages = (stored as { [SAMPLE_PAGES]?: (model: string) => Iterable<SampleRow[]> })[SAMPLE_PAGES];
  for (const page of pages ? pages(model) : [stored.get(model).samples]) {
    for (const r of page) {
      const i = r.doc_id;
      const [part, j] = i < clean ? (["clean", i] as const) : i < clean + perturbed ? (["perturbed", i - clean] as const) : (["probes", i - clean - perturbed] as const);
      out[part].push(generation(r, like?.[part][j]));
    }
  }
  return out;
}
