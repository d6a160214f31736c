import { before, test } from "node:test";
import assert from "node:assert/strict";
import { Model2VecEmbedder, parseSafetensors } from "../../src/embedders/model2vec.js";
import { cosineDistance } from "../../src/metrics/embeddingDistance.js";
import { models } from "../helpers/shared.js";

let m2v: Model2VecEmbedder;
before(async () => {
  m2v = await Model2VecEmbedder.load(models.model2vec());
});

const norm = (v: Float32Array) => Math.hypot(...v);

test("loads the shared model: dim 64, normalized per config.json", () => {
  assert.equal(m2v.dim, 64);
  assert.equal(m2v.normalize, true);
  assert.equal(m2v.id, "model2vec:model2vec-test");
});

test("a text embeds to a deterministic unit vector of dim 64", async () => {
  const [a] = await m2v.embed(["The cat sat on the mat."]);
  assert.equal(a.length, 64);
  assert.ok(Math.abs(norm(a) - 1) < 1e-6, `norm ${norm(a)}`);
  const again = await (await Model2VecEmbedder.load(models.model2vec())).embed(["The cat sat on the mat."]);
  assert.deepEqual(Array.from(again[0]), Array.from(a));
});

test("paraphrases are closer than unrelated texts; a text is at distance 0 from itself", async () => {
  const [cat, catParaphrase, revenue] = await m2v.embed(["The cat sat on the mat.", "A cat was sitting on the mat.", "Quarterly revenue grew by eight percent."]);
  const para = cosineDistance(cat, catParaphrase);
  const unrelated = cosineDistance(cat, revenue);
  assert.ok(para < unrelated, `paraphrase ${para} vs unrelated ${unrelated}`);
  assert.ok(para < 0.5 && unrelated > 0.8, `paraphrase ${para} vs unrelated ${unrelated}`); // measured ≈0.229 vs ≈1.078
  const [cat2] = await m2v.embed(["The cat sat on the mat."]);
  assert.equal(cosineDistance(cat, cat2), 0);
});

test("encodes without special tokens and drops the unknown token, like model2vec", () => {
  assert.deepEqual(m2v.tokenIds("The cat sat on the mat."), [999, 3939, 1940, 1009, 999, 12525, 15]);
  // "☃" is out of vocabulary ([UNK] = id 1) and is dropped
  assert.deepEqual(m2v.tokenIds("hi ☃"), m2v.tokenIds("hi"));
  assert.ok(!m2v.tokenIds("[UNK] hi").includes(1));
});

test("a text with no known tokens embeds to zeros; maxTokens truncates", async () => {
  const [empty, unk] = await m2v.embed(["", "☃"]);
  assert.ok(empty.every((x) => x === 0) && unk.every((x) => x === 0));
  const short = await Model2VecEmbedder.load(models.model2vec(), { maxTokens: 2 });
  assert.deepEqual(short.tokenIds("The cat sat on the mat."), [999, 3939]);
  assert.deepEqual(Array.from(short.embedOne("The cat sat on the mat.")), Array.from(m2v.embedOne("the cat")));
});

test("missing folder gives a clear error naming the path", async () => {
  await assert.rejects(Model2VecEmbedder.load("/nonexistent/m2v"), /model2vec model folder not found: \/nonexistent\/m2v$/);
});

test("parseSafetensors reads a hand-built file (F32, I32, F64; unaligned offsets)", () => {
  const header = JSON.stringify({
    __metadata__: { format: "pt" },
    a: { dtype: "F32", shape: [2], data_offsets: [0, 8] },
    b: { dtype: "I32", shape: [1], data_offsets: [8, 12] },
    c: { dtype: "F64", shape: [1], data_offsets: [12, 20] },
  });
  const h = new TextEncoder().encode(header); // odd length: tensor data is unaligned in the file
  const buf = new Uint8Array(8 + h.length + 20);
  const dv = new DataView(buf.buffer);
  dv.setBigUint64(0, BigInt(h.length), true);
  buf.set(h, 8);
  const d = 8 + h.length;
  dv.setFloat32(d, 1.5, true);
  dv.setFloat32(d + 4, -2, true);
  dv.setInt32(d + 8, -7, true);
  dv.setFloat64(d + 12, Math.PI, true);
  const t = parseSafetensors(buf);
  assert.deepEqual(Array.from(t.get("a")!.data), [1.5, -2]);
  assert.deepEqual(Array.from(t.get("b")!.data), [-7]);
  assert.deepEqual(Array.from(t.get("c")!.data), [Math.PI]);
  assert.equal(t.has("__metadata__"), false);
});
