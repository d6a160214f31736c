// Domain probes: the shipped example file, fact matching rules and one-line file errors.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { extractNumbers, factFound, factLabel, loadProbes } from "../../src/tasks/generate/probes.js";
import { repoRoot } from "../helpers/shared.js";
import { tempDir } from "../helpers/runConfig.js";

test("the example probes file loads", () => {
  const probes = loadProbes(join(repoRoot, "examples", "probes.yaml"));
  assert.ok(probes.length >= 3);
  const aspirin = probes.find((p) => p.id === "aspirin")!;
  assert.deepEqual(aspirin.facts.map(factLabel), ["/acetyl\\s*salicylic/i", "180.16 ± 0.05"]);
});

test("facts: substrings, regexes and numbers with a tolerance", () => {
  const answer = "Aspirin (acetylsalicylic  acid) weighs 180.2 g/mol; Everest is 8,849 m in the HIMALAYAS.";
  assert.ok(factFound(answer, "Acetylsalicylic acid"));
  assert.ok(factFound(answer, "himalaya"));
  assert.ok(!factFound(answer, "ibuprofen"));
  assert.ok(factFound(answer, { regex: "acetyl\\s*salicylic" }));
  assert.ok(!factFound(answer, { regex: "^acetyl", flags: "" }));
  assert.ok(factFound(answer, { number: 180.16, tolerance: 0.05 }));
  assert.ok(!factFound(answer, { number: 180.16, tolerance: 0 }));
  assert.ok(factFound(answer, { number: 8849, tolerance: 0 }));
  assert.deepEqual(extractNumbers("-3 and 1,234.5 and 0.25, 7"), [-3, 1234.5, 0.25, 7]);
});

test("a bad probes file is one line naming the entry", () => {
  const dir = tempDir();
  const write = (text: string) => {
    const p = join(dir, `p${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(p, text);
    return p;
  };
  let p = write("question: not a list\n");
  assert.throws(() => loadProbes(p), { message: `${p}: a probes file is a non-empty YAML list of {question, facts} entries` });
  p = write("- question: q\n  facts: [{numbr: 3}]\n");
  assert.throws(() => loadProbes(p), { message: `${p}: entry [0].facts[0]: a fact is a string, {regex, flags?} or {number, tolerance?}` });
  p = write("- question: q\n  facts: [{regex: '('}]\n");
  assert.throws(
    () => loadProbes(p),
    (e: Error) => e.message.startsWith(`${p}: entry [0].facts[0]: invalid regex`),
  );
  p = write("- question: q\n  fact: [x]\n");
  assert.throws(() => loadProbes(p), { message: `${p}: entry [0]: unknown key 'fact'` });
  assert.throws(() => loadProbes(join(dir, "nope.yaml")), /probes file not found/);
});
