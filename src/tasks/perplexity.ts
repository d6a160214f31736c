// Perplexity over raw text, compatible with llama.cpp's `llama-perplexity`, and — when the
// run has variants — distribution drift (KLD, top-1 agreement, Δp) of each variant against
// the baseline, co-evaluated chunk by chunk without writing any logits to disk.
//
// llama-perplexity's procedure (tools/perplexity/perplexity.cpp), reproduced here:
//   tokens = tokenize(whole text, add BOS)
//   n_chunk = min(chunks, floor(n_tokens / n_ctx)); at least 2·n_ctx tokens are required
//   chunk i = tokens[i·n_ctx, (i+1)·n_ctx) with its first token replaced by BOS
//   scored: logits at positions n_ctx/2 … n_ctx−2, each predicting the next token.
import { createHash } from "node:crypto";
import type { Backend, WindowDistributions } from "../backends/backend.js";
import { DistributionDriftAccumulator, type DistributionDrift } from "../metrics/distributionDrift.js";
import { QuantevalError } from "../util/errors.js";

export interface PerplexityOptions {
  nCtx: number;
  chunks?: number;
  /** Stop early (for progress UIs). */
  onProgress?: (done: number, total: number) => void;
}

export interface PerplexityResult {
  ppl: number;
  ppl_err: number;
  n_tokens: number;
  n_chunks: number;
  n_ctx: number;
  /** exp(total NLL / words in the scored spans) — lm-eval's word_perplexity over the scored text. */
  word_perplexity: number;
  /** exp(total NLL / UTF-8 bytes of the scored tokens) — lm-eval's byte_perplexity. */
  byte_perplexity: number;
  bits_per_byte: number;
}

export interface PerplexityRun {
  results: Record<string, PerplexityResult>;
  /** Per variant: drift against the baseline, or the reason it was skipped. */
  drift: Record<string, DistributionDrift | { skipped: string }>;
  text_sha256: string;
}

interface ModelEntry {
  name: string;
  backend: Backend;
  /** Token-level comparison needs the same vocabulary as the baseline. */
  sameVocab: boolean;
  /** For models whose tokenizer differs, their own chunks. */
  ownTokens?: number[];
}

/** llama-perplexity's chunks: consecutive n_ctx-token windows, the first token of each replaced by BOS. */
export function chunkWindows(tokens: number[], nCtx: number, nChunk: number, bos: number | undefined): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < nChunk; i++) {
    const w = tokens.slice(i * nCtx, (i + 1) * nCtx);
    if (bos !== undefined) w[0] = bos;
    out.push(w);
  }
  return out;
}

/** Running NLL sums of one model (PPL, its error, word and byte perplexity). */
export class NllSum {
  nll = 0;
  nll2 = 0;
  count = 0;
  bytes = 0;
  words = 0;
  add(v: number): void {
    this.nll += v;
    this.nll2 += v * v;
    this.count++;
  }
  result(nCtx: number, nChunk: number): PerplexityResult {
    const mean = this.nll / this.count;
    const varMean = this.nll2 / this.count - mean * mean;
    const ppl = Math.exp(mean);
    const err = varMean > 0 ? Math.sqrt(varMean / (this.count - 1)) * ppl : 0;
    return {
      ppl,
      ppl_err: err,
      n_tokens: this.count,
      n_chunks: nChunk,
      n_ctx: nCtx,
      word_perplexity: Math.exp(this.nll / Math.max(1, this.words)),
      byte_perplexity: Math.exp(this.nll / Math.max(1, this.bytes)),
      bits_per_byte: this.nll / Math.max(1, this.bytes) / Math.LN2,
    };
  }
}

/** Counts bytes and words of the scored span of one window, as text. */
export function spanStats(backend: Backend, tokens: number[]): { bytes: number; words: number } {
  const detok = (backend as { detokenize?: (t: number[]) => string }).detokenize;
  if (!detok) return { bytes: 0, words: 0 };
  const text = detok.call(backend, tokens);
  return { bytes: Buffer.byteLength(text, "utf8"), words: text.split(/\s+/).filter(Boolean).length };
}

/** Log-probs kept per model per batch of chunks, MB (QUANTEVAL_DIST_BUFFER_MB overrides). */
export const DEFAULT_DIST_BUFFER_MB = 512;

/**
 * Chunks evaluated per distributions() call: as llama-perplexity, n_batch / n_ctx (n_batch 2048),
 * fewer when their log-probs would exceed the buffer; one line saying what to lower when even
 * one chunk does not fit.
 */
export function chunksPerCall(rowsPerChunk: number, nVocab: number, nCtx: number, where: string): number {
  const budgetMb = Number(process.env.QUANTEVAL_DIST_BUFFER_MB ?? DEFAULT_DIST_BUFFER_MB);
  if (!(budgetMb > 0)) throw new QuantevalError(`QUANTEVAL_DIST_BUFFER_MB=${process.env.QUANTEVAL_DIST_BUFFER_MB}: give a positive number of MB`);
  const chunkMb = (rowsPerChunk * nVocab * 4) / 2 ** 20;
  const fit = Math.floor(budgetMb / chunkMb);
  if (fit < 1) {
    // n_ctx/2 − 1 scored rows per chunk must fit the buffer
    const nCtxFit = 2 * (Math.floor((budgetMb * 2 ** 20) / (4 * nVocab)) + 1);
    throw new QuantevalError(
      `${where}: one chunk of ${rowsPerChunk} scored positions × ${nVocab} vocabulary entries needs ${chunkMb.toFixed(0)} MB of log-probs per model, over the ${budgetMb} MB buffer (tried 1 chunk per batch); lower n_ctx to at most ${nCtxFit} or raise QUANTEVAL_DIST_BUFFER_MB`,
    );
  }
  return Math.max(1, Math.min(Math.floor(2048 / nCtx), fit));
}

/**
 * A broken model's NaN/±∞ logits reach the scored rows as non-finite target log-probs (the
 * log-softmax kernel turns a row with NaN or +∞ into NaN): name the first one, never average it.
 */
export function checkFinite(model: string, d: WindowDistributions, chunk: number, first: number, where: string): void {
  for (let r = 0; r < d.nRows; r++) {
    const lp = d.logprobs[r * d.nVocab + d.targets[r]];
    if (!Number.isFinite(lp)) {
      const what = Number.isNaN(lp) ? "NaN or +∞ logits" : "log-probability −∞ for the actual next token";
      throw new QuantevalError(`${where}: model '${model}' gave ${what} at chunk ${chunk}, position ${first + r} (predicting token ${first + r + 1}); the model file or its build is broken`);
    }
  }
}

/**
 * Evaluates perplexity for every model and drift for every variant. Models with the
 * baseline's vocabulary score the baseline's exact token windows.
 */
export async function runPerplexity(text: string, baseline: Backend, variants: Backend[], opts: PerplexityOptions, where: string): Promise<PerplexityRun> {
  const nCtx = opts.nCtx;
  if (nCtx % 2 !== 0) throw new QuantevalError(`${where}: n_ctx must be even (got ${nCtx})`);
  const baseDesc = await baseline.describe();
  for (const b of [baseline, ...variants]) {
    if (b.contextLength() < nCtx) throw new QuantevalError(`${where}: n_ctx ${nCtx} exceeds model '${b.name}' context ${b.contextLength()}; set the model's n_ctx to at least ${nCtx}`);
  }
  const tokens = await baseline.tokenize(text, true);
  if (tokens.length < 2 * nCtx) {
    throw new QuantevalError(`${where}: text has ${tokens.length} tokens but perplexity with n_ctx ${nCtx} needs at least ${2 * nCtx}; use more text or a smaller n_ctx`);
  }
  const nChunk = Math.min(opts.chunks ?? Infinity, Math.floor(tokens.length / nCtx));
  const bos = baseDesc.add_bos ? tokens[0] : undefined;
  const windows = chunkWindows(tokens, nCtx, nChunk, bos);
  const first = nCtx / 2;

  const entries: ModelEntry[] = [];
  const drift: PerplexityRun["drift"] = {};
  for (const v of variants) {
    const d = await v.describe();
    const sameVocab = d.vocab_hash !== undefined && d.vocab_hash === baseDesc.vocab_hash;
    const entry: ModelEntry = { name: v.name, backend: v, sameVocab };
    if (!sameVocab) {
      drift[v.name] = { skipped: `tokenizer differs from the baseline's (vocab ${d.n_vocab} vs ${baseDesc.n_vocab}); KLD, top-1 and Δp need the same vocabulary` };
      entry.ownTokens = await v.tokenize(text, true);
      if (entry.ownTokens.length < 2 * nCtx) throw new QuantevalError(`${where}: text has too few tokens for model '${v.name}' at n_ctx ${nCtx}`);
    }
    entries.push(entry);
  }
  const sums = new Map<string, NllSum>([[baseline.name, new NllSum()], ...entries.map((e) => [e.name, new NllSum()] as [string, NllSum])]);
  const accs = new Map<string, DistributionDriftAccumulator>();
  for (const e of entries) if (e.sameVocab) accs.set(e.name, new DistributionDriftAccumulator(baseDesc.n_vocab ?? 0));

  const rowsPerChunk = nCtx - 1 - first;
  const perCall = chunksPerCall(rowsPerChunk, baseDesc.n_vocab ?? 1, nCtx, where);
  for (let c = 0; c < nChunk; c += perCall) {
    const batch = windows.slice(c, c + perCall).map((w) => ({ tokens: w, firstScored: first + 1 }));
    const baseD = await baseline.distributions(batch);
    const bs = sums.get(baseline.name)!;
    const spans = batch.map((w) => spanStats(baseline, w.tokens.slice(first + 1)));
    baseD.forEach((d, k) => {
      checkFinite(baseline.name, d, c + k, first, where);
      for (let r = 0; r < d.nRows; r++) bs.add(-d.logprobs[r * d.nVocab + d.targets[r]]);
      bs.bytes += spans[k].bytes;
      bs.words += spans[k].words;
    });
    for (const e of entries) {
      const s = sums.get(e.name)!;
      if (e.sameVocab) {
        const vd = await e.backend.distributions(batch);
        const acc = accs.get(e.name)!;
        vd.forEach((d, k) => {
          checkFinite(e.name, d, c + k, first, where);
          for (let r = 0; r < d.nRows; r++) s.add(-d.logprobs[r * d.nVocab + d.targets[r]]);
          acc.addRows(baseD[k].logprobs, d.logprobs, d.targets, d.nRows);
          s.bytes += spans[k].bytes;
          s.words += spans[k].words;
        });
      } else {
        const own = chunkWindows(e.ownTokens!, nCtx, Math.min(nChunk, Math.floor(e.ownTokens!.length / nCtx)), (await e.backend.describe()).add_bos ? e.ownTokens![0] : undefined);
        const ob = own.slice(c, c + perCall).map((w) => ({ tokens: w, firstScored: first + 1 }));
        if (ob.length === 0) continue;
        const vd = await e.backend.distributions(ob);
        vd.forEach((d, k) => {
          checkFinite(e.name, d, c + k, first, where);
          for (let r = 0; r < d.nRows; r++) s.add(-d.logprobs[r * d.nVocab + d.targets[r]]);
          const st = spanStats(e.backend, ob[k].tokens.slice(first + 1));
          s.bytes += st.bytes;
          s.words += st.words;
        });
      }
    }
    opts.onProgress?.(Math.min(nChunk, c + perCall), nChunk);
  }
  const results: Record<string, PerplexityResult> = {};
  for (const [name, s] of sums) results[name] = s.result(nCtx, nChunk);
  for (const [name, acc] of accs) drift[name] = acc.finish();
  return { results, drift, text_sha256: createHash("sha256").update(text).digest("hex") };
}
