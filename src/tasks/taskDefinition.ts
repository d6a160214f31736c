// The schema of a task YAML file. Tasks are data: a new benchmark is one YAML file.
// `type` selects how the task is scored:
//   multiple_choice      lm-eval's output_type multiple_choice (acc, acc_norm, f1; acc_mutual_info via `normalizations`)
//   loglikelihood        lm-eval's output_type loglikelihood (one continuation per doc: acc = greedy, ppl)
//   rolling              lm-eval's output_type loglikelihood_rolling (word/byte perplexity, bits per byte)
//   llamacpp_hellaswag   llama.cpp's `llama-perplexity --hellaswag` over its 6-lines-per-task text file
//   llamacpp_winogrande  llama.cpp's `llama-perplexity --winogrande` over its CSV file
import { z } from "zod";

const deriveOp = z.union([
  z.enum(["strip", "capitalize", "lower", "lower_first"]),
  z.object({ replace: z.tuple([z.string(), z.string()]) }).strict(),
  z.object({ regex: z.tuple([z.string(), z.string()]) }).strict(),
  z.object({ map: z.record(z.string(), z.string()) }).strict(),
  z.object({ before: z.string().min(1) }).strict(),
  z.object({ after: z.string().min(1) }).strict(),
  z.object({ before_last: z.string().min(1) }).strict(),
  z.object({ after_last: z.string().min(1) }).strict(),
  z.object({ slice: z.union([z.tuple([z.number().int()]), z.tuple([z.number().int(), z.number().int()])]) }).strict(),
  z.object({ index_of: z.string().min(1) }).strict(),
]);

const deriveRules = z.record(z.string(), z.object({ from: z.string(), ops: z.array(deriveOp).optional() }).strict());

/** Fields every task type shares (what `quanteval tasks` lists). */
const common = {
  task: z.string().min(1),
  /** Where the definition comes from (e.g. the lm-evaluation-harness YAML it mirrors). */
  source: z.string().optional(),
  description: z.string().optional(),
  /** Hugging Face dataset id and config, resolved under the data directory. */
  dataset: z.object({ id: z.string(), config: z.string().optional() }).strict().optional(),
  /** A local data file instead of a dataset id (relative to the task file, or under the data directory). */
  data_file: z.string().optional(),
};

export const multipleChoiceTask = z
  .object({
    ...common,
    type: z.literal("multiple_choice"),
    test_split: z.string().default("test"),
    fewshot_split: z.string().optional(),
    /** Fields computed from each row before templates are rendered, in order. */
    derive: deriveRules.optional(),
    /** The prompt; required unless `doc_to_continuation` is set. */
    doc_to_text: z.string().optional(),
    /** Choice templates, or the name of a list field. */
    doc_to_choice: z.union([z.array(z.string()).min(2), z.string()]),
    /** Template rendering the gold choice index (or the gold choice text). */
    doc_to_target: z.string(),
    /**
     * lm-eval's multiple-input mode (winogrande's partial scoring): the choices are contexts
     * that differ per choice, and this template renders the one continuation scored after each
     * (after `target_delimiter`). Few-shot examples are `gold context + delimiter + continuation`.
     */
    doc_to_continuation: z.string().optional(),
    target_delimiter: z.string().default(" "),
    fewshot_delimiter: z.string().default("\n\n"),
    num_fewshot: z.number().int().min(0).default(0),
    metrics: z.array(z.enum(["acc", "acc_norm", "f1"])).min(1),
    /**
     * Report the normalization panel (acc, acc_norm by chars/bytes/tokens, and lm-eval's
     * acc_mutual_info) from the same log-likelihoods plus one unconditional request per choice.
     */
    normalizations: z.boolean().default(false),
  })
  .strict();

export const loglikelihoodTask = z
  .object({
    ...common,
    type: z.literal("loglikelihood"),
    test_split: z.string().default("test"),
    derive: deriveRules.optional(),
    /** The context. */
    doc_to_text: z.string(),
    /** The scored continuation, exactly (lm-eval adds no delimiter for this type). */
    doc_to_target: z.string(),
    /** acc: the continuation is the greedy decode; ppl: exp(−mean log-likelihood) over docs (lm-eval's `perplexity`). */
    metrics: z.array(z.enum(["acc", "ppl"])).min(1),
  })
  .strict();

export const rollingTask = z
  .object({
    ...common,
    type: z.literal("rolling"),
    test_split: z.string().default("test"),
    derive: deriveRules.optional(),
    /** The text whose rolling log-likelihood is scored. */
    doc_to_target: z.string(),
    /** The text whose words and UTF-8 bytes normalise the log-likelihood; defaults to the scored text. */
    count_text: z.string().optional(),
    metrics: z.array(z.enum(["word_perplexity", "byte_perplexity", "bits_per_byte"])).min(1),
  })
  .strict();

const llamacppCommon = {
  ...common,
  /** Where users download the data file (shown when it is missing). */
  data_url: z.string().optional(),
  /** Tasks selected as llama.cpp does (`--hellaswag-tasks` / `--winogrande-tasks`); `limit` overrides. 0 = all. */
  tasks: z.number().int().min(0).optional(),
};

export const llamacppHellaswagTask = z.object({ ...llamacppCommon, type: z.literal("llamacpp_hellaswag"), metrics: z.array(z.literal("acc_norm")).min(1) }).strict();

export const llamacppWinograndeTask = z.object({ ...llamacppCommon, type: z.literal("llamacpp_winogrande"), metrics: z.array(z.literal("acc")).min(1) }).strict();

/** Any task YAML. */
export const taskDefinition = z.discriminatedUnion("type", [multipleChoiceTask, loglikelihoodTask, rollingTask, llamacppHellaswagTask, llamacppWinograndeTask]);

export type MultipleChoiceTask = z.infer<typeof multipleChoiceTask>;
export type LoglikelihoodTask = z.infer<typeof loglikelihoodTask>;
export type RollingTask = z.infer<typeof rollingTask>;
export type LlamacppHellaswagTask = z.infer<typeof llamacppHellaswagTask>;
export type LlamacppWinograndeTask = z.infer<typeof llamacppWinograndeTask>;
export type LlamacppTask = LlamacppHellaswagTask | LlamacppWinograndeTask;
export type TaskDefinition = z.infer<typeof taskDefinition>;
