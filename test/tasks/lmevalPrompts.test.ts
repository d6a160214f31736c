// The built-in English tasks render fixed hand-written documents (in each dataset's Hugging
// Face field layout) to exactly the request strings lm-evaluation-harness builds for them.
// The expected strings are written out by hand from lm-eval's task YAML and Python helpers.
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { parse } from "yaml";
import { renderLoglikelihoodDoc } from "../../src/tasks/loglikelihood.js";
import { buildRequests, prepareMultipleChoice, renderDoc } from "../../src/tasks/multipleChoice.js";
import { renderRollingDoc } from "../../src/tasks/rolling.js";
import { builtinTaskDir } from "../../src/tasks/taskRegistry.js";
import { type LoglikelihoodTask, type MultipleChoiceTask, type RollingTask, type TaskDefinition, taskDefinition } from "../../src/tasks/taskDefinition.js";
import { renderExample } from "../../src/tasks/renderExample.js";
import { tempDir } from "../helpers/runConfig.js";

function builtin(name: string): TaskDefinition {
  return taskDefinition.parse(parse(readFileSync(join(builtinTaskDir, `${name}.yaml`), "utf8")));
}
const mc = (name: string) => builtin(name) as MultipleChoiceTask;

/** Requests of one document with no few-shot examples. */
function requests(name: string, row: Record<string, unknown>) {
  const def = mc(name);
  const r = renderDoc(def, row, `${name} test row`);
  return { gold: r.gold, requests: buildRequests(def, r).map((q) => [q.context, q.continuation]) };
}

test("every new built-in task names the definition it mirrors, and parses", () => {
  for (const name of ["hellaswag", "arc_easy", "arc_challenge", "piqa", "boolq", "copa", "winogrande", "lambada_openai", "wikitext", "hellaswag_llamacpp", "winogrande_llamacpp"]) {
    const def = builtin(name);
    assert.equal(def.task, name);
    assert.match(def.source ?? "", name.endsWith("_llamacpp") ? /^llama\.cpp tools\/perplexity\/perplexity\.cpp/ : /^lm-evaluation-harness lm_eval\/tasks\//, name);
  }
});

test("hellaswag: process_docs preprocessing, capitalised ctx_b, acc and acc_norm", () => {
  const row = {
    ind: 4,
    activity_label: "Home and Garden",
    ctx_a: "[header] How to clean a kettle [title] Fill the kettle with water.",
    ctx_b: "then add White vinegar.",
    ctx: "unused",
    endings: [
      "[step] Boil the mixture and let it sit for an hour.",
      "Throw the kettle away  [substeps] and buy a new one.",
      " Pour the water on the floor.",
      "Paint the kettle red [title] It looks nice.",
    ],
    source_id: "wikihow~1",
    split: "val",
    split_type: "indomain",
    label: "0",
  };
  const ctx = "Home and Garden: How to clean a kettle. Fill the kettle with water. Then add white vinegar.";
  // preprocess() strips before removing "[step]", so ending 0 keeps a leading space: lm-eval
  // scores it with two spaces after the delimiter.
  assert.deepEqual(requests("hellaswag", row), {
    gold: 0,
    requests: [
      [ctx, "  Boil the mixture and let it sit for an hour."],
      [ctx, " Throw the kettle away  and buy a new one."],
      [ctx, " Pour the water on the floor."],
      [ctx, " Paint the kettle red. It looks nice."],
    ],
  });
  assert.deepEqual(mc("hellaswag").metrics, ["acc", "acc_norm"]);
  assert.deepEqual(mc("hellaswag").dataset, { id: "Rowan/hellaswag" });
  assert.equal(mc("hellaswag").test_split, "validation");
});

test("arc_easy and arc_challenge: Question/Answer prompt, gold = choices.label.index(answerKey)", () => {
  const row = {
    id: "Mercury_7",
    question: "Which gas do plants take in from the air?",
    choices: { text: ["oxygen", "carbon dioxide", "helium", "neon"], label: ["A", "B", "C", "D"] },
    answerKey: "B",
  };
  const q = "Question: Which gas do plants take in from the air?\nAnswer:";
  const expected = {
    gold: 1,
    requests: [
      [q, " oxygen"],
      [q, " carbon dioxide"],
      [q, " helium"],
      [q, " neon"],
    ],
  };
  assert.deepEqual(requests("arc_easy", row), expected);
  assert.deepEqual(requests("arc_challenge", row), expected);
  // Some ARC rows label their choices 1–4.
  assert.equal(requests("arc_challenge", { ...row, choices: { text: row.choices.text, label: ["1", "2", "3", "4"] }, answerKey: "3" }).gold, 2);
  assert.deepEqual(mc("arc_easy").dataset, { id: "allenai/ai2_arc", config: "ARC-Easy" });
  assert.deepEqual(mc("arc_challenge").dataset, { id: "allenai/ai2_arc", config: "ARC-Challenge" });
  assert.deepEqual(mc("arc_challenge").metrics, ["acc", "acc_norm"]);
});

test("piqa: Question/Answer prompt over goal with sol1/sol2", () => {
  const q = "Question: How do I open a stuck jar?\nAnswer:";
  assert.deepEqual(requests("piqa", { goal: "How do I open a stuck jar?", sol1: "Run the lid under hot water, then twist it.", sol2: "Put the jar in the freezer and wait.", label: 0 }), {
    gold: 0,
    requests: [
      [q, " Run the lid under hot water, then twist it."],
      [q, " Put the jar in the freezer and wait."],
    ],
  });
  assert.deepEqual(mc("piqa").metrics, ["acc", "acc_norm"]);
});

test("boolq: passage, question with '?', no/yes", () => {
  const c = "The sky looks blue on a clear day because air scatters blue light.\nQuestion: is the sky blue on a clear day?\nAnswer:";
  assert.deepEqual(requests("boolq", { question: "is the sky blue on a clear day", passage: "The sky looks blue on a clear day because air scatters blue light.", idx: 0, label: 1 }), {
    gold: 1,
    requests: [
      [c, " no"],
      [c, " yes"],
    ],
  });
  assert.deepEqual(mc("boolq").dataset, { id: "aps/super_glue", config: "boolq" });
  assert.deepEqual(mc("boolq").metrics, ["acc"]);
});

test("copa: premise without its period + connector; lower-cased choices after two spaces", () => {
  assert.deepEqual(requests("copa", { premise: "The man broke his toe.", choice1: "He dropped a hammer on his foot.", choice2: "He got a hole in his sock.", question: "cause", idx: 0, label: 0 }), {
    gold: 0,
    requests: [
      ["The man broke his toe because", "  he dropped a hammer on his foot."],
      ["The man broke his toe because", "  he got a hole in his sock."],
    ],
  });
  assert.deepEqual(
    requests("copa", { premise: " I tipped the bottle. ", choice1: "The liquid in the bottle froze.", choice2: "The liquid in the bottle poured out.", question: "effect", idx: 1, label: 1 }),
    {
      gold: 1,
      requests: [
        ["I tipped the bottle therefore", "  the liquid in the bottle froze."],
        ["I tipped the bottle therefore", "  the liquid in the bottle poured out."],
      ],
    },
  );
});

test("winogrande: partial scoring — the contexts differ, the continuation after the blank is shared", () => {
  const row = { sentence: "Sarah was a much better surgeon than Maria so _ always got the harder cases.", option1: "Sarah", option2: "Maria", answer: "1" };
  assert.deepEqual(requests("winogrande", row), {
    gold: 0,
    requests: [
      ["Sarah was a much better surgeon than Maria so Sarah", " always got the harder cases."],
      ["Sarah was a much better surgeon than Maria so Maria", " always got the harder cases."],
    ],
  });
  assert.equal(requests("winogrande", { ...row, answer: "2" }).gold, 1);
  assert.deepEqual(mc("winogrande").dataset, { id: "allenai/winogrande", config: "winogrande_xl" });
});

test("winogrande few-shot: examples are the gold context + delimiter + continuation, resolved through the data directory", async () => {
  const dir = tempDir();
  const folder = join(dir, "allenai", "winogrande", "winogrande_xl");
  mkdirSync(folder, { recursive: true });
  const rows = [
    { sentence: "Tom gave Ben the ball because _ was kind.", option1: "Tom", option2: "Ben", answer: "1" },
    { sentence: "The cup fell off the shelf because _ was wobbly.", option1: "cup", option2: "shelf", answer: "2" },
  ];
  writeFileSync(join(folder, "validation.jsonl"), rows.map((r) => JSON.stringify(r)).join("\n") + "\n");
  writeFileSync(join(folder, "train.jsonl"), JSON.stringify({ sentence: "Anna is taller than Lily so _ reaches the shelf.", option1: "Anna", option2: "Lily", answer: "1" }) + "\n");
  const [doc] = await prepareMultipleChoice(mc("winogrande"), { dataDir: dir, seed: 1, limit: 1, numFewshot: 1 });
  const shot = "Anna is taller than Lily so Anna reaches the shelf.\n\n";
  assert.deepEqual(
    doc.requests.map((r) => [r.context, r.continuation]),
    [
      [`${shot}Tom gave Ben the ball because Tom`, " was kind."],
      [`${shot}Tom gave Ben the ball because Ben`, " was kind."],
    ],
  );
  const shown = await renderExample({ def: mc("winogrande"), file: join(builtinTaskDir, "winogrande.yaml") }, { dataDir: dir });
  assert.equal(shown[0], `choice 0 (gold): context ${JSON.stringify("Tom gave Ben the ball because Tom")} continuation " was kind."`);
});

test("copa few-shot: the solved example keeps lm-eval's double space", async () => {
  const dir = tempDir();
  const folder = join(dir, "aps", "super_glue", "copa");
  mkdirSync(folder, { recursive: true });
  writeFileSync(
    join(folder, "validation.jsonl"),
    JSON.stringify({ premise: "The man broke his toe.", choice1: "He dropped a hammer on his foot.", choice2: "He got a hole in his sock.", question: "cause", idx: 0, label: 0 }) + "\n",
  );
  writeFileSync(
    join(folder, "train.jsonl"),
    JSON.stringify({ premise: "My body cast a shadow over the grass.", choice1: "The sun was rising.", choice2: "The grass was cut.", question: "cause", idx: 0, label: 0 }) + "\n",
  );
  const [doc] = await prepareMultipleChoice(mc("copa"), { dataDir: dir, seed: 1, limit: 1, numFewshot: 1 });
  assert.equal(doc.context, "My body cast a shadow over the grass because  the sun was rising.\n\nThe man broke his toe because");
});

test("lambada_openai: all but the last word, then ' ' + the last word; ppl and acc", () => {
  const def = builtin("lambada_openai") as LoglikelihoodTask;
  assert.deepEqual(renderLoglikelihoodDoc(def, { text: "She opened the box and found a small puppy" }, "row"), { context: "She opened the box and found a small", continuation: " puppy" });
  // split(' ') keeps empty pieces: a double space stays in the context.
  assert.deepEqual(renderLoglikelihoodDoc(def, { text: "He said  goodbye" }, "row"), { context: "He said ", continuation: " goodbye" });
  assert.deepEqual(def.dataset, { id: "EleutherAI/lambada_openai", config: "default" });
  assert.deepEqual(def.metrics, ["ppl", "acc"]);
});

test("wikitext: wikitext_detokenizer, words and bytes counted on the original page", () => {
  const def = builtin("wikitext") as RollingTask;
  const page =
    " = Robert Boulter = \n \n Robert Boulter is an English film , television and theatre actor . He had a guest @-@ starring role in 2000 ; the film cost $ 1 @,@ 500 and ran 3 @.@ 5 hours ( long ) [ sic ] { x } . He said \" hello \" and ' bye ' ! Why ? \n = = Career = = \n = = = Early = = = \n It was N years at 5 ° C . The players ' roles were Tom 's : fine . \n";
  const r = renderRollingDoc(def, { page }, "row");
  assert.equal(
    r.text,
    " = Robert Boulter =\n\nRobert Boulter is an English film, television and theatre actor. He had a guest-starring role in 2000; the film cost $ 1,500 and ran 3.5 hours (long) [sic] {x}. He said \"hello\" and 'bye'! Why?\n== Career ==\n=== Early ===\nIt was 1 years at 5°C. The players'roles were Tom's: fine.\n",
  );
  // len(re.split(r"\s+", page)) and len(page.encode("utf-8")) of the original page.
  assert.equal(r.words, 94);
  assert.equal(r.bytes, 353);
  assert.deepEqual(def.dataset, { id: "EleutherAI/wikitext_document_level", config: "wikitext-2-raw-v1" });
  assert.deepEqual(def.metrics, ["word_perplexity", "byte_perplexity", "bits_per_byte"]);
});
