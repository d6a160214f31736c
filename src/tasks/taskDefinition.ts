// The schema of a task YAML file. Tasks are data: a new benchmark is one YAML file.
import { z } from "zod";

const deriveOp = z.union([
  z.enum(["strip", "capitalize", "lower"]),
  z.object({ replace: z.tuple([z.string(), z.string()]) }).strict(),
  z.object({ regex: z.tuple([z.string(), z.string()]) }).strict(),
  z.object({ map: z.record(z.string(), z.string()) }).strict(),
]);

export const multipleChoiceTask = z
  .object({
    task: z.string().min(1),
    type: z.literal("multiple_choice"),
    /** Where the definition comes from (e.g. the lm-evaluation-harness YAML it mirrors). */
    source: z.string().optional(),
    description: z.string().optional(),
    /** Hugging Face dataset id and config, resolved under the data directory. */
    dataset: z.object({ id: z.string(), config: z.string().optional() }).strict().optional(),
    /** A local data file instead of a dataset id (relative to the task file). */
    data_file: z.string().optional(),
    test_split: z.string().default("test"),
    fewshot_split: z.string().optional(),
    /** Fields computed from each row before templates are rendered, in order. */
    derive: z.record(z.string(), z.object({ from: z.string(), ops: z.array(deriveOp).optional() }).strict()).optional(),
    doc_to_text: z.string(),
    /** Choice templates, or the name of a list field. */
    doc_to_choice: z.union([z.array(z.string()).min(2), z.string()]),
    /** Template rendering the gold choice index (or the gold choice text). */
    doc_to_target: z.string(),
    target_delimiter: z.string().default(" "),
    fewshot_delimiter: z.string().default("\n\n"),
    num_fewshot: z.number().int().min(0).default(0),
    metrics: z.array(z.enum(["acc", "acc_norm", "f1"])).min(1),
  })
  .strict();

export type MultipleChoiceTask = z.infer<typeof multipleChoiceTask>;
