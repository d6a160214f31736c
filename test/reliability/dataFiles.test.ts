// Data files and templates, round 2: a .parquet that is not Parquet, a truncated .json, a .json
// array of non-objects, line numbers after blank JSONL lines and multi-line CSV records, and
// templates naming JavaScript built-ins. Each is one line naming the file (and line) through
// the real CLI on stories260K.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { readRows, rowLine } from "../../src/data/readRows.js";
import { fieldValue, render } from "../../src/tasks/template.js";
import { cli } from "../helpers/cli.js";
import { tempDir, writeConfig } from "../helpers/runConfig.js";
import { models } from "../helpers/shared.js";
import { expectOneLineError } from "./expectOneLine.js";

/** Runs a two-choice task over `data` (written as `name`) with the given question template. */
function runTask(name: string, data: string | Buffer, question = "{{question}}") {
  const dir = tempDir();
  const dataPath = join(dir, name);
  writeFileSync(dataPath, data);
  const taskPath = join(dir, "mytask.yaml");
  writeFileSync(
    taskPath,
    `task: mytask\ntype: multiple_choice\ndata_file: ${dataPath}\ndoc_to_text: "Q: ${question}\\nA:"\ndoc_to_choice: ["{{a}}", "{{b}}"]\ndoc_to_target: "{{label}}"\nmetrics: [acc]\n`,
  );
  const r = cli(["run", writeConfig({ baseline: { name: "f32", model: models.stories() }, tasks: [{ task: taskPath }] }, dir), "--out", join(dir, "out")]);
  return { r, dataPath };
}

const row = (q: string) => JSON.stringify({ question: q, a: "x", b: "y", label: 0 });

test("a .parquet file that is not Parquet", () => {
  const { r, dataPath } = runTask("data.parquet", "question,a,b,label\nq,x,y,0\n");
  expectOneLineError(r, dataPath, "not a readable Parquet file");
});

test("a truncated .json data file", () => {
  const { r, dataPath } = runTask("data.json", `[${row("q1")}, {"question": "q2", "a"`);
  expectOneLineError(r, dataPath, "not valid JSON", "truncated");
});

test("a .json array of non-objects", () => {
  const { r, dataPath } = runTask("data.json", `[${row("q1")}, "just a string", 3]`);
  expectOneLineError(r, dataPath, "element 1", "not an object");
});

test("JSONL with blank lines: the error names the real line, not the row index", () => {
  // Row 2 (missing 'b') is on line 5.
  const { r, dataPath } = runTask("data.jsonl", `${row("q1")}\n\n\n\n{"question": "q2", "a": "x", "label": 1}\n`);
  expectOneLineError(r, `${dataPath}:5`, "field 'b' missing");
});

test("CSV with multi-line quoted records: the error names the real line", async () => {
  // Record 1 spans lines 2–4; record 2 (empty 'b' is fine, missing column 'question' is not) starts on line 6 after a blank line.
  const csv = 'question,a,b,label\n"line one\nline two\nline three",x,y,0\n\n"q2",x,y,0\n"q3\nmore",x,y,7\n';
  const dir = tempDir();
  const path = join(dir, "d.csv");
  writeFileSync(path, csv);
  const rows = await readRows(path);
  assert.deepEqual(
    rows.map((x) => rowLine(x)),
    [2, 6, 7],
  );
  const { r, dataPath } = runTask("data.csv", csv);
  // The label 7 of record 3 (line 7) is out of range.
  expectOneLineError(r, `${dataPath}:7`, "out of range");
});

test("templates: {{constructor}}, {{toString}}, {{__proto__}} are 'field missing', not JavaScript built-ins", () => {
  const doc = { question: "q" };
  for (const name of ["constructor", "toString", "__proto__", "hasOwnProperty", "question.length", "question.constructor"]) {
    assert.throws(() => render(`{{${name}}}`, doc, "data.jsonl:1"), new RegExp(`field '${name.replace(/[.]/g, "\\.")}' missing`), name);
  }
  // A dataset field that happens to carry such a name is still the dataset's.
  assert.equal(fieldValue(JSON.parse('{"constructor": "built", "__proto__": "proto"}'), "constructor", "x"), "built");
  assert.equal(fieldValue(JSON.parse('{"__proto__": "proto"}'), "__proto__", "x"), "proto");
  const { r, dataPath } = runTask("data.jsonl", `${row("q1")}\n`, "{{constructor}}");
  expectOneLineError(r, `${dataPath}:1`, "field 'constructor' missing");
});
