// Every llama_decode runs on one thread (native/decodethread.cpp), so the OpenMP build of
// llama.cpp keeps one thread team, as in llama-perplexity. Checked on stories260K: the helper is
// in use on a machine with a compiler, and perplexity rows from concurrent calls equal koffi's
// libuv-thread path bit for bit (the fallback when the helper cannot be built,
// QUANTEVAL_DECODE_THREAD=0, run in a child process).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { decodeThreadNote } from "../../src/backends/decodeThread.js";
import { GgufBackend } from "../../src/backends/gguf.js";
import { models, sharedPath } from "../helpers/shared.js";

/** sha256 of the log-prob rows of six stories260K chunks (three concurrent calls of two). */
async function rowsDigest(): Promise<string> {
  const b = await GgufBackend.open({ name: "s", path: models.stories(), nCtx: 512, threads: 2 });
  try {
    const tokens = await b.tokenize(readFileSync(sharedPath("datasets", "wikitext-2-raw-v1", "wiki.test.raw"), "utf8").slice(0, 50_000), true);
    const chunk = (i: number) => ({ tokens: tokens.slice(i * 512, (i + 1) * 512), firstScored: 257 });
    const h = createHash("sha256");
    const calls = await Promise.all([0, 2, 4].map((i) => b.distributions([chunk(i), chunk(i + 1)])));
    for (const ds of calls) for (const d of ds) h.update(new Uint8Array(d.logprobs.buffer, d.logprobs.byteOffset, d.logprobs.byteLength));
    return h.digest("hex");
  } finally {
    await b.dispose();
  }
}

if (process.argv[2] === "--digest") {
  console.log(JSON.stringify({ digest: await rowsDigest(), where: decodeThreadNote() }));
} else {
  test("llama_decode on one thread: in use here, rows equal to the libuv-thread path", async () => {
    const digest = await rowsDigest();
    assert.equal(decodeThreadNote(), "one decode thread");
    const child = spawnSync(process.execPath, ["--import", "tsx", new URL(import.meta.url).pathname, "--digest"], {
      encoding: "utf8",
      env: { ...process.env, QUANTEVAL_DECODE_THREAD: "0" },
    });
    assert.equal(child.status, 0, child.stderr);
    const other = JSON.parse(child.stdout.trim().split("\n").pop() ?? "{}") as { digest: string; where: string };
    assert.match(other.where, /^libuv threads \(QUANTEVAL_DECODE_THREAD=0\)/);
    assert.equal(digest, other.digest, "the same rows on one decode thread and on libuv's threads");
  });
}
