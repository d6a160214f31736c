// LLM-judge A/B bookkeeping: verdict parsing, both orders, win rate with Even = 0.5,
// |win rate − 0.5|, order disagreement and unparseable counts.
import assert from "node:assert/strict";
import { join, relative } from "node:path";
import { test } from "node:test";
import type { Backend, GenerateRequest, GenerateResult } from "../../src/backends/backend.js";
import { loadConfig } from "../../src/config/loadConfig.js";
import { runEvaluation } from "../../src/run/runEvaluation.js";
import { RunStore } from "../../src/store/runStore.js";
import { judgePairs, parseVerdict, summarizeJudgments, variantScore, type PairJudgment } from "../../src/tasks/generate/judge.js";
import { models, sharedPath } from "../helpers/shared.js";
import { tempDir, writeConfig } from "../helpers/runConfig.js";

test("verdicts: A, B and Even in common spellings; stories and prose are unparseable", () => {
  for (const [text, v] of [
    ["A", "A"],
    [" B\n", "B"],
    ["even", "Even"],
    ["Tie.", "Even"],
    ["**A**", "A"],
    ["Verdict: B", "B"],
    ["Answer A", "A"],
    ["The better answer is B.", "B"],
    ["B is better", "B"],
    ["\n\n(A)", "A"],
  ] as const)
    assert.equal(parseVerdict(text), v, JSON.stringify(text));
  for (const text of ["", "A little girl named Lily", "Once upon a time", "Both are bad", "AB", "C"]) assert.equal(parseVerdict(text), null, JSON.stringify(text));
});

test("variant scores flip with the order", () => {
  assert.equal(variantScore("B", "ab"), 1);
  assert.equal(variantScore("A", "ab"), 0);
  assert.equal(variantScore("A", "ba"), 1);
  assert.equal(variantScore("B", "ba"), 0);
  assert.equal(variantScore("Even", "ab"), 0.5);
  assert.equal(variantScore(null, "ba"), null);
});

test("summary arithmetic: Even counts 0.5, unparseable counted not dropped, disagreement over fully parsed pairs", () => {
  const j = (verdict: "A" | "B" | "Even" | null) => ({ raw: String(verdict), verdict });
  const pairs: PairJudgment[] = [
    { doc_id: 0, ab: j("B"), ba: j("A") }, // variant wins twice (consistent)
    { doc_id: 1, ab: j("A"), ba: j("A") }, // position bias: 0 then 1 → disagreement
    { doc_id: 2, ab: j("Even"), ba: j("Even") }, // 0.5, 0.5
    { doc_id: 3, ab: j(null), ba: j("B") }, // unparseable + loss
  ];
  const s = summarizeJudgments(pairs, "judge");
  assert.equal(s.n_pairs, 4);
  assert.equal(s.n_judgments, 8);
  assert.equal(s.wins, 3);
  assert.equal(s.losses, 2);
  assert.equal(s.evens, 2);
  assert.equal(s.unparseable, 1);
  assert.equal(s.win_rate, (3 + 0.5 * 2) / 7);
  assert.equal(s.score, Math.abs((3 + 1) / 7 - 0.5));
  assert.equal(s.order_disagreement_rate, 1 / 3);
  assert.equal(s.unparseable_rate, 1 / 8);
  // A picks among A/B verdicts: B,A,A,A,B → 3 of 5.
  assert.equal(s.first_position_rate, 3 / 5);
});

/**
 * A scripted judge. A real judge model (an instruction-tuned LLM) cannot run offline here, and
 * stories260K never answers "A"/"B"; this object implements only `generate` (plus what the judge
 * loop reads) with fixed rules, so the order-swap arithmetic can be checked exactly.
 */
function scriptedJudge(rule: (a: string, b: string) => string): Backend {
  const prompts: string[] = [];
  const answerOf = (p: string, label: string) => new RegExp(`Answer ${label}:\\n([\\s\\S]*?)\\n\\n`).exec(p)?.[1] ?? "";
  const unsupported = () => Promise.reject(new Error("scripted judge: generate only"));
  return {
    name: "scripted",
    kind: "scripted",
    capabilities: { loglikelihood: false, rolling: false, distributions: "none", generate: true },
    loadMs: 0,
    manifestSettings: () => ({}),
    detokenize: () => {
      throw new Error("scripted judge: generate only");
    },
    fingerprint: () => `scripted:${rule.toString()}`,
    describe: async () => ({ name: "scripted", backend: "scripted" }),
    tokenize: async (t: string) => Array.from({ length: Math.ceil(t.length / 4) }, () => 0),
    contextLength: () => 100_000,
    loglikelihood: unsupported,
    loglikelihoodRolling: unsupported,
    distributions: unsupported,
    generate: async (reqs: GenerateRequest[]): Promise<GenerateResult[]> =>
      reqs.map((r) => {
        prompts.push(r.prompt);
        return { text: rule(answerOf(r.prompt, "A"), answerOf(r.prompt, "B")), nTokens: 1, finishReason: "stop" };
      }),
    dispose: async () => undefined,
    prompts,
  } as Backend & { prompts: string[] };
}

async function judgeWith(rule: (a: string, b: string) => string) {
  const dir = tempDir();
  const store = RunStore.open(dir, { configHash: "judge-test" });
  const judge = scriptedJudge(rule);
  try {
    const pairs = await judgePairs({
      judge,
      store,
      docIds: [0, 1, 2, 3],
      questions: ["q0", "q1", "q2", "q3"],
      baseline: ["short", "a much longer baseline answer", "same", "mid length"],
      variant: ["a longer variant answer", "tiny", "same", "mid length!"],
      template: "Q: {{question}}\nAnswer A:\n{{answer_a}}\n\nAnswer B:\n{{answer_b}}\n\nVerdict:",
      maxTokens: 4,
      chat: false,
      where: "test",
    });
    return { pairs, summary: summarizeJudgments(pairs, judge.name), prompts: (judge as unknown as { prompts: string[] }).prompts };
  } finally {
    store.close("done");
  }
}

test("both orders with a scripted judge: position bias cancels, preferences survive", async () => {
  // Always "A": pure position bias. Each pair gets 0 then 1 → win rate exactly 0.5, every pair disagrees.
  const biased = await judgeWith(() => "A");
  assert.equal(biased.prompts.length, 8);
  assert.ok(biased.prompts[0].includes("Answer A:\nshort\n") && biased.prompts[1].includes("Answer A:\na longer variant answer\n"), "second prompt swaps the answers");
  assert.equal(biased.summary.win_rate, 0.5);
  assert.equal(biased.summary.score, 0);
  assert.equal(biased.summary.order_disagreement_rate, 1);
  assert.equal(biased.summary.first_position_rate, 1);

  // Prefers the longer answer, Even on equal length: consistent across orders.
  const longer = await judgeWith((a, b) => (a.length === b.length ? "Even" : a.length > b.length ? "A" : "B"));
  assert.deepEqual(
    longer.pairs.map((p) => [p.ab.verdict, p.ba.verdict]),
    [
      ["B", "A"],
      ["A", "B"],
      ["Even", "Even"],
      ["B", "A"],
    ],
  );
  // Variant wins docs 0 and 3 (twice each), loses doc 1 twice, doc 2 is Even twice: (4 + 0.5·2) / 8.
  assert.equal(longer.summary.win_rate, 5 / 8);
  assert.equal(longer.summary.score, 1 / 8);
  assert.equal(longer.summary.order_disagreement_rate, 0);

  // Unparseable answers are counted, not dropped.
  const rambling = await judgeWith((a) => (a === "short" ? "Once upon a time" : "B"));
  assert.equal(rambling.summary.unparseable, 1);
  assert.equal(rambling.summary.wins + rambling.summary.losses + rambling.summary.evens + rambling.summary.unparseable, 8);
});

test("judge end to end: stories260K judges Q4_0 against the baseline in both orders (its verdicts are mostly unparseable)", async () => {
  const dir = tempDir();
  const m = (name: string, path: string, n_ctx = 256) => ({ name, model: path, n_ctx, threads: 1 });
  const configPath = writeConfig(
    {
      baseline: m("f32", models.stories()),
      variants: [m("q4_0", models.storiesVariant("q4_0"))],
      tasks: [
        {
          task: "generate",
          data: relative(dir, sharedPath("datasets", "dolly-hhrlhf-small", "train.jsonl")),
          reference: "response",
          max_tokens: 16,
          limit: 6,
          judge: { model: { name: "judge", model: models.stories(), n_ctx: 512, threads: 1 }, max_tokens: 6 },
        },
      ],
    },
    dir,
  );
  const out = join(dir, "out");
  const r = await runEvaluation(loadConfig(configPath), { out });
  const j = (r.tasks.generate.comparisons.q4_0 as { judge: Record<string, number> }).judge;
  assert.equal(j.n_pairs, 6);
  assert.equal(j.n_judgments, 12);
  assert.equal(j.too_long, 0);
  assert.equal(j.wins + j.losses + j.evens + j.unparseable, 12);
  assert.ok(j.unparseable >= 1, "a story model does not answer A/B");
  assert.equal(j.unparseable_rate, j.unparseable / 12);
  const rows = (r.tasks.generate.extra!.judge as { rows: Array<Record<string, unknown>> }).rows;
  assert.equal(rows[0].variant, "q4_0");
  // The judge model is recorded and the judge's calls are cached like any generation.
  const again = await runEvaluation(loadConfig(configPath), { out, resume: true });
  assert.equal(again.requests.computed, 0);
  assert.deepEqual((again.tasks.generate.comparisons.q4_0 as { judge: unknown }).judge, j);
});

test("judge: a model name that is not in the run fails with one line", async () => {
  const dir = tempDir();
  const configPath = writeConfig(
    {
      baseline: { name: "f32", model: models.stories(), n_ctx: 256, threads: 1 },
      tasks: [{ task: "generate", data: sharedPath("datasets", "dolly-hhrlhf-small", "train.jsonl"), max_tokens: 4, limit: 1, judge: { model: "gpt" } }],
    },
    dir,
  );
  await assert.rejects(runEvaluation(loadConfig(configPath), { out: join(dir, "out") }), {
    name: "QuantevalError",
    message: /^task 'generate': judge\.model 'gpt' is not a model of this run \(models: f32\)/,
  });
});
