// Config-entry keys shared by several task kinds; each kind's schema lists exactly the keys it reads.
import { z } from "zod";

/** A built-in task name, a path to a task YAML, or a code task's name. */
export const task = z.string().min(1);
/** Display name when the same task appears twice. */
export const name = z.string().optional();
/** Documents to evaluate (--limit overrides it). */
export const limit = z.number().int().min(1).optional();
/** Few-shot examples per document. */
export const numFewshot = z.number().int().min(0).max(100).optional();
/** Data file or dataset id overriding the task's own. */
export const data = z.string().optional();
/** Split overriding the task's test split. */
export const split = z.string().optional();

/** The keys of a YAML-defined task's entry: task, name, limit, data, split (and num_fewshot, which a kind may refuse with its own message). */
export const yamlEntryKeys = { task, name, limit, num_fewshot: numFewshot, data, split };
