// The generate task entry: defaults, and one-line errors naming the key.
import assert from "node:assert/strict";
import { test } from "node:test";
import { parseGenerateSpec } from "../../src/tasks/generate/spec.js";

test("the issue's minimal entry parses with greedy defaults", () => {
  const s = parseGenerateSpec(
    {
      task: "generate",
      data: "../shared/datasets/dolly-hhrlhf-small/train.jsonl",
      input: "prompt",
      reference: "response",
      max_tokens: 64,
      limit: 16,
      embedders: [{ kind: "model2vec", path: "../shared/models/model2vec-test" }],
    },
    "g",
  );
  assert.equal(s.temperature, 0);
  assert.equal(s.top_p, 1);
  assert.equal(s.chat, false);
  assert.equal(s.max_tokens, 64);
});

test("errors are one line naming the task and the key", () => {
  const bad = (raw: Record<string, unknown>, message: string) => assert.throws(() => parseGenerateSpec({ task: "generate", data: "x.jsonl", ...raw }, "g"), { name: "QuantevalError", message });
  bad({ max_token: 3 }, "task 'g': unknown key 'max_token' for a generate task; did you mean 'max_tokens'?");
  bad({ perturb: { typo: 0.1 } }, "task 'g': unknown key 'perturb.typo' for a generate task; did you mean 'typos'?");
  bad({ judge: { model: "a", promt: "x" } }, "task 'g': unknown key 'judge.promt' for a generate task; did you mean 'prompt'?");
  bad({ embedders: [{ kind: "model2vec", pth: "x" }] }, "task 'g': unknown key 'embedders[0].pth' for a generate task; did you mean 'path'?");
  bad({ judge: { model: { name: "j", modle: "x.gguf" } } }, "task 'g': unknown key 'judge.model.modle' for a generate task; did you mean 'model'?");
  bad({ hypotheses: [{ expect: "closer", a: "q8_0" }] }, "task 'g': key 'hypotheses[0]': 'closer' needs a and b (model names)");
  bad({ judge: { model: "a", prompt: "Which is better?" } }, "task 'g': key 'judge.prompt': must contain {{answer_a}} and {{answer_b}}");
  bad({ temperature: -1 }, "task 'g': key 'temperature': Too small: expected number to be >=0");
  assert.throws(() => parseGenerateSpec({ task: "generate" }, "g"), { message: "task 'g': key 'data': needs 'data' (prompts) or 'probes' (a probes YAML)" });
});
