// The shared lm-eval request layer (src/backends/requests.ts) on real tokenizations of
// stories260K (its own SentencePiece vocabulary through llama.cpp), against lm-eval's behaviour:
// TemplateLM._encode_pair, the left truncation of _loglikelihood_tokens, and
// get_rolling_token_windows + make_disjoint_window (lm_eval/utils.py), ported below verbatim.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { GgufVocab } from "../../src/backends/gguf/vocab.js";
import { type LlamaModel, loadLlamaLib } from "../../src/backends/llamaLib.js";
import { encodeLoglikelihood, encodePair, encodeRolling, memoizedTokenizer, rollingWindows, truncatePair } from "../../src/backends/requests.js";
import { models } from "../helpers/shared.js";

let vocab: GgufVocab;
let model: LlamaModel;
const lib = loadLlamaLib("cpu");

before(() => {
  const mp = lib.model_default_params();
  mp.vocab_only = true;
  const m = lib.model_load_from_file(models.stories(), mp);
  assert.ok(m, "stories260K loads");
  model = m;
  vocab = new GgufVocab(lib, model, "stories260K", undefined);
});
after(() => lib.model_free(model));

/** lm_eval.utils.get_rolling_token_windows, line by line. */
function lmevalRollingWindows(tokenList: number[], prefixToken: number, maxSeqLen: number, contextLen: number): Array<[number[], number[]]> {
  const out: Array<[number[], number[]]> = [];
  if (tokenList.length === 0) return out;
  const predLen = maxSeqLen - contextLen + 1;
  let predicted = 0;
  const firstSeqLen = Math.min(maxSeqLen, tokenList.length);
  out.push([[prefixToken, ...tokenList.slice(0, firstSeqLen - 1)], tokenList.slice(0, firstSeqLen)]);
  predicted += firstSeqLen;
  while (predicted < tokenList.length) {
    const windowPredLen = Math.min(tokenList.length - predicted, predLen);
    const windowEnd = predicted + windowPredLen;
    out.push([tokenList.slice(windowEnd - maxSeqLen - 1, windowEnd - 1), tokenList.slice(windowEnd - windowPredLen, windowEnd)]);
    predicted += windowPredLen;
  }
  return out;
}

/** lm_eval.utils.make_disjoint_window */
function makeDisjointWindow([a, b]: [number[], number[]]): [number[], number[]] {
  return [a.slice(0, a.length - (b.length - 1)), b];
}

test("stories260K adds BOS, and BOS is lm-eval's prefix token", () => {
  assert.equal(vocab.addBos, true);
  assert.equal(vocab.prefixToken, vocab.bos);
  assert.deepEqual(vocab.tokenize("Once", true)[0], vocab.bos);
});

test("_encode_pair: trailing context whitespace moves into the continuation", async () => {
  // (The text step itself, Python's rstrip included, is tested in test/lmeval/pythonText.test.ts.)
  // The two spellings of one request encode identically, and the space is scored with the word.
  const spaced = await encodePair(vocab, "Once upon a time ", "there");
  const plain = await encodePair(vocab, "Once upon a time", " there");
  assert.deepEqual(spaced, plain);
  assert.deepEqual(plain.ctx, vocab.tokenize("Once upon a time", true));
  assert.deepEqual([...plain.ctx, ...plain.cont], vocab.tokenize("Once upon a time there", true));
  assert.match(vocab.detokenize([...plain.ctx, ...plain.cont]), /upon a time there$/);
});

test("_encode_pair: continuation tokens are those of the whole string after the context's, even across a merge", async () => {
  // "Lily" tokenizes as one piece, "Li" + "ly" as two: the continuation is cut from the whole string's tokens.
  const context = "Once upon a time, there was a girl named Li";
  const whole = vocab.tokenize(`${context}ly`, true);
  const ctxAlone = vocab.tokenize(context, true);
  const { ctx, cont } = await encodePair(vocab, context, "ly");
  assert.deepEqual(ctx, ctxAlone);
  assert.deepEqual(cont, whole.slice(ctxAlone.length));
  assert.notDeepEqual(cont, vocab.tokenize("ly", false), "the merge makes whole-string slicing differ from tokenizing the continuation alone");
});

test("_encode_pair: an empty context is the prefix token alone", async () => {
  const { ctx, cont } = await encodePair(vocab, "", "Once upon a time");
  assert.deepEqual(ctx, [vocab.bos]);
  assert.deepEqual(cont, vocab.tokenize("Once upon a time", false));
  // Whitespace-only context: it all moves into the continuation.
  const ws = await encodePair(vocab, "  ", "Once");
  assert.deepEqual(ws, { ctx: [vocab.bos], cont: vocab.tokenize("  Once", false) });
});

test("truncation keeps the last max_length+1 tokens of context+continuation, as lm-eval", async () => {
  const context = "Once upon a time, there was a little girl named Lily. She loved to play outside.";
  const continuation = " One day she saw a big dog.";
  const pair = await encodePair(vocab, context, continuation);
  const all = [...pair.ctx, ...pair.cont];
  // Fits: nothing cut.
  const fit = truncatePair(pair, all.length - 1);
  assert.deepEqual(fit, { tokens: all, from: pair.ctx.length, nTokens: pair.cont.length, truncated: false });
  for (const maxLen of [pair.cont.length + 3, pair.cont.length, 4]) {
    const t = truncatePair(pair, maxLen);
    // lm-eval: inp = (context_enc + continuation_enc)[-(max_length + 1):][:-1]; the last contlen logits score the continuation.
    const lmevalWindow = all.slice(-(maxLen + 1));
    assert.equal(t.truncated, true);
    assert.deepEqual(t.tokens, lmevalWindow);
    assert.equal(t.nTokens, pair.cont.length);
    assert.deepEqual(t.tokens.slice(t.from), pair.cont.slice(-Math.min(pair.cont.length, maxLen)), `maxLen ${maxLen}: the scored tokens are the continuation's last ones`);
    assert.ok(t.from >= 1);
  }
  assert.deepEqual(await encodeLoglikelihood(vocab, context, continuation, 4), truncatePair(pair, 4));
});

test("rolling windows are lm-eval's disjoint windows (context_len 1) and score every token once", async () => {
  const text = "Once upon a time, there was a little girl named Lily. She loved to play outside in the park. One day, she saw a big red ball.";
  const tokens = vocab.tokenize(text, false);
  for (const maxLen of [1, 2, 7, 16, tokens.length - 1, tokens.length, tokens.length + 5]) {
    const ours = rollingWindows([vocab.bos, ...tokens], maxLen);
    const theirs = lmevalRollingWindows(tokens, vocab.bos, maxLen, 1).map(makeDisjointWindow);
    assert.equal(ours.length, theirs.length, `maxLen ${maxLen}: window count`);
    ours.forEach((w, i) => {
      const [ctx, cont] = theirs[i];
      assert.deepEqual(w.tokens, [...ctx, ...cont], `maxLen ${maxLen} window ${i}: tokens`);
      assert.equal(w.from, ctx.length, `maxLen ${maxLen} window ${i}: first scored`);
      assert.ok(w.tokens.length <= maxLen + 1);
    });
    assert.deepEqual(
      ours.flatMap((w) => w.tokens.slice(w.from)),
      tokens,
      `maxLen ${maxLen}: each token scored once, in order`,
    );
  }
  const enc = await encodeRolling(vocab, text, 16);
  assert.equal(enc.nTokens, tokens.length);
  assert.deepEqual(enc.windows, rollingWindows([vocab.bos, ...tokens], 16));
  assert.deepEqual(await encodeRolling(vocab, "", 16), { nTokens: 0, windows: [] });
});

test("a tokenizer that reveals no BOS/EOS cannot score an empty context or a rolling text", async () => {
  const noPrefix = { name: "m", prefixToken: undefined, tokenize: (t: string, b: boolean) => vocab.tokenize(t, b) };
  await assert.rejects(encodePair(noPrefix, " ", "x"), /model 'm': an empty context is scored after the BOS\/EOS token/);
  await assert.rejects(encodeRolling(noPrefix, "x", 8), /model 'm': rolling log-likelihood is scored after the BOS\/EOS token/);
});

test("memoizedTokenizer tokenizes each (text, addBos) once", async () => {
  let calls = 0;
  const memo = memoizedTokenizer({ name: "m", prefixToken: vocab.bos, tokenize: (t, b) => (calls++, vocab.tokenize(t, b)) });
  const choices = [" cat", " dog", " bird"].map((c) => encodePair(memo, "The girl saw a", c));
  const pairs = await Promise.all(choices);
  assert.equal(calls, 1 + 3, "the shared context once, each whole string once");
  pairs.forEach((p, i) => assert.deepEqual(p, { ctx: vocab.tokenize("The girl saw a", true), cont: vocab.tokenize(`The girl saw a${[" cat", " dog", " bird"][i]}`, true).slice(p.ctx.length) }));
});
