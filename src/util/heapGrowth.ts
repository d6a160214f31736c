// How far V8 lets the JavaScript heap grow past its live data before the next full collection.
//
// Why: by default V8 picks a growing factor of up to 4 (its "high throughput" factor): after a
// full collection that leaves L bytes live, the old generation may fill to ~4·L before the next
// one. A large comparison (a generate task over 100,000 prompts) keeps ~90–120 MB live (code,
// tokenizer, the per-prompt columns) and makes garbage far faster than that, so the heap climbed
// to ~4× the live data and peak RSS followed the garbage, not the data: 50,000 prompts compared
// at a 363 MB heap with 74–87 MB live (`--trace-gc`; bench/README.md, "Memory of a generate
// task"). V8's own factor for memory-constrained devices is 2 (heap.cc,
// kMaxHeapGrowingFactorMemoryConstrained); quanteval runs beside a model of many GB, so it
// takes that. Measured on that comparison: peak RSS 611–667 → 508–516 MiB, wall time 20.7–21.0 →
// 21.2–21.4 s.
//
// No library does this (it is one V8 flag), and V8 reads the flag at every full collection, so
// setting it once at startup takes effect for the rest of the process. NODE_OPTIONS cannot carry
// it (Node allows only a list of V8 flags there), so the CLI sets it itself.
import { setFlagsFromString } from "node:v8";

/** The growing factor V8 may give the old generation after a full collection: 1 + percent / 100. */
export const HEAP_GROWING_PERCENT = 100;

/** Caps V8's heap growth at {@link HEAP_GROWING_PERCENT} for this process (see the file comment). */
export function limitHeapGrowth(percent = HEAP_GROWING_PERCENT): void {
  setFlagsFromString(`--heap-growing-percent=${percent}`);
}
