// The `generate` task entry of a run config. The config schema passes task entries through
// untouched, so this file validates the generate-specific keys and turns every problem into
// one line naming the task and the key.
import { closest, distance } from "fastest-levenshtein";
import { z } from "zod";
import { modelSpec } from "../../config/schema.js";
import { QuantevalError } from "../../util/errors.js";

const embedderSpec = z
  .object({
    kind: z.enum(["model2vec", "onnx", "http", "gguf"]),
    /** Local model folder (model2vec, onnx) or .gguf file (gguf); relative to the config's folder. */
    path: z.string().min(1).optional(),
    /** http: server base URL. */
    base_url: z.string().url().optional(),
    /** http: model name sent to the server. */
    model: z.string().min(1).optional(),
    /** http: environment variable holding the API key. */
    api_key_env: z.string().min(1).optional(),
    /** gguf: CPU threads for the embedding context. */
    threads: z.number().int().min(1).max(1024).optional(),
  })
  .strict();

const judgeSpec = z
  .object({
    /** The name of a model in this run, or a model spec of its own ({name, model} or {name, base_url}). */
    model: z.union([z.string().min(1), modelSpec]),
    /** Prompt template with {{question}}, {{answer_a}} and {{answer_b}}. */
    prompt: z
      .string()
      .refine((s) => /\{\{\s*answer_a\s*\}\}/.test(s) && /\{\{\s*answer_b\s*\}\}/.test(s), "must contain {{answer_a}} and {{answer_b}}")
      .optional(),
    /** Tokens the judge may write (the verdict is read from the first line). */
    max_tokens: z.number().int().min(1).max(4096).default(8),
    /** Render the judge prompt with the judge model's chat template. */
    chat: z.boolean().default(false),
  })
  .strict();

const hypothesisSpec = z
  .object({
    expect: z.enum(["baseline_self_distance_is_min", "closer", "within"]),
    /** closer: the model expected nearer to the target … */
    a: z.string().min(1).optional(),
    /** closer: … than this one. */
    b: z.string().min(1).optional(),
    /** within: a cell holds when its distance ≤ factor × the smallest distance among the models. */
    factor: z.number().min(1).optional(),
    /** Distance to the baseline's outputs or to the references (default: baseline; `within` defaults to reference). */
    target: z.enum(["baseline", "reference"]).optional(),
    /** Restrict the cells to these models (default: every variant). */
    models: z.array(z.string().min(1)).min(1).optional(),
    /** Per-cell statistic over samples. */
    stat: z.enum(["mean", "median"]).default("mean"),
  })
  .strict()
  .superRefine((h, c) => {
    if (h.expect === "closer" && (!h.a || !h.b)) c.addIssue({ code: "custom", message: "'closer' needs a and b (model names)" });
    if (h.expect === "within" && h.factor === undefined) c.addIssue({ code: "custom", message: "'within' needs factor (e.g. 1.05)" });
  });

/** Every key a `task: generate` entry accepts. */
export const generateTaskSpec = z
  .object({
    task: z.literal("generate"),
    name: z.string().min(1).optional(),
    /** Prompts per dataset (the first rows that fit every model's context). */
    limit: z.number().int().min(1).optional(),
    /** One data file (.jsonl/.json/.csv/.tsv/.parquet) or dataset id <id>:<config>:<split>, or a list: each is a dataset in the hypothesis grid. */
    data: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional(),
    /** Split for a dataset id without one. */
    split: z.string().min(1).optional(),
    /** Field holding the prompt, or a {{field}} template. */
    input: z.string().min(1).default("prompt"),
    /** Field holding the reference answer, or a {{field}} template; reference metrics need it. */
    reference: z.string().min(1).optional(),
    max_tokens: z
      .number()
      .int()
      .min(1)
      .max(1 << 16)
      .default(64),
    stop: z.union([z.string().min(1), z.array(z.string().min(1))]).optional(),
    /** 0 = greedy (default). */
    temperature: z.number().min(0).max(10).default(0),
    top_p: z.number().gt(0).max(1).default(1),
    /** Sampling seed (default: the run's seed); each prompt gets its own seed derived from it. */
    seed: z.number().int().optional(),
    /** Render prompts with each model's own chat template (GGUF metadata). */
    chat: z.boolean().default(false),
    /** Seeded typo noise on the inputs; every metric is also reported on the noisy prompts. */
    perturb: z
      .object({ typos: z.number().min(0).max(1), seed: z.number().int().optional() })
      .strict()
      .optional(),
    embedders: z.array(embedderSpec).min(1).optional(),
    judge: judgeSpec.optional(),
    hypotheses: z.array(hypothesisSpec).min(1).optional(),
    /** A YAML list of {question, facts}; see examples/probes.yaml. */
    probes: z.string().min(1).optional(),
    /** Prompt template for probe questions (default "{{question}}"). */
    probe_prompt: z.string().min(1).optional(),
  })
  .strict()
  .refine((s) => s.data !== undefined || s.probes !== undefined, { message: "needs 'data' (prompts) or 'probes' (a probes YAML)", path: ["data"] });

export type GenerateTaskSpec = z.infer<typeof generateTaskSpec>;
export type EmbedderEntry = z.infer<typeof embedderSpec>;
export type JudgeEntry = z.infer<typeof judgeSpec>;
export type HypothesisEntry = z.infer<typeof hypothesisSpec>;

const KNOWN_KEYS: Record<string, string[]> = {
  "": Object.keys(generateTaskSpec.shape),
  perturb: ["typos", "seed"],
  embedders: Object.keys(embedderSpec.shape),
  judge: Object.keys(judgeSpec.shape),
  "judge.model": Object.keys(modelSpec.shape),
  hypotheses: ["expect", "a", "b", "factor", "target", "models", "stat"],
};

function fieldPath(path: PropertyKey[]): string {
  return path.map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join("");
}

type Issue = z.core.$ZodIssue;

/** A union's own issue says only "Invalid input": use the branch that got furthest instead. */
function unwrapUnion(issue: Issue): Issue {
  if (issue.code !== "invalid_union" || !("errors" in issue) || issue.errors.length === 0) return issue;
  const branches = issue.errors.filter((b) => b.length > 0);
  const best = branches.find((b) => b[0].code !== "invalid_type" || b[0].path.length > 0) ?? branches[0];
  if (!best) return issue;
  const inner = best[0];
  return unwrapUnion({ ...inner, path: [...issue.path, ...inner.path] } as Issue);
}

/** Validates a task entry; errors are one line: `task '<name>': …` naming the key. */
export function parseGenerateSpec(raw: unknown, taskName: string): GenerateTaskSpec {
  const r = generateTaskSpec.safeParse(raw);
  if (r.success) return r.data;
  // An unknown key usually explains a missing one (a typo): report it first.
  const issues = r.error.issues.map(unwrapUnion);
  const issue = issues.find((i) => i.code === "unrecognized_keys") ?? issues[0];
  const where = `task '${taskName}'`;
  if (issue.code === "unrecognized_keys") {
    const key = issue.keys[0];
    const known = KNOWN_KEYS[issue.path.filter((p) => typeof p === "string").join(".")] ?? [];
    const guess = known.length ? closest(key, known) : undefined;
    const hint = guess && distance(key, guess) <= Math.max(2, Math.floor(key.length / 3)) ? `did you mean '${guess}'?` : `remove it (known keys: ${known.join(", ")})`;
    throw new QuantevalError(`${where}: unknown key '${fieldPath([...issue.path, key])}' for a generate task; ${hint}`);
  }
  const p = fieldPath(issue.path) || "(entry)";
  if (issue.code === "invalid_type" && /received undefined/.test(issue.message)) throw new QuantevalError(`${where}: missing required key '${p}'; add it`);
  throw new QuantevalError(`${where}: key '${p}': ${issue.message}`);
}
