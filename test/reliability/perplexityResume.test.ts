// Perplexity is cached chunk by chunk (perplexityRecords.ts): a run stopped between batches and
// resumed evaluates only the batches it had not finished, and its figures equal an uninterrupted
// run's exactly. Real models (stories260K f32 and Q4_0), WikiText-2 test, the real run store; the
// stop is the store's abort signal (what the CLI's SIGINT/SIGTERM handler aborts), raised from
// the progress callback after the first batch. The backends are wrapped only to count the
// windows they are asked to evaluate.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import type { Backend, TokenWindow } from "../../src/backends/backend.js";
import { GgufBackend } from "../../src/backends/gguf.js";
import { RunStore } from "../../src/store/runStore.js";
import { runPerplexity } from "../../src/tasks/perplexity.js";
import { baselinePerplexityAlone, variantPerplexityAlone } from "../../src/tasks/perplexityAlone.js";
import { storeRecords } from "../../src/tasks/perplexityRecords.js";
import { tempDir } from "../helpers/runConfig.js";
import { models, sharedPath } from "../helpers/shared.js";

const N_CTX = 512;
// 10 chunks in batches of 4 (llama-perplexity's 2048 / n_ctx): 4, 4 and 2.
const CHUNKS = 10;
const text = readFileSync(sharedPath("datasets", "wikitext-2-raw-v1", "wiki.test.raw"), "utf8");
let base: Backend;
let q4: Backend;
before(async () => {
  base = await GgufBackend.open({ name: "f32", path: models.stories(), threads: 2 });
  q4 = await GgufBackend.open({ name: "q4_0", path: models.storiesVariant("q4_0"), threads: 2 });
});
after(async () => {
  await base?.dispose();
  await q4?.dispose();
});

/** The backend, counting the windows it is asked to evaluate. */
function counted(b: Backend): { backend: Backend; windows: () => number } {
  let n = 0;
  const backend = new Proxy(b, {
    get(target, p) {
      if (p === "distributions")
        return (w: TokenWindow[]) => {
          n += w.length;
          return target.distributions(w);
        };
      const v = Reflect.get(target, p, target);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
  return { backend, windows: () => n };
}

/** A store whose run is asked to stop once `after` chunks are done (as Ctrl-C would). */
function stoppingStore(dir: string, resume: boolean): { store: RunStore; stopAfter: (n: number) => (done: number) => void } {
  const store = RunStore.open(dir, { configHash: "perplexity-resume", resume });
  const abort = new AbortController();
  store.signal = abort.signal;
  return { store, stopAfter: (n) => (done) => (done >= n ? abort.abort() : undefined) };
}

const interrupted = /interrupted: .* keeps every finished batch; continue with the same command and --resume/;

test("co-evaluated perplexity and KLD: stopped after the first batch, resumed: only the missing chunks are evaluated, figures identical", async () => {
  const clean = await runPerplexity(text, base, [q4], { nCtx: N_CTX, chunks: CHUNKS }, "test");
  const dir = tempDir();
  const first = stoppingStore(dir, false);
  await assert.rejects(runPerplexity(text, base, [q4], { nCtx: N_CTX, chunks: CHUNKS, records: storeRecords(first.store), onProgress: first.stopAfter(4) }, "test"), interrupted);
  first.store.close("interrupted");

  const again = stoppingStore(dir, true);
  const b = counted(base);
  const v = counted(q4);
  const resumed = await runPerplexity(text, b.backend, [v.backend], { nCtx: N_CTX, chunks: CHUNKS, records: storeRecords(again.store) }, "test");
  assert.equal(b.windows(), CHUNKS - 4, "the baseline evaluates only the chunks after the first batch");
  assert.equal(v.windows(), CHUNKS - 4, "the variant too");
  assert.deepStrictEqual(resumed, clean);
  // Everything recorded: nothing is evaluated, same figures.
  const b2 = counted(base);
  const v2 = counted(q4);
  assert.deepStrictEqual(await runPerplexity(text, b2.backend, [v2.backend], { nCtx: N_CTX, chunks: CHUNKS, records: storeRecords(again.store) }, "test"), clean);
  assert.equal(b2.windows() + v2.windows(), 0);
  again.store.close("done");
});

test("one model at a time (stored baseline rows): baseline and variant each stopped after a batch and resumed: identical figures, nothing evaluated twice", async () => {
  const opts = { nCtx: N_CTX, chunks: CHUNKS, where: "test" };
  const cleanDir = join(tempDir(), "distributions");
  const cleanBase = await baselinePerplexityAlone(text, base, cleanDir, opts);
  const cleanVar = await variantPerplexityAlone(text, q4, cleanDir, opts);

  const dir = tempDir();
  const rowsDir = join(dir, "distributions");
  const first = stoppingStore(dir, false);
  await assert.rejects(baselinePerplexityAlone(text, base, rowsDir, { ...opts, records: storeRecords(first.store), onProgress: first.stopAfter(4) }), interrupted);
  first.store.close("interrupted");

  const second = stoppingStore(dir, true);
  const b = counted(base);
  const resumedBase = await baselinePerplexityAlone(text, b.backend, rowsDir, { ...opts, records: storeRecords(second.store) });
  assert.equal(b.windows(), CHUNKS - 4, "the baseline resumes after its checkpointed first batch");
  assert.deepStrictEqual(resumedBase.result, cleanBase.result);
  assert.deepStrictEqual({ ...resumedBase.stored, dir: "" }, { ...cleanBase.stored, dir: "" });
  assert.deepEqual(readFileSync(join(rowsDir, "rows.bin")), readFileSync(join(cleanDir, "rows.bin")), "the stored rows equal an uninterrupted pass's, byte for byte");
  await assert.rejects(variantPerplexityAlone(text, q4, rowsDir, { ...opts, records: storeRecords(second.store), onProgress: second.stopAfter(4) }), interrupted);
  second.store.close("interrupted");

  const third = stoppingStore(dir, true);
  const b3 = counted(base);
  const v = counted(q4);
  const again = await baselinePerplexityAlone(text, b3.backend, rowsDir, { ...opts, records: storeRecords(third.store) });
  assert.equal(b3.windows(), 0, "a finished baseline pass is read back, not evaluated");
  assert.deepStrictEqual(again.result, cleanBase.result);
  const resumedVar = await variantPerplexityAlone(text, v.backend, rowsDir, { ...opts, records: storeRecords(third.store) });
  assert.equal(v.windows(), CHUNKS - 4, "the variant resumes after its first batch");
  assert.deepStrictEqual(resumedVar, cleanVar);
  third.store.close("done");
});
