// lambada_openai (loglikelihood) and wikitext (rolling) run end to end on stories260K and a
// Q8_0 variant, over small files in the Hugging Face field layout resolved through a data
// directory (no LAMBADA or document-level WikiText copy is offline: the LAMBADA lines are
// hand-written, the WikiText page is the start of the shared wiki.test.raw). The reported
// metrics must be lm-eval's aggregations of the backend's own scores.
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { parse } from "yaml";
import { GgufBackend } from "../../src/backends/gguf.js";
import { configureEntry } from "../../src/config/loadConfig.js";
import { runTask } from "../../src/run/runTask.js";
import { silentProgress, type TaskRunContext } from "../../src/run/taskContext.js";
import { RunStore } from "../../src/store/runStore.js";
import { renderExample } from "../../src/tasks/renderExample.js";
import { builtinTaskDir } from "../../src/tasks/taskRegistry.js";
import { type LoglikelihoodTask, taskDefinition } from "../../src/tasks/taskDefinition.js";
import { models, sharedPath } from "../helpers/shared.js";
import { tempDir } from "../helpers/runConfig.js";

const LAMBADA = [
  "Lily had a red ball. She played with it every day in the garden with her dog. One day the dog took the ball",
  "Tom was hungry, so his mom made him a big bowl of soup. He ate all of the soup",
  "The sun went down and the sky got dark. It was time to go to bed",
  "Sue saw a little bird in the tree. The bird sang a happy song",
];

let dataDir = "";
let out = "";
let f32: GgufBackend;
let q8: GgufBackend;
let store: RunStore;
let page = "";

function load<T>(name: string): { def: T; file: string; text: string } {
  const file = join(builtinTaskDir, `${name}.yaml`);
  const text = readFileSync(file, "utf8");
  return { def: taskDefinition.parse(parse(text)) as T, file, text };
}

function ctxFor(): TaskRunContext {
  return { dataDir, seed: 1234, bootstrap: 1000, baseline: f32, variants: [q8], store, progress: silentProgress, warn: () => {} };
}

/** Runs the built-in task `name` as a config entry would. */
function runBuiltin(name: string) {
  return runTask(configureEntry({ task: name }, { dataDir }), ctxFor());
}

before(async () => {
  dataDir = tempDir();
  const lam = join(dataDir, "EleutherAI", "lambada_openai", "default");
  mkdirSync(lam, { recursive: true });
  writeFileSync(join(lam, "test.jsonl"), LAMBADA.map((text) => JSON.stringify({ text })).join("\n") + "\n");
  const wiki = join(dataDir, "EleutherAI", "wikitext_document_level", "wikitext-2-raw-v1");
  mkdirSync(wiki, { recursive: true });
  const raw = readFileSync(sharedPath("datasets", "wikitext-2-raw-v1", "wiki.test.raw"), "utf8");
  page = raw.slice(0, raw.indexOf("\n = = ", 2000));
  writeFileSync(join(wiki, "test.jsonl"), [JSON.stringify({ page }), JSON.stringify({ page: " = Short = \n It was 3 @.@ 5 km long . \n" })].join("\n") + "\n");
  // n_ctx 256 makes the page span several rolling windows.
  f32 = await GgufBackend.open({ name: "f32", path: models.stories(), nCtx: 256 });
  q8 = await GgufBackend.open({ name: "q8_0", path: models.storiesVariant("q8_0"), nCtx: 256 });
  await f32.describe();
  await q8.describe();
  out = tempDir();
  store = RunStore.open(out, { configHash: "ll-rolling-test" });
});

after(async () => {
  store?.close("done");
  await f32?.dispose();
  await q8?.dispose();
});

test("lambada_openai: ppl = exp(−mean ll of the last word), acc = share of greedy last words", async () => {
  const task = load<LoglikelihoodTask>("lambada_openai");
  const outcome = await runBuiltin("lambada_openai");
  const direct = await f32.loglikelihood(LAMBADA.map((t) => ({ context: t.slice(0, t.lastIndexOf(" ")), continuation: t.slice(t.lastIndexOf(" ")) })));
  const r = outcome.results.f32 as { ppl: number; acc: number; n: number };
  assert.equal(r.n, 4);
  assert.ok(Math.abs(r.ppl - Math.exp(-direct.reduce((s, d) => s + d.logprob, 0) / 4)) < 1e-9);
  assert.equal(r.acc, direct.filter((d) => d.isGreedy).length / 4);
  assert.equal(outcome.samples.f32[0].continuation, " ball");
  const cmp = outcome.comparisons.q8_0 as Record<string, { n?: number; ratio?: number }>;
  assert.equal(cmp.acc.n, 4);
  assert.ok(cmp.ppl.ratio! > 0);
  console.log(`# lambada (4 hand-written lines) f32 ppl ${r.ppl.toFixed(3)} acc ${r.acc}; q8_0 ppl ${(outcome.results.q8_0 as { ppl: number }).ppl.toFixed(3)}`);
  const shown = await renderExample(task, { dataDir });
  assert.deepEqual(shown, [`context: ${JSON.stringify(LAMBADA[0].slice(0, LAMBADA[0].lastIndexOf(" ")))}`, 'continuation: " ball"']);
});

test("wikitext: word/byte perplexity and bits per byte over the detokenized pages, counted on the originals", async () => {
  const outcome = await runBuiltin("wikitext");
  const r = outcome.results.f32 as { word_perplexity: number; byte_perplexity: number; bits_per_byte: number; words: number; bytes: number; tokens: number };
  const rows = outcome.samples.f32 as unknown as Array<{ logprob: number; words: number; bytes: number; n_tokens: number }>;
  const ll = rows[0].logprob + rows[1].logprob;
  assert.equal(r.words, page.split(/\s+/).length + " = Short = \n It was 3 @.@ 5 km long . \n".split(/\s+/).length);
  assert.equal(r.bytes, Buffer.byteLength(page) + Buffer.byteLength(" = Short = \n It was 3 @.@ 5 km long . \n"));
  assert.ok(Math.abs(r.word_perplexity - Math.exp(-ll / r.words)) < 1e-9);
  assert.ok(Math.abs(r.byte_perplexity - Math.exp(-ll / r.bytes)) < 1e-12);
  assert.ok(Math.abs(r.bits_per_byte - -ll / r.bytes / Math.LN2) < 1e-12);
  assert.ok(rows[0].n_tokens > 256, "the page spans several rolling windows");
  // The scored text is the detokenized page, not the raw one.
  const [direct] = await f32.loglikelihoodRolling(["= Short =\nIt was 3.5 km long.\n".replace(/^/, " ")]);
  assert.ok(Math.abs(direct.logprob - rows[1].logprob) < 1e-6);
  const cmp = outcome.comparisons.q8_0 as Record<string, { ratio: number }>;
  console.log(
    `# wikitext (${rows[0].n_tokens} + ${rows[1].n_tokens} tokens) f32 word_ppl ${r.word_perplexity.toFixed(3)} byte_ppl ${r.byte_perplexity.toFixed(4)} bpb ${r.bits_per_byte.toFixed(4)}; q8_0/f32 word_ppl ratio ${cmp.word_perplexity.ratio.toFixed(5)}`,
  );
});
