// Reusable buffers for full log-prob rows (a window's nRows × nVocab floats).
//
// Why: a perplexity/KLD batch holds each model's log-prob rows for a few chunks, 130 MB a chunk
// at a 128k vocabulary. Allocated fresh for every batch, each buffer's pages were first touched
// (zeroed by the kernel, one page fault per 4 KiB) in every batch: 785,000 page faults and
// 2.0–6.9 s of system time in one 4-chunk KLD run at 128k, more than its 2.1 s of user time.
// Handed back when a batch's records are made, the next batch's rows reuse the same pages.
// No library does this (it is a free list of typed arrays by length).
//
// Ownership: `take` hands out a buffer that nothing else holds; whoever took it (or got it inside a
// WindowDistributions) may `give` it back once nothing reads it any more. A buffer never given
// back is collected as before. Buffers are not cleared: their taker overwrites every element.

/** A free list of Float32Arrays by length. */
export class RowBuffers {
  private readonly free = new Map<number, Float32Array[]>();

  /** A buffer of `length` floats, reused when one was given back (its contents are stale). */
  take(length: number): Float32Array {
    return this.free.get(length)?.pop() ?? new Float32Array(length);
  }

  /** Hands buffers back for reuse; nothing may read them afterwards. */
  give(buffers: Iterable<Float32Array>): void {
    for (const b of buffers) {
      const list = this.free.get(b.length);
      if (list) list.push(b);
      else this.free.set(b.length, [b]);
    }
  }

  /** Lets every free buffer go (when a task ends: its memory is not kept for the next one). */
  clear(): void {
    this.free.clear();
  }
}

/** The process's log-prob row buffers (GgufBackend.distributions takes, the perplexity task gives back). */
export const rowBuffers = new RowBuffers();
