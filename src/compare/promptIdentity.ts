// The prompt-identity guard: two runs can only be compared when every shared task scored the
// same prompts with the same few-shot examples. The first difference is named.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { QuantevalError } from "../util/errors.js";

interface SampleKey {
  task: string;
  model: string;
  doc_id: number;
  prompt_hash?: string;
  fewshot_ids?: number[];
}

function readSamples(runDir: string): Map<string, SampleKey> {
  let text: string;
  try {
    text = readFileSync(join(runDir, "samples.jsonl"), "utf8");
  } catch {
    throw new QuantevalError(`${runDir}: no samples.jsonl; give the --out directory of a finished 'quanteval run'`);
  }
  const out = new Map<string, SampleKey>();
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    const s = JSON.parse(line) as SampleKey;
    // Prompts are identical across the models of one run by construction; key by task + doc.
    const key = `${s.task}\u0000${s.doc_id}`;
    if (!out.has(key)) out.set(key, s);
  }
  return out;
}

/**
 * Throws a QuantevalError naming the first task/document whose prompt or few-shot ids differ
 * between the two runs. Returns the number of (task, doc) pairs checked.
 */
export function assertSamePrompts(runA: string, runB: string): number {
  const a = readSamples(runA);
  const b = readSamples(runB);
  let checked = 0;
  for (const [key, sa] of a) {
    const sb = b.get(key);
    if (!sb) continue;
    checked++;
    if (sa.prompt_hash !== sb.prompt_hash) {
      throw new QuantevalError(
        `runs differ in prompts: task ${sa.task} doc ${sa.doc_id} has prompt hash ${sa.prompt_hash} in ${runA} but ${sb.prompt_hash} in ${runB}; compare runs made with the same task definitions, few-shot and seed`,
      );
    }
    if (JSON.stringify(sa.fewshot_ids ?? []) !== JSON.stringify(sb.fewshot_ids ?? [])) {
      throw new QuantevalError(
        `runs differ in few-shot examples: task ${sa.task} doc ${sa.doc_id} uses ids [${(sa.fewshot_ids ?? []).join(",")}] in ${runA} but [${(sb.fewshot_ids ?? []).join(",")}] in ${runB}; use the same seed and num_fewshot`,
      );
    }
  }
  if (checked === 0) throw new QuantevalError(`runs ${runA} and ${runB} share no task documents to compare`);
  return checked;
}
