// Browser tests: Debian's chromium driven by playwright-core (which never downloads a browser),
// and the run fixture those tests open: a real small evaluation whose prompts and task name
// carry HTML/script injection attempts.
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Browser, chromium } from "playwright-core";
import { loadConfig } from "../../src/config/loadConfig.js";
import { type RunResults, runEvaluation } from "../../src/run/runEvaluation.js";
import { models, repoRoot, sharedPath } from "./shared.js";

/** Chromium to drive: QUANTEVAL_CHROMIUM, else Debian's package (apt-get install chromium). */
export const chromiumPath = process.env.QUANTEVAL_CHROMIUM ?? "/usr/bin/chromium";

/** Why browser tests cannot run here (node:test prints it on each skipped test), or undefined. */
export function browserSkipReason(): string | undefined {
  if (existsSync(chromiumPath)) return undefined;
  return `chromium not found at ${chromiumPath} (apt-get install -y chromium, or set QUANTEVAL_CHROMIUM); browser tests skipped`;
}

/**
 * Launches headless chromium with the flags this sandboxed, offline machine needs (no
 * background networking: the closed network refuses those connections). Playwright gives
 * every launch a fresh, empty profile directory.
 *
 * A launch that has not connected within 60 s is abandoned (Playwright kills the process) and
 * tried again, up to three times. On a freshly installed machine under load, CI once saw the
 * first launch of the run print nothing for 180 s while every later launch took about a second;
 * a second attempt is what a person would do, and a browser that never starts still fails.
 */
export async function launchBrowser(): Promise<Browser> {
  const attempts = 3;
  for (let attempt = 1; ; attempt++) {
    try {
      return await chromium.launch({
        executablePath: chromiumPath,
        headless: true,
        timeout: 60_000,
        args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
      });
    } catch (error) {
      if (attempt >= attempts) throw error;
      console.error(`chromium did not start (attempt ${attempt} of ${attempts}): ${(error as Error).message.split("\n")[0]}; trying again`);
    }
  }
}

/** Where tests save screenshots (gitignored). */
export function artifactPath(name: string): string {
  const dir = join(repoRoot, "test-artifacts");
  mkdirSync(dir, { recursive: true });
  return join(dir, name);
}

/** Injection attempts placed in the fixture's prompts and task name; none may ever run. */
export const XSS = {
  script: "<script>window.__xss=1</script>",
  img: '<img src=x onerror="window.__xss=2">',
  taskName: "tiny<img src=x onerror=window.__xss=3>",
};

const SUBJECTS = ["Tom", "Lily", "The cat", "The dog", "Mom", "Ben", "The bird", "Sue", "The little girl", "The boy", "Tim", "Anna"];
const PAIRS = [
  ["happy", "sad"],
  ["big", "small"],
  ["red", "blue"],
  ["hot", "cold"],
  ["fast", "slow"],
  ["good", "bad"],
  ["tired", "hungry"],
  ["up", "down"],
  ["the park", "the house"],
  ["a ball", "a toy"],
  ["nice", "kind"],
  ["wet", "dry"],
];

export interface XssRun {
  dir: string;
  results: RunResults;
  task: string;
}

/**
 * Runs a real evaluation (stories260K F32 against Q8_0 and Q4_0, with the noise floor) on a
 * 40-item two-choice task whose every prompt is an injection attempt, plus 4 chunks of
 * WikiText-2 perplexity for the KLD charts, one thread per model. Takes about 3 s. Q4_0 changes 7 answers
 * (2 correct→wrong, 5 wrong→correct); tests compare with counts from the store, not these.
 */
export async function makeXssRun(): Promise<XssRun> {
  const dir = mkdtempSync(join(tmpdir(), "quanteval-xss-"));
  const rows = Array.from({ length: 40 }, (_, i) => {
    // 40 distinct (subject, adjective pair) combinations.
    const [a, b] = PAIRS[(i * 5 + Math.floor(i / 12)) % PAIRS.length];
    // Every prompt carries an injection attempt, so every row any filter shows has one.
    const premise = `${i % 2 === 0 ? XSS.script : XSS.img} ${SUBJECTS[i % SUBJECTS.length]} was very`;
    return { premise, a: `${a}.`, b: `${b}.`, label: Math.floor(i / 2) % 2 };
  });
  writeFileSync(join(dir, "data.jsonl"), rows.map((r) => JSON.stringify(r)).join("\n") + "\n");
  writeFileSync(
    join(dir, "task.yaml"),
    ["task: xss_tiny", "type: multiple_choice", 'doc_to_text: "{{premise}}"', 'doc_to_choice: ["{{a}}", "{{b}}"]', 'doc_to_target: "{{label}}"', "metrics: [acc]", ""].join("\n"),
  );
  writeFileSync(
    join(dir, "config.yaml"),
    [
      `baseline: {name: f32, model: ${JSON.stringify(models.stories())}, n_ctx: 128, threads: 1}`,
      "variants:",
      `  - {name: q8_0, model: ${JSON.stringify(models.storiesVariant("q8_0"))}, n_ctx: 128, threads: 1}`,
      `  - {name: q4_0, model: ${JSON.stringify(models.storiesVariant("q4_0"))}, n_ctx: 128, threads: 1}`,
      "tasks:",
      `  - {task: ./task.yaml, data: ./data.jsonl, name: ${JSON.stringify(XSS.taskName)}}`,
      `  - {task: perplexity, data: ${JSON.stringify(sharedPath("datasets", "wikitext-2-raw-v1", "wiki.test.raw"))}, n_ctx: 128, chunks: 4}`,
      "noise_floor: true",
      "",
    ].join("\n"),
  );
  const out = join(dir, "run");
  const results = await runEvaluation(loadConfig(join(dir, "config.yaml")), { out });
  return { dir: out, results, task: XSS.taskName };
}

/**
 * Runs a real `generate` task (stories260K F32 vs Q8_0/Q4_0, 4 dolly prompts, 16 tokens,
 * Model2Vec embedding drift) for the generation-drift charts. Takes a few seconds.
 */
export async function makeGenerateRun(): Promise<{ dir: string; results: RunResults }> {
  const dir = mkdtempSync(join(tmpdir(), "quanteval-gen-"));
  const model = (name: string, path: string) => `{name: ${name}, model: ${JSON.stringify(path)}, n_ctx: 256, threads: 1}`;
  writeFileSync(
    join(dir, "config.yaml"),
    [
      `baseline: ${model("f32", models.stories())}`,
      "variants:",
      `  - ${model("q8_0", models.storiesVariant("q8_0"))}`,
      `  - ${model("q4_0", models.storiesVariant("q4_0"))}`,
      "tasks:",
      "  - task: generate",
      "    name: dolly-drift",
      `    data: ${JSON.stringify(sharedPath("datasets", "dolly-hhrlhf-small", "train.jsonl"))}`,
      "    input: prompt",
      "    reference: response",
      "    max_tokens: 16",
      "    limit: 4",
      `    embedders: [{kind: model2vec, path: ${JSON.stringify(models.model2vec())}}]`,
      "",
    ].join("\n"),
  );
  const out = join(dir, "run");
  return { dir: out, results: await runEvaluation(loadConfig(join(dir, "config.yaml")), { out }) };
}
