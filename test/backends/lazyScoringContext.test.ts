// A GGUF model's scoring context (one KV cache of kv_size cells, zeroed when it is made) is made
// only when a log-likelihood request first needs it: a perplexity or generate task runs on
// contexts of its own and must not pay for it, in memory or in load time (src/backends/gguf.ts).
// kv_size is raised here so that the cache (640 B a cell on stories260K, 256 MB in all) stands
// far above the process's other memory.
import assert from "node:assert/strict";
import { test } from "node:test";
import { GgufBackend } from "../../src/backends/gguf.js";
import { models } from "../helpers/shared.js";

const rssMb = () => process.memoryUsage().rss / 2 ** 20;

test("the scoring context's KV cache is allocated on the first log-likelihood request, not at load or for perplexity windows", async () => {
  const before = rssMb();
  const backend = await GgufBackend.open({ name: "stories260K", path: models.stories(), nCtx: 256, kvSize: 400_000, threads: 2 });
  try {
    const tokens = backend.tokenizeSync("Once upon a time there was a little girl named Lily. She loved to play outside in the sun with her friends.", true).slice(0, 32);
    const rows = await backend.distributions([
      { tokens, firstScored: 16 },
      { tokens, firstScored: 16 },
    ]);
    assert.equal(rows[0].nRows, 16);
    const afterWindows = rssMb();
    assert.ok(afterWindows - before < 120, `load and perplexity windows grew RSS by ${(afterWindows - before).toFixed(0)} MiB; the 256 MB KV cache must not be made`);

    const [ll] = await backend.loglikelihood([{ context: "Once upon a time", continuation: " there was" }]);
    assert.ok(Number.isFinite(ll.logprob) && ll.logprob < 0, `log-likelihood ${ll.logprob}`);
    const afterScoring = rssMb();
    assert.ok(
      afterScoring - afterWindows > 200,
      `the first log-likelihood request grew RSS by ${(afterScoring - afterWindows).toFixed(0)} MiB; the scoring context's 256 MB KV cache should be made then`,
    );
  } finally {
    await backend.dispose();
  }
});
