// The on-disk row form of stored baseline distributions (see baselineDistributions.ts).
//
// Why this form. KLD needs, at every scored position, the baseline's probability of every
// token; the variant's row is recomputed when it is evaluated. Three forms were considered:
//   - top-K log-probs + tail mass: the tail term Σ_tail p_b·ln(p_b/p_v) is only bounded below
//     (log-sum inequality: ≥ P_b,tail·ln(P_b,tail/P_v,tail)), so KLD is biased low by an amount
//     that depends on the variant, and the bound is loosest for exactly the variants that drift.
//     Measured on stories260K vs Q4_0 (1,530 positions, exact KLD 0.216988): top-8 −22.8%,
//     top-32 −5.8%, top-64 −1.65%, top-128 −0.15%: a quarter of the vocabulary to stay within 1%;
//   - full rows in f16: relative precision 2⁻¹¹ means ±5e-3 nats at log p = −10;
//   - full rows in uint16 over [lo, max] (llama.cpp's own `--kl-divergence-base` scheme):
//     uniform absolute precision over the only range KLD reads.
// We keep llama.cpp's scheme ("u16"), so a stored baseline loses nothing llama.cpp's two-pass KLD
// does not lose too, and the agreement with `llama-perplexity --kl-divergence` (KLD mean within
// 1%, same-top-1 within 0.5 pp) holds by construction. Two changes make it more exact:
//   - the range is in log-prob space, [lo, hi] with lo = max(row min, −16) and hi = row max:
//     entries at or below −16 decode to ≤ −16 and are skipped by the KLD sum exactly as the
//     accumulator skips them (llama.cpp's floor), entries above decode within
//     (hi − lo)/65535/2 ≤ 16/65535/2 = 1.22e-4 nats of their float32 value;
//   - the target's log-prob and the argmax are stored exactly, so PPL(base), Δp and same-top-1
//     equal the co-evaluated figures bit for bit; only KLD carries the 1.22e-4-nat rounding, whose
//     first-order effect per position, Σ p_b·(1 + ln p_b − ln p_v)·δ_i, is bounded by
//     1.22e-4·(1 + Σ p_b·|ln p_b − ln p_v|) nats and averages out over positions. Measured
//     (test/store/baselineDistributions.test.ts, stored u16 vs co-evaluated on the same windows):
//     stories260K vs Q4_0, 1,530 positions: KLD 0.2169877 vs 0.2169880 (1.5e-6 relative);
//     llama-2-tiny-random vs Q8_0/Q4_0: KLD ≈ 1e-9 nats either way (its n_embd of 8 makes the
//     logits nearly flat), differences ≤ 4e-10 nats, below float32 resolution of the rows;
//     against llama-perplexity's own two-pass figures: stories260K 0.216988 vs 0.216875 (0.05%),
//     same-top-1 67.974% vs 67.843% (0.13 pp); tiny-random 0.000000 and top-1 identical.
// "f32" stores the rows exactly (4 bytes per vocabulary entry) for results identical to
// co-evaluation, at twice the disk.
//
// Record of one scored position, little-endian, 4-byte aligned:
//   int32 target, int32 argmax, f32 target log-prob, f32 lo, f32 hi, then the row payload.

/** How one log-softmax row is written and read back. */
export interface RowEncoding {
  /** Bytes of the row payload for a vocabulary of `nVocab` (the record adds {@link RECORD_HEADER_BYTES}). */
  payloadBytes(nVocab: number): number;
  /**
   * Writes row[offset .. offset+nVocab), whose maximum is `hi`, into `out` (a view of exactly
   * payloadBytes); returns `lo`, the value the decoder needs with `hi`.
   */
  encode(row: Float32Array, offset: number, nVocab: number, hi: number, out: DataView): number;
  /** Decodes a payload into out[offset .. offset+nVocab). */
  decode(payload: DataView, nVocab: number, lo: number, hi: number, out: Float32Array, offset: number): void;
  /** Largest absolute error of a decoded entry above the KLD floor, in nats (0 = exact). */
  maxAbsError: number;
}

/** Header of every record: target, argmax, target log-prob, lo, hi. */
export const RECORD_HEADER_BYTES = 20;

/** The KLD floor the u16 form is anchored at (llama.cpp `p_log_base > -16.f`). */
export const U16_FLOOR = -16;
const U16_LEVELS = 65535;

const u16: RowEncoding = {
  payloadBytes: (nVocab) => 2 * nVocab + (nVocab % 2) * 2,
  encode(row, offset, nVocab, hi, out) {
    let min = Infinity;
    for (let i = offset; i < offset + nVocab; i++) if (row[i] < min) min = row[i];
    const lo = Math.fround(Math.max(min, U16_FLOOR));
    const q = new Uint16Array(out.buffer, out.byteOffset, nVocab);
    if (!(hi > lo)) {
      q.fill(0);
      return lo;
    }
    const inv = U16_LEVELS / (hi - lo);
    for (let i = 0; i < nVocab; i++) {
      const v = row[offset + i];
      q[i] = v > lo ? Math.round((v - lo) * inv) : 0;
    }
    return lo;
  },
  decode(payload, nVocab, lo, hi, out, offset) {
    const q = new Uint16Array(payload.buffer, payload.byteOffset, nVocab);
    const scale = (hi - lo) / U16_LEVELS;
    for (let i = 0; i < nVocab; i++) out[offset + i] = lo + q[i] * scale;
  },
  maxAbsError: -U16_FLOOR / U16_LEVELS / 2,
};

const f32: RowEncoding = {
  payloadBytes: (nVocab) => 4 * nVocab,
  encode(row, offset, nVocab, _hi, out) {
    new Float32Array(out.buffer, out.byteOffset, nVocab).set(row.subarray(offset, offset + nVocab));
    return 0;
  },
  decode(payload, nVocab, _lo, _hi, out, offset) {
    out.set(new Float32Array(payload.buffer, payload.byteOffset, nVocab), offset);
  },
  maxAbsError: 0,
};

/** The row forms by name; "u16" is the default (see the header of this file for why). */
export const ROW_ENCODINGS = { u16, f32 } as const satisfies Record<string, RowEncoding>;

export type RowEncodingName = keyof typeof ROW_ENCODINGS;

/** Disk bytes per scored position for a vocabulary size and row form. */
export function bytesPerPosition(nVocab: number, encoding: RowEncodingName = "u16"): number {
  return RECORD_HEADER_BYTES + ROW_ENCODINGS[encoding].payloadBytes(nVocab);
}
