// A config-free run (`quanteval run --baseline A.gguf --variant B.gguf --tasks …`) on the
// shared stories260K models: it evaluates, writes the config it used into --out, and that
// config re-runs to the same results.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { parse } from "yaml";
import { cli } from "../helpers/cli.js";
import { tempDir } from "../helpers/runConfig.js";
import { models } from "../helpers/shared.js";
import { expectOneLineError } from "../reliability/expectOneLine.js";

test("a config-free run evaluates, names models after their files, and writes a config that re-runs", () => {
  const out = join(tempDir(), "run");
  const args = ["--baseline", models.stories(), "--variant", models.storiesVariant("q8_0"), "--variant", models.storiesVariant("q4_0")];
  const r = cli(["run", ...args, "--tasks", "kobest_copa,perplexity", "--limit", "4", "--num-fewshot", "1", "--out", out, "--json"]);
  assert.equal(r.status, 0, r.stderr);
  const results = JSON.parse(r.stdout);
  assert.deepEqual(Object.keys(results.tasks.kobest_copa.results), ["stories260K", "stories260K-q8_0", "stories260K-q4_0"]);
  // perplexity without data read WikiText-2 test from the data dir.
  assert.match(results.tasks.perplexity.manifest.data_file, /wikitext-2-raw-v1[/\\]wiki\.test\.raw$/);
  const written = parse(readFileSync(join(out, "config.yaml"), "utf8"));
  assert.equal(written.baseline.model, models.stories());
  assert.deepEqual(written.tasks, [{ task: "kobest_copa", num_fewshot: 1 }, { task: "perplexity" }]);

  const again = join(tempDir(), "rerun");
  const r2 = cli(["run", join(out, "config.yaml"), "--limit", "4", "--out", again, "--json"]);
  assert.equal(r2.status, 0, r2.stderr);
  const results2 = JSON.parse(r2.stdout);
  assert.deepEqual(results2.tasks.kobest_copa.results, results.tasks.kobest_copa.results);
  assert.deepEqual(results2.tasks.perplexity.results, results.tasks.perplexity.results);
});

test("contradictory run flags are refused in one line", () => {
  const out = join(tempDir(), "o");
  expectOneLineError(cli(["run", "some.yaml", "--baseline", models.stories(), "--tasks", "kobest_copa", "--out", out]), "either a config file");
  expectOneLineError(cli(["run", "--variant", models.stories(), "--tasks", "kobest_copa", "--out", out]), "--baseline");
  expectOneLineError(cli(["run", "--baseline", models.stories(), "--out", out]), "--tasks");
});
