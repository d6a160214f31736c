/**
 * Distribution drift between a baseline and a variant model, reproducing the statistics
 * `llama-perplexity --kl-divergence` prints (tools/perplexity/perplexity.cpp:
 * `kl_divergence()`, `log_softmax(..., kl_divergence_result &)`, `mean_and_uncertainty`,
 * `covariance`, `percentile`), computed from log-softmax rows without keeping any row.
 *
 * Differences from llama.cpp that are deliberate (all make the numbers more exact):
 * - llama.cpp stores the baseline log-probs quantized to uint16 over [max−16, max] and
 *   recomputes the variant's log-softmax in float32; here both rows are exact log-softmax
 *   inputs and every per-token quantity and sum is float64. In particular llama.cpp clamps a
 *   baseline target log-prob below (max logit − 16) to that floor; we use the exact value.
 * - Where llama.cpp would print nan/inf (RMS Δp ± when RMS is 0, ± of a negative variance
 *   from rounding, Same top p ± with one token) we return 0.
 * The KLD sum skips baseline entries with log p ≤ −16 exactly like llama.cpp (option
 * `baseLogProbFloor`, default {@link LLAMA_CPP_KLD_BASE_LOGPROB_FLOOR}).
 */

import { distMath, driftRows, type DistMathKernels, type DriftRows } from "./distMathKernels.js";

/** llama.cpp only sums KLD terms whose baseline log-prob is > −16 (`p_log_base > -16.f`). */
export const LLAMA_CPP_KLD_BASE_LOGPROB_FLOOR = -16;

/** Everything llama.cpp prints after `====== Perplexity statistics ======` and below. */
export interface DistributionDrift {
  /** scored positions (llama.cpp `kld.count`) */
  n_tokens: number;
  /** "Mean PPL(base)" ± */
  ppl_base: number;
  ppl_base_err: number;
  /** "Mean PPL(Q)" ± */
  ppl_variant: number;
  ppl_variant_err: number;
  /** "Cor(ln(PPL(Q)), ln(PPL(base)))" as a fraction (llama.cpp prints %); null if undefined */
  ln_ppl_cor: number | null;
  /** "Mean ln(PPL(Q)/PPL(base))" ± */
  ln_ppl_ratio_mean: number;
  ln_ppl_ratio_err: number;
  /** "Mean PPL(Q)/PPL(base)" ± */
  ppl_ratio: number;
  ppl_ratio_err: number;
  /** "Mean PPL(Q)-PPL(base)" ± */
  ppl_diff: number;
  ppl_diff_err: number;
  /** "Mean    KLD" ± and the KLD distribution (nats) */
  kld_mean: number;
  kld_err: number;
  kld_max: number;
  kld_p999: number;
  kld_p99: number;
  kld_p95: number;
  kld_p90: number;
  kld_median: number;
  kld_p10: number;
  kld_p05: number;
  kld_p01: number;
  kld_p001: number;
  kld_min: number;
  /** Δp = p_variant(target) − p_base(target), as fractions (llama.cpp prints them ×100 as %) */
  delta_p_mean: number;
  delta_p_err: number;
  delta_p_max: number;
  delta_p_p999: number;
  delta_p_p99: number;
  delta_p_p95: number;
  delta_p_p90: number;
  delta_p_p75: number;
  delta_p_median: number;
  delta_p_p25: number;
  delta_p_p10: number;
  delta_p_p05: number;
  delta_p_p01: number;
  delta_p_p001: number;
  delta_p_min: number;
  /** "RMS Δp" ± as fractions (llama.cpp prints %) */
  delta_p_rms: number;
  delta_p_rms_err: number;
  /** "Same top p": fraction 0..1 of positions with the same argmax (llama.cpp prints %) */
  top1_agreement: number;
  top1_agreement_err: number;
}

/** Options of {@link DistributionDriftAccumulator}. */
export interface DistributionDriftOptions {
  /** KLD terms with baseline log-prob ≤ this are skipped; −Infinity sums every term. Default −16 (llama.cpp). */
  baseLogProbFloor?: number;
}

/**
 * Turns raw logits into log-probabilities in place: x − max − ln Σ exp(x − max), with the
 * max subtraction and the sum done in float64 (results rounded once to float32).
 *
 * @throws RangeError when the row has no finite maximum (all −∞ or NaN)
 */
export function logSoftmaxInPlace(row: Float32Array, offset: number, nVocab: number): void {
  checkRow(row, offset, nVocab, "logSoftmaxInPlace");
  const end = offset + nVocab;
  let max = -Infinity;
  for (let i = offset; i < end; i++) if (row[i] > max) max = row[i];
  if (!Number.isFinite(max)) throw new RangeError(`logSoftmaxInPlace: row has no finite maximum (${max})`);
  let sum = 0;
  for (let i = offset; i < end; i++) sum += Math.exp(row[i] - max);
  const logSum = Math.log(sum);
  for (let i = offset; i < end; i++) row[i] = row[i] - max - logSum;
}

/**
 * KL(base ‖ variant) for one position: Σ_i p_base,i · (ln p_base,i − ln p_variant,i),
 * accumulated in float64 from two log-softmax rows.
 *
 * Terms with base log-prob ≤ `baseLogProbFloor` are skipped (p = 0 terms always are);
 * pass {@link LLAMA_CPP_KLD_BASE_LOGPROB_FLOOR} to match llama.cpp. Identical rows give 0 exactly.
 */
export function klDivergence(base: Float32Array, bo: number, variant: Float32Array, vo: number, nVocab: number, baseLogProbFloor: number = -Infinity): number {
  let sum = 0;
  for (let i = 0; i < nVocab; i++) {
    const lb = base[bo + i];
    if (lb > baseLogProbFloor) sum += Math.exp(lb) * (lb - variant[vo + i]);
  }
  return sum;
}

/**
 * llama.cpp's `mean_and_uncertainty(sum, sum2, count)`: mean f = sum/count and its
 * standard error sqrt((sum2/count − f²)/(count − 1)); the error is 0 unless count > 10 and
 * the variance is positive. count < 1 gives [0, 0].
 */
export function meanAndUncertainty(sum: number, sum2: number, count: number): [number, number] {
  if (count < 1) return [0, 0];
  const f = sum / count;
  const df = sum2 / count - f * f;
  return [f, df > 0 && count > 10 ? Math.sqrt(df / (count - 1)) : 0];
}

/**
 * llama.cpp's `covariance(suma, sumb, sumab, count)`: covariance of the two means,
 * (sumab/count − (suma/count)(sumb/count)) / (count − 1); 0 when count < 10.
 */
export function meanCovariance(suma: number, sumb: number, sumab: number, count: number): number {
  if (count < 10) return 0;
  return (sumab / count - (suma / count) * (sumb / count)) / (count - 1);
}

/**
 * llama.cpp's `percentile(values, fraction)` on ascending-sorted float32 values, with its
 * float32 arithmetic emulated: p = fraction·(n−1), ip = ⌊p⌋, result
 * (1 − (p−ip))·v[ip] + (p−ip)·v[min(ip+1, n−1)]; fraction ≤ 0 → first, ≥ 1 → last.
 */
export function llamaPercentile(sorted: ArrayLike<number>, fraction: number): number {
  const n = sorted.length;
  if (n === 0) throw new RangeError("llamaPercentile: empty input");
  const f = Math.fround(fraction);
  if (f <= 0) return sorted[0];
  if (f >= 1) return sorted[n - 1];
  let p = Math.fround(f * Math.fround(n - 1));
  const ip = Math.trunc(p);
  p = Math.fround(p - ip);
  const lo = Math.fround(Math.fround(1 - p) * sorted[ip]);
  const hi = Math.fround(p * sorted[Math.min(ip + 1, n - 1)]);
  return Math.fround(lo + hi);
}

/** llama.cpp's median of ascending-sorted float32 values (mean of the two middle ones for even n, in float32). */
export function llamaMedian(sorted: ArrayLike<number>): number {
  const n = sorted.length;
  if (n === 0) throw new RangeError("llamaMedian: empty input");
  const h = n >> 1;
  return n % 2 === 0 ? Math.fround(0.5 * Math.fround(sorted[h] + sorted[h - 1])) : sorted[h];
}

/**
 * Streams baseline/variant log-softmax rows one position at a time and produces the
 * `llama-perplexity --kl-divergence` statistics. Keeps running sums plus two float32 values
 * per position (KLD and Δp, needed for percentiles); never keeps a row.
 */
export class DistributionDriftAccumulator {
  readonly nVocab: number;
  private readonly floor: number;
  private count = 0;
  private sumNll = 0;
  private sumNll2 = 0;
  private sumNllBase = 0;
  private sumNllBase2 = 0;
  private sumNllNllBase = 0;
  private sumKld = 0;
  private sumKld2 = 0;
  private sumPDiff = 0;
  private sumPDiff2 = 0;
  private sumPDiff4 = 0;
  private nSameTop = 0;
  private kldValues = new Float32Array(1024);
  private pDiffValues = new Float32Array(1024);
  private rows: DriftRows = driftRows(0);

  constructor(nVocab: number, opts: DistributionDriftOptions = {}) {
    if (!Number.isInteger(nVocab) || nVocab <= 0) throw new RangeError(`DistributionDriftAccumulator: bad nVocab ${nVocab}`);
    this.nVocab = nVocab;
    this.floor = opts.baseLogProbFloor ?? LLAMA_CPP_KLD_BASE_LOGPROB_FLOOR;
  }

  /** Number of positions added so far. */
  get nTokens(): number {
    return this.count;
  }

  /**
   * Adds one scored position.
   * @param base baseline log-softmax row at `baseOffset` (length nVocab)
   * @param variant variant log-softmax row at `variantOffset` (length nVocab)
   * @param target the actual next token (index into the rows)
   */
  add(base: Float32Array, baseOffset: number, variant: Float32Array, variantOffset: number, target: number): void {
    const nv = this.nVocab;
    checkRow(base, baseOffset, nv, "add(base)");
    checkRow(variant, variantOffset, nv, "add(variant)");
    if (!Number.isInteger(target) || target < 0 || target >= nv) throw new RangeError(`add: target ${target} out of [0, ${nv})`);

    const kld = klDivergence(base, baseOffset, variant, variantOffset, nv, this.floor);
    // argmax, first index wins ties (llama.cpp: strict '>' scanning from index 0)
    let iBase = 0;
    let iVar = 0;
    let mBase = base[baseOffset];
    let mVar = variant[variantOffset];
    for (let i = 1; i < nv; i++) {
      const b = base[baseOffset + i];
      const v = variant[variantOffset + i];
      if (b > mBase) {
        mBase = b;
        iBase = i;
      }
      if (v > mVar) {
        mVar = v;
        iVar = i;
      }
    }
    this.record(base[baseOffset + target], variant[variantOffset + target], kld, iBase === iVar);
  }

  /**
   * Adds `nRows` consecutive positions at once with the row kernels of {@link distMath} (native:
   * every core, SIMD; else JavaScript), which is what the perplexity task uses. Same results as
   * calling {@link add} per row, to float64 rounding of the KLD sums.
   * @param base baseline log-softmax rows (nRows × nVocab from index 0)
   * @param variant variant log-softmax rows, same shape
   * @param targets the actual next token of each row
   */
  addRows(base: Float32Array, variant: Float32Array, targets: Int32Array, nRows: number, kernels: DistMathKernels = distMath()): void {
    const nv = this.nVocab;
    checkRow(base, 0, nRows * nv, "addRows(base)");
    checkRow(variant, 0, nRows * nv, "addRows(variant)");
    if (this.rows.kld.length < nRows) this.rows = driftRows(nRows);
    const out = this.rows;
    kernels.drift(base, variant, nRows, nv, this.floor, out);
    for (let r = 0; r < nRows; r++) {
      const target = targets[r];
      if (!Number.isInteger(target) || target < 0 || target >= nv) throw new RangeError(`addRows: target ${target} of row ${r} out of [0, ${nv})`);
      this.record(base[r * nv + target], variant[r * nv + target], out.kld[r], out.argBase[r] === out.argVariant[r]);
    }
  }

  /**
   * Adds one position's per-token quantities to the running sums (what add and addRows compute
   * per row; the perplexity task replays positions it cached chunk by chunk through it).
   */
  record(lpBase: number, lpVar: number, kld: number, sameTop: boolean): void {
    const nll = -lpVar;
    const nllBase = -lpBase;
    this.sumNll += nll;
    this.sumNll2 += nll * nll;
    this.sumNllBase += nllBase;
    this.sumNllBase2 += nllBase * nllBase;
    this.sumNllNllBase += nll * nllBase;
    this.sumKld += kld;
    this.sumKld2 += kld * kld;
    if (sameTop) this.nSameTop++;

    const pDiff = Math.exp(lpVar) - Math.exp(lpBase);
    const pDiff2 = pDiff * pDiff;
    this.sumPDiff += pDiff;
    this.sumPDiff2 += pDiff2;
    this.sumPDiff4 += pDiff2 * pDiff2;

    if (this.count === this.kldValues.length) {
      this.kldValues = grow(this.kldValues);
      this.pDiffValues = grow(this.pDiffValues);
    }
    this.kldValues[this.count] = kld;
    this.pDiffValues[this.count] = pDiff;
    this.count++;
  }

  /**
   * Computes the statistics over everything added so far (may be called repeatedly).
   * Note llama.cpp itself skips this final block when fewer than 100 tokens were scored.
   * @throws RangeError when no position was added
   */
  finish(): DistributionDrift {
    const n = this.count;
    if (n === 0) throw new RangeError("DistributionDriftAccumulator.finish: no tokens added");

    const [logPpl, logPplErr] = meanAndUncertainty(this.sumNll, this.sumNll2, n);
    const pplVariant = Math.exp(logPpl);
    const pplVariantErr = pplVariant * logPplErr;
    const [logPplBase, logPplBaseErr] = meanAndUncertainty(this.sumNllBase, this.sumNllBase2, n);
    const pplBase = Math.exp(logPplBase);
    const pplBaseErr = pplBase * logPplBaseErr;
    const cov = meanCovariance(this.sumNll, this.sumNllBase, this.sumNllNllBase, n);
    const corDen = logPplErr * logPplBaseErr;
    const lnRatio = logPpl - logPplBase;
    const lnRatioErr = sqrtNonNeg(logPplErr * logPplErr + logPplBaseErr * logPplBaseErr - 2 * cov);
    const pplRatio = Math.exp(lnRatio);
    const pplCov = pplVariant * pplBase * cov;

    const [kldMean, kldErr] = meanAndUncertainty(this.sumKld, this.sumKld2, n);
    const kld = this.kldValues.slice(0, n).sort();
    const [pMean, pErr] = meanAndUncertainty(this.sumPDiff, this.sumPDiff2, n);
    const pd = this.pDiffValues.slice(0, n).sort();
    const [mse, mseErr] = meanAndUncertainty(this.sumPDiff2, this.sumPDiff4, n);
    const rms = Math.sqrt(mse);
    const top = this.nSameTop / n;

    return {
      n_tokens: n,
      ppl_base: pplBase,
      ppl_base_err: pplBaseErr,
      ppl_variant: pplVariant,
      ppl_variant_err: pplVariantErr,
      ln_ppl_cor: corDen > 0 ? cov / corDen : null,
      ln_ppl_ratio_mean: lnRatio,
      ln_ppl_ratio_err: lnRatioErr,
      ppl_ratio: pplRatio,
      ppl_ratio_err: pplRatio * lnRatioErr,
      ppl_diff: pplVariant - pplBase,
      ppl_diff_err: sqrtNonNeg(pplVariantErr * pplVariantErr + pplBaseErr * pplBaseErr - 2 * pplCov),
      kld_mean: kldMean,
      kld_err: kldErr,
      kld_max: kld[n - 1],
      kld_p999: llamaPercentile(kld, 0.999),
      kld_p99: llamaPercentile(kld, 0.99),
      kld_p95: llamaPercentile(kld, 0.95),
      kld_p90: llamaPercentile(kld, 0.9),
      kld_median: llamaMedian(kld),
      kld_p10: llamaPercentile(kld, 0.1),
      kld_p05: llamaPercentile(kld, 0.05),
      kld_p01: llamaPercentile(kld, 0.01),
      kld_p001: llamaPercentile(kld, 0.001),
      kld_min: kld[0],
      delta_p_mean: pMean,
      delta_p_err: pErr,
      delta_p_max: pd[n - 1],
      delta_p_p999: llamaPercentile(pd, 0.999),
      delta_p_p99: llamaPercentile(pd, 0.99),
      delta_p_p95: llamaPercentile(pd, 0.95),
      delta_p_p90: llamaPercentile(pd, 0.9),
      delta_p_p75: llamaPercentile(pd, 0.75),
      delta_p_median: llamaMedian(pd),
      delta_p_p25: llamaPercentile(pd, 0.25),
      delta_p_p10: llamaPercentile(pd, 0.1),
      delta_p_p05: llamaPercentile(pd, 0.05),
      delta_p_p01: llamaPercentile(pd, 0.01),
      delta_p_p001: llamaPercentile(pd, 0.001),
      delta_p_min: pd[0],
      delta_p_rms: rms,
      // llama.cpp: 0.5/rms · mseErr (d sqrt(x)/dx); it prints nan when rms = 0
      delta_p_rms_err: rms > 0 ? (0.5 / rms) * mseErr : 0,
      top1_agreement: top,
      // llama.cpp: sqrt(p(1−p)/(count−1)), no small-count guard (nan at count = 1)
      top1_agreement_err: n > 1 ? Math.sqrt((top * (1 - top)) / (n - 1)) : 0,
    };
  }
}

function sqrtNonNeg(x: number): number {
  return x > 0 ? Math.sqrt(x) : 0;
}

function grow(a: Float32Array): Float32Array<ArrayBuffer> {
  const b = new Float32Array(a.length * 2);
  b.set(a);
  return b;
}

function checkRow(row: Float32Array, offset: number, nVocab: number, where: string): void {
  if (!Number.isInteger(offset) || offset < 0 || offset + nVocab > row.length) {
    throw new RangeError(`${where}: row of ${nVocab} at offset ${offset} exceeds array length ${row.length}`);
  }
}
