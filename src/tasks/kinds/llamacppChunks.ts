// llama.cpp's HellaSwag and Winogrande modes evaluated in chunks of tasks (documentChunks.ts), as
// the lm-eval kinds are, so a run's memory does not grow with its dataset (issue 14): a chunk's
// sample rows go to the store as it finishes and its record is a correctness column (and, for
// Winogrande, how many of its tasks llama.cpp would score from another task's logits). The
// selected tasks are not held: llama.cpp's selection draws from the whole file, so a run keeps
// their byte ranges and reads a chunk's tasks back from the file (llamacpp/taskFile.ts).
// A chunk of 1,024 tasks is a whole number of the modes' request batches (32 and 64), so a fresh
// run sends the backend the same batches as the whole evaluation did.
import type { Backend } from "../../backends/backend.js";
import type { SampleRow } from "../../run/taskContext.js";
import type { LlamacppPrepared } from "../llamacpp/data.js";
import { type HellaswagItem, scoreHellaswag } from "../llamacpp/hellaswag.js";
import { correctBytes, type EncodedCorrect, encodeCorrect } from "../llamacpp/correctColumn.js";
import type { TaskSource } from "../llamacpp/taskFile.js";
import { scoreWinogrande, type WinograndeItem } from "../llamacpp/winogrande.js";
import { CHUNK_DOCS, type ChunkPlan, evaluateDocumentChunks, planChunks, type RequestType } from "./documentChunks.js";
import type { ChunkSink, EvaluateEnv } from "./taskKind.js";

/** One scoring mode: its cached request type, a task's request, and a task's sample row from its answer. */
export interface LlamacppMode<D, Q, A> {
  type: RequestType<Q, A>;
  /** The task's request (its cache key: the task without its position in the file or its answer). */
  request(doc: D): Q;
  /** The task's sample row, whether it is correct, and whether llama.cpp would read another task's logits for it. */
  sample(doc: D, answer: A): { row: SampleRow; correct: boolean; approximated: boolean };
}

type HellaswagAnswer = { scores: number[]; n_tokens: number[] };
type WinograndeAnswer = { score1: number; score2: number; approximated: boolean };

/** llama-perplexity --hellaswag: mean log-probability per ending token, the first highest ending predicted. `where` names the data file in errors. */
export function hellaswagMode(where: string): LlamacppMode<HellaswagItem, HellaswagItem, HellaswagAnswer> {
  return {
    type: {
      kind: "llamacpp_hellaswag",
      compute: async (m, missing) => (await scoreHellaswag(m, missing, where)).map((s) => ({ scores: s.scores, n_tokens: s.n_tokens })),
      batchSize: () => 32,
    },
    request: (it) => ({ ...it, index: 0, gold: 0 }),
    sample(it, r) {
      let pred = 0;
      for (let s = 1; s < r.scores.length; s++) if (r.scores[s] > r.scores[pred]) pred = s;
      const correct = pred === it.gold;
      return { row: { doc_id: it.index, context: it.context, choices: it.endings, scores: r.scores, n_tokens: r.n_tokens, pred, gold: it.gold, correct }, correct, approximated: false };
    },
  };
}

/** llama-perplexity --winogrande: option 1 predicted only when its score is strictly higher. */
export const winograndeMode: LlamacppMode<WinograndeItem, WinograndeItem, WinograndeAnswer> = {
  type: {
    kind: "llamacpp_winogrande",
    compute: async (m, missing) => (await scoreWinogrande(m, missing)).map((s) => ({ score1: s.score1, score2: s.score2, approximated: s.approximated })),
    batchSize: () => 64,
  },
  request: (it) => ({ ...it, line: 0, answer: 0 }),
  sample(it, r) {
    const pred = r.score1 > r.score2 ? 1 : 2;
    const correct = pred === it.answer;
    return { row: { doc_id: it.line, sentence: `${it.first}_${it.second}`, choices: it.choices, scores: [r.score1, r.score2], pred, gold: it.answer, correct }, correct, approximated: r.approximated };
  },
};

/** The selected tasks and their chunks. */
export interface IndexedTasks<D> {
  items: TaskSource<D>;
  chunks: ChunkPlan[];
}

/** Splits the selected tasks into chunks; a chunk's hash covers every field of its tasks (what its rows and requests hold). */
export function indexTasks<D>(items: TaskSource<D>, kind: string, chunkDocs = CHUNK_DOCS): IndexedTasks<D> {
  const { chunks } = planChunks(items.length, chunkDocs, kind, (i, hash) => {
    hash.update(`${JSON.stringify(items.render(i))}\u0000`);
    // llama.cpp-mode manifests carry the data file's sha256, not a prompts hash.
    return { requests: 1, promptHash: "" };
  });
  return { items, chunks };
}

/** A chunk's record: its tasks' correctness and how many llama.cpp would score from another task's logits. */
type ChunkRecord = EncodedCorrect & { approximated: number };

/** Evaluates one model on every chunk (skipping those `sink` holds): per-task correctness, and the count of approximated tasks. */
export async function evaluateLlamacppChunks<D, Q, A>(
  tasks: IndexedTasks<D>,
  mode: LlamacppMode<D, Q, A>,
  m: Backend,
  env: EvaluateEnv,
  sink: ChunkSink,
): Promise<{ correct: Uint8Array; approximated: number }> {
  const correct = new Uint8Array(tasks.items.length);
  let approximated = 0;
  await evaluateDocumentChunks<D, ChunkRecord, Q, A>(
    { chunks: tasks.chunks, source: tasks.items },
    {
      type: mode.type,
      requests: (d) => [mode.request(d)],
      score(docs, answers) {
        const scored = docs.map((d, i) => mode.sample(d, answers[i]));
        const column = Uint8Array.from(scored, (s) => (s.correct ? 1 : 0));
        return { samples: scored.map((s) => s.row), record: { ...encodeCorrect(column), approximated: scored.filter((s) => s.approximated).length } };
      },
      place(from, record) {
        correct.set(correctBytes(record), from);
        approximated += record.approximated;
      },
    },
    m,
    env,
    sink,
  );
  return { correct, approximated };
}

/** Evaluates one model on a prepared llama.cpp-mode task, chunk by chunk. */
export type LlamacppEvaluator = (m: Backend, env: EvaluateEnv, sink: ChunkSink) => Promise<{ correct: Uint8Array; approximated: number }>;

/** The prepared task's chunks (planned once, for every model) and its mode's evaluator. */
export function llamacppEvaluator(prep: LlamacppPrepared, kind: string, chunkDocs = CHUNK_DOCS): LlamacppEvaluator {
  if (prep.hellaswag) {
    const tasks = indexTasks(prep.hellaswag, kind, chunkDocs);
    const mode = hellaswagMode(prep.path);
    return (m, env, sink) => evaluateLlamacppChunks(tasks, mode, m, env, sink);
  }
  const tasks = indexTasks(prep.winogrande!, kind, chunkDocs);
  return (m, env, sink) => evaluateLlamacppChunks(tasks, winograndeMode, m, env, sink);
}
