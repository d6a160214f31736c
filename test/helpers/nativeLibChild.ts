// Child process for test/backends/nativeLib.test.ts: libllama is loaded once per process, so a
// run on another llama.cpp build (QUANTEVAL_LLAMA_LIB_DIR) needs its own process. Prints one
// JSON line: the perplexity of argv[2] over argv[3] chunks of WikiText-2, the build info, and
// 12 story openings generated in parallel and one at a time.
import { readFileSync } from "node:fs";
import { GgufBackend } from "../../src/backends/gguf.js";
import { llamaBuildInfo } from "../../src/backends/llamaLib.js";
import { runPerplexity } from "../../src/tasks/perplexity.js";
import { sharedPath } from "./shared.js";

const [model, chunks] = [process.argv[2], Number(process.argv[3])];
const b = await GgufBackend.open({ name: "m", path: model, nSeqMax: 8 });
try {
  await b.describe();
  const text = readFileSync(sharedPath("datasets", "wikitext-2-raw-v1", "wiki.test.raw"), "utf8");
  const run = await runPerplexity(text, b, [], { nCtx: 512, chunks }, "child");
  const openings = ["Once upon a time, there was a little girl named Lily.", "Tom had a big red ball.", "The cat sat on the mat.", "One day, a bird flew into the garden."];
  const reqs = Array.from({ length: 12 }, (_, i) => ({ prompt: openings[i % 4] + " ".repeat(i % 3), maxTokens: 24 + 8 * (i % 4) }));
  const parallel = await b.generate(reqs);
  const alone = [];
  for (const r of reqs) alone.push((await b.generate([r]))[0]);
  console.log(JSON.stringify({ ppl: run.results.m.ppl, build: llamaBuildInfo(), fingerprint: b.fingerprint(), parallel: parallel.map((g) => g.text), alone: alone.map((g) => g.text) }));
} finally {
  await b.dispose();
}
