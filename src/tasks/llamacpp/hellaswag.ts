// llama.cpp's HellaSwag mode (`llama-perplexity --hellaswag`, tools/perplexity/perplexity.cpp
// hellaswag_score), reproduced on the Backend interface for cross-checks:
//   file     6 lines per task: context, gold index, 4 endings (one trailing newline dropped)
//   select   N tasks: N times, a uniform index over the remaining tasks from std::mt19937(1),
//            then that task is removed (so the order is random even when N ≥ all tasks)
//   tokens   seq_s = tokenize(context + " " + ending_s, with BOS); the common prefix of the
//            four sequences is the shared context
//   score    mean log-probability of the tokens after the common prefix; acc_norm = the gold
//            ending has the highest mean (first maximum wins)
import type { Backend, TokenWindow } from "../../backends/backend.js";
import { QuantevalError } from "../../util/errors.js";
import { mt19937, uniformIntLibstdcxx } from "./mt19937.js";
import { fileLines } from "./taskFile.js";

export interface HellaswagItem {
  /** Task number in the file (0-based). */
  index: number;
  context: string;
  gold: number;
  endings: string[];
}

export interface HellaswagScore {
  index: number;
  gold: number;
  /** Mean log-probability per token of each ending. */
  scores: number[];
  /** Tokens scored per ending. */
  n_tokens: number[];
  pred: number;
  correct: boolean;
}

/** std::stoi: optional whitespace and sign, then digits. */
function stoi(s: string): number | undefined {
  const m = /^\s*([+-]?\d+)/.exec(s);
  return m ? Number(m[1]) : undefined;
}

/** Task `i` from its six lines' text (context, gold index, 4 endings). Errors name the file and line. */
export function hellaswagTask(text: string, i: number, where: string): HellaswagItem {
  const lines = text.split("\n");
  const gold = stoi(lines[1]);
  if (gold === undefined || gold < 0 || gold > 3) throw new QuantevalError(`${where}:${i * 6 + 2}: gold ending index '${lines[1]}' must be 0..3`);
  return { index: i, context: lines[0], gold, endings: lines.slice(2, 6) };
}

/**
 * Every task's byte range in llama.cpp's HellaSwag text (`bytes`: the file's text, two numbers a
 * task), each task checked. The lines are those llama.cpp reads (`-f` drops one trailing newline,
 * then getline splits; an empty last line is not one).
 */
export function indexHellaswag(bytes: Buffer, where: string): Float64Array {
  let lines = fileLines(bytes);
  if (lines.length >= 2 && lines[lines.length - 1] === lines[lines.length - 2]) lines = lines.subarray(0, lines.length - 2);
  const n = lines.length / 2;
  if (n === 0 || n % 6 !== 0) {
    throw new QuantevalError(`${where}: ${n} lines is not a multiple of 6; llama.cpp's HellaSwag format is 6 lines per task (context, gold index, 4 endings)`);
  }
  const ranges = new Float64Array(n / 3);
  for (let i = 0; i < n / 6; i++) {
    ranges[2 * i] = lines[12 * i];
    ranges[2 * i + 1] = lines[12 * i + 11];
    hellaswagTask(bytes.toString("utf8", ranges[2 * i], ranges[2 * i + 1]), i, where);
  }
  return ranges;
}

/** Parses llama.cpp's HellaSwag text file. Errors name the file and line. */
export function parseHellaswagFile(text: string, where: string): HellaswagItem[] {
  const bytes = Buffer.from(text, "utf8");
  const ranges = indexHellaswag(bytes, where);
  return Array.from({ length: ranges.length / 2 }, (_, i) => hellaswagTask(bytes.toString("utf8", ranges[2 * i], ranges[2 * i + 1]), i, where));
}

/** llama.cpp's task selection for `--hellaswag-tasks n` (n ≤ 0 or ≥ the file's tasks: all, shuffled). */
export function selectHellaswagTasks<T>(items: T[], n: number): T[] {
  const count = n > 0 && n < items.length ? n : items.length;
  const rng = mt19937(1);
  const left = [...items];
  const out: T[] = [];
  for (let i = 0; i < count; i++) {
    const idx = uniformIntLibstdcxx(rng, 0, left.length - 1);
    out.push(left[idx]);
    left.splice(idx, 1);
  }
  return out;
}

function commonPrefix(seqs: number[][]): number {
  const min = Math.min(...seqs.map((s) => s.length));
  let k = 0;
  while (k < min && seqs.every((s) => s[k] === seqs[0][k])) k++;
  return k;
}

/** Float rows held at once (rows × vocabulary), bounding memory at large vocabularies. */
const ROW_BUDGET = 16 * 1024 * 1024;

/** Scores tasks in order with llama.cpp's HellaSwag procedure. */
export async function scoreHellaswag(backend: Backend, items: HellaswagItem[], where: string): Promise<HellaswagScore[]> {
  const prepared: Array<{ item: HellaswagItem; windows: TokenWindow[] }> = [];
  for (const item of items) {
    const seqs: number[][] = [];
    for (const e of item.endings) seqs.push(await backend.tokenize(`${item.context} ${e}`, true));
    const cp = commonPrefix(seqs);
    if (cp === 0 || seqs.some((s) => s.length <= cp)) {
      throw new QuantevalError(
        `${where}: task ${item.index} (line ${item.index * 6 + 1}): an ending adds no token after the shared prefix, or nothing is shared; llama.cpp cannot score it either — remove the task`,
      );
    }
    prepared.push({ item, windows: seqs.map((tokens) => ({ tokens, firstScored: cp })) });
  }
  const nVocab = (await backend.describe()).n_vocab ?? 32000;
  const out: HellaswagScore[] = [];
  let i = 0;
  while (i < prepared.length) {
    // One backend call per group of tasks whose rows fit the budget.
    const group: typeof prepared = [];
    let rows = 0;
    while (i < prepared.length) {
      const r = prepared[i].windows.reduce((s, w) => s + w.tokens.length - w.firstScored, 0);
      if (group.length > 0 && (rows + r) * nVocab > ROW_BUDGET) break;
      group.push(prepared[i++]);
      rows += r;
    }
    const dists = await backend.distributions(group.flatMap((g) => g.windows));
    let k = 0;
    for (const g of group) {
      const scores: number[] = [];
      const nTokens: number[] = [];
      for (let s = 0; s < g.windows.length; s++) {
        const d = dists[k++];
        let sum = 0;
        for (let r = 0; r < d.nRows; r++) sum += d.logprobs[r * d.nVocab + d.targets[r]];
        scores.push(sum / d.nRows);
        nTokens.push(d.nRows);
      }
      let pred = 0;
      for (let s = 1; s < scores.length; s++) if (scores[s] > scores[pred]) pred = s;
      out.push({ index: g.item.index, gold: g.item.gold, scores, n_tokens: nTokens, pred, correct: pred === g.item.gold });
    }
  }
  return out;
}

/** Wilson 95% interval, as llama.cpp prints it (fractions). */
export function wilson95(correct: number, n: number): [number, number] {
  const za = 1.95996398454;
  const freq = correct / n;
  const z = (za * za) / n;
  const cnf = (z * Math.sqrt(n * (4 * freq * (1 - freq) + z))) / (za + za);
  return [(freq + z * 0.5 - cnf) / (1 + z), (freq + z * 0.5 + cnf) / (1 + z)];
}
