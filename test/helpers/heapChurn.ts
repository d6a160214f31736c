// A child process for test/util/heapGrowth.test.ts: holds a fixed live set, then makes garbage
// that lives long enough to be promoted to V8's old generation (a ring of recent allocations, as
// a comparison's pages of texts and scores are), and prints the live set and the largest heap it
// saw as JSON. Argument "limit": limitHeapGrowth() first, as the CLI does. Run with --expose-gc.
import { limitHeapGrowth } from "../../src/util/heapGrowth.js";

if (process.argv[2] === "limit") limitHeapGrowth();
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run with --expose-gc");

/** An array of `n` distinct short strings (~40 bytes each on the heap). */
const strings = (n: number, tag: number): string[] => Array.from({ length: n }, (_, i) => `${tag}:${i}:${"x".repeat(i % 8)}`);

const live = Array.from({ length: 40 }, (_, k) => strings(25_000, k));
gc();
gc();
const liveBytes = process.memoryUsage().heapUsed;
const ring: string[][] = new Array(48);
let maxHeap = 0;
for (let i = 0; i < 3000; i++) {
  ring[i % ring.length] = strings(2_000, -i);
  if (i % 8 === 0) maxHeap = Math.max(maxHeap, process.memoryUsage().heapUsed);
}
process.stdout.write(`${JSON.stringify({ liveBytes, maxHeap, held: live.length + ring.length })}\n`);
