// The KoBEST tasks render fixed hand-written documents (skt/kobest_v1 field layout) to the
// exact strings lm-evaluation-harness builds (issue 2, item 5). lm-eval's _encode_pair then
// moves the context's trailing whitespace into the continuation; the GGUF backend does that
// move (encodePair in src/backends/gguf.ts), so here it is checked on the request strings
// with the same rule.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { LoglikelihoodRequest } from "../../src/backends/backend.js";
import { buildRequests, prepareMultipleChoice, renderDoc } from "../../src/tasks/multipleChoice.js";
import { loadTask } from "../../src/tasks/taskRegistry.js";
import type { MultipleChoiceTask } from "../../src/tasks/taskDefinition.js";
import { sharedPath } from "../helpers/shared.js";

function requests(name: string, row: Record<string, unknown>): { gold: number; requests: string[][] } {
  const def = loadTask(name, process.cwd()).def as MultipleChoiceTask;
  const r = renderDoc(def, row, `${name} test row`);
  return { gold: r.gold, requests: buildRequests(def, r).map((q) => [q.context, q.continuation]) };
}

/** lm-eval's _encode_pair rule: trailing whitespace of the context starts the continuation. */
function moveTrailingSpace(r: LoglikelihoodRequest): [string, string] {
  const trimmed = r.context.replace(/\s+$/u, "");
  return [trimmed, r.context.slice(trimmed.length) + r.continuation];
}

test("kobest_boolq: '… 답변: ' then ' 아니오'/' 예'; after _encode_pair '… 답변:' and '  아니오'", () => {
  const row = { paragraph: "철수는 매일 아침 우유를 마신다.", question: "철수는 우유를 마시나요?", label: 1 };
  const ctx = "철수는 매일 아침 우유를 마신다. 질문: 철수는 우유를 마시나요? 답변: ";
  const out = requests("kobest_boolq", row);
  assert.deepEqual(out, {
    gold: 1,
    requests: [
      [ctx, " 아니오"],
      [ctx, " 예"],
    ],
  });
  assert.deepEqual(moveTrailingSpace({ context: ctx, continuation: " 아니오" }), ["철수는 매일 아침 우유를 마신다. 질문: 철수는 우유를 마시나요? 답변:", "  아니오"]);
  assert.deepEqual(moveTrailingSpace({ context: ctx, continuation: " 예" })[1], "  예");
});

test("kobest_copa: two spaces before 왜냐하면 / 그래서 (question is stripped)", () => {
  const cause = requests("kobest_copa", { premise: "영희가 넘어졌다.", question: "원인", alternative_1: "길이 미끄러웠다.", alternative_2: "날씨가 맑았다.", label: 0 });
  assert.deepEqual(cause, {
    gold: 0,
    requests: [
      ["영희가 넘어졌다.  왜냐하면", " 길이 미끄러웠다."],
      ["영희가 넘어졌다.  왜냐하면", " 날씨가 맑았다."],
    ],
  });
  const effect = requests("kobest_copa", { premise: "비가 많이 왔다.", question: " 결과 ", alternative_1: "우산을 썼다.", alternative_2: "선크림을 발랐다.", label: 0 });
  assert.deepEqual(effect.requests[0], ["비가 많이 왔다.  그래서", " 우산을 썼다."]);
});

test("kobest_wic: 문장1/문장2 prompt with the word, 아니오/예", () => {
  const ctx = "문장1: 그는 [배]를 타고 강을 건넜다. 문장2: 나는 [배]가 아파서 병원에 갔다. 두 문장에서 배가 같은 뜻으로 쓰였나?";
  assert.deepEqual(requests("kobest_wic", { word: "배", context_1: "그는 [배]를 타고 강을 건넜다.", context_2: "나는 [배]가 아파서 병원에 갔다.", label: 0 }), {
    gold: 0,
    requests: [
      [ctx, " 아니오"],
      [ctx, " 예"],
    ],
  });
});

test("kobest_hellaswag: '문장: {context}' with four endings; acc, acc_norm, f1", () => {
  const row = { context: "민수는 공원에 갔다.", ending_1: "그는 벤치에 앉았다.", ending_2: "그는 하늘을 날았다.", ending_3: "그는 바다를 마셨다.", ending_4: "그는 구름을 먹었다.", label: 0 };
  const ctx = "문장: 민수는 공원에 갔다.";
  assert.deepEqual(requests("kobest_hellaswag", row), {
    gold: 0,
    requests: [
      [ctx, " 그는 벤치에 앉았다."],
      [ctx, " 그는 하늘을 날았다."],
      [ctx, " 그는 바다를 마셨다."],
      [ctx, " 그는 구름을 먹었다."],
    ],
  });
  assert.deepEqual((loadTask("kobest_hellaswag", process.cwd()).def as MultipleChoiceTask).metrics, ["acc", "acc_norm", "f1"]);
});

test("kobest_sentineg: '문장: {sentence} 긍부정:' with 부정/긍정", () => {
  const ctx = "문장: 이 영화 정말 재미있다! 긍부정:";
  assert.deepEqual(requests("kobest_sentineg", { sentence: "이 영화 정말 재미있다!", label: 1 }), {
    gold: 1,
    requests: [
      [ctx, " 부정"],
      [ctx, " 긍정"],
    ],
  });
});

test("KoBEST rows from the shared skt/kobest_v1 data render through the data directory", async () => {
  const def = loadTask("kobest_boolq", process.cwd()).def as MultipleChoiceTask;
  const [doc] = await prepareMultipleChoice(def, { dataDir: sharedPath("datasets"), seed: 1234, limit: 1 });
  assert.ok(doc.context.endsWith(" 답변: "));
  assert.deepEqual(
    doc.requests.map((r) => r.continuation),
    [" 아니오", " 예"],
  );
});
