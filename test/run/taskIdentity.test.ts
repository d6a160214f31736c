// --resume after the task YAML was edited or data rows were appended: the run recomputes the
// task and names what changed (issue 16 item 10), rather than silently reusing the old run.
import assert from "node:assert/strict";
import { appendFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { runConfig, tempDir } from "../helpers/runConfig.js";
import { models } from "../helpers/shared.js";

test("--resume names an edited task YAML and appended data rows, and recomputes the task", async () => {
  const dir = tempDir();
  const data = join(dir, "data.jsonl");
  const row = (q: string, label: number) => `${JSON.stringify({ question: q, a: "yes", b: "no", label })}\n`;
  writeFileSync(data, row("Is the sky blue?", 0) + row("Is fire cold?", 1) + row("Do cats fly?", 1));
  const taskFile = join(dir, "mytask.yaml");
  const yaml = (prompt: string) =>
    `task: mytask\ntype: multiple_choice\ndata_file: ${data}\ndoc_to_text: "${prompt} {{question}}\\nA:"\ndoc_to_choice: ["{{a}}", "{{b}}"]\ndoc_to_target: "{{label}}"\nmetrics: [acc]\n`;
  writeFileSync(taskFile, yaml("Q:"));
  const config = { baseline: { name: "f32", model: models.stories() }, tasks: [{ task: taskFile, name: "mytask" }] };
  const first = await runConfig(config);
  assert.equal((first.results.tasks.mytask.results.f32 as { n: number }).n, 3);
  assert.ok(!first.results.warnings.some((w) => w.includes("changed since")));

  writeFileSync(taskFile, yaml("Question:"));
  appendFileSync(data, row("Is water wet?", 0));
  const again = await runConfig(config, { out: first.out, resume: true });
  const line = again.results.warnings.find((w) => w.includes("changed since"));
  assert.ok(line, again.results.warnings.join("\n"));
  assert.match(line, /task mytask: the task definition \(.*mytask\.yaml\) and the data file \(.*data\.jsonl\) changed/);
  assert.equal((again.results.tasks.mytask.results.f32 as { n: number }).n, 4);
  assert.ok(again.results.requests.computed > 0);
});
