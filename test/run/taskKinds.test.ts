// Task kinds: every config entry is checked by its kind's strict schema when the config loads,
// before any model; `quanteval tasks` lists every kind's tasks, generate included.
import assert from "node:assert/strict";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { loadConfig } from "../../src/config/loadConfig.js";
import { TASK_KINDS, listTaskNames } from "../../src/tasks/kinds/registry.js";
import { cli } from "../helpers/cli.js";
import { tempDir, writeConfig } from "../helpers/runConfig.js";
import { models, sharedPath } from "../helpers/shared.js";

const baseline = () => ({ name: "f32", model: models.stories() });

function configWith(tasks: unknown[]): string {
  return writeConfig({ baseline: baseline(), tasks });
}

test("a misspelt task key fails when the config loads, with the line and 'did you mean'", () => {
  const path = configWith([{ task: "kobest_copa", limt: 5 }]);
  assert.throws(() => loadConfig(path), {
    name: "QuantevalError",
    message: new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:\\d+: unknown key 'tasks\\[0\\]\\.limt'; did you mean 'limit'\\?$`),
  });
});

test("each kind checks its own keys: perplexity, llama.cpp mode, generate", () => {
  assert.throws(() => loadConfig(configWith([{ task: "perplexity", chunk: 3 }])), { message: /unknown key 'tasks\[0\]\.chunk'; did you mean 'chunks'\?$/ });
  // n_ctx belongs to perplexity, not to a multiple-choice task.
  assert.throws(() => loadConfig(configWith([{ task: "kobest_copa" }, { task: "kobest_boolq", n_ctx: 64 }])), {
    message: /unknown key 'tasks\[1\]\.n_ctx'; remove it \(known keys: task, name, limit, num_fewshot, data, split, normalizations\)$/,
  });
  assert.throws(() => loadConfig(configWith([{ task: "hellaswag_llamacpp", num_fewshot: 1 }])), { message: /unknown key 'tasks\[0\]\.num_fewshot'/ });
  assert.throws(() => loadConfig(configWith([{ task: "generate", data: "x.jsonl", max_token: 3 }])), {
    message: /config\.yaml: task 'generate': unknown key 'max_token' for a generate task; did you mean 'max_tokens'\?$/,
  });
});

test("the CLI refuses a misspelt key before it opens the output directory or loads a model", () => {
  const dir = tempDir();
  const path = writeConfig({ baseline: baseline(), tasks: [{ task: "kobest_copa", limt: 5 }] }, dir);
  const r = cli(["run", path, "--out", join(dir, "out")]);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /unknown key 'tasks\[0\]\.limt'; did you mean 'limit'\?/);
  assert.doesNotMatch(r.stderr, /loaded f32/);
  assert.equal(existsSync(join(dir, "out")), false, "nothing was written");
});

test("the registry: one kind per name, each code task and task YAML type claimed once", () => {
  const names = TASK_KINDS.map((k) => k.name);
  assert.equal(new Set(names).size, names.length);
  assert.deepEqual([...names].sort(), ["generate", "llamacpp_hellaswag", "llamacpp_winogrande", "loglikelihood", "multiple_choice", "perplexity", "rolling"]);
  assert.ok(listTaskNames().includes("generate"));
  assert.ok(listTaskNames().includes("perplexity"));
  assert.ok(listTaskNames().includes("kobest_copa"));
});

test("quanteval tasks lists generate, and tasks show generate describes it", () => {
  const list = cli(["tasks", "--json"]);
  assert.equal(list.status, 0, list.stderr);
  const rows = JSON.parse(list.stdout) as Array<{ name: string; type: string; metrics: string }>;
  const gen = rows.find((r) => r.name === "generate");
  assert.equal(gen?.type, "generate");
  assert.match(gen!.metrics, /judge_win_rate/);
  assert.equal(rows.find((r) => r.name === "kobest_copa")?.type, "multiple_choice");
  assert.equal(rows.find((r) => r.name === "perplexity")?.type, "perplexity");
  const show = cli(["tasks", "show", "generate"]);
  assert.equal(show.status, 0, show.stderr);
  assert.match(show.stdout, /^generate: generation drift against the baseline/);
});

test("a generate entry with a missing data file fails in preflight, naming the entry", () => {
  const dir = tempDir();
  const path = writeConfig({ baseline: baseline(), tasks: [{ task: "generate", data: "missing.jsonl", max_tokens: 4 }] }, dir);
  const r = cli(["run", path, "--out", join(dir, "out")]);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /task 'generate': data '.*missing\.jsonl' not found/);
  assert.doesNotMatch(r.stderr, /loaded f32/, "preflight runs before any model loads");
});

test("task data resolves beside the config before the data dir", () => {
  const dir = tempDir();
  const local = join(dir, "wiki.raw");
  writeFileSync(local, "text beside the config");
  const loaded = loadConfig(
    writeConfig(
      {
        baseline: baseline(),
        tasks: [
          { task: "perplexity", data: "wiki.raw" },
          { task: "perplexity", data: "wikitext-2-raw-v1/wiki.test.raw" },
        ],
      },
      dir,
    ),
  );
  assert.equal(loaded.tasks[0].entry.data, local);
  assert.equal(loaded.tasks[1].entry.data, sharedPath("datasets", "wikitext-2-raw-v1", "wiki.test.raw"));
  assert.deepEqual(
    loaded.tasks.map((t) => t.name),
    ["perplexity", "perplexity#2"],
  );
});
