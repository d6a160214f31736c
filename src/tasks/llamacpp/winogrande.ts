// llama.cpp's Winogrande mode (`llama-perplexity --winogrande`, tools/perplexity/perplexity.cpp
// winogrande_score), reproduced on the Backend interface for cross-checks:
//   file     CSV lines "index,sentence,option1,option2,answer" split at the first four commas
//            outside double quotes; a quoted sentence loses its quotes (no unescaping); a
//            line without four commas, a '_' or an answer 1/2 is skipped (so is a header);
//            as llama.cpp reads lines with getline and stops at end of file, the file's last
//            line (which `-f` leaves without a newline) is never read
//   select   all tasks in order, or N drawn from std::mt19937(1) with float scaling
//   tokens   seq_k = tokenize(first + option_k + second, with BOS); cp = common prefix
//   score    when both sequences have more than 3 tokens after cp, the tokens after
//            tokenize(first + option_k) are scored, else those after cp; the final token is
//            left out when more than one remains; mean log-probability (float), and option 1
//            wins only when strictly better. llama.cpp's own FIXME is reproduced: when the
//            tokens after cp are scored, sequence 2's first token is read from the logits of
//            sequence 1's last position.
import type { Backend, TokenWindow, WindowDistributions } from "../../backends/backend.js";
import { QuantevalError } from "../../util/errors.js";
import { mt19937 } from "./mt19937.js";
import { fileLines } from "./taskFile.js";

export interface WinograndeItem {
  /** Line number in the file (1-based). */
  line: number;
  first: string;
  second: string;
  choices: [string, string];
  /** 1 or 2. */
  answer: number;
}

export interface WinograndeScore {
  line: number;
  score1: number;
  score2: number;
  /** 1 or 2, as llama.cpp prints it. */
  pred: number;
  answer: number;
  correct: boolean;
  /** True when llama.cpp would read logits outside this task (undefined behaviour there); the correct row is used instead. */
  approximated: boolean;
}

/** istringstream >> int. */
function parseInt32(s: string): number | undefined {
  const m = /^\s*([+-]?\d+)/.exec(s);
  if (!m) return undefined;
  const v = Number(m[1]);
  return v >= -2147483648 && v <= 2147483647 ? v : undefined;
}

/** One CSV line (1-based number `line`) as load_winogrande_from_csv reads it: the task, or why llama.cpp skips the line. */
export function parseWinograndeLine(text: string, line: number): { item: WinograndeItem; reason?: undefined } | { item?: undefined; reason: string } {
  const commas: number[] = [];
  let quote = false;
  for (let i = 0; i < text.length && commas.length < 4; i++) {
    if (!quote) {
      if (text[i] === ",") commas.push(i);
      else if (text[i] === '"') quote = true;
    } else if (text[i] === '"') quote = false;
  }
  if (commas.length !== 4) return { reason: "fewer than 4 comma separators" };
  const [c0, c1, c2, c3] = commas;
  const sentence = text[c0 + 1] === '"' ? text.substr(c0 + 2, Math.max(0, c1 - c0 - 3)) : text.slice(c0 + 1, c1);
  const where = sentence.indexOf("_");
  if (where < 0) return { reason: "no _ in the sentence" };
  const answer = parseInt32(text.slice(c3 + 1));
  if (answer === undefined || answer < 1 || answer > 2) return { reason: `answer '${text.slice(c3 + 1)}' is not 1 or 2` };
  return { item: { line, first: sentence.slice(0, where), second: sentence.slice(where + 1), choices: [text.slice(c1 + 1, c2), text.slice(c2 + 1, c3)], answer } };
}

/** The readable tasks of llama.cpp's Winogrande CSV (`bytes`: the file's text): their line numbers and byte ranges (two numbers a task), and the skipped lines. */
export function indexWinogrande(bytes: Buffer): { lines: Int32Array; ranges: Float64Array; skipped: Array<{ line: number; reason: string }> } {
  // One trailing newline dropped (`-f`), then only newline-terminated lines (getline + eof check).
  const all = fileLines(bytes);
  const n = all.length / 2 - 1;
  const lines: number[] = [];
  const ranges: number[] = [];
  const skipped: Array<{ line: number; reason: string }> = [];
  for (let li = 0; li < n; li++) {
    const r = parseWinograndeLine(bytes.toString("utf8", all[2 * li], all[2 * li + 1]), li + 1);
    if (r.reason !== undefined) skipped.push({ line: li + 1, reason: r.reason });
    else {
      lines.push(li + 1);
      ranges.push(all[2 * li], all[2 * li + 1]);
    }
  }
  return { lines: Int32Array.from(lines), ranges: Float64Array.from(ranges), skipped };
}

/** Parses llama.cpp's Winogrande CSV exactly as load_winogrande_from_csv does. */
export function parseWinograndeCsv(text: string): { items: WinograndeItem[]; skipped: Array<{ line: number; reason: string }> } {
  const bytes = Buffer.from(text, "utf8");
  const { lines, ranges, skipped } = indexWinogrande(bytes);
  const items = Array.from(lines, (line, k) => parseWinograndeLine(bytes.toString("utf8", ranges[2 * k], ranges[2 * k + 1]), line).item!);
  return { items, skipped };
}

/** llama.cpp's selection for `--winogrande-tasks n` (0 or ≥ all: every task in file order). */
export function selectWinograndeTasks<T>(items: T[], n: number): T[] {
  if (!(n > 0 && n < items.length)) return items;
  const rng = mt19937(1);
  const aux = items.map((_, i) => i);
  // float scale = 1/(1.f + (float)rng.max()); j = int(scale*rng()*aux.size()) — all in float.
  const f = Math.fround;
  const scale = f(1 / f(1 + f(4294967295)));
  const out: T[] = [];
  for (let i = 0; i < n; i++) {
    // A draw within 128 of 2^32 rounds to 1.0 in float and indexes past the end in llama.cpp
    // (undefined behaviour); it is clamped here.
    const j = Math.min(aux.length - 1, Math.trunc(f(f(scale * f(rng())) * f(aux.length))));
    out.push(items[aux[j]]);
    aux[j] = aux[aux.length - 1];
    aux.pop();
  }
  return out;
}

interface Plan {
  item: WinograndeItem;
  seq: [number[], number[]];
  cp: number;
  /** First scored position of both windows: cp, or lower when a sequence's option ends inside the common prefix. */
  fs: number;
  nBase: [number, number];
  last: [number, number];
  /** Window of sequence 1 (with a dummy token when its last position's logits are read) and of sequence 2 (absent when nothing of it is read). */
  w0: TokenWindow;
  w1?: TokenWindow;
}

const ROW_BUDGET = 16 * 1024 * 1024;
const K_MIN_TRAILING_CTX = 3;

function commonPrefix(a: number[], b: number[]): number {
  const n = Math.min(a.length, b.length);
  let k = 0;
  while (k < n && a[k] === b[k]) k++;
  return k;
}

async function plan(backend: Backend, item: WinograndeItem): Promise<Plan> {
  const seq: [number[], number[]] = [await backend.tokenize(item.first + item.choices[0] + item.second, true), await backend.tokenize(item.first + item.choices[1] + item.second, true)];
  const cp = commonPrefix(seq[0], seq[1]);
  if (cp === 0) throw new QuantevalError(`winogrande line ${item.line}: the two sentences share no token (no BOS?); llama.cpp cannot score it`);
  const skip = seq[0].length - cp > K_MIN_TRAILING_CTX && seq[1].length - cp > K_MIN_TRAILING_CTX;
  const nBase: [number, number] = skip ? [(await backend.tokenize(item.first + item.choices[0], true)).length, (await backend.tokenize(item.first + item.choices[1], true)).length] : [cp, cp];
  const last: [number, number] = [seq[0].length - nBase[0] > 1 ? 1 : 0, seq[1].length - nBase[1] > 1 ? 1 : 0];
  // Sequence 2's reads start at llama.cpp's logit index len0 − cp + nBase2 − cp; at or below
  // len0 − cp they land in sequence 1's rows, the last of which predicts past its end.
  const needsPastEnd = seq[0].length - cp + nBase[1] - cp <= seq[0].length - cp;
  const fs = Math.max(1, Math.min(cp, nBase[0], nBase[1]));
  const w0: TokenWindow = { tokens: needsPastEnd ? [...seq[0], seq[1][Math.min(cp, seq[1].length - 1)]] : seq[0], firstScored: fs };
  const w1 = seq[1].length - fs >= 1 ? { tokens: seq[1], firstScored: fs } : undefined;
  return { item, seq, cp, fs, nBase, last, w0, w1 };
}

/** The log-probability of `token` in llama.cpp's per-task logit list at `idx`, or undefined outside it. */
function logitListRow(p: Plan, d0: WindowDistributions, d1: WindowDistributions | undefined, idx: number, token: number): number | undefined {
  // List: [position cp−1], sequence 1 positions cp … len0−1, sequence 2 positions cp … len1−1.
  const n0 = p.seq[0].length - p.cp;
  const off = p.cp - p.fs;
  let d: WindowDistributions | undefined;
  let r: number;
  if (idx >= 0 && idx <= n0) [d, r] = [d0, off + idx];
  else [d, r] = [d1, off + idx - n0];
  if (!d || r < 0 || r >= d.nRows) return undefined;
  return d.logprobs[r * d.nVocab + token];
}

function scoreSeq(p: Plan, s: 0 | 1, d0: WindowDistributions, d1: WindowDistributions | undefined): { score: number; approximated: boolean } {
  const f = Math.fround;
  const seq = p.seq[s];
  const nBase = p.nBase[s];
  const last = p.last[s];
  let li = s === 0 ? nBase - p.cp : p.seq[0].length - p.cp + nBase - p.cp;
  let score = 0;
  let approximated = false;
  for (let j = nBase - 1; j < seq.length - 1 - last; j++) {
    let v = logitListRow(p, d0, d1, li++, seq[j + 1]);
    if (v === undefined) {
      // Outside this task's logits llama.cpp reads another task's; use the right position.
      approximated = true;
      const d = s === 0 ? d0 : d1!;
      v = d.logprobs[(j - (p.fs - 1)) * d.nVocab + seq[j + 1]];
    }
    score = f(score + f(v));
  }
  return { score: f(score / (seq.length - nBase - last)), approximated };
}

/** Scores tasks in order with llama.cpp's Winogrande procedure. */
export async function scoreWinogrande(backend: Backend, items: WinograndeItem[]): Promise<WinograndeScore[]> {
  const plans: Plan[] = [];
  for (const it of items) plans.push(await plan(backend, it));
  const nVocab = (await backend.describe()).n_vocab ?? 32000;
  const rowsOf = (p: Plan) => p.w0.tokens.length - p.fs + (p.w1 ? p.w1.tokens.length - p.fs : 0);
  const out: WinograndeScore[] = [];
  let i = 0;
  while (i < plans.length) {
    const group: Plan[] = [];
    let rows = 0;
    while (i < plans.length && (group.length === 0 || (rows + rowsOf(plans[i])) * nVocab <= ROW_BUDGET)) {
      rows += rowsOf(plans[i]);
      group.push(plans[i++]);
    }
    const windows = group.flatMap((p) => (p.w1 ? [p.w0, p.w1] : [p.w0]));
    const dists = await backend.distributions(windows);
    let k = 0;
    for (const p of group) {
      const d0 = dists[k++];
      const d1 = p.w1 ? dists[k++] : undefined;
      const a = scoreSeq(p, 0, d0, d1);
      const b = scoreSeq(p, 1, d0, d1);
      const pred = a.score > b.score ? 1 : 2;
      out.push({ line: p.item.line, score1: a.score, score2: b.score, pred, answer: p.item.answer, correct: pred === p.item.answer, approximated: a.approximated || b.approximated });
    }
  }
  return out;
}
