// The prompt-identity guard on real runs: same prompts compare, different few-shot is refused.
import assert from "node:assert/strict";
import { test } from "node:test";
import { assertSamePrompts } from "../../src/compare/promptIdentity.js";
import { cli } from "../helpers/cli.js";
import { runConfig } from "../helpers/runConfig.js";
import { models } from "../helpers/shared.js";

test("runs with the same prompts compare; a different few-shot seed is refused naming the first difference", async () => {
  const cfg = (seed: number) => ({ baseline: { name: "f32", model: models.stories() }, tasks: [{ task: "kobest_sentineg", num_fewshot: 1, limit: 6 }], seed });
  const a = await runConfig(cfg(1));
  const b = await runConfig(cfg(1));
  const c = await runConfig(cfg(2));
  assert.equal(assertSamePrompts(a.out, b.out), 6);
  assert.throws(() => assertSamePrompts(a.out, c.out), /task kobest_sentineg doc 0 .*(prompt hash|few-shot)/);
  const ok = cli(["compare", a.out, b.out, "--json"]);
  assert.equal(ok.status, 0, ok.stderr);
  const res = JSON.parse(ok.stdout);
  assert.equal(res.tasks[0].delta, 0);
  const refused = cli(["compare", a.out, c.out]);
  assert.notEqual(refused.status, 0);
  assert.match(refused.stderr, /^quanteval: runs differ in (prompts|few-shot)/);
});
